"""Uploaded material files: real content types, size limits, names, hashes."""

import hashlib
import io

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from servicehall.cases.attachments import (
    MaterialFileField,
    ValidatedFile,
    materials_for,
    max_attachment_bytes,
    sanitize_filename,
    validate_upload,
)
from servicehall.catalog.datafiles import read_catalogue


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def refused(file) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        validate_upload(file)
    return info.value


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("申请表.pdf", PDF, "application/pdf"),
        ("photo.png", image_bytes("PNG"), "image/png"),
        ("photo.jpg", image_bytes("JPEG"), "image/jpeg"),
    ],
)
def test_pdf_png_jpeg_are_accepted(name, content, content_type):
    result = validate_upload(upload(name, content, "application/octet-stream"))
    assert result == ValidatedFile(
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def test_file_is_rewound_for_saving():
    file = upload("a.pdf", PDF)
    validate_upload(file)
    assert file.read() == PDF


def test_plain_django_file_works_too():
    result = validate_upload(ContentFile(image_bytes("PNG"), name="scan.png"))
    assert result.content_type == "image/png"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("身份证.pdf", EXE, "application/pdf"),
        ("photo.png", EXE, "image/png"),
        ("setup.exe", EXE, "application/x-msdownload"),
        ("scan.jpg", HTML, "image/jpeg"),
        ("page.html", HTML, "text/html"),
        ("svg.png", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "image/png"),
        ("a.pdf", b" %PDF-1.4 not at the start", "application/pdf"),
    ],
)
def test_other_content_is_refused_whatever_its_name_or_type(name, content, content_type):
    error = refused(upload(name, content, content_type))
    assert error.code == "bad_type"
    assert error.messages == ["只能上传PDF、JPG或PNG格式的文件。该文件的内容不是这几种格式。"]


def test_empty_file_is_refused():
    error = refused(upload("空.pdf", b""))
    assert error.code == "empty"
    assert error.messages == ["文件是空的，请重新选择。"]


def test_oversize_file_is_refused(settings):
    settings.CASES_MAX_ATTACHMENT_MB = 0.01  # 10,485 bytes
    assert max_attachment_bytes() == 10485
    error = refused(upload("big.pdf", PDF + b"0" * 20_000))
    assert error.code == "too_large"
    assert error.messages == ["文件不能超过0.01MB，请压缩或分开上传。"]
    # Exactly at the limit is fine.
    at_limit = PDF + b"0" * (10485 - len(PDF))
    assert validate_upload(upload("ok.pdf", at_limit)).size == 10485


def test_default_limit_is_10_mb(settings):
    if hasattr(settings, "CASES_MAX_ATTACHMENT_MB"):
        del settings.CASES_MAX_ATTACHMENT_MB
    assert max_attachment_bytes() == 10 * 1024 * 1024


def test_size_is_counted_not_taken_from_the_client(settings):
    settings.CASES_MAX_ATTACHMENT_MB = 0.01
    file = upload("big.pdf", PDF + b"0" * 20_000)
    file.size = 10  # a lying size attribute changes nothing
    assert refused(file).code == "too_large"


@pytest.mark.parametrize(
    ("name", "extension", "expected"),
    [
        ("../../etc/passwd.pdf", ".pdf", "passwd.pdf"),
        ("C:\\Users\\张三\\Desktop\\申请表.PDF", ".pdf", "申请表.pdf"),
        ("photo.jpg", ".png", "photo.png"),  # content decides
        ("photo.jpeg", ".jpg", "photo.jpeg"),  # an equivalent extension is kept
        ("scan", ".pdf", "scan.pdf"),
        ("", ".pdf", "附件.pdf"),
        (None, ".png", "附件.png"),
        (".htaccess", ".pdf", "htaccess.pdf"),
        ("a\x00b\r\n<c>.pdf", ".pdf", "a_b___c.pdf"),
        ('x:"y"|z?.pdf', ".pdf", "x__y__z.pdf"),
        ("report.pdf.exe", ".pdf", "report.pdf.pdf"),
        ("  营业执照  复印件 .pdf", ".pdf", "营业执照 复印件.pdf"),
        ("Ａ４扫描.ＰＤＦ", ".pdf", "A4扫描.pdf"),  # full-width folded
        ("notes.txt", None, "notes.txt"),
    ],
)
def test_file_names_are_sanitised(name, extension, expected):
    assert sanitize_filename(name, extension) == expected


def test_long_names_are_cut_but_keep_the_extension():
    name = sanitize_filename("长" * 300 + ".pdf", ".pdf")
    assert name == "长" * 100 + ".pdf"


def test_validated_name_matches_the_content():
    assert validate_upload(upload("../x/证件照.jpg", image_bytes("PNG"))).name == "证件照.png"


def test_material_file_field_in_a_form():
    class UploadForm(forms.Form):
        scan = MaterialFileField(label="营业执照")

    form = UploadForm(data={}, files={"scan": upload("执照.png", image_bytes("PNG"))})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["scan"].validated.content_type == "image/png"
    assert 'accept=".pdf,.jpg,.jpeg,.png' in str(UploadForm()["scan"])

    form = UploadForm(data={}, files={"scan": upload("执照.pdf", HTML)})
    assert not form.is_valid()
    assert form.errors["scan"] == ["只能上传PDF、JPG或PNG格式的文件。该文件的内容不是这几种格式。"]

    form = UploadForm(data={}, files={})
    assert not form.is_valid()
    assert form.errors["scan"] == ["请上传此项材料。"]


def test_materials_for_an_item():
    items = {doc["code"]: doc for doc in read_catalogue().items}
    slots = materials_for(items["XF-BA-001"])
    assert [(s["name"], s["required"], s["form"]) for s in slots] == [
        ("建设工程消防设计备案表", True, "original"),
        ("消防设计文件（施工图）", True, "electronic"),
        ("建设单位营业执照或统一社会信用代码证明", True, "copy"),
    ]
    assert [s["index"] for s in slots] == [0, 1, 2]
    assert slots[0]["sample"].startswith("大厅")
    optional = [s for s in materials_for(items["HZ-QR-001"]) if not s["required"]]
    assert [s["name"] for s in optional] == ["父母结婚证"]
    assert materials_for({"code": "X"}) == []
    # Every item's materials produce slots.
    for doc in items.values():
        assert len(materials_for(doc)) == len(doc["materials"])
