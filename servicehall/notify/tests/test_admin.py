import re

import pytest
from django.db import transaction

from servicehall.accounts.tests.factories import login_verified_staff
from servicehall.core.models import AuditEntry
from servicehall.notify.delivery import deliver_due
from servicehall.notify.gateways import PermanentGatewayError
from servicehall.notify.models import Message, Status
from servicehall.notify.outbox import notify_email, notify_sms

from .support import RecordingGateway

pytestmark = pytest.mark.django_db
LIST = "/django-admin/notify/message/"


@pytest.fixture
def messages_():
    with transaction.atomic():
        sms = notify_sms("13800000001", "办件ZA2026000001已受理。")
        mail = notify_email("zhang.san@example.com", "时限预警", "办件将于明日到期。")
    return sms, mail


@pytest.fixture
def staff_client(client, admin_user):
    login_verified_staff(client, admin_user)
    return client


def test_list_masks_phone_numbers_and_addresses(staff_client, messages_):
    page = staff_client.get(LIST).content.decode()
    assert "138****0001" in page and "13800000001" not in page
    assert "z********@example.com" in page and "zhang.san@" not in page


def test_search_by_exact_number_still_masks(staff_client, messages_):
    response = staff_client.get(LIST, {"q": "13800000001"})
    page = response.content.decode()
    assert response.context["cl"].result_count == 1
    assert "138****0001" in page
    # The typed number is echoed in the search box and in links that keep the search (it is
    # the searcher's own input); what the rows show stays masked.
    start = page.index("<tbody>", page.index('id="result_list"'))
    rows = re.sub(r'href="[^"]*"', "", page[start : page.index("</tbody>", start)])
    assert "138****0001" in rows and "13800000001" not in rows


def test_opening_a_message_is_an_audited_read_and_stays_masked(staff_client, messages_, admin_user):
    sms, _ = messages_
    page = staff_client.get(f"{LIST}{sms.pk}/change/").content.decode()
    assert "138****0001" in page and "13800000001" not in page
    assert "办件ZA2026000001已受理。" in page
    entry = AuditEntry.objects.filter(action="personal_data.read", object_id=str(sms.pk)).get()
    assert entry.actor == admin_user and entry.object_type == "notify.message"
    assert entry.details["fields"] == ["body", "subject"]


def test_messages_cannot_be_added_changed_or_deleted(staff_client, messages_):
    sms, _ = messages_
    assert staff_client.get(f"{LIST}add/").status_code == 403
    response = staff_client.post(f"{LIST}{sms.pk}/change/", {"body": "篡改"})
    assert response.status_code == 403
    assert staff_client.post(f"{LIST}{sms.pk}/delete/", {"post": "yes"}).status_code == 403
    sms.refresh_from_db()
    assert sms.body == "办件ZA2026000001已受理。"


def test_requeue_failed_messages(staff_client, messages_, admin_user):
    sms, mail = messages_
    deliver_due(gateways={"sms": RecordingGateway(down=PermanentGatewayError("号码无效"))})
    sms.refresh_from_db()
    assert sms.status == Status.FAILED
    response = staff_client.post(
        LIST, {"action": "requeue_failed", "_selected_action": [sms.pk, mail.pk]}
    )
    assert response.status_code == 302
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (Status.PENDING, 0)
    entry = AuditEntry.objects.get(action="notify.requeue")
    assert entry.actor == admin_user and entry.object_id == str(sms.pk)
    assert entry.details["last_error"] == "号码无效"
    # The e-mail had not failed: left alone (it was sent by the console gateway).
    assert Message.objects.get(pk=mail.pk).attempts == 1


def test_staff_without_the_second_factor_are_kept_out(client, admin_user, messages_):
    client.force_login(admin_user)
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response["Location"]
