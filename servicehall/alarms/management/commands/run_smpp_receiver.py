"""`manage.py run_smpp_receiver`: inbound 12110 messages from an operator's SMSC (SMPP 3.4).

    manage.py run_smpp_receiver                        # ALARM_SMPP_* settings; until SIGTERM
    manage.py run_smpp_receiver --host 10.0.0.5 --port 2775 --system-id hall --bind receiver

Binds as a transceiver (or receiver), stores every deliver_sm through receive_sms and only
then answers it (gateways_smpp.SmppReceiver); binds again after a lost link. Run one per
SMSC account. On SIGTERM/SIGINT it finishes the message it is storing, unbinds and exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from servicehall.alarms.gateways_smpp import SmppReceiver

logger = logging.getLogger("servicehall.alarms.smpp")


class Command(BaseCommand):
    help = "Receive 12110 SMS from an SMSC over SMPP 3.4 (stored before they are answered)."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="the SMSC (ALARM_SMPP_HOST)")
        parser.add_argument("--port", type=int, help="its port (ALARM_SMPP_PORT)")
        parser.add_argument("--system-id", help="our account (ALARM_SMPP_SYSTEM_ID)")
        parser.add_argument("--password", help="its password (ALARM_SMPP_PASSWORD)")
        parser.add_argument(
            "--bind", choices=("transceiver", "receiver"), default="transceiver", help="bind type"
        )
        parser.add_argument(
            "--timeout", type=float, help="seconds of silence before an enquire_link"
        )

    def handle(self, *args, **options):
        receiver = SmppReceiver(
            options["host"],
            options["port"],
            options["system_id"],
            options["password"],
            bind=options["bind"],
            timeout=options["timeout"],
        )
        stop = threading.Event()
        previous = {}
        if threading.current_thread() is threading.main_thread():

            def request_stop(signum, frame):
                logger.info("smpp: run_smpp_receiver got signal %s, stopping", signum)
                stop.set()

            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, request_stop)
        try:
            receiver.run(should_stop=stop.is_set)
        finally:
            for signum, handler in previous.items():
                if handler is not None:
                    signal.signal(signum, handler)
        self.stdout.write(f"run_smpp_receiver: {receiver.stored} message(s) stored")
