import threading

import pytest
from django.db import connections, transaction

from servicehall.core import audit


# Threads need committed data, hence a transactional test. (No serialized_rollback: restoring a
# snapshot after another transactional test's flush collides with the re-created content
# types; fixtures reload the reference data they need instead.)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain():
    before = audit.verify_chain().count
    threads, per_thread, errors = 6, 15, []
    barrier = threading.Barrier(threads)

    def work(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                # Some writers hold their transaction a little: the lock must cover it.
                with transaction.atomic():
                    audit.record(actor=None, action="test.race", details={"t": n, "i": i})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    report = audit.verify_chain()
    assert report.ok and report.count == before + threads * per_thread
