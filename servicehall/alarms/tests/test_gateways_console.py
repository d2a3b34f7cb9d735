"""The console gateway of the embedded default: `simulate_sms` stores an inbound 12110
message as a gateway would (threaded by number, a fixed id stored once); replies go out
through notify's console gateway."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from servicehall.alarms.models import SmsMessage, SmsThread
from servicehall.notify.delivery import deliver_due
from servicehall.notify.gateways import ConsoleGateway
from servicehall.notify.models import Message

pytestmark = pytest.mark.django_db


def simulate(*args) -> str:
    out = StringIO()
    call_command("simulate_sms", *args, stdout=out)
    return out.getvalue()


def test_a_simulated_message_opens_a_thread_and_is_acknowledged_on_the_console(districts):
    assert "stored: message 1" in simulate("13912340001", "我被困在电梯里")
    assert "stored: message 3" in simulate("13912340001", "在三楼", "--id", "demo-2")
    assert "already stored" in simulate("13912340001", "在三楼", "--id", "demo-2")
    thread = SmsThread.objects.get()
    assert [m.text for m in thread.messages.filter(direction="in")] == ["我被困在电梯里", "在三楼"]
    assert SmsMessage.objects.filter(gateway="console").count() == 2
    report = deliver_due(gateways={"sms": ConsoleGateway()})
    assert report.sent == Message.objects.count() == 2  # both acknowledgements


def test_a_bad_number_is_a_clear_error(districts):
    with pytest.raises(CommandError, match="手机号码格式不正确"):
        simulate("12345", "救命")
    assert not SmsMessage.objects.exists()
