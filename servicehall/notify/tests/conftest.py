import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from .support import RecordingGateway, SmsProvider

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning; tests that move time start here.
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
RECEIPT_SECRET = "test-receipt-secret"


@pytest.fixture
def sms_provider():
    provider = SmsProvider()
    yield provider
    provider.close()


@pytest.fixture
def gateway():
    return RecordingGateway()


@pytest.fixture
def frozen(time_machine):
    """Time stands still at T0 until the test moves it (time_machine.move_to / shift)."""
    time_machine.move_to(T0, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def notify_settings(settings, tmp_path):
    # Deterministic backoff and a gateway file per test; every other setting is the default.
    settings.NOTIFY_RETRY_JITTER = 0.0
    settings.NOTIFY_FILE_PATH = tmp_path / "outbox.jsonl"
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.gateways.ConsoleGateway"
    settings.NOTIFY_EMAIL_GATEWAY = "servicehall.notify.gateways.ConsoleGateway"
    settings.NOTIFY_SMS_RECEIPT_SECRET = RECEIPT_SECRET
    return settings
