"""The phone operator's form: the caller, their document and phone, and the chosen time.

Validation of shape only: workflow.book checks the ID number (GB 11643) or the passport
number and the rest, and the desk puts its refusals on the matching field.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms_citizen import TokenForm, clean_mobile, mobile_field
from .models import DocumentType

# A refusal of the verb -> the field it is about.
REFUSAL_FIELDS = {
    "bad_document": "document_number",
    "missing_name": "person_name",
    "missing_phone": "phone",
}


def slot_field():
    return forms.IntegerField(
        label=_("预约时段"),
        min_value=1,
        error_messages={"required": _("请选择预约时段。"), "invalid": _("请选择预约时段。")},
    )


def name_field(label):
    return forms.CharField(
        label=label,
        max_length=64,
        error_messages={"required": _("请填写预约人姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class CallerForm(TokenForm):
    slot = slot_field()
    person_name = name_field(_("来电人姓名"))
    document_type = forms.ChoiceField(
        label=_("证件类型"),
        choices=DocumentType.choices,
        initial=DocumentType.ID_CARD,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择证件类型。")},
    )
    document_number = forms.CharField(
        label=_("证件号码"),
        max_length=32,
        error_messages={"required": _("请填写证件号码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    nationality = forms.CharField(
        label=_("国籍代码（持护照时填写，可选）"),
        max_length=3,
        required=False,
        help_text=_("三位字母，例如 CHN、KOR、USA。"),
    )
    phone = mobile_field(_("来电人手机号码"), _("预约短信发送到此号码。"), required=True)

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"], required=True)

    def clean_nationality(self):
        return clean_nationality(self.cleaned_data["nationality"])

    def book_kwargs(self) -> dict:
        """The verb's arguments for the person (the slot and the token are the view's)."""
        data = self.cleaned_data
        passport = data["document_type"] == DocumentType.PASSPORT
        return {
            "person_name": data["person_name"],
            "id_number": None if passport else data["document_number"],
            "passport_number": data["document_number"] if passport else None,
            "nationality": data["nationality"] if passport else "",
            "phone": data["phone"],
        }


def clean_nationality(value: str) -> str:
    value = (value or "").strip().upper()
    if value and (len(value) != 3 or not value.isascii() or not value.isalpha()):
        raise forms.ValidationError(_("国籍代码应为三位字母，例如 USA。"))
    return value
