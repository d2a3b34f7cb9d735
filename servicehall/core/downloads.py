"""Stored attachments handed to staff: streamed from storage (never a public MEDIA_URL),
never cached, and every download audited as a read of the record it belongs to."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from . import audit


def audited_attachment(request, record, item, *, purpose: str, details: dict | None = None):
    """A download of `item` (a model with file, original_name, content_type, sha256 and pk)
    attached to `record`, audited with `purpose`; 404 when the file is gone from storage."""
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件不存在。")) from None
    audit.record_read(
        request,
        record,
        purpose=purpose,
        fields=[f"attachment.{item.pk}"],
        details={**(details or {}), "sha256": item.sha256},
    )
    response = FileResponse(
        handle, as_attachment=True, filename=item.original_name, content_type=item.content_type
    )
    add_never_cache_headers(response)
    return response
