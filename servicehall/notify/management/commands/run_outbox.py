"""`manage.py run_outbox`: the notification worker.

    manage.py run_outbox                 # loop until SIGTERM/SIGINT (production: one or more)
    manage.py run_outbox --once          # deliver everything due now, then exit (cron, tests)
    manage.py run_outbox --interval 2 --limit 50

Several processes may run at once (on PostgreSQL they claim disjoint rows with SKIP
LOCKED). On SIGTERM the worker finishes the message it is sending, hands the rest of its
batch back and exits 0; give it a grace period above NOTIFY_GATEWAY_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection

from servicehall.notify.conf import setting
from servicehall.notify.delivery import DeliveryReport, deliver_due
from servicehall.notify.gateways import GATEWAY_SETTINGS, get_gateway

logger = logging.getLogger("servicehall.notify")


def _refresh_connection() -> None:
    # Honours CONN_MAX_AGE and drops a broken connection between batches. Never inside a
    # transaction (call_command from code that holds one): closing would abort it.
    if not connection.in_atomic_block:
        close_old_connections()


class Command(BaseCommand):
    help = "Deliver queued SMS and e-mail notifications (the outbox worker)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="deliver what is due now, then exit"
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds to sleep when nothing is due (NOTIFY_WORKER_INTERVAL_SECONDS)",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="messages per batch (NOTIFY_BATCH_SIZE)"
        )

    def handle(self, *args, once=False, interval=None, limit=None, **options):
        interval = setting("NOTIFY_WORKER_INTERVAL_SECONDS") if interval is None else interval
        limit = limit or setting("NOTIFY_BATCH_SIZE")
        if interval < 0 or limit < 1:
            raise CommandError("--interval must be >= 0 and --limit >= 1")
        # Fail at start-up, not on the first message, when a gateway setting is broken.
        for channel in GATEWAY_SETTINGS:
            try:
                get_gateway(channel)
            except Exception as exc:
                raise CommandError(f"the {channel} gateway cannot be loaded: {exc}") from exc

        stop = threading.Event()
        previous = self._install_signal_handlers(stop)
        total = DeliveryReport()
        try:
            while not stop.is_set():
                _refresh_connection()
                try:
                    report = deliver_due(limit, should_stop=stop.is_set)
                except DatabaseError:
                    # The database may be restarting: keep the worker alive and try again.
                    logger.exception("notify: run_outbox could not reach the database")
                    report = None
                    if once:
                        raise
                if report is not None:
                    self._add(total, report)
                    if report.claimed:
                        logger.info("notify: run_outbox batch: %s", report)
                # A full batch means more may be due: go again without sleeping. (`failed`
                # also counts send failures, so this may overcount: one extra query.)
                busy = report is not None and report.claimed + report.failed >= limit
                if once and not busy:
                    break
                if not busy:
                    stop.wait(interval)
        finally:
            for signum, handler in previous.items():
                if handler is not None:  # None: the previous handler was not set from Python
                    signal.signal(signum, handler)
            _refresh_connection()
        self.stdout.write(f"run_outbox: {total}")

    @staticmethod
    def _add(total: DeliveryReport, report: DeliveryReport) -> None:
        for field in ("claimed", "sent", "retried", "failed", "released", "lost"):
            setattr(total, field, getattr(total, field) + getattr(report, field))

    @staticmethod
    def _install_signal_handlers(stop: threading.Event) -> dict:
        # Signals can only be caught on the main thread (call_command from a test thread
        # is fine without them).
        if threading.current_thread() is not threading.main_thread():
            return {}

        def request_stop(signum, frame):
            logger.info("notify: run_outbox got signal %s, stopping", signum)
            stop.set()

        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, request_stop)
        return previous
