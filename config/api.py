"""The JSON API: one NinjaAPI, a router per app; OpenAPI document at /api/docs."""

from ninja import NinjaAPI

from servicehall.catalog.api import router as catalog_router

api = NinjaAPI(
    title="servicehall API",
    version="1",
    description="网上公安机关服务大厅 — the same actions as the pages, as JSON.",
    urls_namespace="api",
)
api.add_router("/catalog/", catalog_router)
