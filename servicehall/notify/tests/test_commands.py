import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from servicehall.notify.gateways import FileGateway
from servicehall.notify.models import Message, Status
from servicehall.notify.outbox import notify_email, notify_sms

pytestmark = pytest.mark.django_db


def test_run_outbox_once_delivers_everything_due(settings):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.gateways.FileGateway"
    settings.NOTIFY_EMAIL_GATEWAY = "servicehall.notify.gateways.FileGateway"
    with transaction.atomic():
        for n in range(5):
            notify_sms(f"1380000{n:04d}", f"短信{n}")
        notify_email("a@example.com", "主题", "正文")
    out = StringIO()
    # Smaller batches than messages: --once keeps going until nothing is due.
    call_command("run_outbox", "--once", "--limit", "2", stdout=out)
    assert "sent 6" in out.getvalue()
    assert len(FileGateway().read()) == 6
    assert not Message.objects.exclude(status=Status.SENT).exists()


def test_run_outbox_refuses_a_broken_gateway_setting(settings):
    settings.NOTIFY_SMS_GATEWAY = "servicehall.notify.nowhere.Gateway"
    with pytest.raises(CommandError, match="sms gateway"):
        call_command("run_outbox", "--once")


def test_run_outbox_rejects_bad_arguments():
    with pytest.raises(CommandError):
        call_command("run_outbox", "--once", "--interval", "-1")


def test_purge_outbox():
    out = StringIO()
    call_command("purge_outbox", "--days", "30", stdout=out)
    assert "deleted 0" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("purge_outbox", "--days", "0")


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_run_outbox_worker_process_delivers_and_stops_cleanly_on_sigterm(tmp_path):
    with transaction.atomic():
        message = notify_sms("13800000001", "办件已受理。")
    spool = tmp_path / "worker.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "NOTIFY_SMS_GATEWAY": "servicehall.notify.gateways.FileGateway",
        "NOTIFY_FILE_PATH": str(spool),
        "NOTIFY_WORKER_INTERVAL_SECONDS": "60",  # so SIGTERM arrives during the sleep
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "run_outbox"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not spool.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert spool.exists(), worker.communicate(timeout=5)
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, err
    assert "sent 1" in out
    message.refresh_from_db()
    assert message.status == Status.SENT and message.gateway == "file"
