"""Forms for writers: letters on the web channels, 12389 reports, the follow-up code, ratings.

Validation only; the verbs in intake.py and workflow.py check everything again. Attachments
reuse cases.attachments.validate_upload (PDF, JPEG, PNG by their bytes; size limit).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from servicehall.cases.attachments import ACCEPT_ATTR, validate_upload
from servicehall.cases.forms_citizen import RatingForm

from .flows import Channel, Kind
from .intake import MAX_ATTACHMENTS, MAX_BODY_CHARS, contact_phone_from
from .workflow import WorkflowError

# Which kinds of letter each web channel takes, in the order offered.
CHANNEL_KINDS = {
    Channel.MAILBOX: (
        Kind.CONSULTATION,
        Kind.SUGGESTION,
        Kind.COMPLAINT,
        Kind.HELP,
        Kind.REPORT,
        Kind.PRAISE,
    ),
    Channel.ONLINE110: (Kind.HELP, Kind.CONSULTATION, Kind.REPORT),
    Channel.APPEAL: (Kind.HELP, Kind.COMPLAINT, Kind.SUGGESTION, Kind.CONSULTATION),
}


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to MAX_ATTACHMENTS files in one input; each cleaned upload carries `.validated`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTR}))
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", {"invalid": _("文件无法读取，请重新上传。")})
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data]
        uploads = [upload for upload in uploads if upload]
        if len(uploads) > MAX_ATTACHMENTS:
            raise ValidationError(_("附件不能超过%(n)d个。") % {"n": MAX_ATTACHMENTS})
        cleaned = []
        for upload in uploads:
            upload = super().clean(upload, initial)
            try:
                upload.validated = validate_upload(upload)
            except ValidationError as exc:
                name = getattr(upload, "name", "")
                raise ValidationError([f"{name}：{message}" for message in exc.messages]) from exc
            cleaned.append(upload)
        return cleaned


def clean_phone(value: str) -> str:
    """A mobile (normalised) or a landline; "" stays "" (the verb then uses the profile's)."""
    try:
        return contact_phone_from(value)
    except WorkflowError:
        raise ValidationError(_("请填写正确的手机号码或固定电话号码，例如 13812345678。")) from None


def _subject_field():
    return forms.CharField(
        label=_("标题"),
        max_length=200,
        error_messages={"required": _("请填写标题。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _body_field(label, help_text):
    return forms.CharField(
        label=label,
        max_length=MAX_BODY_CHARS,
        help_text=help_text,
        error_messages={"required": _("请填写来信内容。")},
        widget=forms.Textarea(attrs={"rows": 8}),
    )


def _attachments_help() -> str:
    return gettext(
        "可上传照片或PDF文件，最多%(n)d个，每个不超过10MB。照片可能带有拍摄时间和地点信息。"
    ) % {"n": MAX_ATTACHMENTS}


def _attachments_field():
    # Lazy: the fields are built when the module loads, the text when a page renders (in
    # the reader's language).
    return AttachmentsField(label=_("附件（可选）"), help_text=lazy(_attachments_help, str)())


class LetterForm(forms.Form):
    """局长信箱, 网上110 and 民意通: a signed-in citizen writes; the contact defaults to the
    account's and may be changed for notification."""

    kind = forms.ChoiceField(
        label=_("来信类别"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择来信类别。")},
    )
    subject = _subject_field()
    body = _body_field(
        _("来信内容"), _("请写明事情经过、您的诉求和相关的时间、地点。不要填写身份证号码。")
    )
    address = forms.CharField(
        label=_("相关地点（可选）"),
        max_length=200,
        required=False,
        help_text=_("例如：和平区南京北街某小区门口"),
    )
    attachments = _attachments_field()
    contact_phone = forms.CharField(
        label=_("接收通知的手机号码"),
        max_length=20,
        required=False,
        help_text=_("收信、答复时发送短信提醒（短信不含答复内容）。"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.EmailField(
        label=_("电子邮箱（可选）"),
        max_length=254,
        required=False,
        error_messages={"invalid": _("请填写正确的电子邮箱地址。")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    publish_consent = forms.BooleanField(
        label=_("同意在“已答复来信”中公开答复（公开前会去除姓名、电话等个人信息）"),
        required=False,
    )

    def __init__(self, *args, channel: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.value, k.label) for k in CHANNEL_KINDS[channel]]

    def clean_contact_phone(self):
        return clean_phone(self.cleaned_data["contact_phone"])


class ReportForm(forms.Form):
    """12389 警务督察举报. Anonymous: the contact fields are dropped, whatever was typed."""

    ANONYMOUS, NAMED = "anonymous", "named"

    identity = forms.ChoiceField(
        label=_("举报方式"),
        choices=[
            (ANONYMOUS, _("匿名举报（不留姓名和联系方式，凭查询码查看答复）")),
            (NAMED, _("实名举报（留下联系方式，便于核实和答复）")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择匿名或实名举报。")},
    )
    contact_name = forms.CharField(
        label=_("姓名"),
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    subject_officer = forms.CharField(
        label=_("被举报的民警或单位"),
        max_length=100,
        help_text=_("警号、姓名或单位，知道多少填多少，例如：某派出所，警号0123××"),
        error_messages={"required": _("请填写被举报的民警或单位。")},
    )
    subject = _subject_field()
    body = _body_field(
        _("发生了什么"),
        _("请写明经过，以及您希望如何处理。匿名举报时，请不要在内容中写您的姓名或电话。"),
    )
    happened_at = forms.CharField(
        label=_("发生时间（可选）"),
        max_length=60,
        required=False,
        help_text=_("例如：2026年11月20日下午3点左右"),
    )
    address = forms.CharField(label=_("发生地点（可选）"), max_length=200, required=False)
    attachments = _attachments_field()

    def __init__(self, *args, signed_in: bool, staff: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.signed_in, self.staff = signed_in, staff

    def clean_contact_phone(self):
        return clean_phone(self.cleaned_data["contact_phone"])

    def clean(self):
        data = super().clean()
        if data.get("identity") == self.ANONYMOUS:
            # Nothing identifying goes further, not even a mistyped number's error.
            data["contact_name"] = data["contact_phone"] = ""
            self.errors.pop("contact_phone", None)
        elif data.get("identity") == self.NAMED and self.staff:
            self.add_error(
                "identity",
                _("工作人员请通过工作台登记来电举报；本人举报请选择匿名举报。"),
            )
        elif data.get("identity") == self.NAMED and not self.signed_in:
            if not (data.get("contact_name") or "").strip():
                self.add_error("contact_name", _("实名举报请填写姓名。"))
            if "contact_phone" in data and not data["contact_phone"]:
                self.add_error("contact_phone", _("实名举报请填写联系电话。"))
        return data

    @property
    def anonymous(self) -> bool:
        return self.cleaned_data["identity"] == self.ANONYMOUS

    def letter_body(self) -> str:
        body = self.cleaned_data["body"]
        when = self.cleaned_data.get("happened_at", "").strip()
        return f"{body}\n\n发生时间：{when}" if when else body


class FollowUpForm(forms.Form):
    code = forms.CharField(
        label=_("查询码"),
        max_length=32,
        help_text=_("提交时页面上显示的16位查询码，例如 ABCD-EFGH-JKLM-NPQR；不区分大小写。"),
        error_messages={"required": _("请输入查询码。")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


class LetterRatingForm(RatingForm):
    """The cases' five-level 好差评 form, asking about the reply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["level"].label = _("您对本次答复的评价")
        self.fields["level"].error_messages["required"] = _("请选择评价等级。")


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("不满意的原因"),
        max_length=1000,
        error_messages={"required": _("请说明不满意的原因。")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回原因（可选）"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnsweredSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索已答复来信"), max_length=50, required=False)
