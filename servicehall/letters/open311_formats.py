"""Open311 GeoReport v2 output: one tree, written as JSON or as XML, and the spec's errors.

The specification defines XML (required) and derives JSON from it by the Spark convention:
the document's root element is dropped, and a container of one repeated element (services >
service, attributes > attribute, formats > format, ...) becomes an array, even with one
child. So the views build the JSON shape (lists and dicts) and this module names the XML
elements: the root given by the view, each container's children from ITEM_TAGS.

None is null in JSON and an empty element in XML; booleans are true / false in both. Text is
UTF-8 everywhere and the XML starts with its declaration (the spec requires both).

Errors (spec, "Errors"): an array of {code, description} in JSON, <errors><error><code/>
<description/></error></errors> in XML, with the HTTP status: 404 for a resource that does not
exist, 403 for a wrong or missing api_key, 400 for any other request that cannot be fulfilled.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # noqa: S405 - used to write XML, never to parse it

from django.http import HttpResponse

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# A container element and the name of each element it repeats (the spec's ⇊ and ↴).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

# Characters XML 1.0 cannot carry at all (a letter typed on a phone may contain them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311Error(Exception):
    """One or more errors to answer with: [(http_status, description), ...]; the response's
    HTTP status is the first one's. `retry_after`: seconds, for a 429."""

    retry_after: int | None = None

    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.errors = [(status, str(description))]

    @classmethod
    def many(cls, errors: list[tuple[int, str]]) -> Open311Error:
        error = cls(*errors[0])
        error.errors = [(status, str(text)) for status, text in errors]
        return error

    @property
    def status(self) -> int:
        return self.errors[0][0]


def clean_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _scalar(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean_text(str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = _scalar(value)


def to_xml(root: str, data) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return XML_DECLARATION + ET.tostring(element, encoding="unicode").encode("utf-8")


def _json_safe(value):
    if isinstance(value, dict):
        return {key: _json_safe(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_json_safe(child) for child in value]
    if isinstance(value, str):
        return clean_text(value)
    return value


def to_json(data) -> bytes:
    return json.dumps(_json_safe(data), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(data, *, fmt: str, root: str, status: int = 200) -> HttpResponse:
    """`data` in the JSON shape; `root` the XML document element (services, service_requests,
    service_definition, discovery, errors)."""
    if fmt == "json":
        return HttpResponse(to_json(data), status=status, content_type=JSON_TYPE)
    return HttpResponse(to_xml(root, data), status=status, content_type=XML_TYPE)


def error_response(error: Open311Error, *, fmt: str) -> HttpResponse:
    body = [{"code": status, "description": text} for status, text in error.errors]
    response = render(
        body, fmt=fmt if fmt in FORMATS else "xml", root="errors", status=error.status
    )
    if error.retry_after:
        response["Retry-After"] = str(error.retry_after)
    return response
