"""Forms of the citizen booking pages: confirm a time, cancel, rebook.

Validation only; workflow.book / cancel / rebook check everything again. The client token is
issued with the page (a hidden field) so that sending the same form twice is one booking.
"""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from servicehall.notify.outbox import normalise_phone

TOKEN_CHARS = set("0123456789abcdef")


def new_token() -> str:
    return uuid.uuid4().hex


class TokenField(forms.CharField):
    """The page's submission token: 32 hex digits issued with the form."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.HiddenInput)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("error_messages", {"required": _("页面已过期，请刷新后重新提交。")})
        super().__init__(**kwargs)

    def clean(self, value):
        value = (super().clean(value) or "").lower()
        if len(value) != 32 or set(value) - TOKEN_CHARS:
            raise ValidationError(_("页面已过期，请刷新后重新提交。"))
        return value


class TokenForm(forms.Form):
    """A form carrying the page's token. `page_token` is what the page sends next: the one
    posted while it is good (nothing was booked with it, or the same booking is wanted),
    a new one when it was missing or malformed."""

    client_token = TokenField()

    @property
    def page_token(self) -> str:
        if not self.is_bound:
            return self.initial.get("client_token") or new_token()
        if "client_token" in self.errors:
            return new_token()
        return self.cleaned_data["client_token"]


def clean_mobile(value: str, *, required: bool = False) -> str:
    """A mobile the SMS can reach (mainland, or +country code), normalised; "" when optional
    and left empty."""
    value = (value or "").strip()
    if not value:
        if required:
            raise ValidationError(_("请填写接收短信的手机号码。"))
        return ""
    number = normalise_phone(value)
    if number is None:
        raise ValidationError(
            _("请填写正确的手机号码，例如 13812345678；境外号码以+和国家代码开头。")
        )
    return number


def mobile_field(label, help_text="", required=False):
    return forms.CharField(
        label=label,
        max_length=20,
        required=required,
        help_text=help_text,
        error_messages={"required": _("请填写接收短信的手机号码。")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class BookForm(TokenForm):
    """Confirm a time: the document is the account's own ID card; the phone may differ."""

    phone = mobile_field(_("接收短信的手机号码（可选）"))

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"])


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("取消原因（可选）"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class RebookForm(TokenForm):
    slot = forms.IntegerField(
        label=_("新的时段"),
        min_value=1,
        error_messages={
            "required": _("请选择新的预约时段。"),
            "invalid": _("请选择新的预约时段。"),
        },
    )
