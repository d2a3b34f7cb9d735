"""The public same-name query page (新生儿取名重名查询), and the rate limit it shares with
the API: anonymous, GET (a result can be bookmarked or shared), counts only."""

from dataclasses import replace

from django import forms
from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django_ratelimit.core import get_usage

from servicehall.core.audit import client_ip

from . import names
from .pinyin import with_marks

RATE_GROUP = "registry.names"


def _rate(group, request):
    # settings.REGISTRY_NAME_QUERY_RATE: "30/m" by default; empty turns the limit off (the
    # benchmark measures the query, not the limiter).
    return getattr(settings, "REGISTRY_NAME_QUERY_RATE", "30/m") or None


def _client(group, request):
    return client_ip(request) or "unknown"


def rate_limited(request) -> int:
    """Count one query for this client (page and API share the quota); return the seconds to
    wait if it is over the limit, else 0."""
    usage = get_usage(request, group=RATE_GROUP, key=_client, rate=_rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def too_many_message(wait: int) -> str:
    return _("查询过于频繁，请%(seconds)d秒后再试。") % {"seconds": wait}


class NameQueryForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("姓名"),
        max_length=40,
        help_text=gettext_lazy("2至6个汉字；少数民族姓名可用间隔号“·”分隔，如“买买提·艾力”。"),
        error_messages={"required": gettext_lazy("请输入要查询的姓名。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "lang": "zh", "spellcheck": "false"}),
    )
    district = forms.ChoiceField(label=gettext_lazy("区县（可选）"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [("", _("全市")), *sorted(names.districts().items())]

    def clean_name(self):
        return names.validate_name(self.cleaned_data["name"])


@require_GET
def name_query(request):
    if "name" not in request.GET:
        return render(request, "registry/names.html", {"form": NameQueryForm()})
    form = NameQueryForm(request.GET)
    wait = rate_limited(request)
    if wait:
        context = {"form": form, "error": too_many_message(wait)}
        response = render(request, "registry/names.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if not form.is_valid():
        return render(request, "registry/names.html", {"form": form}, status=400)
    answer = names.query(form.cleaned_data["name"], form.cleaned_data["district"] or None)
    context = {
        "form": form,
        "answer": answer,
        "marked": with_marks(answer.pinyin_tones),
        "homophones": [
            (_("读音相同（不计声调）"), answer.same_pinyin),
            (
                _("读音和声调都相同"),
                replace(answer.same_tones, pinyin=with_marks(answer.same_tones.pinyin)),
            ),
        ],
    }
    return render(request, "registry/names.html", context)
