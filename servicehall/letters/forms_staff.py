"""Small forms for the letters workbench, the hotline desk and the CSV import.

They validate input only; intake.py and workflow.py decide (and refuse with a message).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import Department, Station

from . import queries
from . import rules as letter_rules
from .flows import Channel, Kind, ReplyStatus, Status
from .models import Letter, OutsidePlatform

NOTE_MAX = 500
REPLY_MAX = 10_000
STATUS_ALL = "all"
DUE_OVERDUE = "overdue"
DUE_SOON = "soon"


class StaffForm(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no ASCII colon after Chinese labels
        super().__init__(*args, **kwargs)


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _blank(choices, label):
    return [("", label), *choices]


class QueueFilterForm(StaffForm):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("在办来信")), (STATUS_ALL, _("全部（含已结束）")), *Status.choices],
    )
    channel = forms.ChoiceField(
        label=_("来信渠道"), required=False, choices=_blank(Channel.choices, _("全部"))
    )
    kind = forms.ChoiceField(
        label=_("来信类别"), required=False, choices=_blank(Kind.choices, _("全部"))
    )
    due = forms.ChoiceField(
        label=_("时限"),
        required=False,
        choices=[
            ("", _("全部")),
            (DUE_OVERDUE, _("已超期（红色预警）")),
            (DUE_SOON, _("一个工作日内到期（黄色预警）")),
        ],
    )
    mine = forms.BooleanField(label=_("只看我承办的"), required=False)
    q = forms.CharField(label=_("信件编号"), required=False, max_length=20)

    def filters(self) -> dict:
        """The valid filters; an invalid query string falls back to the whole queue."""
        if not self.is_valid():
            return {"status": "", "due": "", "mine": False, "channel": "", "kind": "", "q": ""}
        data = self.cleaned_data
        return {**data, "q": data["q"].strip()}


class HotlineForm(StaffForm):
    """A call typed in by the operator while the caller is on the line."""

    submission_key = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("页面已过期，请刷新后重新填写。"),
            "invalid": _("页面已过期，请刷新后重新填写。"),
        },
    )
    channel = forms.ChoiceField(
        label=_("来电线路"),
        choices=[
            (Channel.HOTLINE, Channel.HOTLINE.label),
            (Channel.MISCONDUCT, _("12389举报电话")),
        ],
        initial=Channel.HOTLINE,
        widget=forms.RadioSelect,
    )
    contact_name = forms.CharField(
        label=_("来电人姓名"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机号码或固定电话，用于答复来电人。"),
    )
    declined = forms.BooleanField(
        label=_("来电人不愿留下姓名和电话（匿名举报）"),
        required=False,
        help_text=_("仅举报和12389举报可以匿名；其他来电须留下姓名和电话以便答复。"),
    )
    kind = forms.ChoiceField(
        label=_("来信类别"),
        choices=_blank(Kind.choices, _("请选择")),
        error_messages={"required": _("请选择来信类别。")},
    )
    subject = forms.CharField(
        label=_("标题"), max_length=200, error_messages={"required": _("请填写标题。")}
    )
    body = forms.CharField(
        label=_("来电内容"),
        max_length=10_000,
        widget=_textarea(6),
        error_messages={"required": _("请填写来信内容。")},
    )
    address = forms.CharField(label=_("事发地点（可选）"), required=False, max_length=200)
    subject_officer = forms.CharField(
        label=_("被举报民警或单位（12389举报）"), required=False, max_length=100
    )
    publish_consent = forms.BooleanField(label=_("来电人同意公开答复"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("declined"):
            if data.get("contact_name") or data.get("contact_phone"):
                raise forms.ValidationError(_("匿名举报无需也不能填写姓名和联系方式。"))
        else:
            if not data.get("contact_name"):
                self.add_error("contact_name", _("请填写来电人姓名，或勾选“不愿留下姓名和电话”。"))
            if not data.get("contact_phone"):
                self.add_error("contact_phone", _("请填写联系电话，或勾选“不愿留下姓名和电话”。"))
        return data

    def receive_kwargs(self) -> dict:
        """The keyword arguments of intake.receive."""
        data = self.cleaned_data
        return {
            "submission_key": data["submission_key"],
            "channel": data["channel"],
            "kind": data["kind"],
            "subject": data["subject"],
            "body": data["body"],
            "anonymous": data["declined"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
            "subject_officer": data["subject_officer"],
            "publish_consent": data["publish_consent"],
            "address": data["address"],
        }

    @classmethod
    def blank(cls, channel: str = Channel.HOTLINE) -> HotlineForm:
        return cls(initial={"submission_key": uuid.uuid4(), "channel": channel})


# --- actions on one letter ------------------------------------------------------------------


class EmptyForm(StaffForm):
    """Actions that need nothing but the button (claim, submit, send)."""


class NoteForm(StaffForm):
    note = forms.CharField(
        label=_("审核意见（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )


class ReasonForm(StaffForm):
    reason = forms.CharField(
        label=_("理由"),
        max_length=NOTE_MAX,
        widget=_textarea(2),
        error_messages={"required": _("请说明理由。")},
    )


def _departments():
    return Department.objects.order_by("position", "pk")


def _station_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("承办派出所（可选）"),
        required=False,
        queryset=Station.objects.select_related("district"),
        empty_label=_("不指定（全部门办理）"),
    )


class AssignForm(StaffForm):
    """分办: misconduct reports stay with police inspection."""

    department = forms.ModelChoiceField(
        label=_("承办部门"),
        queryset=_departments(),
        error_messages={"required": _("请选择承办部门。")},
    )
    station = _station_field()
    note = forms.CharField(
        label=_("分办意见（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )

    def __init__(self, *args, letter: Letter, **kwargs):
        super().__init__(*args, **kwargs)
        if letter.is_misconduct:
            code = letter_rules.holding_department_code(Channel.MISCONDUCT)
            self.fields["department"].queryset = _departments().filter(code=code)


class TransferForm(StaffForm):
    """转办: the due date stays as it is."""

    department = forms.ModelChoiceField(
        label=_("转至部门"),
        queryset=_departments(),
        error_messages={"required": _("请选择承办部门。")},
    )
    station = _station_field()
    note = forms.CharField(
        label=_("转办理由"),
        max_length=NOTE_MAX,
        widget=_textarea(2),
        error_messages={"required": _("转办须说明理由。")},
    )

    def __init__(self, *args, letter: Letter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].help_text = _("转办不改变答复期限：仍须在%(due)s前答复来信人。") % {
            "due": letter.due_date.strftime("%Y-%m-%d")
        }


class HandlerForm(StaffForm):
    handler = forms.ModelChoiceField(
        label=_("承办人"),
        queryset=get_user_model().objects.none(),
        error_messages={"required": _("请选择承办人。")},
    )

    def __init__(self, *args, letter: Letter, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["handler"]
        field.queryset = (
            get_user_model()
            .objects.filter(
                is_active=True,
                staff_profile__department_id=letter.department_id,
                role_assignments__role__in=letter_rules.HANDLER_ROLES,
            )
            .exclude(pk=letter.handler_id)
            .distinct()
            .order_by("name", "pk")
        )
        field.label_from_instance = lambda u: u.get_full_name() or u.username


class DraftForm(StaffForm):
    body = forms.CharField(
        label=_("答复内容"),
        max_length=REPLY_MAX,
        widget=_textarea(8),
        error_messages={"required": _("请填写答复内容。")},
    )

    def __init__(self, *args, letter: Letter, **kwargs):
        super().__init__(*args, **kwargs)
        draft = letter.replies.filter(status=ReplyStatus.DRAFT).first()
        if draft is not None:
            self.fields["body"].initial = draft.body


class MergeForm(StaffForm):
    into = forms.CharField(
        label=_("合并到的来信编号"),
        max_length=20,
        error_messages={"required": _("请填写要合并到的来信编号。")},
        help_text=_("本信将作为重复来信合并，来信人将收到对该信的答复。"),
    )
    note = forms.CharField(
        label=_("说明（可选）"), required=False, max_length=NOTE_MAX, widget=_textarea(2)
    )

    def __init__(self, *args, letter: Letter, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.letter, self.user = letter, user

    def clean_into(self) -> Letter:
        number = self.cleaned_data["into"].strip().upper()
        target = queries.visible_letters(self.user).filter(number=number).first()
        if target is None:
            raise forms.ValidationError(
                _("未找到编号为%(number)s的来信，或您无权查看该来信。"), params={"number": number}
            )
        if target.pk == self.letter.pk:
            raise forms.ValidationError(_("不能将来信合并到其自身。"))
        return target


class PublishForm(StaffForm):
    public_subject = forms.CharField(
        label=_("公开标题"), max_length=200, error_messages={"required": _("请填写公开标题。")}
    )
    public_reply = forms.CharField(
        label=_("公开的答复内容"),
        max_length=REPLY_MAX,
        widget=_textarea(6),
        error_messages={"required": _("请填写公开的答复内容。")},
        help_text=_(
            "公开前请删除或遮盖姓名、身份证号码、手机号码、电子邮箱等个人信息；"
            "含有这些信息的内容将被拒绝公开。"
        ),
    )

    def __init__(self, *args, letter: Letter, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["public_subject"].initial = letter.public_subject or letter.subject
        sent = letter.replies.filter(status=ReplyStatus.SENT).order_by("-round").first()
        self.fields["public_reply"].initial = letter.public_reply or (sent.body if sent else "")


class RevealForm(StaffForm):
    purpose = forms.CharField(
        label=_("查看事由"),
        max_length=200,
        error_messages={"required": _("请填写查看联系方式的事由，该操作将被记录。")},
        help_text=_("例如：电话联系来信人核实情况。每次查看都会记入审计日志。"),
    )


class ImportForm(StaffForm):
    platform = forms.ModelChoiceField(
        label=_("外部平台"),
        queryset=OutsidePlatform.objects.filter(active=True),
        error_messages={"required": _("请选择外部平台。")},
    )
    file = forms.FileField(
        label=_("CSV文件"),
        error_messages={"required": _("请选择要导入的CSV文件。")},
        help_text=_(
            "第一行为列名：outside_id、kind、subject、body（必填），contact_name、"
            "contact_phone、contact_email、submitted_at、address、lat、long（可选）。"
            "支持UTF-8或GB18030编码；重复导入同一文件不会重复登记。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
