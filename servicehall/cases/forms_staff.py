"""Small forms for the staff workbench. They validate input only; workflow.py decides."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import Department

from . import queries
from .flows import Status
from .models import Delivery

NOTE_MAX = 500


class StaffForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class QueueFilterForm(StaffForm):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("在办办件")), (queries.STATUS_ALL, _("全部（含已结束）"))]
        + [c for c in Status.choices if c[0] != Status.DRAFT],
    )
    due = forms.ChoiceField(
        label=_("时限"),
        required=False,
        choices=[
            ("", _("全部")),
            (queries.DUE_OVERDUE, _("已超期")),
            (queries.DUE_SOON, _("一个工作日内到期")),
        ],
    )
    mine = forms.BooleanField(label=_("只看我经办的"), required=False)
    q = forms.CharField(label=_("办件编号"), required=False, max_length=40)

    def filters(self) -> dict:
        """The valid filters; an invalid query string falls back to the whole queue."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "due": data["due"],
            "mine": data["mine"],
            "number": data["q"].strip(),
        }


class EmptyForm(StaffForm):
    """Actions that need nothing but the button (claim, start review)."""


class NoteForm(StaffForm):
    note = forms.CharField(
        label=_("办理意见（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )


class ReasonForm(StaffForm):
    reason = forms.CharField(
        label=_("理由"),
        max_length=NOTE_MAX,
        widget=_textarea(),
        error_messages={"required": _("请说明理由。")},
        help_text=_("理由将告知申请人，并显示在进度查询页面。"),
    )


class CorrectionForm(StaffForm):
    items = forms.CharField(
        label=_("需补正的材料或内容（每行一项）"),
        widget=_textarea(5),
        max_length=2000,
        error_messages={"required": _("请列出需要补正的全部材料或内容。")},
        help_text=_(
            "一次性告知：请把需要补正的全部材料或内容一次列清，每行一项。"
            "每个办件只能发出一次补正通知，申请人补正后不得再要求补正其他内容。"
        ),
    )
    note = forms.CharField(
        label=_("补充说明（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )

    def clean_items(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["items"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError(_("请列出需要补正的全部材料或内容。"))
        return lines


class SpotCheckForm(StaffForm):
    passed = forms.TypedChoiceField(
        label=_("抽查结果"),
        choices=[("1", _("合格")), ("0", _("不合格"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择抽查结果。")},
    )
    note = forms.CharField(
        label=_("检查情况（不合格时必填：问题和整改要求）"),
        required=False,
        max_length=NOTE_MAX,
        widget=_textarea(),
    )


class DeliveryForm(StaffForm):
    method = forms.ChoiceField(
        label=_("送达方式"),
        choices=Delivery.choices,
        error_messages={"required": _("请选择送达方式。")},
    )
    tracking_number = forms.CharField(
        label=_("邮寄单号"),
        required=False,
        max_length=40,
        help_text=_("邮寄送达时必填。"),
    )

    def clean(self):
        data = super().clean()
        if data.get("method") == Delivery.MAIL and not data.get("tracking_number", "").strip():
            self.add_error("tracking_number", _("邮寄送达须填写邮寄单号。"))
        return data


class HandOverForm(StaffForm):
    department = forms.ModelChoiceField(
        label=_("移交部门"),
        queryset=Department.objects.none(),
        error_messages={"required": _("请选择移交部门。")},
    )
    note = forms.CharField(
        label=_("移交说明（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        field.queryset = Department.objects.exclude(pk=case.department_id).order_by(
            "position", "pk"
        )
        if case.department_id != case.home_department_id:
            field.initial = case.home_department_id  # joint handling done: hand it back


class AccountabilityForm(StaffForm):
    to_user = forms.ModelChoiceField(
        label=_("交接给"),
        queryset=get_user_model().objects.none(),
        error_messages={"required": _("请选择接手的民警。")},
    )
    reason = forms.CharField(
        label=_("交接原因"),
        max_length=NOTE_MAX,
        widget=_textarea(2),
        error_messages={"required": _("首问责任交接须说明原因。")},
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["to_user"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, staff_profile__department_id=case.department_id)
            .exclude(pk=case.accountable_staff_id)
            .order_by("name", "pk")
        )
        self.fields["to_user"].label_from_instance = lambda u: u.get_full_name() or u.username


class FollowUpForm(StaffForm):
    resolution = forms.CharField(
        label=_("整改和回访情况"),
        max_length=2000,
        widget=_textarea(),
        error_messages={"required": _("请填写整改和回访情况。")},
    )


class RevealForm(StaffForm):
    purpose = forms.CharField(
        label=_("查看事由"),
        max_length=200,
        error_messages={"required": _("请填写查看完整信息的事由，该操作将被记录。")},
        help_text=_("例如：核对申请人身份。每次查看都会记入审计日志。"),
    )
