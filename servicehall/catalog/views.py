from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from servicehall.accounts.models import Department

from . import qr, queries
from .models import ONLINE_DEPTH_LABELS, LifeEvent, ServiceItem


@require_GET
def index(request):
    return render(
        request,
        "catalog/index.html",
        {
            "departments": queries.departments_with_counts(),
            "life_events": queries.life_events_with_counts(),
            "item_count": ServiceItem.active.count(),
        },
    )


@require_GET
def search(request):
    query = request.GET.get("q", "")
    try:
        hits = queries.search(query)
    except queries.QueryTooLong as exc:
        error = _("搜索内容过长，请不超过%(n)d个字。") % {"n": exc.args[0]}
        return render(
            request, "catalog/search.html", {"query": query[:50], "error": error}, status=400
        )
    return render(request, "catalog/search.html", {"query": query, "hits": hits})


@require_GET
def department(request, code):
    dept = get_object_or_404(Department, code=code)
    items = queries.active_items().filter(department=dept)
    return render(request, "catalog/item_list.html", {"heading": dept.display_name, "items": items})


@require_GET
def life_event(request, code):
    event = get_object_or_404(LifeEvent, code=code)
    items = queries.active_items().filter(life_events=event)
    return render(
        request, "catalog/item_list.html", {"heading": event.display_name, "items": items}
    )


@require_GET
def item(request, code):
    service = get_object_or_404(queries.active_items().prefetch_related("life_events"), code=code)
    return render(
        request,
        "catalog/item_detail.html",
        {
            "item": service,
            "doc": service.document,
            "online_depth_label": ONLINE_DEPTH_LABELS[service.online_depth],
            "page_url": qr.absolute_url(request, service.get_absolute_url()),
        },
    )


@require_GET
@cache_control(public=True, max_age=3600)
def item_qr(request, code, kind):
    if kind not in {"svg", "png"}:
        raise Http404
    service = get_object_or_404(ServiceItem.active, code=code)
    content = qr.render(qr.absolute_url(request, service.get_absolute_url()), kind)
    content_type = "image/svg+xml" if kind == "svg" else "image/png"
    return HttpResponse(content, content_type=content_type)


@require_GET
def power_list(request):
    return render(request, "catalog/power_list.html", {"departments": queries.power_list()})
