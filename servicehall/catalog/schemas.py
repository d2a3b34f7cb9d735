"""API shapes of the catalogue (pydantic via django-ninja)."""

from typing import Any

from ninja import Schema


class DepartmentOut(Schema):
    code: str
    name: str
    name_en: str
    approval_powers: bool
    item_count: int | None = None


class LifeEventOut(Schema):
    code: str
    name: str
    name_en: str


class ItemSummaryOut(Schema):
    code: str
    name: str
    name_en: str
    department: str
    item_type: str
    flow: str
    in_power_list: bool
    legal_days: int
    promised_days: int
    online_depth: int
    channels: list[str]
    url: str

    @staticmethod
    def resolve_department(obj) -> str:
        return obj.department.code

    @staticmethod
    def resolve_url(obj, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url())


class ItemOut(ItemSummaryOut):
    life_events: list[str]
    guide: dict[str, Any]
    qr_svg: str
    qr_png: str

    @staticmethod
    def resolve_life_events(obj) -> list[str]:
        return [event.code for event in obj.life_events.all()]

    @staticmethod
    def resolve_guide(obj) -> dict[str, Any]:
        return obj.document

    @staticmethod
    def resolve_qr_svg(obj, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url() + "qr.svg")

    @staticmethod
    def resolve_qr_png(obj, context) -> str:
        return context["request"].build_absolute_uri(obj.get_absolute_url() + "qr.png")


class PowerListDepartmentOut(Schema):
    department: DepartmentOut
    items: list[ItemSummaryOut]


class ErrorOut(Schema):
    detail: str
