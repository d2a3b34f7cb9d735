from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from . import queries
from .models import Flow, ItemType, LifeEvent, ServiceItem
from .schemas import (
    DepartmentOut,
    ErrorOut,
    ItemOut,
    ItemSummaryOut,
    LifeEventOut,
    PowerListDepartmentOut,
)

router = Router(tags=["catalog"])


class ItemFilters(Schema):
    q: str | None = None
    department: str | None = None
    life_event: str | None = None
    item_type: ItemType | None = None
    flow: Flow | None = None
    in_power_list: bool | None = None


@router.get(
    "/departments", response=list[DepartmentOut], summary="Departments with their item counts"
)
def list_departments(request):
    return queries.departments_with_counts()


@router.get("/life-events", response=list[LifeEventOut], summary="Life events (按人生事件)")
def list_life_events(request):
    return LifeEvent.objects.all()


@router.get(
    "/items",
    response={200: list[ItemSummaryOut], 400: ErrorOut},
    summary="Search and filter service items",
    description="`q` searches Chinese and English names, keywords and summaries; results are ranked best first.",
)
@paginate(LimitOffsetPagination)
def list_items(request, filters: Query[ItemFilters]):
    items = queries.active_items()
    if filters.department:
        items = items.filter(department__code=filters.department)
    if filters.life_event:
        items = items.filter(life_events__code=filters.life_event)
    if filters.item_type:
        items = items.filter(item_type=filters.item_type)
    if filters.flow:
        items = items.filter(flow=filters.flow)
    if filters.in_power_list is not None:
        items = items.filter(in_power_list=filters.in_power_list)
    if filters.q:
        return [hit.item for hit in queries.search(filters.q, items)]
    return items


@router.get(
    "/items/{code}", response={200: ItemOut, 404: ErrorOut}, summary="One item's full guide"
)
def get_item(request, code: str):
    item = ServiceItem.active.filter(code=code).select_related("department").first()
    if item is None:
        return Status(404, {"detail": _("没有编码为 %(code)s 的服务事项。") % {"code": code}})
    return item


@router.get(
    "/power-list",
    response=list[PowerListDepartmentOut],
    summary="The approval power list (权力清单)",
)
def power_list(request):
    return [{"department": dept, "items": dept.powers} for dept in queries.power_list()]
