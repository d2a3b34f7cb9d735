from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test import RequestFactory
from django.utils import timezone

from servicehall.core import audit
from servicehall.core.models import AppendOnlyError, AuditAnchor, AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_log")]


@pytest.fixture
def empty_log():
    """Start from an empty chain (other apps' migrations already audit their data loads).

    Runs inside the test's transaction, so the rows are back after the test.
    """
    raw("DELETE FROM core_auditentry")
    raw("DELETE FROM core_auditanchor")


def make_user(django_user_model, name="officer1"):
    return django_user_model.objects.create_user(
        **{django_user_model.USERNAME_FIELD: name}, password="pw-for-tests-only"
    )


def raw(sql, params=None):
    """Run SQL behind the ORM's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The trigger would refuse; a superuser can switch triggers off, so the chain
            # must catch what follows.
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def fill(n, actor=None):
    return [
        audit.record(actor=actor, action="test.event", purpose=f"第{i}次", details={"i": i})
        for i in range(1, n + 1)
    ]


def test_chain_verifies_and_command_reports_ok(django_user_model, capsys):
    user = make_user(django_user_model)
    entries = fill(5, actor=user)
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    report = audit.verify_chain()
    assert report.ok and report.count == 5 and report.head_hash == entries[-1].entry_hash
    call_command("verify_audit")
    assert "OK, 5 entries" in capsys.readouterr().out


def test_empty_chain_verifies(capsys):
    call_command("verify_audit")
    assert "OK, 0 entries" in capsys.readouterr().out


def test_entry_fields(django_user_model):
    user = make_user(django_user_model)
    entry = audit.record(
        actor=user,
        action="case.accept",
        target=user,
        target_repr="张**",
        purpose="受理",
        ip="10.1.2.3",
        success=False,
        details={"why": "测试"},
    )
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor == user and entry.actor_label == "officer1"
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "accounts.user",
        str(user.pk),
        "张**",
    )
    assert entry.ip == "10.1.2.3" and entry.success is False and entry.details == {"why": "测试"}


def test_system_actor_label():
    entry = audit.record(actor=None, actor_label="system:sweep", action="case.sweep")
    assert entry.actor_id is None and entry.actor_label == "system:sweep"


def test_awkward_details_and_ipv6_survive_the_round_trip():
    audit.record(
        actor=None,
        action="test.json",
        ip="2001:0db8:0000:0000:0000:0000:0000:0001",
        details={
            "float": 0.1,
            "big": 1e20,
            "integral": 3.0,
            "tiny": 1.5e-10,
            "when": date(2026, 2, 14),
            "money": Decimal("12.50"),
            1: "int key",
            "nested": {"b": [1, 2.5, None, True], "a": "中文\u2028"},
        },
    )
    audit.record(actor=None, action="test.ip", ip="::ffff:10.0.0.1")
    assert AuditEntry.objects.get(sequence=1).ip == "2001:db8::1"
    assert audit.verify_chain().ok


def test_tampered_row_is_detected_at_its_sequence():
    fill(6)
    raw("UPDATE core_auditentry SET purpose = %s WHERE sequence = 3", ["改过了"])
    report = audit.verify_chain()
    assert report.broken.sequence == 3 and "contents changed" in report.broken.problem
    assert report.count == 2
    with pytest.raises(CommandError, match="sequence 3"):
        call_command("verify_audit")


def test_tampered_row_with_recomputed_hash_breaks_the_next_link():
    fill(6)
    row = AuditEntry.objects.values(*audit._HASHED_FIELDS).get(sequence=3)
    row["success"] = False
    raw(
        "UPDATE core_auditentry SET success = %s, entry_hash = %s WHERE sequence = 3",
        [False, audit._hash_of_row(row)],
    )
    report = audit.verify_chain()
    assert report.broken.sequence == 4 and "prev_hash" in report.broken.problem


def test_deleted_middle_row_is_detected():
    fill(6)
    raw("DELETE FROM core_auditentry WHERE sequence = 4")
    report = audit.verify_chain()
    assert report.broken.sequence == 5 and "missing" in report.broken.problem
    assert "4" in report.broken.problem


def test_deleted_last_row_is_not_detectable_by_the_chain_alone():
    # Documented limit: dropping the tail leaves a valid shorter chain. The head hash that
    # verify_audit prints, kept elsewhere, is what catches it.
    entries = fill(3)
    raw("DELETE FROM core_auditentry WHERE sequence = 3")
    report = audit.verify_chain()
    assert report.ok and report.head_hash == entries[1].entry_hash


def test_orm_refuses_update_and_delete():
    entry = fill(1)[0]
    entry.purpose = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(sequence=1).update(purpose="changed")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    fresh = AuditEntry.objects.get(pk=1)
    fresh.pk = 99
    fresh._state.adding = True
    with pytest.raises(AppendOnlyError, match="record"):
        fresh.save()  # a new row that bypasses record() would not be chained
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.bulk_create([fresh])
    assert audit.verify_chain().ok


def test_actor_cannot_be_deleted_while_audited(django_user_model):
    user = make_user(django_user_model)
    audit.record(actor=user, action="auth.login")
    with pytest.raises(ProtectedError):
        user.delete()


def test_entry_rolls_back_with_the_callers_transaction():
    fill(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(actor=None, action="case.approve")
        raise RuntimeError("the action failed")
    assert AuditEntry.objects.count() == 1
    assert audit.record(actor=None, action="case.approve").sequence == 2
    assert audit.verify_chain().ok


def test_invalid_action_refused():
    with pytest.raises(ValueError):
        audit.record(actor=None, action="")
    with pytest.raises(ValueError):
        audit.record(actor=None, action="x" * 65)
    with pytest.raises(TypeError):
        audit.record(actor=None, action="test.x", target="not a model")


# --- requests ---------------------------------------------------------------------------


def test_record_for_request_takes_actor_and_ip(django_user_model):
    user = make_user(django_user_model)
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="203.0.113.99"
    )
    request.user = user
    entry = audit.record_for_request(request, action="auth.login")
    assert entry.actor == user and entry.ip == "192.0.2.10"  # X-Forwarded-For not trusted


def test_record_for_request_anonymous():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.11")
    request.user = AnonymousUser()
    entry = audit.record_for_request(request, action="auth.login", success=False)
    assert entry.actor is None and entry.actor_label == "anonymous" and entry.success is False


def test_system_work_is_labelled_system():
    assert audit.record(actor=None, action="catalog.load").actor_label == "system"
    job = audit.record(actor=None, action="case.sweep", actor_label="system:sweep_deadlines")
    assert job.actor_label == "system:sweep_deadlines"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # leftmost is client-supplied
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (1, "", "192.0.2.10"),
        (1, "not-an-ip", None),
    ],
)
def test_forwarded_for_honoured_only_behind_configured_proxies(
    settings, proxies, forwarded, expected
):
    settings.AUDIT_TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=forwarded)
    assert audit.client_ip(request) == expected


def test_record_read(django_user_model):
    user = make_user(django_user_model)
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.12")
    request.user = user
    entry = audit.record_read(request, user, "户籍查询", fields=["phone", "id_number", "phone"])
    assert entry.action == "personal_data.read" and entry.purpose == "户籍查询"
    assert entry.details == {"fields": ["id_number", "phone"]}
    with pytest.raises(ValueError):
        audit.record_read(request, user, "  ", fields=["phone"])


# --- retention purge ----------------------------------------------------------------------


def _old_and_new_entries():
    with time_machine.travel(timezone.now() - timedelta(days=400), tick=False):
        fill(3)
    with time_machine.travel(timezone.now() - timedelta(days=250), tick=False):
        fill(2)
    fill(2)


def test_purge_keeps_the_rest_verifiable(settings, capsys):
    settings.AUDIT_RETENTION_DAYS = 300
    _old_and_new_entries()
    call_command("purge_audit")
    assert "purged 3 entries" in capsys.readouterr().out
    assert list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        4,
        5,
        6,
        7,
        8,
    ]
    anchor = AuditAnchor.objects.get()
    assert anchor.through_sequence == 3 and anchor.purged_count == 3
    purge_entry = AuditEntry.objects.get(sequence=8)
    assert purge_entry.action == "audit.purge" and purge_entry.details["purged_count"] == 3
    report = audit.verify_chain()
    assert report.ok and report.count == 5
    # Nothing more is old enough: a second run deletes nothing and records nothing.
    assert audit.purge() == 0 and AuditEntry.objects.count() == 5
    # The chain goes on from the anchor.
    assert audit.record(actor=None, action="test.after").sequence == 9
    assert audit.verify_chain().ok


def test_purge_refuses_retention_shorter_than_six_months(settings):
    settings.AUDIT_RETENTION_DAYS = 90
    with pytest.raises(CommandError, match="six months"):
        call_command("purge_audit")


def test_purge_refuses_a_broken_chain(settings):
    settings.AUDIT_RETENTION_DAYS = 300
    _old_and_new_entries()
    raw("UPDATE core_auditentry SET purpose = 'x' WHERE sequence = 2")
    with pytest.raises(CommandError, match="broken"):
        call_command("purge_audit")
    assert AuditEntry.objects.count() == 7


def test_purge_does_not_wait_for_a_break_among_kept_entries(settings):
    # Breaks among retained entries are verify_audit's to report; the purge (which holds
    # the chain lock) checks only what it deletes.
    settings.AUDIT_RETENTION_DAYS = 300
    _old_and_new_entries()
    raw("UPDATE core_auditentry SET purpose = 'x' WHERE sequence = 6")
    assert audit.purge() == 3
    assert audit.verify_chain().broken.sequence == 6


def test_anchor_after_purge_detects_a_deleted_first_row(settings):
    settings.AUDIT_RETENTION_DAYS = 300
    _old_and_new_entries()
    audit.purge()
    raw("DELETE FROM core_auditentry WHERE sequence = 4")
    assert audit.verify_chain().broken.sequence == 5


# --- PostgreSQL trigger and concurrency ---------------------------------------------------


@pytest.mark.postgres
def test_trigger_refuses_update_and_delete():
    fill(2)
    for sql in (
        "UPDATE core_auditentry SET purpose = 'x' WHERE sequence = 1",
        "DELETE FROM core_auditentry WHERE sequence = 1",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert AuditEntry.objects.filter(purpose="第1次").count() == 1


@pytest.mark.postgres
def test_trigger_refuses_purge_of_recent_entries_even_with_the_flag():
    fill(2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL servicehall.audit_purge = 'on'")
        cursor.execute("DELETE FROM core_auditentry WHERE sequence = 1")
    assert AuditEntry.objects.count() == 2


@pytest.mark.postgres
def test_trigger_guards_anchors(settings):
    settings.AUDIT_RETENTION_DAYS = 300
    _old_and_new_entries()
    audit.purge()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditanchor SET anchor_hash = 'x'")


def test_retention_shorter_than_six_months_fails_the_system_check(settings):
    from servicehall.core.checks import audit_retention

    assert audit_retention(None) == []
    settings.AUDIT_RETENTION_DAYS = 90
    assert [e.id for e in audit_retention(None)] == ["servicehall.core.E001"]


def test_rows_along_are_written_with_the_entry_or_not_at_all():
    from servicehall.notify.models import Message
    from servicehall.notify.outbox import new_sms

    with transaction.atomic():
        sms = new_sms("13800138000", "已受理", dedupe_key="along-1")
        entry = audit.record(actor=None, action="test.along", details={"n": 1}, along=(sms,))
    assert Message.objects.get(pk=sms.pk).body == "已受理"
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.along"
    assert audit.verify_chain().ok
    # A row that cannot be written takes the entry with it: the change is not half recorded.
    with pytest.raises(DatabaseError), transaction.atomic():
        held = new_sms("13800138000", "重复", dedupe_key="along-1")
        audit.record(actor=None, action="test.along", along=(held,))
    assert AuditEntry.objects.filter(action="test.along").count() == 1
