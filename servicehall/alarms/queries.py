"""The read side: timelines with their intervals, duplicate and nearest-unit suggestions,
the console's lists, and the figures (answer and dispatch times per desk and shift against
the NENA target, SMS first-response time, incidents by type and district).

Figures are computed here from the stored timestamps, one pass over a period's incidents
(a city's centre takes a few thousand a day): percentiles the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Min, Q
from django.utils import timezone

from . import geo
from . import rules as alarm_rules
from .conf import setting
from .models import (
    HUMAN_KINDS,
    OPEN_STATUSES,
    Channel,
    Desk,
    Direction,
    Incident,
    IncidentEvent,
    SmsThread,
    Status,
    Unit,
    UnitStatus,
    desk_filter,
)

# The standard intervals, each (name, from timestamp, to timestamp).
INTERVALS = (
    ("answer", "received_at", "answered_at"),
    ("dispatch", "answered_at", "dispatched_at"),
    ("travel", "dispatched_at", "on_scene_at"),
    ("total", "received_at", "closed_at"),
)
STAMPS = ("received_at", "answered_at", "dispatched_at", "on_scene_at", "closed_at")


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def intervals(incident: Incident) -> dict[str, float | None]:
    """Seconds of each standard interval (None while either end is missing)."""
    return {
        name: seconds_between(getattr(incident, start), getattr(incident, end))
        for name, start, end in INTERVALS
    }


@dataclass
class Timeline:
    incident: Incident
    stamps: dict[str, datetime | None]
    intervals: dict[str, float | None]
    events: list[IncidentEvent]


def timeline(incident: Incident) -> Timeline:
    """From first contact to closure: the standard timestamps, their intervals, and every
    action with its time and operator."""
    events = list(
        IncidentEvent.objects.filter(incident=incident)
        .select_related("actor", "unit")
        .order_by("at", "pk")
    )
    return Timeline(
        incident=incident,
        stamps={name: getattr(incident, name) for name in STAMPS},
        intervals=intervals(incident),
        events=events,
    )


# --- suggestions -----------------------------------------------------------------------------


def duplicate_candidates(
    incident: Incident, *, metres: float | None = None, minutes: float | None = None
) -> list[tuple[Incident, float]]:
    """Open incidents that may report the same event: sharing a desk, received within
    `minutes` of it and within `metres` of its position; nearest first, as
    (incident, metres). Nothing for an incident without coordinates."""
    if incident.lat is None or incident.lon is None:
        return []
    metres = setting("ALARM_DUPLICATE_METRES") if metres is None else metres
    window = timedelta(minutes=setting("ALARM_DUPLICATE_MINUTES") if minutes is None else minutes)
    lat_min, lat_max, lon_min, lon_max = geo.box(incident.lat, incident.lon, metres)
    rows = (
        Incident.objects.filter(
            desk_filter(incident.desks),
            status__in=OPEN_STATUSES,
            received_at__range=(incident.received_at - window, incident.received_at + window),
            lat__range=(lat_min, lat_max),
            lon__range=(lon_min, lon_max),
        )
        .exclude(pk=incident.pk)
        .order_by("received_at")
    )
    found = []
    for other in rows:
        distance = geo.haversine_m(incident.lat, incident.lon, other.lat, other.lon)
        if distance <= metres:
            found.append((other, distance))
    return sorted(found, key=lambda pair: (pair[1], pair[0].received_at))


def nearest_units(
    incident: Incident,
    *,
    desk: str | None = None,
    limit: int | None = None,
    metres: float | None = None,
    user=None,
) -> list[tuple[Unit, float]]:
    """Available units of the incident's desks (or `desk`) with a known position, nearest
    first by straight-line distance, as (unit, metres); with `user`, only units they may
    send. Nothing for an incident without coordinates."""
    if incident.lat is None or incident.lon is None:
        return []
    limit = setting("ALARM_NEAREST_UNITS") if limit is None else limit
    metres = setting("ALARM_NEAREST_MAX_METRES") if metres is None else metres
    desks = [desk] if desk else sorted(incident.desks)
    lat_min, lat_max, lon_min, lon_max = geo.box(incident.lat, incident.lon, metres)
    units = Unit.objects.filter(
        desk__in=desks,
        status=UnitStatus.AVAILABLE,
        is_active=True,
        lat__range=(lat_min, lat_max),
        lon__range=(lon_min, lon_max),
    ).select_related("district", "station")
    ranked = []
    for unit in units:
        if user is not None and not alarm_rules.may_send(user, unit):
            continue
        distance = geo.haversine_m(incident.lat, incident.lon, unit.lat, unit.lon)
        if distance <= metres:
            ranked.append((unit, distance))
    ranked.sort(key=lambda pair: (pair[1], pair[0].code))
    return ranked[:limit]


# --- the console's lists ---------------------------------------------------------------------


def open_incidents(user):
    """What a dispatcher's console lists: open incidents of their desks and district, the
    most urgent and oldest first."""
    return (
        alarm_rules.visible_incidents(user)
        .filter(status__in=OPEN_STATUSES)
        .select_related("district")
        .order_by("priority", "received_at", "pk")
    )


def thread_messages(thread: SmsThread):
    """A conversation in the order the messages arrived (and were sent)."""
    return thread.messages.select_related("outbox", "sent_by").order_by("sequence")


def units_board(desks, district=None):
    """Units of `desks` (and district) by status, for the console's board."""
    units = Unit.objects.filter(desk__in=[str(d) for d in desks], is_active=True)
    if district is not None:
        units = units.filter(district=district)
    return units.select_related("district").order_by("status", "code")


# --- figures ---------------------------------------------------------------------------------


def nearest_rank(values: list, fraction: float):
    """The nearest-rank percentile of sorted `values` (None when empty): the smallest value
    at least `fraction` of them do not exceed."""
    if not values:
        return None
    return values[max(math.ceil(fraction * len(values)), 1) - 1]


def shift_of(moment: datetime) -> str:
    """ "day" or "night" by the local hour (conf ALARM_DAY_SHIFT_HOURS, default 08–20)."""
    start, end = setting("ALARM_DAY_SHIFT_HOURS")
    return "day" if start <= timezone.localtime(moment).hour < end else "night"


def _period(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] local days as an aware half-open range."""
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
    )


@dataclass
class DeskShiftFigures:
    desk: str
    shift: str
    received: int = 0
    answered: int = 0
    answered_within_target: int = 0
    dispatched: int = 0
    answer_seconds: list[float] = field(default_factory=list, repr=False)
    dispatch_seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def answered_within_target_share(self) -> float | None:
        """Share of answered calls picked up within the target (NENA: ≥ 0.9 within 15 s)."""
        return self.answered_within_target / self.answered if self.answered else None

    @property
    def meets_target(self) -> bool | None:
        share = self.answered_within_target_share
        return None if share is None else share >= 0.9

    @property
    def answer_p50(self):
        return nearest_rank(sorted(self.answer_seconds), 0.5)

    @property
    def answer_p90(self):
        return nearest_rank(sorted(self.answer_seconds), 0.9)

    @property
    def dispatch_p50(self):
        return nearest_rank(sorted(self.dispatch_seconds), 0.5)

    @property
    def dispatch_p90(self):
        return nearest_rank(sorted(self.dispatch_seconds), 0.9)


def answer_figures(start: date, end: date, *, channels=(Channel.CALL,)) -> list[DeskShiftFigures]:
    """Per desk and shift (of the receipt), over local days [start, end]: incidents
    received, answered, answered within the target, and the answer (received → answered)
    and dispatch (answered → first unit sent) times. An incident on several desks counts
    for each. Calls only by default, as NENA measures."""
    target = setting("ALARM_ANSWER_TARGET_SECONDS")
    low, high = _period(start, end)
    rows = Incident.objects.filter(
        received_at__gte=low, received_at__lt=high, channel__in=[str(c) for c in channels]
    ).values_list(
        "desk_police", "desk_fire", "desk_traffic", "received_at", "answered_at", "dispatched_at"
    )
    table = {
        (desk, shift): DeskShiftFigures(desk=desk, shift=shift)
        for desk in Desk.values
        for shift in ("day", "night")
    }
    for police, fire, traffic, received, answered, dispatched in rows:
        shift = shift_of(received)
        for desk, flag in zip(Desk.values, (police, fire, traffic), strict=True):
            if not flag:
                continue
            figures = table[(desk, shift)]
            figures.received += 1
            wait = seconds_between(received, answered)
            if wait is not None:
                figures.answered += 1
                figures.answer_seconds.append(wait)
                figures.answered_within_target += wait <= target
            dispatch = seconds_between(answered, dispatched)
            if dispatch is not None:
                figures.dispatched += 1
                figures.dispatch_seconds.append(dispatch)
    return list(table.values())


@dataclass
class SmsFigures:
    threads: int
    responded: int
    response_seconds: list[float] = field(repr=False)

    @property
    def p50(self):
        return nearest_rank(sorted(self.response_seconds), 0.5)

    @property
    def p90(self):
        return nearest_rank(sorted(self.response_seconds), 0.9)

    @property
    def average(self) -> float | None:
        values = self.response_seconds
        return sum(values) / len(values) if values else None


def sms_first_response(start: date, end: date) -> SmsFigures:
    """12110 first-response time over threads opened in local days [start, end]: from the
    first inbound message's receipt to the first message a call-taker wrote (the automatic
    acknowledgement does not count)."""
    low, high = _period(start, end)
    threads = SmsThread.objects.filter(opened_at__gte=low, opened_at__lt=high).annotate(
        first_in=Min("messages__received_at", filter=Q(messages__direction=Direction.IN)),
        first_reply=Min("messages__stored_at", filter=Q(messages__kind__in=HUMAN_KINDS)),
    )
    seconds = []
    count = 0
    for row in threads.values("first_in", "first_reply"):
        count += 1
        value = seconds_between(row["first_in"], row["first_reply"])
        if value is not None:
            seconds.append(value)
    return SmsFigures(threads=count, responded=len(seconds), response_seconds=seconds)


def incidents_by_type_and_district(start: date, end: date) -> list[dict]:
    """Incidents received in local days [start, end] (merged duplicates left out), counted
    by type and district: [{"incident_type", "district", "district__name", "count"}]."""
    low, high = _period(start, end)
    return list(
        Incident.objects.filter(received_at__gte=low, received_at__lt=high)
        .exclude(status=Status.MERGED)
        .values("incident_type", "district", "district__name")
        .annotate(count=Count("pk"))
        .order_by("incident_type", "district__name")
    )
