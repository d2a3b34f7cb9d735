"""Intake: every channel's letters into one store.

    receipt = intake.receive(actor=request.user, submission_key=form_token,
                             channel="mailbox", kind="consultation", subject=..., body=...)
    receipt.letter, receipt.follow_up_code, receipt.created

    intake.import_outside(platform=minxin, outside_id="MX2026-0042", kind=..., ...)

Who writes:
- Web forms (mailbox, online110, appeal, misconduct): a signed-in citizen becomes the writer
  (contact taken from the account unless given); a visitor who is not signed in gives a name
  and a phone number; an anonymous report (12389 misconduct reports, and reports 举报 on any
  channel) gives nothing identifying at all — no account link, no contact, and no IP address
  anywhere (the verbs take no request; views must not audit that submission with one).
- Hotline calls (96123, and 12389 by phone): an operator holding a hotline role types the
  call in; `entered_by` is the operator, the caller is never an account.
- Outside platforms (民心网): import_outside, authenticated by the caller (platforms.verify_key)
  or by a letters-office clerk's CSV upload (imports.py); idempotent by the platform's id.

A writer without an account gets a follow-up code (查询码) to read the reply, rate, reopen or
withdraw. Only its SHA-256 is stored. It is derived from the form token with the site's
secret key, so a double submit (the browser shows the second response) shows the same code
again — but only within CODE_RESHOW_WINDOW of receipt; after that a retry shows none.

Double submits: the form token (`submission_key`) is unique, so a double click, a retried
request or a racing twin finds the one letter. The clock starts on the day of receipt.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from servicehall.accounts import rules as account_rules
from servicehall.accounts.models import Department
from servicehall.cases.attachments import validate_upload, without_image_metadata
from servicehall.notify.outbox import normalise_phone

from . import notifications
from . import rules as letter_rules
from .flows import Action, Channel, Kind
from .models import Letter, LetterAttachment, LetterCounter, OutsidePlatform
from .workflow import ANONYMOUS_LABEL, WorkflowError, due_date_from, record

WEB_CHANNELS = frozenset({Channel.MAILBOX, Channel.ONLINE110, Channel.APPEAL, Channel.MISCONDUCT})
PHONE_CHANNELS = frozenset({Channel.HOTLINE, Channel.MISCONDUCT})
MAX_ATTACHMENTS = 5
MAX_BODY_CHARS = 10_000
CODE_RESHOW_WINDOW = timedelta(minutes=30)
_CODE_SALT = "servicehall.letters.follow_up_code"
_LANDLINE = re.compile(r"^(?:0\d{9,11}|\d{7,8})$")


@dataclass(frozen=True)
class Receipt:
    letter: Letter
    # Shown to the writer once (and again on a double submit within the window); None for
    # writers with an account and for outside letters.
    follow_up_code: str | None
    created: bool


def may_be_anonymous(channel: str, kind: str) -> bool:
    """Misconduct reports (12389) and reports (举报) may be anonymous."""
    return channel == Channel.MISCONDUCT or kind == Kind.REPORT


def follow_up_code(submission_key: uuid.UUID) -> str:
    """The code for this form token: 16 characters of base32 (80 bits), shown in groups of 4."""
    digest = salted_hmac(_CODE_SALT, str(submission_key), algorithm="sha256").digest()
    raw = base64.b32encode(digest[:10]).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


# --- input checks ----------------------------------------------------------------------------


def _text(value, *, required_message: str | None = None, limit: int, label: str) -> str:
    value = (value or "").strip()
    if required_message and not value:
        raise WorkflowError(required_message)
    if len(value) > limit:
        raise WorkflowError(
            _("%(field)s不能超过%(limit)d个字。") % {"field": label, "limit": limit}
        )
    return value


def contact_phone_from(value: str) -> str:
    """A mobile (normalised) or a landline as typed without spaces or brackets; "" for none;
    WorkflowError otherwise. Shared by the web forms, the import API and the verbs."""
    text = re.sub(r"[\s\-()（）]", "", value or "")
    if not text:
        return ""
    mobile = normalise_phone(text)
    if mobile:
        return mobile
    if _LANDLINE.match(text):
        return text
    raise WorkflowError(_("请填写正确的手机号码或固定电话号码。"))


def _email(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError as exc:
        raise WorkflowError(_("请填写正确的电子邮箱地址。")) from exc
    return value


def _location(lat, long) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and long in (None, ""):
        return None, None
    try:
        lat, long = Decimal(str(lat)), Decimal(str(long))
    except (InvalidOperation, ValueError) as exc:
        raise WorkflowError(_("请提供有效的经纬度，或都不填。")) from exc
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        raise WorkflowError(_("请提供有效的经纬度，或都不填。"))
    return lat.quantize(Decimal("0.000001")), long.quantize(Decimal("0.000001"))


def validate_attachments(files) -> list:
    """(file, ValidatedFile) pairs, through cases.attachments.validate_upload (a file that a
    form field already validated carries `.validated`)."""
    files = [f for f in files or () if f]
    if len(files) > MAX_ATTACHMENTS:
        raise WorkflowError(_("附件不能超过%(n)d个。") % {"n": MAX_ATTACHMENTS})
    checked = []
    for upload in files:
        validated = getattr(upload, "validated", None)
        if validated is None:
            try:
                validated = validate_upload(upload)
            except ValidationError as exc:
                raise WorkflowError(" ".join(exc.messages)) from exc
        checked.append((upload, validated))
    return checked


# --- creating a letter -------------------------------------------------------------------------


def _next_number(day) -> str:
    counter, _created = LetterCounter.objects.get_or_create(day=day)
    # The UPDATE locks the counter row until commit: numbers are gap-free and never repeat.
    LetterCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    last = LetterCounter.objects.values_list("last", flat=True).get(pk=counter.pk)
    return f"XF{day:%Y%m%d}{last:05d}"


def _holding_department(channel: str) -> Department:
    code = letter_rules.holding_department_code(channel)
    try:
        return Department.objects.get(code=code)
    except Department.DoesNotExist as exc:
        raise WorkflowError(_("系统未配置信访承办部门，请联系系统管理员。")) from exc


def _attach(letter: Letter, attachments, *, uploaded_by) -> None:
    for index, (upload, validated) in enumerate(attachments, start=1):
        name = validated.name
        if letter.anonymous:
            name = _("附件%(n)d") % {"n": index} + name[name.rfind(".") :]
            # A photo's EXIF can carry the phone's model, the time and the GPS position.
            try:
                upload, validated = without_image_metadata(upload, validated)
            except ValidationError as exc:
                raise WorkflowError(" ".join(exc.messages)) from exc
        upload.name = name
        LetterAttachment.objects.create(
            letter=letter,
            file=upload,
            original_name=name,
            content_type=validated.content_type,
            size=validated.size,
            sha256=validated.sha256,
            uploaded_by=uploaded_by,
        )


def _create(*, fields: dict, attachments, uploaded_by, action: str, actor, label: str) -> Letter:
    now = timezone.now()
    day = timezone.localdate(now)
    due, provisional = due_date_from(day, fields["kind"])
    letter = Letter.objects.create(
        number=_next_number(day),
        department=_holding_department(fields["channel"]),
        received_at=now,
        clock_started_on=day,
        due_date=due,
        due_date_provisional=provisional,
        **fields,
    )
    _attach(letter, attachments, uploaded_by=uploaded_by)
    details = {
        "channel": letter.channel,
        "kind": letter.kind,
        "anonymous": letter.anonymous,
        "due_date": due.isoformat(),
        "provisional": provisional,
        "attachments": len(attachments),
    }
    if letter.outside_platform_id:
        details["outside_id"] = letter.outside_id
    event = record(letter, action, actor=actor, actor_label=label, from_status="", details=details)
    notifications.received(letter, event)
    return letter


def _create_once(lookup: dict, **kwargs) -> tuple[Letter, bool]:
    """Create, or find the letter a twin request created a moment ago."""
    try:
        with transaction.atomic():
            return _create(**kwargs), True
    except IntegrityError:
        existing = Letter.objects.filter(**lookup).first()
        if existing is None:
            raise
        return existing, False


# --- receiving -------------------------------------------------------------------------------


def _again(letter: Letter, actor, submission_key) -> Receipt:
    """A repeat of an accepted submission: the same letter, and the code within the window."""
    if letter.writer_id is not None and not (
        account_rules.is_authenticated(actor) and actor.pk == letter.writer_id
    ):
        raise PermissionDenied(_("该来信不属于您。"))
    code = None
    if (
        letter.follow_up_code_hash
        and timezone.now() - letter.received_at <= CODE_RESHOW_WINDOW
        and letter_rules.holds_code(letter, follow_up_code(submission_key))
    ):
        code = follow_up_code(submission_key)
    return Receipt(letter, code, False)


def receive(
    *,
    actor,
    submission_key: uuid.UUID,
    channel: str,
    kind: str,
    subject: str,
    body: str,
    anonymous: bool = False,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    subject_officer: str = "",
    publish_consent: bool = False,
    address: str = "",
    lat=None,
    long=None,
    attachments=(),
) -> Receipt:
    """Receive a letter from a web form or a hotline call (see the module docstring).

    `actor`: the signed-in user, None / AnonymousUser for a visitor, or the hotline operator.
    `attachments`: uploaded files (validated here). Raises WorkflowError (message for the
    user) or PermissionDenied.
    """
    try:
        submission_key = uuid.UUID(str(submission_key))
    except ValueError as exc:  # a form without its token: never match letters that have none
        raise WorkflowError(_("提交标识无效，请刷新页面后重新提交。")) from exc
    existing = Letter.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return _again(existing, actor, submission_key)

    if channel not in Channel.values or channel == Channel.OUTSIDE:
        raise WorkflowError(_("请选择来信渠道。"))
    if kind not in Kind.values:
        raise WorkflowError(_("请选择来信类别。"))
    subject = _text(subject, required_message=_("请填写标题。"), limit=200, label=_("标题"))
    body = _text(
        body, required_message=_("请填写来信内容。"), limit=MAX_BODY_CHARS, label=_("内容")
    )
    subject_officer = _text(subject_officer, limit=100, label=_("被举报民警或单位"))
    address = _text(address, limit=200, label=_("地点"))
    lat, long = _location(lat, long)
    checked = validate_attachments(attachments)

    signed_in = account_rules.is_authenticated(actor)
    operator = None
    writer = None
    if account_rules.is_staff_member(actor):
        if channel not in PHONE_CHANNELS or not actor.has_role(*letter_rules.HOTLINE_ROLES):
            raise PermissionDenied(_("工作人员只能通过热线渠道代来电群众登记来信。"))
        operator = actor
    elif channel == Channel.HOTLINE:
        raise PermissionDenied(_("热线来电由话务员登记。"))
    elif signed_in and not anonymous:
        writer = actor

    if anonymous:
        if not may_be_anonymous(channel, kind):
            raise WorkflowError(_("只有举报可以匿名，其他来信请留下联系方式以便答复。"))
        if (contact_name or "").strip() or (contact_phone or "").strip() or contact_email:
            raise WorkflowError(_("匿名举报无需也不能填写姓名和联系方式。"))
        contact = {"contact_name": "", "contact_phone": "", "contact_email": ""}
    else:
        contact = {
            "contact_name": _text(contact_name, limit=64, label=_("联系人")),
            "contact_phone": contact_phone_from(contact_phone),
            "contact_email": _email(contact_email),
        }
        if writer is not None:
            profile = writer.citizen_profile_or_none
            contact["contact_name"] = contact["contact_name"] or writer.name
            contact["contact_phone"] = contact["contact_phone"] or (
                profile.mobile if profile else ""
            )
            contact["contact_email"] = contact["contact_email"] or writer.email
        elif not (contact["contact_name"] and contact["contact_phone"]):
            raise WorkflowError(_("请留下姓名和联系电话，以便答复您。"))

    code = follow_up_code(submission_key) if writer is None else None
    fields = {
        "submission_key": submission_key,
        "channel": channel,
        "kind": kind,
        "subject": subject,
        "body": body,
        "writer": writer,
        "anonymous": bool(anonymous),
        "subject_officer": subject_officer,
        "entered_by": operator,
        "follow_up_code_hash": letter_rules.code_hash(code) if code else None,
        "publish_consent": bool(publish_consent),
        "address": address,
        "lat": lat,
        "long": long,
        **contact,
    }
    if operator is not None:
        record_as, label = operator, ""
    elif writer is not None:
        record_as, label = writer, ""
    else:  # anonymous, or a visitor not signed in: nothing about who sent it
        record_as, label = None, ANONYMOUS_LABEL
    letter, created = _create_once(
        {"submission_key": submission_key},
        fields=fields,
        attachments=checked,
        uploaded_by=operator or writer,
        action=Action.RECEIVE,
        actor=record_as,
        label=label,
    )
    if not created:
        return _again(letter, actor, submission_key)
    return Receipt(letter, code, True)


def may_import(actor) -> bool:
    """Letters-office staff with a triage role upload outside platforms' files."""
    profile = actor.staff_profile_or_none if account_rules.is_staff_member(actor) else None
    return bool(
        profile is not None
        and profile.department is not None
        and profile.department.code == letter_rules.holding_department_code(Channel.OUTSIDE)
        and actor.has_role(*letter_rules.TRIAGE_ROLES)
    )


def import_outside(
    *,
    platform: OutsidePlatform,
    outside_id: str,
    kind: str,
    subject: str,
    body: str,
    actor=None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    submitted_at=None,
    address: str = "",
    lat=None,
    long=None,
) -> Receipt:
    """A letter from an outside platform, once per (platform, outside id): importing it again
    returns the letter already accepted and changes nothing.

    `actor`: None when the platform itself calls (it authenticated with its key), or the
    letters-office clerk who uploaded the platform's CSV file. The reply clock starts on the
    day of import (the bureau's receipt); the platform's own time is kept in
    `outside_submitted_at`.
    """
    outside_id = (outside_id or "").strip()
    if not outside_id or len(outside_id) > 64:
        raise WorkflowError(_("请提供外部平台的来信编号（不超过64个字符）。"))
    existing = Letter.objects.filter(outside_platform=platform, outside_id=outside_id).first()
    if existing is not None:
        return Receipt(existing, None, False)
    if not platform.active:
        raise PermissionDenied(_("该外部平台已停用。"))
    if actor is not None and not may_import(actor):
        raise PermissionDenied(_("只有信访部门的受理人员可以导入外部平台来信。"))
    if kind not in Kind.values:
        raise WorkflowError(_("请选择来信类别。"))
    if submitted_at is not None and timezone.is_naive(submitted_at):
        submitted_at = timezone.make_aware(submitted_at)
    fields = {
        "channel": Channel.OUTSIDE,
        "kind": kind,
        "subject": _text(subject, required_message=_("请填写标题。"), limit=200, label=_("标题")),
        "body": _text(
            body, required_message=_("请填写来信内容。"), limit=MAX_BODY_CHARS, label=_("内容")
        ),
        "outside_platform": platform,
        "outside_id": outside_id,
        "outside_submitted_at": submitted_at,
        "contact_name": _text(contact_name, limit=64, label=_("联系人")),
        "contact_phone": contact_phone_from(contact_phone),
        "contact_email": _email(contact_email),
        "address": _text(address, limit=200, label=_("地点")),
    }
    fields["lat"], fields["long"] = _location(lat, long)
    letter, created = _create_once(
        {"outside_platform": platform, "outside_id": outside_id},
        fields=fields,
        attachments=[],
        uploaded_by=None,
        action=Action.IMPORT,
        actor=actor,
        label="" if actor is not None else f"platform:{platform.code}",
    )
    return Receipt(letter, None, created)
