"""GET /api/registry/names: the newborn same-name query as JSON (public, rate-limited).

Kept lean because it is benchmarked: no session, user or template is touched; the answer is
one SQL round trip (servicehall.registry.names.query) and one cache increment for the limit.
"""

from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Router, Status

from . import names
from .schemas import ErrorOut, NameAnswerOut
from .views_public import rate_limited, too_many_message

router = Router(tags=["registry"])


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
    return asdict(names.query(name, code))
