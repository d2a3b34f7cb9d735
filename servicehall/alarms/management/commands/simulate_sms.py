"""`manage.py simulate_sms`: the console gateway's inbound side, for the embedded default and
demos — a 12110 message "arrives" as if a gateway had delivered it.

    manage.py simulate_sms 13912340001 "我被困在电梯里，和平区南京北街"
    manage.py simulate_sms 13912340001 "在三楼" --id demo-2   # a fixed id: run twice, stored once

The reply side is notify's console gateway (NOTIFY_SMS_GATEWAY, the log): the automatic
acknowledgement and the call-taker's replies show up in `run_outbox`'s log.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from servicehall.alarms.sms import receive_sms

GATEWAY = "console"


class Command(BaseCommand):
    help = "Simulate an inbound 12110 SMS (the console gateway)."

    def add_arguments(self, parser):
        parser.add_argument("phone", help="the sender's mobile number")
        parser.add_argument("text", help="what they wrote")
        parser.add_argument(
            "--id", dest="message_id", help="the gateway message id (default: a new one)"
        )

    def handle(self, *args, phone, text, message_id=None, **options):
        try:
            message = receive_sms(
                gateway=GATEWAY,
                message_id=message_id or f"console-{uuid.uuid4().hex}",
                phone=phone,
                text=text,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        thread = message.thread
        state = "already stored" if getattr(message, "repeated", False) else "stored"
        self.stdout.write(
            f"simulate_sms: {state}: message {message.sequence} of thread {thread.pk}, "
            f"incident {thread.incident.number}"
        )
