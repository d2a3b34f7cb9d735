"""Small forms for the office pages: the check-in desk, the counter screen, the figures day
and closures. They validate input only; queue.py and workflow.py decide (and refuse with a
message)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import id_number_error, normalize_id_number

from .models import Counter
from .workflow import CODE_ALPHABET, CODE_LENGTH

LOOKUP_MAX = 600  # a signed QR payload is ~60 characters; a scanner never types more
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class OfficeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


def _looks_like_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and set(value.upper()) <= set(CODE_ALPHABET)


class CheckInForm(OfficeForm):
    """One field for whatever the clerk has: a USB scanner types the QR payload and presses
    Enter; otherwise the clerk types the booking code or the ID / passport number."""

    key = forms.CharField(
        label=_("扫描预约二维码，或输入预约码、证件号码"),
        max_length=LOOKUP_MAX,
        strip=True,
        error_messages={
            "required": _("请扫描预约二维码，或输入预约码、证件号码。"),
            "max_length": _("输入内容过长，请重新扫描。"),
        },
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "go",
            }
        ),
    )

    def lookups(self) -> list[dict]:
        """queue.check_in keyword arguments to try in turn. A signed QR payload always has a
        ':'; an eight-character key from the code alphabet is a booking code, but may also
        be a passport number, so the document is tried after it."""
        key = self.cleaned_data["key"]
        if ":" in key:
            return [{"qr": key}]
        folded = normalize_id_number(key)
        if id_number_error(folded) is None:
            return [{"id_number": folded}]
        if _looks_like_code(folded):
            return [{"code": folded}, {"id_number": folded}]
        return [{"id_number": folded}]


class DayForm(OfficeForm):
    day = forms.DateField(
        label=_("日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("请输入有效日期，例如 2026-09-14。")},
    )

    def chosen(self):
        if self.is_valid() and self.cleaned_data["day"]:
            return self.cleaned_data["day"]
        return timezone.localdate()


class ClosureForm(OfficeForm):
    counter = forms.ModelChoiceField(
        label=_("停办范围"),
        queryset=Counter.objects.none(),
        required=False,
        empty_label=_("整个大厅"),
        help_text=_("选择一个窗口只停办该窗口；不选则整个大厅停办。"),
    )
    start = forms.DateTimeField(
        label=_("开始时间"),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        error_messages={
            "required": _("请填写停办开始时间。"),
            "invalid": _("请输入有效时间，例如 2026-09-15 08:30。"),
        },
    )
    end = forms.DateTimeField(
        label=_("结束时间"),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT),
        error_messages={
            "required": _("请填写停办结束时间。"),
            "invalid": _("请输入有效时间，例如 2026-09-15 12:00。"),
        },
    )
    reason = forms.CharField(
        label=_("停办原因"),
        max_length=200,
        help_text=_("原因会写入发给预约人的短信，例如“系统升级”“设备检修”。"),
        error_messages={"required": _("请填写停办原因。")},
    )

    def __init__(self, *args, office, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = office.counters.filter(is_active=True).order_by("code")
        self.fields["counter"].label_from_instance = lambda counter: counter.name

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", _("停办结束时间应晚于开始时间。"))
        return data
