"""API shapes of bookings (pydantic via django-ninja), and the validation of a booking POST.

The POST bodies are read and validated here (`book_input`, `cancel_input`) rather than by
ninja: ninja would answer bad input with its own English 422; these answer 422 with a Chinese
message per field (400 when the body is not JSON at all). BookIn and CancelIn document the
same shapes in OpenAPI.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from servicehall.notify.outbox import normalise_phone

TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in the caller's language (Chinese default)")
    code: str = Field(
        "",
        description=(
            "Why, for programs: a refusal of the booking rules (full, duplicate, closed, "
            "not_released, past, restricted, token_reused, wrong_state, bad_document, ...), "
            "or not_signed_in, forbidden, csrf, not_found, invalid, bad_json, rate_limited, "
            "queued"
        ),
    )
    errors: dict[str, list[str]] = Field(default_factory=dict, description="By field (422)")


class QueuedOut(ErrorOut):
    position: int = Field(description="Place in the waiting room's queue (1 = next)")
    ahead: int
    retry_after: int = Field(description="Seconds to wait before trying again (also Retry-After)")


class ItemRefOut(Schema):
    code: str
    name: str


class OfficeOut(Schema):
    code: str
    name: str
    kind: str = Field(description="exit_entry, visa or vehicle")
    kind_label: str
    district: str | None = Field(description="District name; null for a city-level office")
    address: str
    phone: str
    lunch_service: bool = Field(description="8+1: open through the lunch hour on working days")
    weekend_service: bool = Field(description="5+2: open on weekends that are not holidays")
    items: list[ItemRefOut]


class DayOut(Schema):
    date: date
    state: str = Field(description="open, full, closed, not_released or ended")
    state_label: str
    free: int = Field(description="Places left over the day's bookable times")
    release_at: datetime | None = Field(description="When a not_released day opens")


class TimeOut(Schema):
    slot: int = Field(description="The slot to book for this time (POST /api/bookings/)")
    start: datetime
    end: datetime
    session: str = Field(description="normal, lunch (8+1) or weekend (5+2)")
    session_label: str
    left: int = Field(description="Places left at this time over all counters")
    state: str = Field(description="open, full, closed, not_released or ended")


class BookIn(Schema):
    slot: int = Field(description="A slot id from …/times")
    client_token: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="Made once per booking attempt by the client (e.g. a UUID); sending the "
        "same token again returns the booking already made instead of booking twice",
    )
    phone: str | None = Field(None, description="Contact mobile; default: the profile's")


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class BookingOut(Schema):
    code: str = Field(description="Booking code (预约码), shown at check-in")
    status: str
    status_label: str
    office: str
    office_name: str
    item: str
    item_name: str
    date: date
    start: datetime
    end: datetime
    person_name: str
    document_number: str = Field(description="Masked: 110101********1234")
    phone: str = Field(description="Masked: 138****5678")
    qr: str = Field(description="The signed check-in QR payload")
    created_at: datetime


# --- validating POST bodies --------------------------------------------------------------


class BadInput(Exception):
    """Refused input: 400 when the body is not a JSON object, 422 with `errors` otherwise."""

    def __init__(self, status: int, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.http_status, self.detail, self.errors = status, detail, errors or {}

    def body(self) -> dict:
        code = "bad_json" if self.http_status == 400 else "invalid"
        return {"detail": self.detail, "code": code, "errors": self.errors}


def _object(raw: bytes) -> dict:
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadInput(400, _("请求内容不是有效的JSON。")) from None
    if not isinstance(data, dict):
        raise BadInput(400, _("请求内容应为一个JSON对象。"))
    return data


def book_input(raw: bytes) -> dict:
    data = _object(raw)
    errors: dict[str, list[str]] = {}
    slot = data.get("slot")
    if isinstance(slot, str) and slot.isdigit():
        slot = int(slot)
    if isinstance(slot, bool) or not isinstance(slot, int) or slot <= 0:
        errors["slot"] = [_("请选择预约时段（slot 应为时段编号）。")]
    token = data.get("client_token")
    if not isinstance(token, str) or not TOKEN.match(token):
        errors["client_token"] = [
            _("提交标识（client_token）应为1至64位字母、数字、下划线或连字符。")
        ]
    phone = data.get("phone") or None
    if phone is not None:
        phone = normalise_phone(phone) if isinstance(phone, str) else None
        if phone is None:
            errors["phone"] = [
                _("请填写正确的手机号码，例如 13812345678；境外号码以+和国家代码开头。")
            ]
    if errors:
        raise BadInput(422, _("请求内容有误，请按各字段的说明修改后重新提交。"), errors)
    return {"slot": slot, "client_token": token, "phone": phone}


def cancel_input(raw: bytes) -> dict:
    data = _object(raw)
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        raise BadInput(
            422,
            _("请求内容有误，请按各字段的说明修改后重新提交。"),
            {"reason": [_("取消原因应为不超过200字的文字。")]},
        )
    return {"reason": reason.strip()}
