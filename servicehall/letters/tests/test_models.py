"""The letters store: constraints that keep anonymous letters unlinked and letters on the books."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from servicehall.accounts.tests.factories import CitizenFactory, department
from servicehall.letters import platforms
from servicehall.letters.models import DeletionRefused, Letter, OutsidePlatform

pytestmark = pytest.mark.django_db


def bare_letter(**fields):
    defaults = {
        "number": "XF2026112699999",
        "channel": "mailbox",
        "kind": "consultation",
        "subject": "咨询",
        "body": "内容",
        "department": department("xinfang"),
        "received_at": dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC),
        "clock_started_on": dt.date(2026, 11, 26),
        "due_date": dt.date(2026, 12, 1),
    }
    return Letter.objects.create(**(defaults | fields))


def test_an_anonymous_letter_cannot_carry_an_account_or_contact():
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_letter(anonymous=True, writer=CitizenFactory())
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_letter(anonymous=True, contact_phone="13900000000")
    assert bare_letter(anonymous=True).writer is None


def test_letters_cannot_be_deleted():
    letter = bare_letter()
    with pytest.raises(DeletionRefused):
        letter.delete()
    with pytest.raises(DeletionRefused):
        Letter.objects.all().delete()
    assert Letter.objects.filter(pk=letter.pk).exists()


@pytest.mark.postgres
def test_the_database_refuses_a_delete_behind_the_models_back():
    letter = bare_letter()
    with (
        pytest.raises(Exception, match="letters stay on the books"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM letters_letter WHERE id = %s", [letter.pk])
    assert Letter.objects.filter(pk=letter.pk).exists()


def test_outside_letters_are_unique_per_platform_id():
    platform = OutsidePlatform.objects.create(code="minxin", name="民心网")
    bare_letter(channel="outside", outside_platform=platform, outside_id="MX-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_letter(
            number="XF2026112699998",
            channel="outside",
            outside_platform=platform,
            outside_id="MX-1",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_letter(number="XF2026112699997", channel="outside")  # no platform


def test_platform_keys_are_stored_hashed_and_replaced_on_reissue():
    platform = OutsidePlatform.objects.create(code="minxin", name="民心网")
    key = platforms.issue_key(actor=None, platform=platform)
    platform.refresh_from_db()
    assert key not in (platform.key_hash, platform.key_prefix)
    assert platforms.verify_key(key) == platform
    newer = platforms.issue_key(actor=None, platform=platform)
    assert platforms.verify_key(key) is None
    assert platforms.verify_key(newer) == platform
    OutsidePlatform.objects.filter(pk=platform.pk).update(active=False)
    assert platforms.verify_key(newer) is None
    assert platforms.verify_key("") is None
