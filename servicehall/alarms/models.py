"""Unified emergency intake (三台合一): incidents from 110/119/122 calls, 12110 SMS and
online-110 letters; the units dispatched to them; the SMS conversations of 12110.

What the database itself keeps true, whatever the code does:

* an incident belongs to at least one desk (police, fire, traffic: three booleans and a
  CHECK, which PostgreSQL and SQLite both enforce and index);
* coordinates are WGS84 degrees in range, and latitude and longitude come together;
* the standard timestamps never run backwards (answered >= received, ...);
* a unit has at most one open assignment (partial UNIQUE on the unit where `cleared_at` is
  empty): together with the guarded status UPDATE in workflow.assign_unit a unit is never
  dispatched twice;
* one open SMS thread per phone number (partial UNIQUE), so messages from a number join one
  conversation; a gateway's message id is stored once (UNIQUE per gateway), so a redelivery
  finds the stored message; sequence numbers are unique within a thread.

Statuses change in workflow.py only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.core.masking import mask_phone


class Desk(models.TextChoices):
    POLICE = "police", _("110报警")
    FIRE = "fire", _("119火警")
    TRAFFIC = "traffic", _("122交通事故")


# The line a call came in on decides its first desk.
LINE_DESK = {"110": Desk.POLICE, "119": Desk.FIRE, "122": Desk.TRAFFIC}


class Line(models.TextChoices):
    L110 = "110", _("110")
    L119 = "119", _("119")
    L122 = "122", _("122")


class Channel(models.TextChoices):
    CALL = "call", _("电话报警")
    SMS = "sms", _("12110短信报警")
    ONLINE110 = "online110", _("网上110")


class Priority(models.IntegerChoices):
    CRITICAL = 1, _("紧急")
    URGENT = 2, _("较急")
    ROUTINE = 3, _("一般")


class IncidentType(models.TextChoices):
    CRIMINAL = "criminal", _("刑事案件")
    PUBLIC_ORDER = "public_order", _("治安案件")
    DISPUTE = "dispute", _("纠纷")
    HELP = "help", _("群众求助")
    SUSPICIOUS = "suspicious", _("可疑情况")
    FIRE = "fire", _("火灾")
    RESCUE = "rescue", _("抢险救援")
    ACCIDENT = "accident", _("交通事故")
    CONGESTION = "congestion", _("交通拥堵")
    TRAFFIC_VIOLATION = "traffic_violation", _("交通违法")
    ENQUIRY = "enquiry", _("咨询")
    NUISANCE = "nuisance", _("骚扰或误拨")
    OTHER = "other", _("其他")


class Status(models.TextChoices):
    NEW = "new", _("待接警")
    ANSWERED = "answered", _("已接警")
    DISPATCHED = "dispatched", _("已派警")
    ON_SCENE = "on_scene", _("已到场")
    CLOSED = "closed", _("已结警")
    MERGED = "merged", _("已合并")


# Allowed transitions (workflow.transition checks them). A ringing call or a new SMS may be
# closed unanswered (the caller hung up); a duplicate is merged before units go to it.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ANSWERED, Status.MERGED, Status.CLOSED}),
    Status.ANSWERED: frozenset({Status.DISPATCHED, Status.MERGED, Status.CLOSED}),
    Status.DISPATCHED: frozenset({Status.ON_SCENE, Status.CLOSED}),
    Status.ON_SCENE: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.MERGED: frozenset(),
}
OPEN_STATUSES = (Status.NEW, Status.ANSWERED, Status.DISPATCHED, Status.ON_SCENE)


class CloseOutcome(models.TextChoices):
    HANDLED = "handled", _("已处置")
    ADVICE = "advice", _("电话答复处理")
    FALSE_ALARM = "false_alarm", _("虚假报警")
    ABANDONED = "abandoned", _("未接通或挂断")
    TRANSFERRED = "transferred", _("移交其他部门")


LAT_RANGE = Q(lat__gte=-90) & Q(lat__lte=90)
LON_RANGE = Q(lon__gte=-180) & Q(lon__lte=180)
BOTH_OR_NEITHER = (Q(lat__isnull=True) & Q(lon__isnull=True)) | (
    Q(lat__isnull=False) & Q(lon__isnull=False)
)


def _coordinate(label):
    return models.DecimalField(label, max_digits=9, decimal_places=6, null=True, blank=True)


class Incident(models.Model):
    # JJ + local date + daily sequence: JJ2026091400001.
    number = models.CharField(_("警情编号"), max_length=15, unique=True)
    channel = models.CharField(_("报警渠道"), max_length=10, choices=Channel.choices)
    line = models.CharField(_("报警电话"), max_length=3, choices=Line.choices, blank=True)
    desk_police = models.BooleanField(_("110"), default=False)
    desk_fire = models.BooleanField(_("119"), default=False)
    desk_traffic = models.BooleanField(_("122"), default=False)
    priority = models.PositiveSmallIntegerField(
        _("优先级"), choices=Priority.choices, default=Priority.URGENT
    )
    incident_type = models.CharField(
        _("警情类别"), max_length=20, choices=IncidentType.choices, blank=True
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    # Personal data: shown masked (mask_phone) unless a page reveals it with an audited read.
    caller_number = models.CharField(_("报警人电话"), max_length=20, blank=True)
    caller_name = models.CharField(_("报警人姓名"), max_length=64, blank=True)
    summary = models.TextField(_("警情摘要"), blank=True)
    address = models.CharField(_("事发地点"), max_length=200, blank=True)
    lat = _coordinate(_("纬度"))
    lon = _coordinate(_("经度"))
    district = models.ForeignKey(
        "accounts.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属区县"),
    )
    letter = models.OneToOneField(
        "letters.Letter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident",
        verbose_name=_("网上110来信"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("合并至"),
    )
    close_outcome = models.CharField(
        _("处置结果"), max_length=12, choices=CloseOutcome.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接警员"),
    )
    # The standard timestamps (NENA): first contact, picked up, first unit sent, first unit
    # on scene, closed. Set once each, by the workflow.
    received_at = models.DateTimeField(_("报警时间"), db_index=True)
    answered_at = models.DateTimeField(_("接警时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派警时间"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结警时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("警情")
        verbose_name_plural = _("警情")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(desk_police=True) | Q(desk_fire=True) | Q(desk_traffic=True),
                name="alarms_incident_has_desk",
            ),
            models.CheckConstraint(
                condition=LAT_RANGE & LON_RANGE | Q(lat__isnull=True) | Q(lon__isnull=True),
                name="alarms_incident_coordinates_range",
            ),
            models.CheckConstraint(
                condition=BOTH_OR_NEITHER, name="alarms_incident_coordinates_pair"
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answered_at__gte=F("received_at")),
                name="alarms_incident_answered_after_received",
            ),
            models.CheckConstraint(
                condition=Q(dispatched_at__isnull=True) | Q(dispatched_at__gte=F("received_at")),
                name="alarms_incident_dispatched_after_received",
            ),
            models.CheckConstraint(
                condition=Q(on_scene_at__isnull=True) | Q(on_scene_at__gte=F("dispatched_at")),
                name="alarms_incident_on_scene_after_dispatch",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=F("received_at")),
                name="alarms_incident_closed_after_received",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="alarms_incident_merged_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False),
                name="alarms_incident_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(channel="call", line__in=Line.values)
                | (~Q(channel="call") & Q(line="")),
                name="alarms_incident_call_has_line",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="alarms_incident_open"),
            models.Index(fields=["lat", "lon"], name="alarms_incident_position"),
        ]

    def __str__(self):
        return self.number

    @property
    def desks(self) -> frozenset[str]:
        return frozenset(
            desk
            for desk, flag in (
                (Desk.POLICE.value, self.desk_police),
                (Desk.FIRE.value, self.desk_fire),
                (Desk.TRAFFIC.value, self.desk_traffic),
            )
            if flag
        )

    @property
    def masked_caller_number(self) -> str:
        return mask_phone(self.caller_number) if self.caller_number else ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def desk_fields(desks) -> dict[str, bool]:
    """The three desk booleans for a set of Desk values."""
    desks = {str(desk) for desk in desks}
    return {f"desk_{desk}": desk in desks for desk in Desk.values}


def desk_filter(desks, prefix: str = "") -> Q:
    """Incidents on any of `desks` (an empty set matches nothing)."""
    query = Q(pk__in=[])
    for desk in desks:
        query |= Q(**{f"{prefix}desk_{desk}": True})
    return query


class IncidentCounter(models.Model):
    """Per local day, the last incident sequence number handed out."""

    day = models.DateField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.day} {self.last}"


class IncidentEvent(models.Model):
    """One step on an incident's timeline: who did what, when, and the status it left. A
    unit's status changes are events too (`unit` set), on the timeline of the incident the
    unit works for; a unit back in service after its last incident closed has no incident."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    unit = models.ForeignKey(
        "Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Who acted when there is no user: "system:sms:<gateway>", "system".
    actor_label = models.CharField(_("操作方"), max_length=64, blank=True)
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=10, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("警情记录")
        verbose_name_plural = _("警情记录")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(incident__isnull=False) | Q(unit__isnull=False),
                name="alarms_event_has_subject",
            )
        ]

    def __str__(self):
        return f"{self.incident_id or self.unit_id} {self.action}"


class UnitKind(models.TextChoices):
    PATROL_CAR = "patrol_car", _("巡逻车")
    FIRE_ENGINE = "fire_engine", _("消防车")
    TRAFFIC_POLICE = "traffic_police", _("交警")


UNIT_KIND_DESK = {
    UnitKind.PATROL_CAR: Desk.POLICE,
    UnitKind.FIRE_ENGINE: Desk.FIRE,
    UnitKind.TRAFFIC_POLICE: Desk.TRAFFIC,
}


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", _("待命")
    DISPATCHED = "dispatched", _("已派出")
    ON_SCENE = "on_scene", _("已到场")
    RETURNING = "returning", _("返回中")


UNIT_TRANSITIONS: dict[str, frozenset[str]] = {
    UnitStatus.AVAILABLE: frozenset({UnitStatus.DISPATCHED}),
    # Stood down on the way: straight back.
    UnitStatus.DISPATCHED: frozenset({UnitStatus.ON_SCENE, UnitStatus.RETURNING}),
    UnitStatus.ON_SCENE: frozenset({UnitStatus.RETURNING}),
    UnitStatus.RETURNING: frozenset({UnitStatus.AVAILABLE}),
}


class Unit(models.Model):
    """A patrol car, fire engine or traffic-police unit, based at a station of a district."""

    code = models.CharField(_("呼号"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    desk = models.CharField(_("警种"), max_length=8, choices=Desk.choices)
    district = models.ForeignKey(
        "accounts.District", on_delete=models.PROTECT, related_name="+", verbose_name=_("区县")
    )
    # A police station for patrol cars; fire and traffic brigades are named in `base`.
    station = models.ForeignKey(
        "accounts.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("所属派出所"),
    )
    base = models.CharField(_("驻地"), max_length=64, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    lat = _coordinate(_("纬度"))
    lon = _coordinate(_("经度"))
    position_at = models.DateTimeField(_("定位时间"), null=True, blank=True)
    is_active = models.BooleanField(_("在用"), default=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)

    class Meta:
        verbose_name = _("处警单位")
        verbose_name_plural = _("处警单位")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="patrol_car", desk="police")
                | Q(kind="fire_engine", desk="fire")
                | Q(kind="traffic_police", desk="traffic"),
                name="alarms_unit_kind_desk",
            ),
            models.CheckConstraint(
                condition=LAT_RANGE & LON_RANGE | Q(lat__isnull=True) | Q(lon__isnull=True),
                name="alarms_unit_coordinates_range",
            ),
            models.CheckConstraint(condition=BOTH_OR_NEITHER, name="alarms_unit_coordinates_pair"),
        ]
        indexes = [models.Index(fields=["desk", "status"], name="alarms_unit_desk_status")]

    def __str__(self):
        return f"{self.code} {self.name}"


class Assignment(models.Model):
    """A unit sent to an incident: dispatched, on scene, cleared (back in service or
    returning). Open while `cleared_at` is empty."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(_("派出时间"))
    distance_m = models.PositiveIntegerField(_("派出时距离（米）"), null=True, blank=True)
    on_scene_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    cleared_at = models.DateTimeField(_("收队时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("派警")
        verbose_name_plural = _("派警")
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cleared_at__isnull=True),
                name="alarms_assignment_one_open_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(on_scene_at__isnull=True) | Q(on_scene_at__gte=F("assigned_at")),
                name="alarms_assignment_on_scene_after_assigned",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | Q(cleared_at__gte=F("assigned_at")),
                name="alarms_assignment_cleared_after_assigned",
            ),
        ]

    def __str__(self):
        return f"{self.incident_id} ← {self.unit_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class ThreadStatus(models.TextChoices):
    OPEN = "open", _("对话中")
    CLOSED = "closed", _("已结束")


class SmsThread(models.Model):
    """A 12110 conversation with one phone number, tied to its incident."""

    phone = models.CharField(_("手机号码"), max_length=20)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="sms_threads")
    status = models.CharField(
        _("状态"), max_length=8, choices=ThreadStatus.choices, default=ThreadStatus.OPEN
    )
    # The last sequence number handed out in this thread (locked with the row to number the
    # next message).
    last_sequence = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(_("开始时间"))
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信报警对话")
        verbose_name_plural = _("短信报警对话")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status="open"),
                name="alarms_sms_one_open_thread_per_phone",
            ),
            models.CheckConstraint(
                condition=Q(status="open", closed_at__isnull=True)
                | Q(status="closed", closed_at__isnull=False),
                name="alarms_sms_thread_closed_has_time",
            ),
        ]

    def __str__(self):
        return f"{mask_phone(self.phone)} #{self.pk}"


class Direction(models.TextChoices):
    IN = "in", _("收到")
    OUT = "out", _("发出")


class MessageKind(models.TextChoices):
    INBOUND = "inbound", _("报警人短信")
    AUTO_ACK = "auto_ack", _("自动回复")
    REPLY = "reply", _("接警员回复")
    ASK_LOCATION = "ask_location", _("询问位置")
    CLOSING = "closing", _("结束对话")


HUMAN_KINDS = (MessageKind.REPLY, MessageKind.ASK_LOCATION, MessageKind.CLOSING)


class SmsMessage(models.Model):
    """One message of a thread, in arrival order (`sequence`). Inbound: stored once per
    gateway message id. Outbound: queued in the notify outbox (`outbox`), whose status is
    the delivery state (pending, sent, delivered, failed)."""

    thread = models.ForeignKey(SmsThread, on_delete=models.PROTECT, related_name="messages")
    sequence = models.PositiveIntegerField(_("序号"))
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=MessageKind.choices)
    text = models.TextField(_("内容"))
    gateway = models.CharField(_("网关"), max_length=32, blank=True)
    # NULL for outbound messages, so that the UNIQUE below never compares them.
    gateway_message_id = models.CharField(  # noqa: DJ001
        _("网关消息编号"), max_length=128, null=True, blank=True, default=None
    )
    # Inbound: when the gateway received it (as it says, never later than we stored it).
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    stored_at = models.DateTimeField(_("入库时间"), default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发送人"),
    )
    outbox = models.OneToOneField(
        "notify.Message",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发送记录"),
    )

    class Meta:
        verbose_name = _("报警短信")
        verbose_name_plural = _("报警短信")
        ordering = ["thread", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "sequence"], name="alarms_sms_sequence_once_per_thread"
            ),
            models.UniqueConstraint(
                fields=["gateway", "gateway_message_id"],
                condition=Q(gateway_message_id__isnull=False),
                name="alarms_sms_gateway_message_once",
            ),
            models.CheckConstraint(
                condition=Q(
                    direction="in",
                    kind="inbound",
                    gateway_message_id__isnull=False,
                    received_at__isnull=False,
                )
                | (Q(direction="out") & ~Q(kind="inbound")),
                name="alarms_sms_direction_kind",
            ),
        ]

    def __str__(self):
        return f"{self.thread_id}#{self.sequence} {self.direction}"
