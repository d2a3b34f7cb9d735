"""QR codes decode, with a real decoder (ZXing), to the item page's absolute URL."""

import io

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image

pytestmark = pytest.mark.django_db


def decode_png(content: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(content)))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].text


def test_png_decodes_to_the_absolute_item_url(client, catalogue):
    response = client.get(reverse("catalog:item_qr", args=["HZ-QR-001", "png"]))
    assert response["Content-Type"] == "image/png"
    assert decode_png(response.content) == "http://testserver/services/item/HZ-QR-001/"


def test_base_url_setting_wins_over_the_request_host(client, catalogue, settings):
    settings.SERVICEHALL_BASE_URL = "https://ga.shenyang.example"
    response = client.get(reverse("catalog:item_qr", args=["XF-BA-001", "png"]))
    assert decode_png(response.content) == "https://ga.shenyang.example/services/item/XF-BA-001/"


def test_svg_is_served_as_svg(client, catalogue):
    response = client.get(reverse("catalog:item_qr", args=["HZ-QR-001", "svg"]))
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    # Decoding the SVG as rendered by a browser is in tests/browser/test_catalogue.py.


def test_unknown_kind_or_item_is_404(client, catalogue):
    assert client.get(reverse("catalog:item_qr", args=["HZ-QR-001", "gif"])).status_code == 404
    assert client.get(reverse("catalog:item_qr", args=["NO-XK-000", "png"])).status_code == 404
