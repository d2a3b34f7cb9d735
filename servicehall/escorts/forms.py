"""Forms: validation only. The date, window and amount rules are workflow.request_errors, the
same function the verb runs again, so the page and the verb never disagree."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import District, Enterprise

from . import workflow
from .models import AMOUNT_DIGITS, Status

AMOUNT_ERRORS = {
    "required": _("请填写金额。"),
    "invalid": _("请填写数字金额，例如 500000 或 500000.00。"),
    "max_digits": _("金额过大，请核对。"),
    "max_whole_digits": _("金额过大，请核对。"),
    "max_decimal_places": _("金额最多保留两位小数（精确到分）。"),
}


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input():
    return forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class RequestForm(forms.Form):
    client_token = forms.CharField(widget=forms.HiddenInput, max_length=64)
    enterprise = forms.ModelChoiceField(
        label=_("申请单位"),
        queryset=Enterprise.objects.none(),
        required=False,
        empty_label=None,
        error_messages={"invalid_choice": _("请选择您经办的单位。")},
    )
    organisation = forms.CharField(
        label=_("银行或单位名称"),
        max_length=100,
        help_text=_("取款或存款的银行网点，或款项所属单位。"),
        error_messages={"required": _("请填写银行或单位名称。")},
    )
    date = forms.DateField(
        label=_("护送日期"),
        widget=_date_input(),
        error_messages={"required": _("请选择护送日期。"), "invalid": _("请填写正确的日期。")},
    )
    start_time = forms.TimeField(
        label=_("开始时间"),
        widget=_time_input(),
        error_messages={"required": _("请填写开始时间。"), "invalid": _("请填写正确的时间。")},
    )
    end_time = forms.TimeField(
        label=_("结束时间"),
        widget=_time_input(),
        error_messages={"required": _("请填写结束时间。"), "invalid": _("请填写正确的时间。")},
    )
    district = forms.ModelChoiceField(
        label=_("取款地点所在区县"),
        queryset=District.objects.all(),
        empty_label=_("请选择"),
        help_text=_("由该区县的值班派出所受理。"),
        error_messages={
            "required": _("请选择取款地点所在区县。"),
            "invalid_choice": _("请选择取款地点所在区县。"),
        },
    )
    pickup_address = forms.CharField(
        label=_("取款地点"),
        max_length=200,
        error_messages={"required": _("请填写取款地点。")},
    )
    destination_address = forms.CharField(
        label=_("送达地点"),
        max_length=200,
        error_messages={"required": _("请填写送达地点。")},
    )
    amount = forms.DecimalField(
        label=_("金额（元）"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages=AMOUNT_ERRORS,
    )
    contact_phone = forms.CharField(
        label=_("联系手机"),
        max_length=20,
        help_text=_("受理结果和派警情况将短信通知此号码。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": _("请填写联系手机。")},
    )
    note = forms.CharField(
        label=_("补充说明"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("选填，例如押运人数、交接联系人。"),
    )

    def __init__(self, *args, user, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        if getattr(user, "is_enterprise_agent", False):
            self.fields["enterprise"].queryset = Enterprise.objects.filter(
                memberships__user=user, memberships__is_active=True
            ).order_by("name")
            self.fields["enterprise"].required = True
            self.fields["enterprise"].error_messages["required"] = _("请选择您经办的单位。")
        else:
            del self.fields["enterprise"]

    @classmethod
    def blank(cls, user):
        profile = user.citizen_profile_or_none
        return cls(
            user=user,
            initial={
                "client_token": uuid.uuid4().hex,
                "contact_phone": profile.mobile if profile else "",
            },
        )

    def clean_contact_phone(self):
        from servicehall.notify.outbox import normalise_phone

        phone = normalise_phone(self.cleaned_data["contact_phone"])
        if not phone:
            raise forms.ValidationError(_("请填写正确的手机号码，用于接收受理结果短信。"))
        return phone

    def clean(self):
        data = super().clean()
        errors = workflow.request_errors(
            day=data.get("date"),
            start=data.get("start_time"),
            end=data.get("end_time"),
            amount=data.get("amount"),
            now=self.now or timezone.now(),
        )
        for field, message in errors.items():
            if field not in self.errors:
                self.add_error(field, message)
        return data

    def verb_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.setdefault("enterprise", None)
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=200, required=False)


class AcceptForm(forms.Form):
    note = forms.CharField(
        label=_("备注"),
        max_length=300,
        required=False,
        help_text=_("选填，仅内部可见。"),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("不予护送的理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("申请人会通过短信收到这一理由。"),
        error_messages={"required": _("请填写不予护送的理由，申请人会收到这一理由。")},
    )


class DispatchForm(forms.Form):
    lead_officer = forms.ModelChoiceField(
        label=_("带队民警"),
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label=_("（不选）"),
        error_messages={"invalid_choice": _("请从列表中选择本所民警。")},
    )
    officers = forms.CharField(
        label=_("护送民警"),
        max_length=200,
        required=False,
        help_text=_("姓名或警号，多人用顿号分隔。"),
    )
    vehicle = forms.CharField(label=_("车辆"), max_length=100, required=False)

    def __init__(self, *args, escort, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_officer"].queryset = (
            get_user_model()
            .objects.filter(
                is_active=True,
                kind=get_user_model().Kind.STAFF,
                staff_profile__station_id=escort.station_id,
            )
            .order_by("username")
        )
        self.fields["lead_officer"].label_from_instance = lambda user: (
            f"{user.name or user.username}（{user.username}）"
        )

    def clean(self):
        data = super().clean()
        if not data.get("officers") and not data.get("lead_officer") and not self.errors:
            self.add_error("officers", _("请填写护送民警，或选择带队民警。"))
        return data


class StartForm(forms.Form):
    pass


class CompleteForm(forms.Form):
    actual_start = forms.DateTimeField(
        label=_("实际开始时间"),
        widget=_datetime_input(),
        error_messages={"required": _("请填写实际开始时间。"), "invalid": _("请填写正确的时间。")},
    )
    actual_end = forms.DateTimeField(
        label=_("实际结束时间"),
        widget=_datetime_input(),
        error_messages={"required": _("请填写实际结束时间。"), "invalid": _("请填写正确的时间。")},
    )
    handed_over_amount = forms.DecimalField(
        label=_("交接金额（元）"),
        max_digits=AMOUNT_DIGITS,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        error_messages=AMOUNT_ERRORS,
    )
    confirmed = forms.BooleanField(
        label=_("交接金额已由双方当面清点确认"),
        error_messages={"required": _("请确认交接金额已由双方当面清点无误。")},
    )
    notes = forms.CharField(
        label=_("护送记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("路线、交接人、异常情况等。"),
    )

    def __init__(self, *args, escort, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("handed_over_amount", escort.amount)

    def clean(self):
        data = super().clean()
        start, end = data.get("actual_start"), data.get("actual_end")
        if start and end and end <= start:
            self.add_error("actual_end", _("实际结束时间应晚于实际开始时间。"))
        amount = data.get("handed_over_amount")
        if amount is not None and (message := workflow.amount_error(amount)):
            self.add_error("handed_over_amount", message)
        return data


class RevealForm(forms.Form):
    purpose = forms.CharField(
        label=_("查看事由"),
        max_length=200,
        error_messages={"required": _("请填写查看联系方式的事由，该操作将被记录。")},
        help_text=_("例如：电话联系申请人核实取款地点。每次查看都会记入审计日志。"),
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("办理中（全部）")), *Status.choices],
    )


class FiguresForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), required=False, min_value=2000, max_value=2100)

    def year_or(self, default: int) -> int:
        if self.is_valid() and self.cleaned_data.get("year"):
            return self.cleaned_data["year"]
        return default


__all__ = [
    "AcceptForm",
    "CancelForm",
    "CompleteForm",
    "DeclineForm",
    "DispatchForm",
    "FiguresForm",
    "QueueFilterForm",
    "RequestForm",
    "RevealForm",
    "StartForm",
]
