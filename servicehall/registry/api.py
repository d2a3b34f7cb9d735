"""GET /api/registry/names: the newborn same-name query as JSON (public, rate-limited).

Kept lean because it is benchmarked: no session, user or template is touched; the answer is
one SQL round trip (servicehall.registry.names.query), one cache increment for the limit, and
JSON written straight from the answer. NameAnswerOut documents the shape (OpenAPI) and the
tests validate every answer against it; re-validating it per request through pydantic (and
dataclasses.asdict) cost more than the database look-up.
"""

import json

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Router, Status

from . import names
from .schemas import ErrorOut, NameAnswerOut
from .views_public import rate_limited, too_many_message

router = Router(tags=["registry"])


def _decades(rows: list[names.DecadeCount]) -> list[dict]:
    return [
        {"decade": r.decade, "total": r.total, "male": r.male, "female": r.female} for r in rows
    ]


def _sound(h: names.Homophones) -> dict:
    return {
        "pinyin": h.pinyin,
        "total": h.total,
        "others": h.others,
        "spellings": h.spellings,
        "top": [{"name": s.name, "count": s.count, "is_query": s.is_query} for s in h.top],
    }


def answer_json(a: names.NameAnswer) -> dict:
    d = a.district
    return {
        "name": a.name,
        "pinyin": a.pinyin,
        "pinyin_tones": a.pinyin_tones,
        "total": a.total,
        "male": a.male,
        "female": a.female,
        "decades": _decades(a.decades),
        "district": None
        if d is None
        else {
            "code": d.code,
            "name": d.name,
            "total": d.total,
            "male": d.male,
            "female": d.female,
            "decades": _decades(d.decades),
        },
        "same_pinyin": _sound(a.same_pinyin),
        "same_tones": _sound(a.same_tones),
    }


@router.get(
    "/names",
    response={200: NameAnswerOut, 400: ErrorOut, 429: ErrorOut},
    summary="Newborn same-name query (新生儿重名查询)",
    description=(
        "How many registered, living residents bear exactly this name — by gender, by birth "
        "decade, optionally within one district — and how many share its pinyin, toneless and "
        "with tones, with the most common same-sounding spellings. Counts only. `name`: 2–6 "
        "Chinese characters, a middle dot (·) between the parts of a minority name; "
        "`district`: a 6-digit district code. An unknown name is simply 0. Rate-limited per "
        "client (429 with Retry-After)."
    ),
)
def name_counts(request, response: HttpResponse, name: str = "", district: str = ""):
    wait = rate_limited(request)
    if wait:
        response["Retry-After"] = str(wait)
        return Status(429, {"detail": too_many_message(wait)})
    try:
        name = names.validate_name(name)
        code = names.validate_district(district)
    except ValidationError as error:
        return Status(400, {"detail": error.messages[0]})
    body = json.dumps(answer_json(names.query(name, code)), ensure_ascii=False)
    return HttpResponse(body, content_type="application/json; charset=utf-8")
