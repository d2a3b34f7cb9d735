"""The enterprise liaison's form: a foreign employee's name, passport and nationality, and the
chosen visa-office time. workflow.book checks the passport number and the liaison's right."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms_citizen import TokenForm, clean_mobile, mobile_field
from .forms_operator import clean_nationality, name_field, slot_field

REFUSAL_FIELDS = {
    "bad_document": "passport_number",
    "missing_name": "person_name",
    "missing_phone": "phone",
}


class EmployeeForm(TokenForm):
    slot = slot_field()
    person_name = name_field(_("员工姓名（与护照一致）"))
    passport_number = forms.CharField(
        label=_("护照号码"),
        max_length=20,
        error_messages={"required": _("请填写护照号码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    nationality = forms.CharField(
        label=_("国籍代码"),
        max_length=3,
        help_text=_("三位字母，例如 KOR、USA、DEU。"),
        error_messages={"required": _("请填写国籍代码。")},
    )
    phone = mobile_field(_("接收短信的手机号码（可选）"), _("不填则发送到您（经办人）的手机。"))

    def clean_phone(self):
        return clean_mobile(self.cleaned_data["phone"])

    def clean_nationality(self):
        return clean_nationality(self.cleaned_data["nationality"])

    def book_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "person_name": data["person_name"],
            "passport_number": data["passport_number"],
            "nationality": data["nationality"],
            "phone": data["phone"] or None,
        }
