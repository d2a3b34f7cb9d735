"""The notification outbox: one row per SMS or e-mail to deliver.

A row is written by `servicehall.notify.outbox.enqueue()` inside the caller's transaction
(so a status change and its notification commit or roll back together) and delivered later
by `servicehall.notify.delivery.deliver_due()` (the `run_outbox` workers).

Statuses and the allowed transitions (`TRANSITIONS`), after GOV.UK Notify's model:

    pending ──claim──▶ sending ──gateway accepted──▶ sent ──receipt──▶ delivered
       ▲                 │  │                          │
       └──retry/release──┘  └──permanent error,        └──receipt: undeliverable──▶ failed
                                attempts exhausted ──▶ failed ◀── invalid recipient (at enqueue)
    failed ──staff requeue (admin, audited)──▶ pending

* pending   waiting for a worker; `next_attempt_at` is when it becomes due.
* sending   claimed by a worker; `next_attempt_at` is the end of the claim's lease. A worker
            that dies leaves the row here, and it becomes due again when the lease ends.
* sent      the gateway accepted it (`provider_message_id`); no receipt yet. Gateways
            without receipts (console, file, SMTP) stop here.
* delivered the provider's receipt says it reached the handset.
* failed    final: a permanent gateway error, the attempts ran out, the provider reported
            it undeliverable, or the recipient was unusable. `last_error` says which.

There is no separate "dead" status: `failed` with `attempts == NOTIFY_MAX_ATTEMPTS` and
"attempts exhausted" in `last_error` is that case, so every final failure is one filter.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from servicehall.core.masking import mask_middle, mask_phone


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class Status(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("失败")


# Statuses a worker may pick up (when `next_attempt_at` has passed). The due-index below is
# partial on exactly this set, so the ever-growing tail of finished rows costs it nothing.
WORK_STATUSES = (Status.PENDING, Status.SENDING)
FINAL_STATUSES = (Status.DELIVERED, Status.FAILED)

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.SENDING, Status.FAILED}),
    # sending -> sending: a worker re-claims a row whose lease ran out.
    Status.SENDING: frozenset({Status.SENDING, Status.PENDING, Status.SENT, Status.FAILED}),
    Status.SENT: frozenset({Status.DELIVERED, Status.FAILED}),
    Status.DELIVERED: frozenset(),
    Status.FAILED: frozenset({Status.PENDING}),
}


def mask_email(value: object) -> str:
    """`zhang.san@example.com` -> `z********@example.com`: the domain stays (it tells staff
    which provider refused), the mailbox name does not."""
    text = "" if value is None else str(value).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return mask_middle(text, 0, 0) if text else ""
    return local[0] + "*" * max(len(local) - 1, 1) + "@" + domain


def mask_recipient(channel: str, value: object) -> str:
    return mask_email(value) if channel == Channel.EMAIL else mask_phone(value)


class Message(models.Model):
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    # Personal data: shown masked everywhere (admin, logs); see `masked_recipient`.
    recipient = models.CharField(_("接收人"), max_length=254)
    subject = models.CharField(_("主题"), max_length=255, blank=True)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    # Due time while pending, lease end while sending, empty once final or sent.
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    gateway = models.CharField(_("网关"), max_length=64, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=128, blank=True)
    # Unique when set: the same notification for the same event is queued once.
    dedupe_key = models.CharField(
        _("去重键"), max_length=200, null=True, blank=True, unique=True, default=None
    )
    # What the message is about, loosely ("cases.case", "42"): no foreign key, so the outbox
    # depends on no other app and outlives what it refers to.
    about_type = models.CharField(_("关联对象类型"), max_length=100, blank=True)
    about_id = models.CharField(_("关联对象编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # (due time, id) is exactly the workers' ORDER BY, so a claim reads the first
            # rows of the index even with a large backlog after an outage, without a sort.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status__in=WORK_STATUSES),
                name="notify_message_due_idx",
            ),
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="notify_message_provider_idx",
            ),
            models.Index(
                fields=["about_type", "about_id"],
                condition=~Q(about_type=""),
                name="notify_message_about_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notify_message_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="notify_message_status_valid"
            ),
            # A row a worker must pick up always says when; otherwise it would wait forever.
            models.CheckConstraint(
                condition=~Q(status__in=WORK_STATUSES) | Q(next_attempt_at__isnull=False),
                name="notify_message_work_is_scheduled",
            ),
        ]

    def __str__(self):
        # No recipient here: __str__ ends up in admin breadcrumbs, logs and audit entries.
        return f"{self.get_channel_display()} #{self.pk}"

    @property
    def masked_recipient(self) -> str:
        return mask_recipient(self.channel, self.recipient)
