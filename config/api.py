"""The JSON API: one NinjaAPI, a router per app; OpenAPI document at /api/docs."""

from django.conf import settings
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from servicehall.catalog.api import router as catalog_router
from servicehall.catalog.queries import QueryTooLong

api = NinjaAPI(
    title="servicehall API",
    version="1",
    description="网上公安机关服务大厅 — the same actions as the pages, as JSON.",
    urls_namespace="api",
)
api.add_router("/catalog/", catalog_router)
api.add_router("/registry/", "servicehall.registry.api.router")
api.add_router("/letters/import/", "servicehall.letters.api_import.router")
api.add_router("/letters/figures/", "servicehall.letters.api_figures.router")
api.add_router("/bookings/", "servicehall.bookings.api.router")


if settings.SERVICEHALL_BENCH_ENDPOINTS:  # benchmark runs only (bench/names.py)
    from servicehall.registry.bench import router as bench_router

    api.add_router("/bench/", bench_router)


@api.exception_handler(QueryTooLong)
def query_too_long(request, exc):
    message = _("搜索内容过长，请不超过%(n)d个字。") % {"n": exc.args[0]}
    return api.create_response(request, {"detail": message}, status=400)
