"""GET /api/letters/figures/: the letters' reply figures as JSON (public, counts only).

The same numbers as the page /letters/figures/ (both call figures.letters_figures); the
definitions are in figures.py and in the OpenAPI description below. Bad parameters get a 400
with a message in the request's language (Chinese by default, English with
Accept-Language: en), never a 422 or a 500.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from servicehall.catalog.schemas import ErrorOut

from . import figures

router = Router(tags=["letters"])


class FiguresRowOut(Schema):
    key: str = Field(
        description="The group: YYYY-MM, a department code, a channel or a kind; 'total'"
    )
    label: str = Field(description="The group's name in the request's language")
    received: int = Field(description="Letters received in the period, in every status")
    withdrawn: int = Field(description="Of those, withdrawn by their writer")
    merged: int = Field(description="Of those, merged into another letter as duplicates")
    counted: int = Field(description="received − withdrawn − merged: the letters owed a reply")
    replied: int = Field(description="Counted letters whose first reply was sent")
    reply_rate: float | None = Field(description="replied / counted (0–1); null when 0/0")
    replied_on_time: int = Field(
        description="First reply sent on or before its due date (local day)"
    )
    due: int = Field(description="replied + counted letters without a reply past their due date")
    on_time_rate: float | None = Field(description="replied_on_time / due (0–1)")
    average_working_days: float | None = Field(
        description="Mean working days from receipt to the first reply (Chinese calendar)"
    )
    average_calendar_days: float | None = Field(
        description="Mean calendar days from receipt to the first reply"
    )
    rated: int = Field(description="Letters the writer rated (latest rating per letter)")
    satisfied: int = Field(description="Rated 满意 (4) or 非常满意 (5)")
    satisfaction_rate: float | None = Field(description="satisfied / rated (0–1)")
    average_rating: float | None = Field(description="Mean rating, 1–5")
    open: int = Field(description="As of today: clock running (incl. reopened letters)")
    overdue: int = Field(description="As of today: open letters past their due date")
    reopened: int = Field(description="Letters reopened after a dissatisfied rating")


class FiguresOut(Schema):
    group: str = Field(description="month, department, channel or kind")
    period_from: date = Field(alias="from", description="First day received (included)")
    period_to: date = Field(alias="to", description="Last day received (included)")
    as_of: date = Field(description="The day open and overdue letters are counted on")
    rows: list[FiguresRowOut]
    total: FiguresRowOut


DESCRIPTION = """
Letters (来信) received in a period — by month, department, channel or kind — and what
became of them, computed from the letters at the time of the request: received, withdrawn
and merged duplicates (kept, shown separately), replied and the reply rate
replied / (received − withdrawn − merged), replied on time and the on-time rate (over the
letters already due), average working and calendar days to the first reply, satisfaction
(the writer's latest rating; satisfied = 4 or 5), and, as of today, open and overdue letters.
Counts only: misconduct reports (12389) are included in the counts and nothing else.

Parameters: `group` = month (default) | department | channel | kind; `from`, `to` =
YYYY-MM-DD, the days received, both included (default: the current year); at most 10 years.
"""


@router.get(
    "/",
    response={200: FiguresOut, 400: ErrorOut},
    by_alias=True,
    summary="Letters reply figures (来信办理情况统计)",
    description=DESCRIPTION,
)
def letters_figures(
    request,
    group: str = Query("month", description="month | department | channel | kind"),
    period_from: str = Query("", alias="from", description="YYYY-MM-DD (default 1 January)"),
    period_to: str = Query("", alias="to", description="YYYY-MM-DD (default 31 December)"),
):
    today = timezone.localdate()
    params = {"group": group, "from": period_from, "to": period_to}
    try:
        chosen = figures.group_from(params)
        period = figures.period_from(params, today=today)
    except figures.BadParameter as error:
        return Status(400, {"detail": error.message})
    return figures.letters_figures(period=period, group=chosen, today=today).as_dict()
