"""GET /api/registry/names: the newborn same-name query as JSON (public, rate-limited).

Kept lean because it is benchmarked: no session, user or template is touched; the answer is
one SQL round trip (servicehall.registry.names.query), one cache increment for the limit, and
JSON written straight from the answer. NameAnswerOut documents the shape (OpenAPI) and the
tests validate every answer against it; re-validating it per request through pydantic (and
dataclasses.asdict) cost more than the database look-up.
"""

import orjson
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Router

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


# The parameters are read from request.GET rather than declared as function arguments: the
# endpoint is served on the lean lane (config/wsgi.py), and ninja's per-request parameter
# model cost more than the look-up. They are documented here instead.
_PARAMETERS = [
    {
        "name": "name",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "maxLength": 40},
        "description": "全名，2–6个汉字；少数民族姓名可用间隔号“·”",
    },
    {
        "name": "district",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "pattern": "^[0-9]{6}$"},
        "description": "区县代码（可选）",
    },
]


def _json_response(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(body),  # UTF-8 as is; ~7× json.dumps on this hottest answer
        status=status,
        content_type="application/json; charset=utf-8",
    )


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
    openapi_extra={"parameters": _PARAMETERS},
)
def name_counts(request):
    wait = rate_limited(request)
    if wait:
        response = _json_response({"detail": too_many_message(wait)}, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        name = names.validate_name(request.GET.get("name", ""))
        code = names.validate_district(request.GET.get("district", ""))
    except ValidationError as error:
        return _json_response({"detail": error.messages[0]}, status=400)
    return _json_response(answer_json(names.query(name, code)))
