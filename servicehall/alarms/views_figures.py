"""The intake centre's figures (/staff/alarms/figures/): what a supervisor reads before a
review meeting — answer and dispatch times per desk and shift against the NENA target
(90 % of calls answered within 15 s), 12110 first-response time, incidents by type and
district. Computed from the incidents' own timestamps (alarms/queries.py); rows only for the
desks the reader works."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from servicehall.core.permissions import forbidden, staff_required

from . import queries
from . import rules as alarm_rules
from .conf import setting
from .models import Desk, IncidentType
from .views_console import duration

MAX_DAYS = 366


class PeriodForm(forms.Form):
    # type=date inputs take ISO dates only, whatever the language.
    start = forms.DateField(
        label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("结束日期不能早于开始日期。"))
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("统计期间最长一年，请缩短日期范围。"))
        return data


def _period(request) -> tuple[PeriodForm, object, object]:
    today = timezone.localdate()
    initial = {"start": today - timedelta(days=6), "end": today}
    if "start" not in request.GET and "end" not in request.GET:
        return PeriodForm(initial=initial), initial["start"], initial["end"]
    form = PeriodForm(request.GET)
    if form.is_valid():
        return form, form.cleaned_data["start"], form.cleaned_data["end"]
    return form, None, None


@staff_required()
@require_GET
def figures(request):
    if not alarm_rules.may_view_figures(request.user):
        return forbidden(request)
    form, start, end = _period(request)
    if start is None:
        return render(request, "alarms/figures.html", {"form": form}, status=400)
    desks = alarm_rules.desks_of(request.user)
    shifts = [row for row in queries.answer_figures(start, end) if row.desk in desks]
    labels = {"day": _("白班"), "night": _("夜班")}
    context = {
        "form": form,
        "start": start,
        "end": end,
        "target_seconds": setting("ALARM_ANSWER_TARGET_SECONDS"),
        "shifts": [
            {
                "row": row,
                "desk": Desk(row.desk).label,
                "shift": labels[row.shift],
                "answer_p50": duration(row.answer_p50),
                "answer_p90": duration(row.answer_p90),
                "dispatch_p50": duration(row.dispatch_p50),
                "dispatch_p90": duration(row.dispatch_p90),
            }
            for row in shifts
        ],
        "sms": queries.sms_first_response(start, end),
        "types": [
            {
                **row,
                "type": IncidentType(row["incident_type"]).label
                if row["incident_type"]
                else _("未分类"),
            }
            for row in queries.incidents_by_type_and_district(start, end)
        ],
    }
    sms = context["sms"]
    context["sms_p50"], context["sms_p90"] = duration(sms.p50), duration(sms.p90)
    return render(request, "alarms/figures.html", context)
