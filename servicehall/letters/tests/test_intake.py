"""Intake from every channel: numbers, due dates, idempotency, anonymity, attachments."""

import datetime as dt
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from servicehall.accounts.tests.factories import CitizenFactory
from servicehall.core.models import AuditEntry, CalendarYear
from servicehall.letters import deadlines
from servicehall.letters.models import Letter, LetterAttachment, LetterEvent
from servicehall.letters.workflow import WorkflowError
from servicehall.notify.models import Message

from .conftest import letter, receive

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat


def pdf(name="材料.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 synthetic\n", content_type="application/pdf")


def test_a_citizens_letter_is_numbered_dated_and_acknowledged(citizen, team):
    receipt = receive(citizen)
    mail = receipt.letter
    assert receipt.created and receipt.follow_up_code is None  # the account follows it
    assert mail.number == "XF2026112600001"
    assert mail.service_request_id == mail.number
    assert mail.status == "received" and mail.department.code == "xinfang"
    assert mail.writer == citizen and not mail.anonymous
    assert mail.contact_phone == citizen.citizen_profile.mobile
    assert mail.contact_name == citizen.name
    # Thursday + 3 working days: Fri, Mon, Tue.
    assert mail.due_date == D("2026-12-01") and not mail.due_date_provisional
    assert receive(citizen).letter.number == "XF2026112600002"
    sms = Message.objects.get(channel="sms", about_id=str(mail.pk))
    assert mail.number in sms.body and "2026-12-01" in sms.body
    assert LetterEvent.objects.get(letter=mail).action == "receive"
    entry = AuditEntry.objects.get(action="letter.receive", object_id=str(mail.pk))
    assert entry.actor == citizen


@pytest.mark.parametrize(
    ("received", "kind", "due"),
    [
        # National Day: 1–7 October off, Saturday 10 October worked (调休).
        ("2026-09-30 16:00 +0800", "consultation", "2026-10-10"),
        ("2026-09-30 16:00 +0800", "complaint", "2026-10-13"),
        # Spring Festival: Saturday 14 February worked, 15–23 February off.
        ("2026-02-13 09:00 +0800", "consultation", "2026-02-25"),
        ("2026-02-13 09:00 +0800", "help", "2026-02-25"),
        ("2026-02-13 09:00 +0800", "report", "2026-02-27"),
        # Received on a holiday: counting starts on the next working day.
        ("2026-10-03 11:00 +0800", "suggestion", "2026-10-13"),
    ],
)
def test_reply_deadlines_skip_holidays_and_count_swapped_working_days(
    citizen, team, received, kind, due
):
    assert letter(citizen, at=received, kind=kind).due_date == D(due)


def test_reply_days_come_from_the_settings(citizen, team, settings):
    settings.LETTER_REPLY_DAYS = {**settings.LETTER_REPLY_DAYS, "consultation": 10}
    assert letter(citizen).due_date == D("2026-12-10")


def test_a_double_submit_is_one_letter(citizen, team):
    key = uuid.uuid4()
    first = receive(citizen, submission_key=key)
    again = receive(citizen, submission_key=key, subject="改过的标题")
    assert first.letter.pk == again.letter.pk and not again.created
    assert Letter.objects.filter(submission_key=key).count() == 1
    assert Letter.objects.get(pk=first.letter.pk).subject == "户口迁移咨询"
    assert LetterEvent.objects.filter(letter=first.letter).count() == 1
    assert Message.objects.filter(about_id=str(first.letter.pk)).count() == 1
    with pytest.raises(PermissionDenied):
        receive(CitizenFactory(), submission_key=key)


def test_an_anonymous_report_stores_nothing_that_identifies_the_reporter(team):
    """Signed in or not, an anonymous report links to no account, holds no contact data,
    and its audit entries name no actor and hold no IP address."""
    # An account id no count or date contains, so that finding it in the audit text means
    # it leaked (on SQLite the first citizen is user 1, and the report has 1 attachment).
    citizen = CitizenFactory(id=7_340_021, email="writer@example.com")
    before = set(AuditEntry.objects.values_list("sequence", flat=True))
    receipt = receive(
        citizen,
        channel="misconduct",
        kind="report",
        anonymous=True,
        subject="举报某民警违规收费",
        body="某派出所民警办理业务时收取费用。",
        subject_officer="某派出所民警",
        attachments=[pdf(f"{citizen.name}的举报材料.pdf")],
    )
    report = Letter.objects.get(pk=receipt.letter.pk)
    code = receipt.follow_up_code
    assert code and len(code.replace("-", "")) == 16
    assert report.writer_id is None and report.entered_by_id is None and report.anonymous
    assert (report.contact_name, report.contact_phone, report.contact_email) == ("", "", "")
    assert code not in str(Letter.objects.filter(pk=report.pk).values().get())
    assert report.follow_up_code_hash and report.follow_up_code_hash != code
    assert report.department.code == "ducha"
    profile = citizen.citizen_profile
    row = str(Letter.objects.filter(pk=report.pk).values().get())
    for trace in (citizen.name, profile.mobile, profile.id_number, citizen.email, citizen.username):
        assert trace not in row
    attachment = LetterAttachment.objects.get(letter=report)
    assert attachment.uploaded_by_id is None and citizen.name not in attachment.original_name
    assert citizen.name not in attachment.file.name
    assert LetterEvent.objects.get(letter=report).actor_id is None

    new_entries = AuditEntry.objects.exclude(sequence__in=before)
    assert new_entries.exists()
    for entry in new_entries:
        assert entry.actor_id is None and entry.ip is None
        assert entry.actor_label == "anonymous"
        text = f"{entry.details} {entry.object_repr} {entry.purpose}"
        for trace in (str(citizen.pk), citizen.name, citizen.username, profile.mobile):
            assert trace not in text
    assert not AuditEntry.objects.filter(actor=citizen).exists()
    assert not Message.objects.filter(about_id=str(report.pk)).exists()


def test_an_anonymous_double_submit_shows_the_same_code_only_for_a_while(team):
    key = uuid.uuid4()
    fields = {"channel": "misconduct", "kind": "report", "anonymous": True, "submission_key": key}
    first = receive(None, **fields)
    again = receive(None, at="2026-11-26 10:05 +0800", **fields)
    assert again.letter.pk == first.letter.pk and again.follow_up_code == first.follow_up_code
    later = receive(None, at="2026-11-26 12:00 +0800", **fields)
    assert later.letter.pk == first.letter.pk and later.follow_up_code is None


def test_only_reports_may_be_anonymous_and_anonymous_means_no_contact(team):
    with pytest.raises(WorkflowError, match="只有举报可以匿名"):
        receive(None, anonymous=True)
    with pytest.raises(WorkflowError, match="不能填写"):
        receive(None, kind="report", anonymous=True, contact_phone="13900001111")
    report = letter(None, kind="report", channel="online110", anonymous=True)
    assert report.department.code == "xinfang"


def test_a_visitor_leaves_a_name_and_phone_and_gets_a_code(team):
    with pytest.raises(WorkflowError, match="联系电话"):
        receive(None)
    with pytest.raises(WorkflowError, match="手机号码"):
        receive(None, contact_name="李演示", contact_phone="12345")
    receipt = receive(None, contact_name="李演示", contact_phone="139 0000 1111")
    assert receipt.follow_up_code and receipt.letter.contact_phone == "13900001111"
    assert receipt.letter.writer is None
    assert AuditEntry.objects.get(action="letter.receive").actor_label == "anonymous"


def test_hotline_calls_are_typed_in_by_an_operator(citizen, team):
    receipt = receive(
        team["operator"],
        channel="hotline",
        kind="help",
        contact_name="赵演示",
        contact_phone="024-23456789",
    )
    call = receipt.letter
    assert call.entered_by == team["operator"] and call.writer is None
    assert receipt.follow_up_code  # read out to the caller
    assert call.contact_phone == "02423456789"
    assert not Message.objects.filter(channel="sms").exists()  # a landline gets no SMS
    with pytest.raises(PermissionDenied):
        receive(citizen, channel="hotline")
    with pytest.raises(PermissionDenied):
        receive(team["clerk"], channel="mailbox")  # staff do not write to the mailbox
    with pytest.raises(PermissionDenied):
        receive(team["reviewer"], channel="hotline", contact_name="赵", contact_phone="13900001111")
    # 12389 by phone, anonymous: the operator is recorded, the caller is not.
    report = letter(team["operator"], channel="misconduct", kind="complaint", anonymous=True)
    assert report.entered_by == team["operator"] and report.writer is None


def test_bad_input_gets_a_clear_message(citizen, team):
    for fields, message in [
        ({"subject": "  "}, "请填写标题"),
        ({"body": ""}, "请填写来信内容"),
        ({"kind": "gossip"}, "请选择来信类别"),
        ({"channel": "outside"}, "请选择来信渠道"),
        ({"subject": "长" * 201}, "不能超过200个字"),
        ({"lat": "91", "long": "123"}, "经纬度"),
        ({"lat": "41.8"}, "经纬度"),
        ({"contact_email": "not-an-address"}, "电子邮箱"),
        ({"attachments": [SimpleUploadedFile("a.exe", b"MZ\x90\x00")]}, "PDF"),
        ({"attachments": [pdf() for _ in range(6)]}, "附件不能超过5个"),
    ]:
        with pytest.raises(WorkflowError, match=message):
            receive(citizen, **fields)
    assert not Letter.objects.exists()


def test_attachments_and_location_are_kept(citizen, team):
    mail = letter(
        citizen,
        attachments=[pdf("现场照片说明.pdf")],
        address="沈阳市和平区演示路3号",
        lat="41.796700",
        long="123.429100",
    )
    attachment = mail.attachments.get()
    assert attachment.original_name == "现场照片说明.pdf" and attachment.uploaded_by == citizen
    assert attachment.content_type == "application/pdf" and len(attachment.sha256) == 64
    assert str(mail.lat) == "41.796700" and mail.address.startswith("沈阳市")


def test_a_letter_is_received_even_when_next_years_calendar_is_not_confirmed(citizen, team):
    """Late December: the limit reaches into 2027. The letter is accepted with a provisional
    date counted in calendar days, confirmed by the sweep once 2027 is confirmed."""
    mail = letter(citizen, at="2026-12-30 10:00 +0800", kind="complaint")
    assert mail.due_date == D("2027-01-04") and mail.due_date_provisional
    assert not deadlines.sweep(D("2026-12-30")).due_dates_confirmed
    CalendarYear.objects.create(year=2027, confirmed=True)  # no holidays in early January here
    report = deadlines.sweep(D("2026-12-31"))
    mail.refresh_from_db()
    assert report.due_dates_confirmed == [mail.number]
    assert mail.due_date == D("2027-01-06") and not mail.due_date_provisional
    assert mail.events.filter(action="set_due_date").count() == 1


def test_the_follow_up_code_forgives_typing(team):
    from servicehall.letters.queries import letter_for_code

    receipt = receive(None, kind="report", anonymous=True)
    code = receipt.follow_up_code
    assert letter_for_code(code) == receipt.letter
    assert letter_for_code(code.lower().replace("-", " ")) == receipt.letter
    assert letter_for_code(code.replace("O", "0").replace("I", "1")) == receipt.letter
    assert letter_for_code("AAAA-BBBB-CCCC-DDDD") is None
    assert letter_for_code("") is None


def test_uploads_are_read_from_the_start(citizen, team):
    upload = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20, content_type="image/png")
    upload.seek(5)
    mail = letter(citizen, attachments=[upload])
    assert mail.attachments.get().size == 28


def test_a_form_without_its_token_is_refused_not_matched(citizen, team):
    from servicehall.letters.models import OutsidePlatform
    from servicehall.letters.tests.test_imports import outside  # a letter with no token

    outside(OutsidePlatform.objects.create(code="minxin", name="民心网"))
    for key in (None, "", "not-a-uuid"):
        with pytest.raises(WorkflowError, match="提交标识"):
            receive(citizen, submission_key=key)


def _photo_with_gps(fmt: str = "JPEG") -> SimpleUploadedFile:
    """A small photo taken 'sideways' whose EXIF names the phone, the time and a position."""
    import io

    from PIL import Image

    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Phone-Of-The-Reporter"  # Model
    exif[0x0132] = "2026:11:20 08:15:00"  # DateTime
    exif[0x0112] = 6  # Orientation: rotate 90° to view
    exif.get_ifd(0x8825)[2] = (41.0, 48.0, 12.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    suffix = ".jpg" if fmt == "JPEG" else ".png"
    return SimpleUploadedFile("IMG_0001" + suffix, out.getvalue(), f"image/{fmt.lower()}")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_an_anonymous_reports_photos_lose_their_metadata_but_stay_upright(team, fmt):
    from PIL import Image

    original = _photo_with_gps(fmt)
    assert b"Phone-Of-The-Reporter" in original.read()
    original.seek(0)
    receipt = receive(
        None,
        channel="misconduct",
        kind="report",
        anonymous=True,
        subject="举报",
        body="经过。",
        attachments=[original],
    )
    stored = LetterAttachment.objects.get(letter=receipt.letter)
    with stored.file.open("rb") as f:
        data = f.read()
    assert b"Phone-Of-The-Reporter" not in data and b"2026:11:20" not in data
    import hashlib
    import io

    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as image:
        assert not image.getexif()
        assert image.size == (20, 40)  # turned upright as the EXIF orientation said


def test_a_named_letters_photo_is_kept_as_sent(citizen, team):
    receipt = receive(
        citizen,
        channel="mailbox",
        kind="suggestion",
        subject="建议",
        body="内容。",
        attachments=[_photo_with_gps()],
    )
    with LetterAttachment.objects.get(letter=receipt.letter).file.open("rb") as f:
        assert b"Phone-Of-The-Reporter" in f.read()
