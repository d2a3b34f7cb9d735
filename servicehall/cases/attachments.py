"""Validation of uploaded application materials (申请材料). Validation only: storing the file
is the caller's (a FileField on Django's storage).

Public API:
- validate_upload(uploaded_file) -> ValidatedFile(name, content_type, size, sha256)
  raises django.core.exceptions.ValidationError with a Chinese message
- sanitize_filename(name, extension=None) -> str
- detect_type(head: bytes) -> AllowedType | None
- materials_for(item_document) -> list[dict]
- MaterialFileField: a forms.FileField that runs validate_upload (cleaned value: the upload,
  with `.validated` set to its ValidatedFile)

Rules:
- Only PDF, JPEG and PNG, recognised by their first bytes (magic numbers); the file name's
  extension and the browser's content type are ignored for the decision.
- The returned name keeps the uploaded file's extension when it agrees with the content
  (.jpg and .jpeg both do for JPEG); otherwise the content's extension replaces it, so a
  stored name never claims another type than its bytes.
- Size: at most settings.CASES_MAX_ATTACHMENT_MB (default 10) megabytes (MiB); empty files
  are refused. The size is counted while hashing, not taken from the client.
- The file is read once in chunks and rewound (seek(0)) afterwards, ready to be saved.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_MAX_ATTACHMENT_MB = 10
MAX_NAME_STEM = 100  # characters of the name before the extension


@dataclass(frozen=True)
class AllowedType:
    content_type: str
    extension: str
    extensions: frozenset[str]
    magic: bytes


ALLOWED_TYPES = (
    AllowedType("application/pdf", ".pdf", frozenset({".pdf"}), b"%PDF-"),
    AllowedType("image/jpeg", ".jpg", frozenset({".jpg", ".jpeg", ".jpe"}), b"\xff\xd8\xff"),
    AllowedType("image/png", ".png", frozenset({".png"}), b"\x89PNG\r\n\x1a\n"),
)
# For <input type="file" accept="...">: a hint for the file picker, never trusted.
ACCEPT_ATTR = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"

MSG_EMPTY = _("文件是空的，请重新选择。")
MSG_TOO_LARGE = _("文件不能超过%(limit)sMB，请压缩或分开上传。")
MSG_BAD_TYPE = _("只能上传PDF、JPG或PNG格式的文件。该文件的内容不是这几种格式。")
MSG_UNREADABLE = _("文件无法读取，请重新上传。")


@dataclass(frozen=True)
class ValidatedFile:
    name: str  # sanitised file name, extension matching the content
    content_type: str  # from the content, not the browser
    size: int  # bytes
    sha256: str  # hex digest of the content


def _limit_mb() -> float:
    return getattr(settings, "CASES_MAX_ATTACHMENT_MB", DEFAULT_MAX_ATTACHMENT_MB)


def max_attachment_bytes() -> int:
    return int(_limit_mb() * 1024 * 1024)


def detect_type(head: bytes) -> AllowedType | None:
    """The allowed type whose magic number `head` starts with, if any."""
    for allowed in ALLOWED_TYPES:
        if head.startswith(allowed.magic):
            return allowed
    return None


_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]')


def sanitize_filename(name: str | None, extension: str | None = None) -> str:
    """A file name without directories, control or reserved characters, and not hidden.

    `extension` (".pdf") replaces the name's extension unless the name's is among the
    extensions given by `extension`'s type; without `extension` the name's own is kept.
    Chinese characters are kept.
    """
    name = unicodedata.normalize("NFKC", name or "")
    # No paths: browsers (old IE) send C:\\Users\\..., curl may send ../../etc/passwd.
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_CHARS.sub("_", name).strip().strip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ("." + ext.lower()) if ext else ""
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", ext or ".x"):
        stem, ext = name, ""
    if extension is not None:
        allowed = next((t for t in ALLOWED_TYPES if t.extension == extension), None)
        if allowed is None or ext not in allowed.extensions:
            ext = extension
    stem = re.sub(r"\s+", " ", stem).strip(" ._")[:MAX_NAME_STEM].strip(" ._")
    return (stem or "附件") + ext


def validate_upload(uploaded_file) -> ValidatedFile:
    """Check one uploaded material file; raise ValidationError (Chinese message) if refused."""
    limit = max_attachment_bytes()
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        if hasattr(uploaded_file, "seek"):
            uploaded_file.seek(0)
        chunks = (
            uploaded_file.chunks()
            if hasattr(uploaded_file, "chunks")
            else iter(lambda: uploaded_file.read(64 * 1024), b"")
        )
        for chunk in chunks:
            if len(head) < 16:
                head += chunk[: 16 - len(head)]
            size += len(chunk)
            if size > limit:
                raise ValidationError(
                    MSG_TOO_LARGE, code="too_large", params={"limit": f"{_limit_mb():g}"}
                )
            digest.update(chunk)
    except (OSError, ValueError) as exc:
        raise ValidationError(MSG_UNREADABLE, code="unreadable") from exc
    finally:
        if hasattr(uploaded_file, "seek"):
            with contextlib.suppress(OSError, ValueError):
                uploaded_file.seek(0)
    if size == 0:
        raise ValidationError(MSG_EMPTY, code="empty")
    allowed = detect_type(head)
    if allowed is None:
        raise ValidationError(MSG_BAD_TYPE, code="bad_type")
    return ValidatedFile(
        name=sanitize_filename(getattr(uploaded_file, "name", ""), allowed.extension),
        content_type=allowed.content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


def without_image_metadata(uploaded_file, validated: ValidatedFile):
    """A JPEG or PNG re-encoded without its metadata (EXIF: camera, time taken, GPS position;
    PNG text chunks), turned upright first as its EXIF orientation said; returns the new file
    and its ValidatedFile. For uploads whose sender must not be identifiable (anonymous
    reports). Other types come back unchanged; an image Pillow cannot decode is refused."""
    from io import BytesIO

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps, UnidentifiedImageError

    formats = {"image/jpeg": "JPEG", "image/png": "PNG"}
    if validated.content_type not in formats:
        return uploaded_file, validated
    try:
        uploaded_file.seek(0)
        with Image.open(uploaded_file) as image:
            image.load()
            clean = ImageOps.exif_transpose(image)  # a copy, upright
        # Pillow writes EXIF or text chunks only when asked to; drop what it read anyway.
        clean.info = {}
        if formats[validated.content_type] == "JPEG" and clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        out = BytesIO()
        options = {"quality": 92} if validated.content_type == "image/jpeg" else {}
        clean.save(out, formats[validated.content_type], **options)
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ValidationError(MSG_UNREADABLE, code="unreadable") from exc
    data = out.getvalue()
    cleaned = ContentFile(data, name=validated.name)
    return cleaned, ValidatedFile(
        name=validated.name,
        content_type=validated.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


class MaterialFileField(forms.FileField):
    """A form field for one material slot; the cleaned upload carries `.validated`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}))
        kwargs.setdefault(
            "error_messages",
            {"required": _("请上传此项材料。"), "empty": MSG_EMPTY, "invalid": MSG_UNREADABLE},
        )
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and hasattr(upload, "chunks") and not getattr(upload, "_committed", False):
            upload.validated = validate_upload(upload)
        return upload


def materials_for(item_document: dict) -> list[dict]:
    """The material slots an applicant uploads for, in the item's order.

    Each: index (position in the item's list), name, required, form (original, copy,
    original_and_copy, electronic), count, note and sample ("" when absent). Originals are
    uploaded as scans too; `form` tells staff what to check at the window or on a visit.
    """
    return [
        {
            "index": index,
            "name": material["name"],
            "required": bool(material.get("required", False)),
            "form": material.get("form", "electronic"),
            "count": material.get("count", 1),
            "note": material.get("note", ""),
            "sample": material.get("sample", ""),
        }
        for index, material in enumerate(item_document.get("materials") or ())
    ]
