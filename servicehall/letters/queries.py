"""The read side of letters: who sees which letters, queues, the public page.

`visible_letters(user)` is the queryset form of rules.can_read for staff (tests hold the two
together); writers use `writer_letters`, code holders `letter_for_code`, the public
`public_letters`. Every list includes withdrawn and merged letters unless filtered: nothing
leaves the books, and figures are computed from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from servicehall.accounts import rules as account_rules

from . import flows
from . import rules as letter_rules
from .flows import Channel
from .models import Letter, LetterEvent, LetterReply, ReplyStatus


def _within_jurisdiction(user, qs: QuerySet) -> QuerySet:
    """Letters without a station stay; station-bound ones only inside the user's jurisdiction."""
    bound = account_rules.jurisdiction_filter(user, qs.filter(station__isnull=False))
    return qs.filter(station__isnull=True) | bound


def visible_letters(user) -> QuerySet:
    """Every letter `user` (staff) may read: their department's, within their jurisdiction;
    for letters-office supervisors also every letter but misconduct reports. None for
    anyone else (see writer_letters / letter_for_code)."""
    if not account_rules.is_staff_member(user):
        return Letter.objects.none()
    profile = user.staff_profile_or_none
    if profile is None or profile.department_id is None:
        return Letter.objects.none()
    scope = Q(department_id=profile.department_id)
    if profile.department.code == settings.LETTER_TRIAGE_DEPARTMENT and user.has_role(
        letter_rules.OVERSIGHT_ROLE
    ):
        scope |= ~Q(channel=Channel.MISCONDUCT)
    return _within_jurisdiction(user, Letter.objects.filter(scope))


def writer_letters(user) -> QuerySet:
    """A signed-in writer's own letters (anonymous ones are never linked to anybody)."""
    if not account_rules.is_authenticated(user):
        return Letter.objects.none()
    return Letter.objects.filter(writer=user, anonymous=False)


def letter_for_code(code: str | None) -> Letter | None:
    """The one letter a follow-up code opens, or None."""
    digest = letter_rules.code_hash(code)
    if digest is None:
        return None
    return Letter.objects.filter(follow_up_code_hash=digest).first()


def public_letters() -> QuerySet:
    """Answered letters shown on the public page: only the redacted public texts are for
    display (public_subject, public_reply), never subject, body or contact."""
    return (
        Letter.objects.filter(public=True, publish_consent=True)
        .exclude(channel=Channel.MISCONDUCT)
        .select_related("department")
        .only(
            "number",
            "kind",
            "channel",
            "department__name",
            "department__name_en",
            "received_at",
            "replied_at",
            "public_subject",
            "public_reply",
            "published_at",
        )
        .order_by("-published_at", "-id")
    )


def queue(user, *, today: date, status: str = "", mine: bool = False, due: str = "") -> QuerySet:
    """A staff member's working list: open letters first by due date.

    `status` "" means open letters, "all" every letter, else that status; `due` "overdue" or
    "soon" (due within one working day, like the sweep's yellow warning)."""
    qs = visible_letters(user).select_related("department", "station", "handler")
    if status == "all":
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=flows.CLOCK_RUNNING)
    if mine:
        qs = qs.filter(handler=user)
    if due == "overdue":
        qs = qs.filter(status__in=flows.CLOCK_RUNNING, due_date__lt=today)
    elif due == "soon":
        from servicehall.core.workdays import CalendarNotConfirmed, add_working_days

        try:
            limit = add_working_days(today, 2)
        except CalendarNotConfirmed:
            limit = today + timedelta(days=2)
        qs = qs.filter(status__in=flows.CLOCK_RUNNING, due_date__gte=today, due_date__lt=limit)
    return qs.order_by("due_date", "received_at", "id")


# What a writer sees of the history: no internal steps (drafts, approvals, returns).
WRITER_VISIBLE_ACTIONS = frozenset(
    {
        flows.Action.RECEIVE,
        flows.Action.IMPORT,
        flows.Action.ASSIGN,
        flows.Action.TRANSFER,
        flows.Action.APPROVE,
        flows.Action.SEND,
        flows.Action.RATE,
        flows.Action.REOPEN,
        flows.Action.WITHDRAW,
        flows.Action.MERGE,
        flows.Action.PUBLISH,
        flows.Action.UNPUBLISH,
    }
)


def writer_history(letter: Letter) -> QuerySet:
    """The steps the writer sees (no actors: staff names are not shown to writers)."""
    return LetterEvent.objects.filter(letter=letter, action__in=WRITER_VISIBLE_ACTIONS).only(
        "at", "action", "from_status", "to_status"
    )


def sent_replies(letter: Letter) -> QuerySet:
    """The replies the writer has received, one per round."""
    return LetterReply.objects.filter(letter=letter, status=ReplyStatus.SENT).order_by("round")


# --- figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplyFigures:
    """Letters received in a period, by what became of them (first round).

    `counted` excludes withdrawn letters and merged duplicates (their writers were answered
    through the letter they were merged into, or asked for nothing more); they stay in
    `received` so that every letter is accounted for:
    received == counted + withdrawn + merged, counted == replied + open.
    """

    received: int
    withdrawn: int
    merged: int
    counted: int
    replied: int
    replied_on_time: int
    open: int
    open_overdue: int

    @property
    def reply_rate(self) -> float | None:
        return self.replied / self.counted if self.counted else None

    @property
    def on_time_rate(self) -> float | None:
        return self.replied_on_time / self.counted if self.counted else None


def reply_figures(letters: QuerySet, *, today: date) -> ReplyFigures:
    """Figures over `letters` (e.g. visible_letters(user) or Letter.objects.filter(received_at
    within a month)), computed from the rows: a letter counts as replied once its first
    round's reply was sent, on time when sent on or before that round's due date (local day)."""
    first_reply = LetterReply.objects.filter(
        letter=OuterRef("pk"), round=1, status=ReplyStatus.SENT
    )
    on_time = first_reply.annotate(
        sent_on=TruncDate("sent_at", tzinfo=timezone.get_current_timezone())
    ).filter(sent_on__lte=F("due_date"))
    rows = letters.annotate(has_reply=Exists(first_reply), reply_on_time=Exists(on_time)).aggregate(
        received=Count("pk"),
        withdrawn=Count("pk", filter=Q(status=flows.Status.WITHDRAWN)),
        merged=Count("pk", filter=Q(status=flows.Status.MERGED)),
        replied=Count("pk", filter=Q(has_reply=True) & ~Q(status__in=flows.FINAL)),
        replied_on_time=Count("pk", filter=Q(reply_on_time=True) & ~Q(status__in=flows.FINAL)),
        open=Count("pk", filter=Q(has_reply=False, status__in=flows.CLOCK_RUNNING)),
        open_overdue=Count(
            "pk",
            filter=Q(has_reply=False, status__in=flows.CLOCK_RUNNING, due_date__lt=today),
        ),
    )
    counted = rows["received"] - rows["withdrawn"] - rows["merged"]
    return ReplyFigures(counted=counted, **rows)
