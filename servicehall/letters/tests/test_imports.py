"""Letters from outside platforms: the API path and the CSV upload, idempotent by their id."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from servicehall.core.models import AuditEntry
from servicehall.letters import imports, intake
from servicehall.letters.models import Letter, OutsidePlatform
from servicehall.letters.workflow import WorkflowError

pytestmark = pytest.mark.django_db
NOW = "2026-11-26 10:00 +0800"


@pytest.fixture
def minxin(db):
    return OutsidePlatform.objects.create(code="minxin", name="民心网")


def outside(platform, **fields):
    values = {
        "platform": platform,
        "outside_id": "MX2026-0042",
        "kind": "complaint",
        "subject": "噪音扰民",
        "body": "小区附近工地夜间施工。",
    } | fields
    with time_machine.travel(NOW):
        return intake.import_outside(**values)


def test_an_outside_letter_is_imported_once(minxin, team):
    first = outside(
        minxin,
        contact_name="钱演示",
        contact_phone="13900002222",
        submitted_at=dt.datetime(2026, 11, 25, 18, 0),
    )
    mail = first.letter
    assert first.created and first.follow_up_code is None
    assert (mail.channel, mail.outside_platform, mail.outside_id) == (
        "outside",
        minxin,
        "MX2026-0042",
    )
    assert mail.department.code == "xinfang" and mail.due_date == dt.date(2026, 12, 3)
    assert mail.outside_submitted_at == dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
    entry = AuditEntry.objects.get(action="letter.import")
    assert entry.actor_id is None and entry.actor_label == "platform:minxin"
    again = outside(minxin, subject="改过的标题", body="改过的内容")
    assert again.letter.pk == mail.pk and not again.created
    assert Letter.objects.get(pk=mail.pk).subject == "噪音扰民"
    assert Letter.objects.count() == 1
    other = OutsidePlatform.objects.create(code="other", name="其他平台")
    assert outside(other).letter.pk != mail.pk  # ids are per platform


def test_imports_are_refused_clearly(minxin, team):
    with pytest.raises(WorkflowError, match="来信编号"):
        outside(minxin, outside_id=" ")
    with pytest.raises(WorkflowError, match="来信类别"):
        outside(minxin, kind="gossip")
    with pytest.raises(PermissionDenied):
        outside(minxin, actor=team["clerk"])  # household registration does not import
    OutsidePlatform.objects.filter(pk=minxin.pk).update(active=False)
    minxin.refresh_from_db()
    with pytest.raises(PermissionDenied, match="停用"):
        outside(minxin)


CSV = (
    "outside_id,kind,subject,body,contact_name,contact_phone,submitted_at,lat,long\n"
    "MX-1,咨询,护照办理,护照多久能办好？,孙演示,13900003333,2026-11-25 09:30,,\n"
    "MX-2,complaint,窗口态度,窗口人员态度生硬。,,,,41.8,123.4\n"
    "MX-3,闲聊,标题,内容,,,,,\n"
    ",咨询,没有编号,内容,,,,,\n"
    "MX-4,建议,时间,内容,,,昨天,,\n"
)


def test_a_csv_upload_imports_good_rows_and_reports_bad_ones(minxin, team):
    upload = SimpleUploadedFile("minxin.csv", CSV.encode("gb18030"), content_type="text/csv")
    with time_machine.travel(NOW):
        report = imports.import_csv(actor=team["triage"], platform=minxin, file=upload)
    assert len(report.created) == 2 and report.existing == []
    assert [line for line, _ in report.errors] == [4, 5, 6]
    assert "来信类别" in report.errors[0][1] and "时间格式" in report.errors[2][1]
    complaint = Letter.objects.get(outside_id="MX-2")
    assert complaint.kind == "complaint" and str(complaint.lat) == "41.800000"
    assert Letter.objects.get(outside_id="MX-1").entered_by is None
    with time_machine.travel(NOW):
        again = imports.import_csv(
            actor=team["triage"], platform=minxin, file=CSV.encode("utf-8-sig")
        )
    assert again.created == [] and sorted(again.existing) == sorted(report.created)
    assert Letter.objects.count() == 2
    assert AuditEntry.objects.filter(action="letters.csv_import").count() == 2


def test_a_csv_upload_needs_the_letters_office_and_the_columns(minxin, team):
    with pytest.raises(PermissionDenied):
        imports.import_csv(actor=team["clerk"], platform=minxin, file=CSV.encode())
    with pytest.raises(WorkflowError, match="缺少必需的列"):
        imports.import_csv(actor=team["triage"], platform=minxin, file=b"id,title\n1,x\n")


def test_a_platform_key_is_issued_by_command():
    from io import StringIO

    from django.core.management import call_command

    from servicehall.letters import platforms

    out = StringIO()
    call_command("issue_platform_key", "open311-demo", "--name", "演示客户端", stdout=out)
    key = out.getvalue().rsplit(": ", 1)[1].strip()
    platform = platforms.verify_key(key)
    assert platform.code == "open311-demo" and platform.name == "演示客户端"
    call_command("issue_platform_key", "open311-demo", "--deactivate", stdout=StringIO())
    assert platforms.verify_key(key) is None
