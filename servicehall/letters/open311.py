"""Open311 GeoReport v2 on the letters store: what the bureau offers, what a request looks like
from outside, and how an outside platform files one. The HTTP side is open311_views.py, the
JSON / XML writing open311_formats.py.

Mapping (the specification leaves these to the jurisdiction; settings.OPEN311_JURISDICTION_ID
is ours, e.g. shenyang.gov.cn, and a different jurisdiction_id is answered with 404):

- Services are the letter kinds: service_code = Kind value (consultation, help, complaint,
  suggestion, report, praise), service_name its Chinese name, grouped 咨询求助 / 投诉举报 /
  意见建议. All are `realtime` (the letter number comes back at once) with `metadata` true: the
  definition lists an optional title (`subject`), the platform's own request id
  (`platform_request_id`) and informational notes (110 for emergencies; 12389 for reports
  about police officers, which never come through Open311).
- A service request is a letter: service_request_id = the letter number (XF2026112600001).
  status: replied, withdrawn and merged are `closed`, every other status `open`; status_notes
  says the richer status in Chinese (待分办, 办理中 …, 已合并 into which letter). updated_datetime
  of a replied letter is the reply's time; expected_datetime the end of the due date.
  agency_responsible = the department holding the letter.
- Creating a request (POST, with the platform's api_key) goes through intake.import_outside:
  channel "outside", the key's OutsidePlatform, the reply clock and triage as for any letter.
  Idempotency: attribute[platform_request_id] is the platform's id (Letter.outside_id); posting
  it again returns the letter already filed. Without it every POST files a new letter (staff
  merge duplicates). A media_url is kept as a line of the letter's text for the handler.
- Tokens: no service issues them (all realtime). GET tokens/<token> resolves the platform's
  own request id to the letter number, for a platform whose POST response got lost; the ids
  are the platform's, so it takes the platform's api_key.

Privacy: Open311 reads are public (no key). They never show a writer, contact data or the
letter's own text. Misconduct reports (12389) and letters held by police inspection are not
listed at all. description is the published (redacted, consented) title of a published
letter, and status_notes carries its published reply (the public page's texts). Address and
location are never public (a letter's place is often the writer's home; publication consents
to the redacted texts only). A platform reading with its api_key also sees description,
address, location and media_url of the letters it filed itself (it sent them).

Everything is answered in Chinese (the jurisdiction's language), whatever Accept-Language says.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from . import intake
from .flows import Channel, Kind, Status
from .models import Letter, OutsidePlatform
from .open311_formats import Open311Error

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Sortable; change it whenever the service list or a service definition changes (clients
# refresh their cached lists when it moves).
CHANGESET = "2026-11-26T00:00:00+08:00"
CONTACT = "沈阳市公安局信访部门：网上公安机关服务大厅“局长信箱”，或拨打96123市民服务热线。"
KEY_SERVICE = (
    "API密钥只发给经市公安局信访部门登记的外部平台（如民心网）。"
    "请联系信访部门申请；密钥由系统管理员签发（manage.py issue_platform_key）。"
)
SPAN = timedelta(days=90)  # the spec's default range and the widest one allowed
MAX_RESULTS = 1000  # the spec's default limit
MAX_DESCRIPTION = 4000  # the spec's limit for description
MAX_MEDIA_URL = 500
CLOSED = frozenset({Status.REPLIED, Status.WITHDRAWN, Status.MERGED})
OPEN = frozenset(Status.values) - CLOSED
MEDIA_LINE = "\n\n媒体链接（外部平台提供）："
_MEDIA_AT_END = re.compile(re.escape(MEDIA_LINE) + r"(\S+)\Z")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$")


class Params:
    """A request's arguments: the form body first, then the query string (the published
    Swagger file puts even POST arguments there). An empty value is no value (the spec's
    "Optional Arguments")."""

    def __init__(self, *sources):
        self.sources = sources

    def get(self, name: str, default: str = "") -> str:
        for source in self.sources:
            value = source.get(name)
            if value is not None and value.strip():
                return value
        return default

    def getlist(self, name: str) -> list[str]:
        for source in self.sources:
            values = [value for value in source.getlist(name) if value.strip()]
            if values:
                return values
        return []

    def __iter__(self):
        return iter(dict.fromkeys(key for source in self.sources for key in source))


# --- services -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceInfo:
    group: str
    keywords: str
    description: str  # {days}: the working days to reply (settings.LETTER_REPLY_DAYS)


SERVICES: dict[str, ServiceInfo] = {
    Kind.CONSULTATION: ServiceInfo(
        "咨询求助",
        "咨询,问询,办事咨询,政策咨询,户籍,出入境,车驾管",
        "就公安业务、办事流程和政策向公安机关提问。{days}个工作日内答复。",
    ),
    Kind.HELP: ServiceInfo(
        "咨询求助",
        "求助,帮助,非紧急求助,寻求帮助",
        "非紧急情况下向公安机关求助。{days}个工作日内答复；紧急情况请直接拨打110。",
    ),
    Kind.COMPLAINT: ServiceInfo(
        "投诉举报",
        "投诉,不满,服务态度,办事效率,窗口服务",
        "对公安机关的服务、办事效率或工作作风不满意。{days}个工作日内答复。",
    ),
    Kind.REPORT: ServiceInfo(
        "投诉举报",
        "举报,违法犯罪线索,治安隐患,黄赌毒",
        "举报违法犯罪线索或治安隐患。{days}个工作日内答复。举报民警违法违纪请通过12389举报渠道。",
    ),
    Kind.SUGGESTION: ServiceInfo(
        "意见建议",
        "建议,意见,改进,治安,交通",
        "对公安工作提出意见和建议。{days}个工作日内答复。",
    ),
    Kind.PRAISE: ServiceInfo(
        "意见建议",
        "表扬,感谢,好人好事",
        "表扬民警或公安机关单位。{days}个工作日内答复。",
    ),
}


def reply_days(kind: str) -> int:
    return int(settings.LETTER_REPLY_DAYS.get(kind, 5))


def service_name(kind: str) -> str:
    return str(Kind(kind).label)


def services() -> list[dict]:
    return [
        {
            "service_code": str(kind),
            "service_name": service_name(kind),
            "description": info.description.format(days=reply_days(kind)),
            "metadata": True,
            "type": "realtime",
            "keywords": info.keywords,
            "group": info.group,
        }
        for kind, info in SERVICES.items()
    ]


def _attribute(code, order, description, *, variable=True, datatype_description=None):
    return {
        "variable": variable,
        "code": code,
        "datatype": "string",
        "required": False,
        "datatype_description": datatype_description,
        "order": order,
        "description": description,
    }


def service_definition(code: str) -> dict:
    kind = known_kind(code)
    attributes = [
        _attribute(
            "emergency_notice",
            1,
            "紧急警情请直接拨打110（聋哑人可发送短信至12110），本渠道不受理紧急报警。",
            variable=False,
        ),
        _attribute(
            "subject",
            2,
            "来信标题。不填时由诉求类别和描述的开头生成。",
            datatype_description="不超过200个字",
        ),
        _attribute(
            "platform_request_id",
            3,
            "贵平台自己的诉求编号：同一编号再次提交只登记一次，返回原来的编号；"
            "也是令牌（tokens）查询所用的令牌。",
            datatype_description="不超过64个字符",
        ),
    ]
    if kind == Kind.REPORT:
        attributes.append(
            _attribute(
                "misconduct_notice",
                4,
                "举报民警违法违纪，请拨打12389或通过网上公安机关服务大厅的12389举报渠道，"
                "不在此登记。",
                variable=False,
            )
        )
    return {"service_code": str(kind), "attributes": attributes}


def known_kind(code: str | None) -> str:
    """The kind for a service_code, or a 404 (a missing code is the caller's 400)."""
    if code not in SERVICES:
        raise Open311Error(404, f"未找到service_code：{code}（可用的服务见services）。")
    return code


def discovery(endpoint_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": CONTACT,
        "key_service": KEY_SERVICE,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "test" if settings.DEBUG else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- service requests: reading -----------------------------------------------------------------


def w3c(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def listed_letters() -> QuerySet:
    """Letters Open311 shows at all: never misconduct reports (12389) nor anything police
    inspection holds."""
    return (
        Letter.objects.exclude(channel=Channel.MISCONDUCT)
        .exclude(department__code=settings.LETTER_MISCONDUCT_DEPARTMENT)
        .select_related("department", "merged_into")
    )


def status_notes(letter: Letter) -> str:
    label = str(Status(letter.status).label)
    unit = f"{letter.department.name}部门"
    match letter.status:
        case Status.RECEIVED:
            return f"{label}：来信已登记，信访部门正在分办。"
        case Status.ASSIGNED:
            return f"{label}：已交{unit}办理。"
        case Status.HANDLING if letter.round > 1:
            return f"重新{label}：来信人对答复不满意，{unit}正在重新办理。"
        case Status.HANDLING:
            return f"{label}：{unit}正在办理。"
        case Status.PENDING_APPROVAL:
            return f"{label}：{unit}已拟出答复，经领导审核后发出。"
        case Status.REPLIED:
            notes = f"{label}：{unit}已答复来信人。"
            if letter.public and letter.publish_consent and letter.public_reply:
                notes += f"公开答复：{letter.public_reply}"
            return notes
        case Status.WITHDRAWN:
            return f"{label}：来信人撤回了来信。"
        case Status.MERGED:
            into = letter.merged_into.number if letter.merged_into_id else ""
            return f"{label}：与{into}反映的是同一问题，并入该件一并办理。"
    return label


def _updated(letter: Letter) -> datetime:
    if letter.status == Status.REPLIED and letter.replied_at:
        return letter.replied_at
    return letter.updated_at or letter.received_at


def _expected(letter: Letter) -> datetime | None:
    if letter.status in (Status.WITHDRAWN, Status.MERGED):
        return None
    return datetime.combine(
        letter.due_date, time(23, 59, 59), tzinfo=timezone.get_current_timezone()
    )


def service_notice(letter: Letter) -> str | None:
    if letter.status in CLOSED:
        return None
    due = letter.due_date
    days = reply_days(letter.kind)
    return f"本局将于{due.year}年{due.month}月{due.day}日前答复（{days}个工作日内）。"


def split_media(body: str) -> tuple[str, str | None]:
    """(text, media_url) of a letter filed through Open311 with a media_url."""
    found = _MEDIA_AT_END.search(body)
    if found is None:
        return body, None
    return body[: found.start()], found.group(1)


def request_data(letter: Letter, *, platform: OutsidePlatform | None = None) -> dict:
    """One service request as the spec's response fields (see the module docstring for what
    is shown to whom)."""
    own = platform is not None and letter.outside_platform_id == platform.pk
    published = letter.public and letter.publish_consent
    description = media_url = None
    if own:
        description, media_url = split_media(letter.body)
    elif published:
        description = letter.public_subject
    return {
        "service_request_id": letter.service_request_id,
        "status": "closed" if letter.status in CLOSED else "open",
        "status_notes": status_notes(letter),
        "service_name": service_name(letter.kind),
        "service_code": letter.kind,
        "description": description[:MAX_DESCRIPTION] if description else None,
        "agency_responsible": letter.department.name,
        "service_notice": service_notice(letter),
        "requested_datetime": w3c(letter.received_at),
        "updated_datetime": w3c(_updated(letter)),
        "expected_datetime": w3c(_expected(letter)),
        "address": (letter.address or None) if own else None,
        "address_id": None,
        "zipcode": None,
        "lat": float(letter.lat) if own and letter.lat is not None else None,
        "long": float(letter.long) if own and letter.long is not None else None,
        "media_url": media_url,
    }


def _values(params, name: str) -> list[str]:
    """A comma-delimited argument that may also be given several times (the spec)."""
    parts = (part.strip() for raw in params.getlist(name) for part in raw.split(","))
    return list(dict.fromkeys(part for part in parts if part))


def parse_datetime(raw: str, name: str, *, end: bool = False) -> datetime:
    """A W3C date-time (the spec: w3 format with a time zone, e.g. 2010-01-01T00:00:00Z) or a
    date (the whole local day: its start, or for an end_date its end)."""
    value = raw.strip()
    if not _W3C.match(value):
        raise Open311Error(
            400, f"{name}格式不正确：请使用W3C日期时间格式并带时区，如2026-11-01T00:00:00+08:00。"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name}不是有效的日期时间：{value}") from exc
    if "T" not in value:
        if end:
            parsed += timedelta(days=1) - timedelta(microseconds=1)
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _time_range(start_raw: str, end_raw: str) -> tuple[datetime, datetime]:
    start = parse_datetime(start_raw, "start_date") if start_raw else None
    end = parse_datetime(end_raw, "end_date", end=True) if end_raw else None
    if start and end:
        if end < start:
            raise Open311Error(400, "end_date不能早于start_date。")
        if end - start > SPAN:
            raise Open311Error(400, "start_date与end_date之间不能超过90天。")
        return start, end
    if start:
        return start, start + SPAN
    if end:
        return end - SPAN, end
    now = timezone.now()
    return now - SPAN, now


def find_requests(params, *, platform: OutsidePlatform | None = None) -> list[dict]:
    """GET requests: service_request_id (comma list; overrides everything else), or
    service_code, status (comma lists), start_date / end_date (at most 90 days; the most recent
    90 days by default); newest first, at most 1000."""
    letters = listed_letters()
    if platform is None:  # nobody's own letters: their text is never needed
        letters = letters.defer("body", "rating_comment")
    letters = letters.defer("merged_into__body", "merged_into__rating_comment")
    ids = _values(params, "service_request_id")
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(400, f"service_request_id一次最多{MAX_RESULTS}个。")
        letters = letters.filter(number__in=ids)
    else:
        codes = _values(params, "service_code")
        unknown = [code for code in codes if code not in SERVICES]
        if unknown:
            raise Open311Error(400, f"未知的service_code：{'，'.join(unknown)}。")
        statuses = _values(params, "status")
        if set(statuses) - {"open", "closed"}:
            raise Open311Error(400, "status只能是open、closed，或以逗号分隔二者。")
        start, end = _time_range(params.get("start_date", ""), params.get("end_date", ""))
        letters = letters.filter(received_at__gte=start, received_at__lte=end)
        if codes:
            letters = letters.filter(kind__in=codes)
        if statuses == ["open"]:
            letters = letters.filter(status__in=OPEN)
        elif statuses == ["closed"]:
            letters = letters.filter(status__in=CLOSED)
    letters = letters.order_by("-received_at", "-id")[:MAX_RESULTS]
    return [request_data(letter, platform=platform) for letter in letters]


def find_request(request_id: str, *, platform: OutsidePlatform | None = None) -> dict:
    letter = listed_letters().filter(number=request_id).first()
    if letter is None:
        raise Open311Error(404, f"未找到service_request_id：{request_id}")
    return request_data(letter, platform=platform)


def resolve_token(token: str, *, platform: OutsidePlatform) -> dict:
    letter = (
        Letter.objects.filter(outside_platform=platform, outside_id=token)
        .only("number", "outside_id")
        .first()
    )
    if letter is None:
        raise Open311Error(404, f"未找到令牌：{token}")
    return {"service_request_id": letter.number, "token": token}


# --- service requests: filing -------------------------------------------------------------------


def attributes(params) -> dict[str, list[str]]:
    """attribute[code]=value and attribute[code][]=value (multivaluelist) pairs."""
    found: dict[str, list[str]] = {}
    for key in params:
        match = _ATTRIBUTE.match(key)
        if match:
            values = params.getlist(key)
            if values:
                found.setdefault(match.group(1), []).extend(values)
    return found


def _single(attrs: dict[str, list[str]], code: str, errors: list) -> str:
    values = attrs.get(code, [])
    if len(values) > 1:
        errors.append((400, f"attribute[{code}]只能有一个值。"))
    return values[0].strip() if values else ""


def _location(params, errors: list) -> dict:
    lat, long = params.get("lat", "").strip(), params.get("long", "").strip()
    address = params.get("address_string", "").strip()
    address_id = params.get("address_id", "").strip()
    if bool(lat) != bool(long):
        errors.append((400, "lat和long须同时提供。"))
    elif lat:
        try:
            lat_value, long_value = float(lat), float(long)
        except ValueError:
            errors.append((400, "lat、long须为WGS84经纬度数值。"))
        else:
            if not (-90 <= lat_value <= 90 and -180 <= long_value <= 180):
                errors.append((400, "lat须在-90到90之间，long须在-180到180之间。"))
    elif not (address or address_id):
        errors.append((400, "缺少位置：请提供lat和long，或address_string，或address_id。"))
    if address_id:
        address = f"{address}（地址编号：{address_id}）" if address else f"地址编号：{address_id}"
    return {"lat": lat or None, "long": long or None, "address": address}


def _media_url(raw: str, errors: list) -> str:
    url = raw.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_MEDIA_URL:
        errors.append((400, "media_url须为http或https网址（不超过500个字符）。"))
    elif any(char.isspace() for char in url):
        errors.append((400, "media_url不能包含空白字符。"))
    return url


def _contact_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese order: family name first, no space


def _subject(kind: str, given: str, description: str) -> str:
    if given:
        return given
    first_line = " ".join(description.split())
    excerpt = first_line[:40] + ("…" if len(first_line) > 40 else "")
    return f"{service_name(kind)}：{excerpt}"


@dataclass(frozen=True)
class Filed:
    letter: Letter
    created: bool


def file_request(params, *, platform: OutsidePlatform) -> Filed:
    """POST requests by an authenticated platform: validate (every problem at once, as the
    spec's error array allows), then intake.import_outside. WorkflowError from intake (a
    phone number, an e-mail address, a too long text) is left to the caller."""
    errors: list[tuple[int, str]] = []
    code = params.get("service_code", "").strip()
    kind = None
    if not code:
        errors.append((400, "缺少service_code。"))
    elif code not in SERVICES:
        errors.append((404, f"未找到service_code：{code}（可用的服务见services）。"))
    else:
        kind = code
    place = _location(params, errors)
    description = params.get("description", "").strip()
    if not description:
        errors.append((400, "缺少description：请写明诉求内容。"))
    elif len(description) > MAX_DESCRIPTION:
        errors.append((400, f"description不能超过{MAX_DESCRIPTION}个字符。"))
    media_url = _media_url(params.get("media_url", ""), errors)
    attrs = attributes(params)
    subject = _single(attrs, "subject", errors)
    outside_id = _single(attrs, "platform_request_id", errors)
    if errors:
        errors.sort(key=lambda error: {404: 0}.get(error[0], 1))
        raise Open311Error.many(errors)

    body = description + (f"{MEDIA_LINE}{media_url}" if media_url else "")
    receipt = intake.import_outside(
        platform=platform,
        outside_id=outside_id or f"open311-{uuid.uuid4().hex}",
        kind=kind,
        subject=_subject(kind, subject, description),
        body=body,
        contact_name=_contact_name(params.get("first_name", ""), params.get("last_name", "")),
        contact_phone=params.get("phone", ""),
        contact_email=params.get("email", ""),
        **place,
    )
    return Filed(receipt.letter, receipt.created)


def filed_data(filed: Filed) -> dict:
    return {
        "service_request_id": filed.letter.service_request_id,
        "service_notice": service_notice(filed.letter)
        or status_notes(filed.letter),  # a re-post of a letter already closed
    }
