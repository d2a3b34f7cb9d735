"""CSV import of letters exported by an outside platform (e.g. the provincial 民心网).

    report = imports.import_csv(actor=clerk, platform=minxin, file=request.FILES["file"])
    report.created, report.existing, report.errors   # numbers, numbers, [(line, message)]

Columns (header row, any order; extra columns are ignored):

    outside_id*, kind*, subject*, body*, contact_name, contact_phone, contact_email,
    submitted_at, address, lat, long

`kind` is a code (consultation, help, complaint, suggestion, report, praise) or its Chinese
name (咨询 求助 投诉 建议 举报 表扬); `submitted_at` is ISO 8601 or "2026-11-26 09:30", local
time. Files are UTF-8 (with or without a BOM) or GB18030, as Chinese spreadsheet software
saves them. Each row is imported on its own through intake.import_outside, so a bad row is
reported without stopping the others, and uploading the same file again creates nothing:
rows already accepted are listed as existing, unchanged.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from servicehall.core import audit

from . import intake
from .flows import Kind
from .models import OutsidePlatform
from .workflow import WorkflowError

REQUIRED = ("outside_id", "kind", "subject", "body")
OPTIONAL = (
    "contact_name",
    "contact_phone",
    "contact_email",
    "submitted_at",
    "address",
    "lat",
    "long",
)
MAX_ROWS = 5000
MAX_BYTES = 20 * 1024 * 1024
_KIND_NAMES = {
    "咨询": Kind.CONSULTATION,
    "求助": Kind.HELP,
    "投诉": Kind.COMPLAINT,
    "建议": Kind.SUGGESTION,
    "举报": Kind.REPORT,
    "表扬": Kind.PRAISE,
}


@dataclass
class CsvReport:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def decode_upload(file) -> str:
    raw = file.read() if hasattr(file, "read") else file
    if isinstance(raw, str):
        return raw
    if len(raw) > MAX_BYTES:
        raise WorkflowError(_("文件过大，请分批导入。"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise WorkflowError(_("无法识别文件编码，请保存为UTF-8格式的CSV文件。"))


def kind_from(value: str) -> str:
    value = (value or "").strip()
    return _KIND_NAMES.get(value, value.lower())


def _when(value: str) -> datetime | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise WorkflowError(_("时间格式应为 2026-11-26 09:30。")) from exc


def import_csv(*, actor, platform: OutsidePlatform, file) -> CsvReport:
    """Import every row of the platform's CSV export (see the module docstring)."""
    if not intake.may_import(actor):
        raise PermissionDenied(_("只有信访部门的受理人员可以导入外部平台来信。"))
    reader = csv.DictReader(io.StringIO(decode_upload(file), newline=""))
    header = {(name or "").strip() for name in reader.fieldnames or ()}
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise WorkflowError(_("缺少必需的列：%(names)s。") % {"names": "、".join(missing)})
    report = CsvReport()
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            report.errors.append((line, _("超过%(n)d行，其余未导入。") % {"n": MAX_ROWS}))
            break
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        try:
            receipt = intake.import_outside(
                platform=platform,
                actor=actor,
                outside_id=row["outside_id"],
                kind=kind_from(row["kind"]),
                subject=row["subject"],
                body=row["body"],
                submitted_at=_when(row.get("submitted_at", "")),
                **{name: row.get(name, "") for name in OPTIONAL if name != "submitted_at"},
            )
        except WorkflowError as exc:
            report.errors.append((line, str(exc)))
            continue
        (report.created if receipt.created else report.existing).append(receipt.letter.number)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="letters.csv_import",
            target=platform,
            details={
                "created": len(report.created),
                "existing": len(report.existing),
                "errors": len(report.errors),
            },
        )
    return report
