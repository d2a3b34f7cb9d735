"""POST /api/letters/import/letters: outside platforms (民心网) hand letters over as JSON.

    curl -X POST https://…/api/letters/import/letters -H "X-Api-Key: $KEY" \\
         -H "Content-Type: application/json" \\
         -d '{"outside_id": "MX2026-0042", "kind": "complaint", "subject": "…", "body": "…"}'

- The platform authenticates with its API key in `X-Api-Key` (platforms.verify_key; issue one
  with `manage.py issue_platform_key`); a missing, wrong or disabled key is 401.
- Idempotent by the platform's own id: a new `outside_id` is 201 with the letter number, the
  same id again is 200 with the number of the letter already accepted (nothing changes).
- A bad letter is 400 with the errors by field, in the caller's language (Accept-Language;
  Chinese by default). `/letters/batch` takes a list and answers row by row: one bad row
  never stops the others.

Fields are those of the CSV import (imports.py): outside_id*, kind*, subject*, body*,
contact_name, contact_phone, contact_email, submitted_at (ISO 8601, local time when it has
no offset), address, lat, long. `kind` is a code or its Chinese name (投诉).

The body is read here rather than declared as a ninja schema: ninja would answer bad input
with its own 422 in English; the schema below documents the same shape in OpenAPI.
"""

from __future__ import annotations

import csv
import io
import json

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyHeader

from . import imports, intake, platforms
from .flows import Kind
from .workflow import WorkflowError

router = Router(tags=["letters"])
MAX_BATCH = 500


# --- validation (shared with the CSV report, which names the fields of a refused row) -------


class OutsideLetterForm(forms.Form):
    """One letter from an outside platform; validation only (intake.import_outside decides)."""

    outside_id = forms.CharField(
        label=gettext_lazy("外部平台编号"),
        max_length=64,
        error_messages={
            "required": gettext_lazy("请提供外部平台的来信编号（不超过64个字符）。"),
            "max_length": gettext_lazy("请提供外部平台的来信编号（不超过64个字符）。"),
        },
    )
    kind = forms.CharField(
        label=gettext_lazy("来信类别"),
        error_messages={"required": gettext_lazy("请选择来信类别。")},
    )
    subject = forms.CharField(
        label=gettext_lazy("标题"),
        max_length=200,
        error_messages={"required": gettext_lazy("请填写标题。")},
    )
    body = forms.CharField(
        label=gettext_lazy("内容"),
        max_length=intake.MAX_BODY_CHARS,
        error_messages={"required": gettext_lazy("请填写来信内容。")},
    )
    contact_name = forms.CharField(label=gettext_lazy("联系人"), required=False, max_length=64)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话"), required=False, max_length=40)
    contact_email = forms.EmailField(
        label=gettext_lazy("电子邮箱"),
        required=False,
        error_messages={"invalid": gettext_lazy("请填写正确的电子邮箱地址。")},
    )
    submitted_at = forms.DateTimeField(
        label=gettext_lazy("外部平台受理时间"),
        required=False,
        error_messages={"invalid": gettext_lazy("时间格式应为 2026-11-26 09:30。")},
    )
    address = forms.CharField(label=gettext_lazy("地点"), required=False, max_length=200)
    lat = forms.DecimalField(
        label=gettext_lazy("纬度"), required=False, min_value=-90, max_value=90
    )
    long = forms.DecimalField(
        label=gettext_lazy("经度"), required=False, min_value=-180, max_value=180
    )

    def clean_kind(self) -> str:
        kind = imports.kind_from(self.cleaned_data["kind"])
        if kind not in Kind.values:
            choices = "、".join(f"{value}（{label}）" for value, label in Kind.choices)
            raise forms.ValidationError(_("来信类别应为以下之一：%(kinds)s。") % {"kinds": choices})
        return kind

    def clean_contact_phone(self) -> str:
        try:
            return intake.contact_phone_from(self.cleaned_data["contact_phone"])
        except WorkflowError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self):
        data = super().clean()
        if ("lat" in data) and ("long" in data) and (data["lat"] is None) != (data["long"] is None):
            self.add_error("long", _("请提供有效的经纬度，或都不填。"))
        return data

    def errors_by_field(self) -> dict[str, list[str]]:
        return {name: [str(message) for message in errors] for name, errors in self.errors.items()}


def row_field_errors(upload, lines) -> dict[int, list[str]]:
    """For the CSV report: per line, the columns the row check refuses ("subject（标题）").
    Lines as imports.import_csv counts them (the header is line 1)."""
    wanted = set(lines)
    if not wanted:
        return {}
    try:
        upload.seek(0)
        reader = csv.DictReader(io.StringIO(imports.decode_upload(upload), newline=""))
        found = {}
        for line, row in enumerate(reader, start=2):
            if line in wanted:
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
                form = OutsideLetterForm(row)
                form.is_valid()
                found[line] = [
                    f"{name}（{form.fields[name].label}）"
                    for name in form.errors
                    if name in form.fields
                ]
        return found
    except (WorkflowError, csv.Error, OSError, ValueError):
        return {}


# --- the API -------------------------------------------------------------------------------


class PlatformKey(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request, key):
        platform = platforms.verify_key(key)
        if platform is None:
            raise HttpError(401, _("缺少或无效的平台密钥（请求头 X-Api-Key）。"))
        return platform


class LetterIn(Schema):
    """Documentation of the body (read and checked by OutsideLetterForm)."""

    outside_id: str
    kind: str
    subject: str
    body: str
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    submitted_at: str | None = None
    address: str = ""
    lat: float | None = None
    long: float | None = None


class ImportedOut(Schema):
    number: str
    created: bool


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


class RowOut(Schema):
    index: int
    outside_id: str
    status: str
    number: str | None = None
    errors: dict[str, list[str]] = {}


class BatchOut(Schema):
    created: int
    existing: int
    invalid: int
    results: list[RowOut]


def _body(request):
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, _("请求内容不是有效的JSON。")) from None


def _import(platform, row) -> tuple[int, dict]:
    """(status, answer) for one letter: 201 new, 200 already accepted, 400 refused."""
    if not isinstance(row, dict):
        message = _("每封来信应为一个JSON对象。")
        return 400, {"detail": message, "errors": {"__all__": [message]}}
    form = OutsideLetterForm(row)
    if not form.is_valid():
        detail = _("来信内容有误，请按各字段的说明修改后重新提交。")
        return 400, {"detail": detail, "errors": form.errors_by_field()}
    try:
        receipt = intake.import_outside(platform=platform, actor=None, **form.cleaned_data)
    except (WorkflowError, PermissionDenied) as exc:
        return 400, {"detail": str(exc), "errors": {"__all__": [str(exc)]}}
    status = 201 if receipt.created else 200
    return status, {"number": receipt.letter.number, "created": receipt.created}


_ONE = {
    "required": True,
    "content": {"application/json": {"schema": LetterIn.model_json_schema()}},
}
_MANY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": MAX_BATCH,
                "items": LetterIn.model_json_schema(),
            }
        }
    },
}


@router.post(
    "/letters",
    auth=PlatformKey(),
    response={200: ImportedOut, 201: ImportedOut, 400: ErrorOut, 401: ErrorOut},
    summary="Hand over one letter (外部平台来信转入)",
    description=(
        "A letter received by an outside platform. 201: accepted, with its letter number; "
        "200: this `outside_id` was accepted before (the same letter, unchanged); 400: "
        "refused, `errors` by field in the caller's language; 401: missing or wrong key."
    ),
    openapi_extra={"requestBody": _ONE},
)
def import_letter(request):
    return Status(*_import(request.auth, _body(request)))


@router.post(
    "/letters/batch",
    auth=PlatformKey(),
    response={200: BatchOut, 400: ErrorOut, 401: ErrorOut},
    summary="Hand over several letters (批量转入)",
    description=(
        f'A JSON array of up to {MAX_BATCH} letters (or {{"letters": [...]}}). Each row is '
        "imported on its own and answered in `results` with its index: `created`, "
        "`existing` (accepted before) or `invalid` with its `errors`."
    ),
    openapi_extra={"requestBody": _MANY},
)
def import_batch(request):
    rows = _body(request)
    if isinstance(rows, dict) and isinstance(rows.get("letters"), list):
        rows = rows["letters"]
    if not isinstance(rows, list):
        raise HttpError(400, _("请求内容应为来信的JSON数组。"))
    if len(rows) > MAX_BATCH:
        raise HttpError(400, _("每次最多转入%(n)d封来信，请分批提交。") % {"n": MAX_BATCH})
    results, counts = [], {"created": 0, "existing": 0, "invalid": 0}
    for index, row in enumerate(rows):
        status, answer = _import(request.auth, row)
        outcome = {201: "created", 200: "existing"}.get(status, "invalid")
        counts[outcome] += 1
        outside_id = str(row.get("outside_id") or "") if isinstance(row, dict) else ""
        results.append(
            {
                "index": index,
                "outside_id": outside_id,
                "status": outcome,
                "number": answer.get("number"),
                "errors": answer.get("errors", {}),
            }
        )
    return Status(200, {**counts, "results": results})
