"""Forms of the dispatch console: they validate input only (Chinese messages); the verbs
of workflow.py and sms.py decide the rest."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import District

from . import geo
from .models import CloseOutcome, Desk, IncidentType, Line, Priority, UnitStatus


class ConsoleForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


def _blank(choices, label):
    return [("", label), *choices]


def _required(label):
    return {"required": _("请填写%(label)s。") % {"label": label}}


class LocationFields(ConsoleForm):
    """Address and/or WGS84 coordinates, and the district."""

    address = forms.CharField(label=_("事发地点"), max_length=200, required=False)
    lat = forms.CharField(
        label=_("纬度"),
        required=False,
        max_length=20,
        help_text=_("WGS84，如 41.803000"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    lon = forms.CharField(
        label=_("经度"),
        required=False,
        max_length=20,
        help_text=_("WGS84，如 123.432000"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    district = forms.ModelChoiceField(
        label=_("所属区县"),
        queryset=District.objects.order_by("code"),
        required=False,
        empty_label=_("未确定"),
    )

    def clean(self):
        data = super().clean()
        lat, lon = data.get("lat", ""), data.get("lon", "")
        if lat or lon:
            pair = geo.coordinate_pair(lat, lon)
            if pair is None:
                if not (lat and lon):
                    missing = "lon" if lat else "lat"
                    self.add_error(missing, _("纬度和经度须同时填写。"))
                else:
                    self.add_error(
                        "lat", _("经纬度无效：纬度应在-90至90之间，经度应在-180至180之间。")
                    )
            else:
                data["lat"], data["lon"] = pair
        else:
            data["lat"] = data["lon"] = None
        return data


class NewCallForm(LocationFields):
    submission = forms.UUIDField(widget=forms.HiddenInput)
    line = forms.ChoiceField(
        label=_("报警电话"),
        choices=_blank(Line.choices, _("请选择")),
        error_messages={"required": _("请选择报警电话（110、119或122）。")},
        help_text=_("110报警、119火警、122交通事故，决定警情首先归属的警种。"),
    )
    caller_number = forms.CharField(
        label=_("来电号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    caller_name = forms.CharField(label=_("报警人姓名"), max_length=64, required=False)
    summary = forms.CharField(
        label=_("警情摘要"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_required(_("警情摘要（发生了什么）")),
    )
    incident_type = forms.ChoiceField(
        label=_("警情类别"), choices=_blank(IncidentType.choices, _("待定")), required=False
    )
    priority = forms.TypedChoiceField(
        label=_("优先级"), choices=Priority.choices, coerce=int, initial=Priority.URGENT
    )

    field_order = [
        "line",
        "caller_number",
        "caller_name",
        "summary",
        "address",
        "lat",
        "lon",
        "district",
        "incident_type",
        "priority",
    ]


class ClassifyForm(ConsoleForm):
    desks = forms.MultipleChoiceField(
        label=_("警种"),
        choices=Desk.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个警种（110、119、122）。")},
    )
    incident_type = forms.ChoiceField(
        label=_("警情类别"), choices=_blank(IncidentType.choices, _("待定")), required=False
    )
    priority = forms.TypedChoiceField(label=_("优先级"), choices=Priority.choices, coerce=int)


class LocationForm(LocationFields):
    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("address") or data.get("lat") or data.get("district")):
            raise forms.ValidationError(_("请填写事发地点、经纬度或区县。"))
        return data


class MergeForm(ConsoleForm):
    into = forms.CharField(
        label=_("合并至警情"), max_length=15, error_messages=_required(_("警情编号"))
    )
    note = forms.CharField(label=_("合并说明"), max_length=200, required=False)


class AssignForm(ConsoleForm):
    unit = forms.IntegerField(
        label=_("处警单位"), min_value=1, error_messages={"required": _("请选择处警单位。")}
    )


class UnitStatusForm(ConsoleForm):
    status = forms.ChoiceField(
        label=_("单位状态"),
        choices=UnitStatus.choices,
        error_messages={"invalid_choice": _("单位状态无效。"), "required": _("单位状态无效。")},
    )


class CloseForm(ConsoleForm):
    outcome = forms.ChoiceField(
        label=_("处置结果"),
        choices=_blank(CloseOutcome.choices, _("请选择")),
        error_messages={"required": _("请选择处置结果。"), "invalid_choice": _("请选择处置结果。")},
    )
    note = forms.CharField(
        label=_("结警说明"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReplyForm(ConsoleForm):
    text = forms.CharField(
        label=_("回复短信"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_required(_("回复内容")),
        help_text=_("以短信发送给报警人。报警人是聋哑人士，请勿要求其回电。"),
    )


class RevealForm(ConsoleForm):
    purpose = forms.CharField(
        label=_("查看事由"),
        max_length=200,
        error_messages={"required": _("请填写查看报警人信息的事由，该操作将被记录。")},
        help_text=_("例如：核实报警人身份、回拨电话。每次查看都会记入审计日志。"),
    )
