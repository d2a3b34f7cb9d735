"""Cash-escort requests (大额取送款护送): a citizen or an enterprise agent asks the police to
escort a large sum of cash between two addresses in a time window; the duty station of the
pickup district accepts or declines within a response limit, dispatches officers, and
completes the escort with a record.

The database keeps the promises that matter:

* a double submit is one request: `client_token` is UNIQUE;
* the amount is positive, the window ends after it starts, a decline carries its reason, a
  completed escort carries the amount handed over (CHECK constraints).

Statuses change in workflow.py only (tests/test_structure.py holds that).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REQUESTED = "requested", _("待受理")
    ACCEPTED = "accepted", _("已受理")
    DECLINED = "declined", _("不予护送")
    CANCELLED = "cancelled", _("已取消")
    DISPATCHED = "dispatched", _("已派警")
    IN_PROGRESS = "in_progress", _("护送中")
    COMPLETED = "completed", _("已完成")


# The allowed transitions. The requester may cancel until officers are dispatched; after
# that the escort is under way and is ended by the station's record, not by a click.
TRANSITIONS: dict[str, set[str]] = {
    Status.REQUESTED: {Status.ACCEPTED, Status.DECLINED, Status.CANCELLED},
    Status.ACCEPTED: {Status.DISPATCHED, Status.CANCELLED},
    Status.DISPATCHED: {Status.IN_PROGRESS},
    Status.IN_PROGRESS: {Status.COMPLETED},
}
OPEN_STATUSES = (Status.REQUESTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS)
AMOUNT_DIGITS = 14  # up to 999,999,999,999.99 yuan in the column; the setting bounds requests


class EscortRequest(models.Model):
    number = models.CharField(_("护送单号"), max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="escort_requests",
        verbose_name=_("申请人"),
    )
    enterprise = models.ForeignKey(
        "accounts.Enterprise",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("申请单位"),
    )
    organisation = models.CharField(_("银行或单位名称"), max_length=100)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    date = models.DateField(_("护送日期"))
    window_start = models.DateTimeField(_("开始时间"))
    window_end = models.DateTimeField(_("结束时间"))
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="+", verbose_name=_("取款区县")
    )
    station = models.ForeignKey(
        "accounts.Station",
        on_delete=models.PROTECT,
        related_name="escort_requests",
        verbose_name=_("受理派出所"),
    )
    pickup_address = models.CharField(_("取款地点"), max_length=200)
    destination_address = models.CharField(_("送达地点"), max_length=200)
    amount = models.DecimalField(_("金额（元）"), max_digits=AMOUNT_DIGITS, decimal_places=2)
    note = models.CharField(_("补充说明"), max_length=300, blank=True)
    client_token = models.CharField(_("提交标识"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    respond_by = models.DateTimeField(_("答复期限"))
    # Set once by the sweep when respond_by passed without an answer (and escalated).
    overdue_at = models.DateTimeField(_("超时时间"), null=True, blank=True)

    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    declined_at = models.DateTimeField(_("不予护送时间"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复民警"),
    )
    decline_reason = models.CharField(_("不予护送理由"), max_length=300, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    dispatched_at = models.DateTimeField(_("派警时间"), null=True, blank=True)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("派警人"),
    )
    lead_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escorts_led",
        verbose_name=_("带队民警"),
    )
    officers = models.CharField(_("护送民警"), max_length=200, blank=True)
    vehicle = models.CharField(_("车辆"), max_length=100, blank=True)

    started_at = models.DateTimeField(_("出发时间"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(_("完成登记时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actual_start = models.DateTimeField(_("实际开始时间"), null=True, blank=True)
    actual_end = models.DateTimeField(_("实际结束时间"), null=True, blank=True)
    handed_over_amount = models.DecimalField(
        _("交接金额（元）"), max_digits=AMOUNT_DIGITS, decimal_places=2, null=True, blank=True
    )
    record_notes = models.TextField(_("护送记录"), blank=True)

    class Meta:
        verbose_name = _("护送申请")
        verbose_name_plural = _("护送申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="escorts_amount_positive"),
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")), name="escorts_window_order"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="escorts_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed")
                | Q(handed_over_amount__gt=0, actual_start__isnull=False, actual_end__isnull=False),
                name="escorts_completed_has_record",
            ),
        ]
        indexes = [
            models.Index(fields=["station", "status", "respond_by"]),
            # The sweep: open requests past their response limit, not yet marked.
            models.Index(
                fields=["respond_by"],
                condition=Q(status="requested", overdue_at__isnull=True),
                name="escorts_awaiting_answer",
            ),
            models.Index(fields=["date"]),
        ]

    def __str__(self):
        return self.number or f"escort {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def answered_at(self):
        return self.accepted_at or self.declined_at


class EscortEvent(models.Model):
    """One row per transition (and per overdue mark): who, when, from which status to which."""

    escort = models.ForeignKey(EscortRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=Status.choices)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("护送记录")
        verbose_name_plural = _("护送记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.escort_id} {self.action}"
