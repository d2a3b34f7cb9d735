"""Online application forms generated from a catalogue item's `form` list (validation only).

A service item is data: its data file lists the fields of its online application (see
`form` in catalog/item.schema.json). This module turns that list into a Django form class,
converts the cleaned values to JSON for `Case.form_data` and back for drafts, and picks the
case flow a submission follows from the item's `flow_rules`.

Public API:
- application_form_class(item_document) -> type[ApplicationForm]
- cleaned_data_to_json(cleaned_data) -> dict     (also `form.to_json()`)
- initial_from_json(item_document, data) -> dict (initial values for a draft)
- evaluate_flow(item_document, data) -> str

JSON representation (`cleaned_data_to_json`):
- date     -> ISO string "2026-03-15"
- decimal  -> string in plain notation, exactly as entered ("120.50", "1000" for "1e3"):
              JSON floats would round; `evaluate_flow` compares it numerically anyway
- number   -> int;  bool -> true/false
- empty optional fields are kept: "" for text-like and choice fields, null for number,
  decimal and date fields
- id_number / credit_code are stored normalised (upper-case, ASCII); phone as 11 digits

Field types and their HTML:
- number / decimal use a text input with inputmode="numeric" / "decimal" (GOV.UK pattern:
  type=number changes values on scroll and mangles leading zeros); date is type=date;
  email type=email; phone type=tel with inputmode="numeric".
- id_number deliberately does NOT use inputmode="numeric": about one ID in eleven ends in
  the letter X, which phone number pads cannot type. It gets autocapitalize="characters".
- bool with required: true means "must be ticked" (a declaration the applicant accepts).

This module must not import servicehall.cases.models: it is usable before any model exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import (
    normalize_cn_mobile,
    normalize_credit_code,
    normalize_id_number,
    validate_cn_mobile,
    validate_credit_code,
    validate_id_number,
)

# Default maximum lengths when the data file gives none.
DEFAULT_MAX_LENGTH = {"text": 200, "address": 200, "textarea": 2000, "email": 254}
# Dates outside this window are typing mistakes (0024 for 2024, 2204 for 2024).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX_YEARS_AHEAD = 10
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"]
# Decimals: at most 14 digits before and 6 after the point.
DECIMAL_MAX_DIGITS = 20
DECIMAL_PLACES = 6

FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "number",
        "decimal",
        "date",
        "choice",
        "bool",
        "id_number",
        "phone",
        "email",
        "address",
        "credit_code",
    }
)

MSG_REQUIRED = _("请填写此项。")
MSG_CHOOSE = _("请选择此项。")
MSG_TICK = _("请勾选此项。")
MSG_MAX_LENGTH = _("最多%(limit_value)d个字，您输入了%(show_value)d个。")
MSG_INTEGER = _("请输入整数，例如 12。")
MSG_NUMBER = _("请输入数字，例如 120.5。")
MSG_MIN_VALUE = _("不能小于%(limit_value)s。")
MSG_MAX_VALUE = _("不能大于%(limit_value)s。")
MSG_TOO_MANY_DIGITS = _("数字过大或小数位过多（整数最多14位，小数最多6位）。")
MSG_DATE = _("请输入正确的日期，例如 2024-03-15。")
MSG_DATE_RANGE = _("日期应在%(min)s至%(max)s之间，请检查年份。")
MSG_CHOICE = _("请从列表中选择一项。")
MSG_EMAIL = _("请输入正确的电子邮箱地址，例如 name@example.com。")
MSG_CHOOSE_PROMPT = _("请选择")

_BASE_MESSAGES = {"required": MSG_REQUIRED, "max_length": MSG_MAX_LENGTH}
_NUMBER_MESSAGES = {"min_value": MSG_MIN_VALUE, "max_value": MSG_MAX_VALUE}
_DECIMAL_DIGIT_MESSAGES = {
    "max_digits": MSG_TOO_MANY_DIGITS,
    "max_decimal_places": MSG_TOO_MANY_DIGITS,
    "max_whole_digits": MSG_TOO_MANY_DIGITS,
}
# "1,200" and "12,345.5": commas in thousands groups only; "1,5" stays an error.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _fold(value: Any) -> Any:
    """Full-width digits, letters and punctuation (Chinese input methods) become ASCII."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


def _numeric_text(value: Any) -> Any:
    value = _fold(value)
    if isinstance(value, str) and _THOUSANDS.match(value):
        value = value.replace(",", "")
    return value


# --- field classes ----------------------------------------------------------------------------


class NumberField(forms.IntegerField):
    def to_python(self, value):
        return super().to_python(_numeric_text(value))


class DecimalNumberField(forms.DecimalField):
    def to_python(self, value):
        return super().to_python(_numeric_text(value))


class SaneDateField(forms.DateField):
    """A date between DATE_MIN and DATE_MAX_YEARS_AHEAD years from today."""

    def to_python(self, value):
        return super().to_python(_fold(value))

    def validate(self, value):
        super().validate(value)
        if value in self.empty_values:
            return
        latest = _date_max()
        if not DATE_MIN <= value <= latest:
            raise ValidationError(
                MSG_DATE_RANGE,
                code="date_range",
                params={"min": DATE_MIN.isoformat(), "max": latest.isoformat()},
            )


def _date_max() -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + DATE_MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + DATE_MAX_YEARS_AHEAD, day=28)


class StrippedChoiceField(forms.ChoiceField):
    def to_python(self, value):
        return super().to_python(_fold(value) if isinstance(value, str) else value)


class NormalizedCharField(forms.CharField):
    """A CharField that normalises its input before validating (ID numbers, codes, mobiles)."""

    def __init__(self, *, normalize, **kwargs):
        self.normalize = normalize
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalize(value) if value not in self.empty_values else value


# --- building a form --------------------------------------------------------------------------


class ApplicationForm(forms.Form):
    """Base of every generated form. `field_specs` is the item's `form` list."""

    item_code: str = ""
    field_specs: tuple[dict, ...] = ()

    def to_json(self) -> dict:
        """The cleaned data as a JSON-safe dict (call after is_valid())."""
        return cleaned_data_to_json(self.cleaned_data)


def _build_field(spec: dict) -> forms.Field:
    kind = spec["type"]
    if kind not in FIELD_TYPES:
        raise ValueError(f"unknown form field type {kind!r} for {spec.get('name')!r}")
    common = {
        "label": spec["label"],
        "required": bool(spec.get("required", False)),
        "help_text": spec.get("help", ""),
    }
    messages = dict(_BASE_MESSAGES)
    max_length = spec.get("max_length", DEFAULT_MAX_LENGTH.get(kind))

    if kind in ("text", "address"):
        attrs = {"autocomplete": "street-address"} if kind == "address" else {}
        return forms.CharField(
            max_length=max_length,
            widget=forms.TextInput(attrs=attrs),
            error_messages=messages,
            **common,
        )
    if kind == "textarea":
        return forms.CharField(
            max_length=max_length,
            widget=forms.Textarea(attrs={"rows": 4}),
            error_messages=messages,
            **common,
        )
    if kind == "number":
        low, high = spec.get("min"), spec.get("max")
        return NumberField(
            min_value=None if low is None else math.ceil(low),
            max_value=None if high is None else math.floor(high),
            widget=forms.TextInput(
                attrs={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}
            ),
            error_messages={**messages, **_NUMBER_MESSAGES, "invalid": MSG_INTEGER},
            **common,
        )
    if kind == "decimal":
        low, high = spec.get("min"), spec.get("max")
        return DecimalNumberField(
            min_value=None if low is None else Decimal(str(low)),
            max_value=None if high is None else Decimal(str(high)),
            max_digits=DECIMAL_MAX_DIGITS,
            decimal_places=DECIMAL_PLACES,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            error_messages={
                **messages,
                **_NUMBER_MESSAGES,
                **_DECIMAL_DIGIT_MESSAGES,
                "invalid": MSG_NUMBER,
            },
            **common,
        )
    if kind == "date":
        return SaneDateField(
            input_formats=DATE_INPUT_FORMATS,
            widget=forms.DateInput(
                format="%Y-%m-%d",
                attrs={"type": "date", "min": DATE_MIN.isoformat(), "max": _date_max().isoformat()},
            ),
            error_messages={**messages, "invalid": MSG_DATE},
            **common,
        )
    if kind == "choice":
        choices = spec.get("choices")
        if not choices:
            raise ValueError(f"choice field {spec.get('name')!r} has no choices")
        return StrippedChoiceField(
            choices=[("", MSG_CHOOSE_PROMPT), *((c, c) for c in choices)],
            error_messages={"required": MSG_CHOOSE, "invalid_choice": MSG_CHOICE},
            **common,
        )
    if kind == "bool":
        return forms.BooleanField(error_messages={"required": MSG_TICK}, **common)
    if kind == "email":
        return forms.EmailField(
            max_length=max_length,
            widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
            error_messages={**messages, "invalid": MSG_EMAIL},
            **common,
        )
    if kind == "phone":
        return NormalizedCharField(
            normalize=normalize_cn_mobile,
            validators=[validate_cn_mobile],
            widget=forms.TextInput(
                attrs={
                    "type": "tel",
                    "inputmode": "numeric",
                    "autocomplete": "tel-national",
                    "maxlength": 20,
                }
            ),
            error_messages=messages,
            **common,
        )
    # id_number and credit_code: upper-cased codes with a check character.
    normalize, validator = {
        "id_number": (normalize_id_number, validate_id_number),
        "credit_code": (normalize_credit_code, validate_credit_code),
    }[kind]
    return NormalizedCharField(
        normalize=normalize,
        validators=[validator],
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "maxlength": 22,
            }
        ),
        error_messages=messages,
        **common,
    )


def application_form_class(item_document: dict) -> type[ApplicationForm]:
    """A Form class for the item's `form` list (an item without one gets an empty form).

    Built per call (cheap): labels and error messages are resolved in the language active
    when the form is rendered or validated.
    """
    specs = tuple(item_document.get("form") or ())
    attrs: dict[str, Any] = {
        "item_code": item_document.get("code", ""),
        "field_specs": specs,
        "__module__": __name__,
    }
    for spec in specs:
        name = spec["name"]
        if name in attrs:
            raise ValueError(f"duplicate or reserved form field name {name!r}")
        attrs[name] = _build_field(spec)
    class_name = "ApplicationForm_" + re.sub(r"\W", "_", attrs["item_code"] or "item")
    return type(class_name, (ApplicationForm,), attrs)


# --- JSON in and out --------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def cleaned_data_to_json(cleaned_data: dict) -> dict:
    """cleaned_data -> JSON-safe dict: dates as ISO strings, decimals as plain-notation strings."""
    return {name: _json_value(value) for name, value in cleaned_data.items()}


def initial_from_json(item_document: dict, data: dict | None) -> dict:
    """Initial values for a form from a saved dict (a draft or an earlier case).

    Only fields the item's form still has are returned. Values that no longer parse (the item's
    form changed since) are passed through as they are, so the applicant sees and fixes them.
    """
    data = data or {}
    initial: dict[str, Any] = {}
    for spec in item_document.get("form") or ():
        name = spec["name"]
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if spec["type"] == "date" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = dt.date.fromisoformat(value)
        elif spec["type"] == "decimal" and isinstance(value, str | int | float):
            with contextlib.suppress(InvalidOperation):
                value = Decimal(str(value))
        initial[name] = value
    return initial


# --- flow rules -------------------------------------------------------------------------------

_MISSING = object()


def _as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(_numeric_text(value)) if isinstance(value, str) else str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _as_comparable(actual: Any, expected: Any) -> tuple[Any, Any] | None:
    """Both sides in one domain: numbers as Decimal, booleans as bool, everything else str."""
    if isinstance(expected, bool):
        if isinstance(actual, bool):
            return actual, expected
        return None
    if isinstance(expected, int | float | Decimal):
        number = _as_decimal(actual)
        return None if number is None else (number, _as_decimal(expected))
    return str(_json_value(actual)), str(expected)


_COMPARE = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


def condition_holds(condition: dict, data: dict) -> bool:
    """One `when` condition on cleaned or JSON data. A missing or empty field is false."""
    actual = data.get(condition["field"], _MISSING)
    if actual is _MISSING or actual is None or actual == "":
        return False
    op, expected = condition["op"], condition["value"]
    if op == "in":
        options = expected if isinstance(expected, list | tuple) else [expected]
        for option in options:
            pair = _as_comparable(actual, option)
            if pair is not None and pair[0] == pair[1]:
                return True
        return False
    if op not in _COMPARE:
        raise ValueError(f"unknown flow-rule operator {op!r}")
    pair = _as_comparable(actual, expected)
    if pair is None:
        return False
    try:
        return bool(_COMPARE[op](*pair))
    except TypeError:
        return False


def evaluate_flow(item_document: dict, data: dict) -> str:
    """The flow a submission follows: the first `flow_rules` entry whose every condition holds
    on `data` (cleaned_data or its JSON form), else the item's `flow`."""
    for rule in item_document.get("flow_rules") or ():
        if all(condition_holds(condition, data) for condition in rule["when"]):
            return rule["flow"]
    return item_document["flow"]
