"""Forms of the registry's people pages (look-ups, identity proofs). They validate input only;
lookup.py and proofs.py decide."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.core.idnumbers import (
    id_number_error,
    normalize_cn_mobile,
    normalize_id_number,
    validate_cn_mobile,
)

from .proofs import CODE_LENGTH, normalize_code, normalize_name

# 2–6 characters: CJK ideographs (basic block and extension A, where rare given-name
# characters live) and the middle dot inside minority names, never first or last.
NAME_RE = re.compile(
    r"^[\u3400-\u4dbf\u4e00-\u9fff](?:[\u3400-\u4dbf\u4e00-\u9fff·]{0,4})[\u3400-\u4dbf\u4e00-\u9fff]$"
)
OTHER = "其他"
# Purposes are stored as written: the audit log is read in Chinese whatever the UI language.
PURPOSES = [
    ("户籍证明", _("开具户籍证明")),
    ("群众来所查询", _("群众来所查询")),
    ("住宿身份核验", _("住宿身份核验")),
    ("案件办理", _("案件办理")),
    (OTHER, _("其他（请在下方说明）")),
]


class RegistryForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


def clean_person_name(value: str) -> str:
    name = normalize_name(value)
    if not NAME_RE.match(name):
        raise ValidationError(
            _("姓名应为2至6个汉字，少数民族姓名中间可用“·”分隔。"), code="invalid_name"
        )
    return name


def clean_id_number(value: str) -> str:
    error = id_number_error(value)
    if error is not None:
        raise ValidationError(error, code="invalid_id_number")
    return normalize_id_number(value)


class LookupForm(RegistryForm):
    """查询: by ID number, or by name + birth date; a purpose is always required."""

    id_number = forms.CharField(
        label=_("公民身份号码"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    name = forms.CharField(label=_("姓名"), required=False, max_length=30)
    birth_date = forms.DateField(
        label=_("出生日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("请输入正确的出生日期，例如 1990-03-07。")},
    )
    purpose = forms.ChoiceField(
        label=_("查询事由"),
        choices=[("", _("请选择"))] + PURPOSES,
        error_messages={"required": _("请选择查询事由，每次查询都会记入审计日志。")},
    )
    purpose_detail = forms.CharField(
        label=_("事由说明"),
        required=False,
        max_length=150,
        help_text=_("例如：为张某开具户籍证明，受理号……"),
    )
    reveal_reason = forms.CharField(
        label=_("显示完整号码的理由"),
        required=False,
        max_length=150,
        help_text=_("仅审批人、监督员可用；填写后显示完整身份号码和电话，并单独记入审计日志。"),
    )

    def clean_id_number(self):
        value = self.cleaned_data["id_number"]
        return clean_id_number(value) if normalize_id_number(value) else ""

    def clean_name(self):
        value = self.cleaned_data["name"]
        return clean_person_name(value) if value.strip() else ""

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value and value > timezone.localdate():
            raise ValidationError(_("出生日期不能晚于今天。"))
        return value

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not data.get("id_number") and not (data.get("name") and data.get("birth_date")):
            raise ValidationError(_("请输入公民身份号码，或同时输入姓名和出生日期。"))
        if data.get("purpose") == OTHER and not data.get("purpose_detail", "").strip():
            self.add_error("purpose_detail", _("选择“其他”时请说明查询事由。"))
        return data

    @property
    def purpose_text(self) -> str:
        purpose = self.cleaned_data["purpose"]
        detail = self.cleaned_data.get("purpose_detail", "").strip()
        if purpose == OTHER:
            return detail
        return f"{purpose}：{detail}" if detail else purpose


class CardPurposeForm(RegistryForm):
    """Opening a household card carries the look-up's purpose (or asks for one)."""

    purpose = forms.CharField(
        label=_("查询事由"),
        max_length=200,
        error_messages={"required": _("请填写查询事由，每次查看都会记入审计日志。")},
    )
    reveal_reason = LookupForm.base_fields["reveal_reason"]

    def clean_purpose(self):
        value = self.cleaned_data["purpose"].strip()
        if not value:
            raise ValidationError(_("请填写查询事由，每次查看都会记入审计日志。"))
        return value


class ProofRequestForm(RegistryForm):
    """A hotel's request for a guest without an ID card."""

    guest_name = forms.CharField(
        label=_("旅客姓名"),
        max_length=30,
        error_messages={"required": _("请输入旅客姓名。")},
    )
    guest_id_number = forms.CharField(
        label=_("旅客公民身份号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("请输入旅客的公民身份号码。")},
    )
    guest_phone = forms.CharField(
        label=_("旅客手机号码"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("核验码将以短信发送到该号码。"),
        error_messages={"required": _("请输入旅客手机号码。")},
    )

    def clean_guest_name(self):
        return clean_person_name(self.cleaned_data["guest_name"])

    def clean_guest_id_number(self):
        return clean_id_number(self.cleaned_data["guest_id_number"])

    def clean_guest_phone(self):
        value = self.cleaned_data["guest_phone"]
        validate_cn_mobile(value)
        return normalize_cn_mobile(value)


class VerifyCodeForm(RegistryForm):
    code = forms.CharField(
        label=_("核验码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": _("请输入核验码。")},
    )

    def clean_code(self):
        code = normalize_code(self.cleaned_data["code"])
        if len(code) != CODE_LENGTH:
            raise ValidationError(_("核验码为%(n)d位字母和数字。") % {"n": CODE_LENGTH})
        return code


class DecisionForm(RegistryForm):
    """A clerk's confirmation (note optional) or refusal (reason required)."""

    note = forms.CharField(
        label=_("核验说明"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("例如：已通过全国人口信息系统比对并电话核实。拒绝时必须填写。"),
    )
