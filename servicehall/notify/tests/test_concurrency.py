"""Several workers at once (threads, each with its own PostgreSQL connection): every
message is sent exactly once, with SKIP LOCKED claims and with the guarded-UPDATE claims
the SQLite path uses."""

import threading
from collections import Counter

import pytest
from django.db import connections, transaction

from servicehall.notify import delivery
from servicehall.notify.delivery import deliver_due
from servicehall.notify.models import Message, Status
from servicehall.notify.outbox import notify_sms

from .support import RecordingGateway


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "guarded-update"])
def test_concurrent_workers_send_each_message_exactly_once(skip_locked, monkeypatch):
    if not skip_locked:
        monkeypatch.setattr(delivery, "_skip_locked_supported", lambda: False)
    with transaction.atomic():
        ids = [notify_sms(f"1380000{n:04d}", f"消息{n}").pk for n in range(150)]

    gateway = RecordingGateway(delay=0.002)  # sends overlap with other workers' claims
    workers, errors = 5, []
    barrier = threading.Barrier(workers)
    claims = Counter()

    def work(n):
        try:
            barrier.wait()
            idle = 0
            while idle < 3:  # a worker may lose every row of a batch to the others
                report = deliver_due(7, gateways={"sms": gateway})
                claims[n] += report.claimed
                idle = 0 if report.claimed else idle + 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    sent = Counter(gateway.sent)
    assert set(sent) == set(ids) and set(sent.values()) == {1}
    assert sum(claims.values()) == len(ids)
    assert sum(1 for c in claims.values() if c) > 1, "the workers did not actually share"
    assert Message.objects.filter(status=Status.SENT, attempts=1).count() == len(ids)
