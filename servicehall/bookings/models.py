"""Offices, counters and hours (loaded from data/offices/*.yaml), slots, bookings, closures,
and the day's queue at an office.

The database itself keeps the promises that matter under concurrency:

* a slot never holds more than its capacity: `booked <= capacity` is a CHECK, and
  workflow.book raises `booked` with a guarded single UPDATE (… WHERE booked < capacity);
* one live booking per person per item per day: a partial UNIQUE over
  (document type, document number, item, day) for the live statuses;
* a double submit is one booking: `client_token` is UNIQUE;
* queue numbers are unique per office and day, issued from a locked QueueDay row.

Statuses change in workflow.py (bookings) and queue.py (queue tickets) only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.core.masking import mask_id_number


class OfficeKind(models.TextChoices):
    EXIT_ENTRY = "exit_entry", _("出入境证件")
    VISA = "visa", _("外国人签证")
    VEHICLE = "vehicle", _("车辆登记")


class Office(models.Model):
    """A service office (办证大厅). `hours` is the validated schedule from the data file:
    {"weekday": [[start, end], ...], "lunch": [start, end] | null (8+1),
     "weekend": [[start, end], ...] | null (5+2)}, times as "HH:MM"."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=OfficeKind.choices)
    department = models.ForeignKey(
        "accounts.Department", on_delete=models.PROTECT, verbose_name=_("所属警种")
    )
    district = models.ForeignKey(
        "accounts.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("所在区县"),
        help_text=_("空：市局直属办证大厅"),
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("电话"), max_length=32, blank=True)
    hours = models.JSONField(_("办公时间"), default=dict)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("办证大厅")
        verbose_name_plural = _("办证大厅")
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def lunch_service(self) -> bool:
        """8+1: service through the lunch hour on working days."""
        return bool(self.hours.get("lunch"))

    @property
    def weekend_service(self) -> bool:
        """5+2: service on Saturdays and Sundays that are not holidays."""
        return bool(self.hours.get("weekend"))


class Counter(models.Model):
    office = models.ForeignKey(
        Office, on_delete=models.CASCADE, related_name="counters", verbose_name=_("办证大厅")
    )
    code = models.CharField(_("窗口号"), max_length=16)
    name = models.CharField(_("名称"), max_length=64)
    is_active = models.BooleanField(_("启用"), default=True)
    items = models.ManyToManyField(
        "catalog.ServiceItem", through="CounterItem", related_name="counters"
    )

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["office", "code"]
        constraints = [
            models.UniqueConstraint(fields=["office", "code"], name="bookings_counter_code_once")
        ]

    def __str__(self):
        return f"{self.office} {self.name}"


class CounterItem(models.Model):
    """An item a counter serves, with the slot length and the people per slot."""

    counter = models.ForeignKey(
        Counter, on_delete=models.CASCADE, related_name="counter_items", verbose_name=_("窗口")
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", on_delete=models.PROTECT, verbose_name=_("事项")
    )
    slot_minutes = models.PositiveSmallIntegerField(_("时段长度（分钟）"))
    capacity = models.PositiveSmallIntegerField(_("每时段名额"))

    class Meta:
        verbose_name = _("窗口事项")
        verbose_name_plural = _("窗口事项")
        constraints = [
            models.UniqueConstraint(fields=["counter", "item"], name="bookings_counter_item_once"),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5), name="bookings_counter_item_slot_len"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="bookings_counter_item_cap"),
        ]

    def __str__(self):
        return f"{self.counter} {self.item_id}"


class Session(models.TextChoices):
    NORMAL = "normal", _("正常工作时间")
    LUNCH = "lunch", _("午间延时（8+1）")
    WEEKEND = "weekend", _("周末延时（5+2）")


class Slot(models.Model):
    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="slots")
    counter = models.ForeignKey(Counter, on_delete=models.CASCADE, related_name="slots")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("日期"))
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    session = models.CharField(_("时段类型"), max_length=10, choices=Session.choices)
    capacity = models.PositiveSmallIntegerField(_("名额"))
    booked = models.PositiveSmallIntegerField(_("已约"), default=0)
    release_at = models.DateTimeField(_("放号时间"))
    is_closed = models.BooleanField(_("已停办"), default=False)

    class Meta:
        verbose_name = _("预约时段")
        verbose_name_plural = _("预约时段")
        ordering = ["start", "counter"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "item", "start"], name="bookings_slot_once"),
            models.CheckConstraint(
                condition=Q(booked__gte=0) & Q(booked__lte=F("capacity")),
                name="bookings_slot_within_capacity",
            ),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_slot_order"),
        ]
        indexes = [models.Index(fields=["office", "item", "date"])]

    def __str__(self):
        return f"{self.office} {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    @property
    def available(self) -> int:
        return max(self.capacity - self.booked, 0)


class Closure(models.Model):
    """The office (or one counter) closed for a period; bookings inside it are cancelled."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="closures")
    counter = models.ForeignKey(
        Counter, on_delete=models.CASCADE, null=True, blank=True, related_name="closures"
    )
    start = models.DateTimeField(_("开始时间"))
    end = models.DateTimeField(_("结束时间"))
    reason = models.CharField(_("原因"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("停办安排")
        verbose_name_plural = _("停办安排")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="bookings_closure_order")
        ]

    def __str__(self):
        start, end = timezone.localtime(self.start), timezone.localtime(self.end)
        return f"{self.office} {start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


class DocumentType(models.TextChoices):
    ID_CARD = "id_card", _("居民身份证")
    PASSPORT = "passport", _("护照")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上预约")
    PHONE = "phone", _("电话预约")
    ENTERPRISE = "enterprise", _("企业代约")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("已预约")
    CHECKED_IN = "checked_in", _("已签到")
    COMPLETED = "completed", _("已办理")
    CANCELLED = "cancelled", _("已取消")
    CLOSED = "closed", _("因停办取消")
    NO_SHOW = "no_show", _("爽约")


LIVE_STATUSES = (BookingStatus.BOOKED, BookingStatus.CHECKED_IN)


class Booking(models.Model):
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="bookings")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(_("预约日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    channel = models.CharField(_("渠道"), max_length=12, choices=Channel.choices)
    document_type = models.CharField(_("证件类型"), max_length=10, choices=DocumentType.choices)
    document_number = models.CharField(_("证件号码"), max_length=32)
    nationality = models.CharField(_("国籍"), max_length=3, blank=True)
    person_name = models.CharField(_("姓名"), max_length=64)
    phone = models.CharField(_("联系电话"), max_length=20)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("本人账户"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings_made",
        verbose_name=_("预约操作人"),
    )
    enterprise = models.ForeignKey(
        "accounts.Enterprise", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    client_token = models.CharField(_("提交标识"), max_length=64, unique=True)
    code = models.CharField(_("预约码"), max_length=12, unique=True)
    rebooked_from = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="rebooked_to"
    )
    created_at = models.DateTimeField(_("预约时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("预约")
        verbose_name_plural = _("预约")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document_type", "document_number", "item", "date"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="bookings_one_live_per_person_item_day",
            ),
            models.CheckConstraint(
                condition=Q(channel="enterprise", enterprise__isnull=False)
                | (~Q(channel="enterprise") & Q(enterprise__isnull=True)),
                name="bookings_enterprise_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["document_type", "document_number", "status"]),
            models.Index(fields=["office", "date", "status"]),
            models.Index(fields=["status", "date"], name="bookings_status_date"),
        ]

    def __str__(self):
        return f"{self.code} {mask_id_number(self.document_number)}"


class BookingEvent(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=12, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("预约记录")
        verbose_name_plural = _("预约记录")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.booking_id} {self.action}"


class QueueDay(models.Model):
    """The last queue number issued at an office on a day (locked to issue the next)."""

    office = models.ForeignKey(Office, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["office", "date"], name="bookings_queue_day_once")
        ]

    def __str__(self):
        return f"{self.office_id} {self.date} {self.last_number}"


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("等候中")
    CALLED = "called", _("已叫号")
    COMPLETED = "completed", _("已办结")
    SKIPPED = "skipped", _("过号")


class Ticket(models.Model):
    """A queue number, issued at check-in."""

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="tickets")
    date = models.DateField(_("日期"))
    number = models.PositiveIntegerField(_("排队号"))
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="ticket")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    counter = models.ForeignKey(
        Counter, on_delete=models.PROTECT, null=True, blank=True, related_name="tickets"
    )
    issued_at = models.DateTimeField(_("取号时间"))
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("排队号")
        verbose_name_plural = _("排队号")
        ordering = ["date", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "date", "number"], name="bookings_ticket_number_once"
            )
        ]
        indexes = [models.Index(fields=["office", "date", "status", "number"])]

    def __str__(self):
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.number:03d}"
