"""The letters' figures pages: the public page (charts with a table beneath each) and the
supervisors' page with the overdue letters. The numbers come from figures.letters_figures;
the API (api_figures) gives the same rows as JSON."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicehall.core.permissions import staff_required

from . import figures, queries
from . import rules as letter_rules
from .figures import BadParameter, Figures

# The table columns: (key in Row.as_dict(), header, format).
COLUMNS = [
    ("received", gettext_lazy("收信"), "count"),
    ("withdrawn", gettext_lazy("撤回"), "count"),
    ("merged", gettext_lazy("合并（重复来信）"), "count"),
    ("counted", gettext_lazy("应答复"), "count"),
    ("replied", gettext_lazy("已答复"), "count"),
    ("reply_rate", gettext_lazy("答复率"), "rate"),
    ("replied_on_time", gettext_lazy("按时答复"), "count"),
    ("due", gettext_lazy("已到期"), "count"),
    ("on_time_rate", gettext_lazy("按时答复率"), "rate"),
    ("average_working_days", gettext_lazy("平均答复用时（工作日）"), "days"),
    ("average_calendar_days", gettext_lazy("平均答复用时（自然日）"), "days"),
    ("rated", gettext_lazy("评价数"), "count"),
    ("satisfied", gettext_lazy("满意"), "count"),
    ("satisfaction_rate", gettext_lazy("满意率"), "rate"),
    ("average_rating", gettext_lazy("平均评分（5分制）"), "rating"),
    ("open", gettext_lazy("办理中"), "count"),
    ("overdue", gettext_lazy("超期未复"), "count"),
    ("reopened", gettext_lazy("重新办理"), "count"),
]
# What the charts draw (the table beneath has these and the rest).
CHART_SERIES = [
    ("received", gettext_lazy("收信")),
    ("replied", gettext_lazy("已答复")),
    ("replied_on_time", gettext_lazy("按时答复")),
    ("overdue", gettext_lazy("超期未复")),
]
GROUP_HEADINGS = {
    "month": gettext_lazy("月份"),
    "department": gettext_lazy("承办部门"),
    "channel": gettext_lazy("来信渠道"),
    "kind": gettext_lazy("来信类别"),
}
SUPERVISION_COLUMNS = ["received", "counted", "replied", "reply_rate", "on_time_rate", "open"]
SUPERVISION_COLUMNS += ["overdue", "reopened"]


def show(value, kind: str) -> str:
    """A figure as the tables show it: counts as they are, rates as percentages with one
    decimal, averages with one (days) or two (ratings) decimals, none as a dash."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "days":
        return f"{value:.1f}"
    if kind == "rating":
        return f"{value:.2f}"
    return str(value)


@dataclass
class Section:
    group: str
    title: str
    heading: str  # the first column's header
    figures: Figures
    headers: list
    rows: list  # (label, [cells])
    total: list
    chart: dict

    @property
    def chart_id(self) -> str:
        return f"chart-data-{self.group}"


def _cells(row: dict, columns) -> list[str]:
    return [show(row[key], kind) for key, _label, kind in columns]


def _section(result: Figures, columns=COLUMNS) -> Section:
    rows = [row.as_dict() for row in result.rows]
    return Section(
        group=result.group,
        title=figures.group_label(result.group),
        heading=str(GROUP_HEADINGS[result.group]),
        figures=result,
        headers=[label for _key, label, _kind in columns],
        rows=[(row["label"], _cells(row, columns)) for row in rows],
        total=_cells(result.total.as_dict(), columns),
        chart={
            "horizontal": result.group != "month",
            "labels": [row["label"] for row in rows],
            "series": [
                {"key": key, "label": str(label), "data": [row[key] for row in rows]}
                for key, label in CHART_SERIES
            ],
        },
    )


def _period_text(period: figures.Period) -> str:
    if period.is_calendar_year:
        return _("%(year)d年") % {"year": period.start.year}
    return _("%(start)s至%(end)s") % {
        "start": formats.date_format(period.start, "DATE_FORMAT"),
        "end": formats.date_format(period.end, "DATE_FORMAT"),
    }


def _filters(request, today) -> dict:
    years = list(range(today.year, today.year - 6, -1))
    given = request.GET.get("year", "")
    return {
        "years": [str(y) for y in years],
        "year": given or str(today.year),
        "from": request.GET.get("from", ""),
        "to": request.GET.get("to", ""),
        "group": request.GET.get("group", ""),
        "groups": [(g, figures.group_label(g)) for g in figures.GROUPS],
    }


def _is_supervisor(user) -> bool:
    return bool(
        user.is_authenticated
        and getattr(user, "is_staff_member", False)
        and user.has_role(letter_rules.OVERSIGHT_ROLE)
    )


def figures_page(request):
    """来信办理情况统计: public, counts only."""
    today = timezone.localdate()
    context = {"filters": _filters(request, today), "today": today}
    context["show_supervision"] = _is_supervisor(request.user)
    try:
        period = figures.period_from(request.GET, today=today)
        group = figures.group_from(request.GET, allow_all=True)
    except BadParameter as error:
        context["error"] = error.message
        return render(request, "letters/figures/index.html", context, status=400)
    sections = [
        _section(figures.letters_figures(period=period, group=g, today=today))
        for g in ([group] if group else figures.GROUPS)
    ]
    context |= {
        "period": period,
        "period_text": _period_text(period),
        "sections": sections,
        "total": sections[0].figures.total,
        "headline": _headline(sections[0].figures),
    }
    return render(request, "letters/figures/index.html", context)


def _headline(result: Figures) -> dict[str, str]:
    """The totals, formatted like the tables (every grouping has the same totals)."""
    total = result.total.as_dict()
    return {key: show(total[key], kind) for key, _label, kind in COLUMNS}


@staff_required(letter_rules.OVERSIGHT_ROLE)
def supervision_page(request):
    """督办: supervisors see the figures by department with the overdue letters they may
    read (the counts include every letter; the list only those the supervisor may open)."""
    today = timezone.localdate()
    context = {"filters": _filters(request, today), "today": today}
    try:
        period = figures.period_from(request.GET, today=today)
    except BadParameter as error:
        context["error"] = error.message
        return render(request, "letters/figures/supervision.html", context, status=400)
    by_department = figures.letters_figures(period=period, group="department", today=today)
    columns = [c for c in COLUMNS if c[0] in SUPERVISION_COLUMNS]
    overdue = list(
        figures.overdue_letters(queries.visible_letters(request.user), period=period, today=today)
    )
    for letter in overdue:
        letter.days_late = figures.working_days_late(letter.due_date, today)
    context |= {
        "period": period,
        "period_text": _period_text(period),
        "section": _section(by_department, columns),
        "overdue": overdue,
        "not_listed": by_department.total.overdue - len(overdue),
    }
    return render(request, "letters/figures/supervision.html", context)
