"""Open311 GeoReport v2 endpoints under /open311/ (what they answer: open311.py).

    GET  discovery.{xml,json}
    GET  v2/services.{fmt}                 GET  v2/services/<service_code>.{fmt}
    POST v2/requests.{fmt}  (api_key)      GET  v2/requests.{fmt}
    GET  v2/requests/<service_request_id>.{fmt}
    GET  v2/tokens/<token>.{fmt}  (api_key: tokens are the platform's own request ids)

The suffix chooses the format (xml, json). A request is refused with the spec's error array:
404 for a resource that does not exist (service_code, request, token, jurisdiction_id other
than ours), 403 for a missing or wrong api_key, 429 when a platform posts faster than
OPEN311_POST_RATE (default 60 a minute), 400 for anything else (405 for a wrong method).

API clients carry no session: the POST is exempt from CSRF, and nothing here reads or writes a
session or a user. Views never take personal data from the request into logs or audit entries;
the letter's import event names the platform (intake.import_outside).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from . import open311, platforms
from .open311_formats import FORMATS, Open311Error, error_response, render
from .workflow import WorkflowError

RATE_GROUP = "letters.open311.post"


def _post_rate(group, request):
    return settings.OPEN311_POST_RATE or None


def _per_platform(group, request):
    return str(request.open311_platform.pk)


def _check_jurisdiction(params) -> None:
    given = params.get("jurisdiction_id").strip()
    if given and given.lower() != settings.OPEN311_JURISDICTION_ID.lower():
        raise Open311Error(
            404,
            f"未找到jurisdiction_id：{given}（本接口只服务{settings.OPEN311_JURISDICTION_ID}）。",
        )


def _platform(params, *, required: bool):
    """The OutsidePlatform of the api_key; None when no key is given and none is required."""
    key = params.get("api_key").strip()
    if not key:
        if required:
            raise Open311Error(403, "缺少api_key：提交诉求须提供本局签发的API密钥。")
        return None
    platform = platforms.verify_key(key)
    if platform is None:
        raise Open311Error(403, "api_key无效或已停用。")
    return platform


def endpoint(*methods: str):
    """Wrap an Open311 view: Chinese answers, format and method checks, jurisdiction_id, and
    every Open311Error turned into the spec's error response."""

    allowed = (*methods, "HEAD") if "GET" in methods else methods

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, fmt: str, **kwargs):
            with translation.override("zh-hans"):
                try:
                    if fmt not in FORMATS:
                        raise Open311Error(400, f"不支持的格式“{fmt}”：请使用.xml或.json。")
                    if request.method not in allowed:
                        raise Open311Error(405, f"此资源不支持{request.method}请求。")
                    if request.method == "POST":
                        params = open311.Params(request.POST, request.GET)
                    else:
                        params = open311.Params(request.GET)
                    _check_jurisdiction(params)
                    response = view(request, params, *args, fmt=fmt, **kwargs)
                except Open311Error as error:
                    response = error_response(error, fmt=fmt)
                    if error.status == 405:
                        response["Allow"] = ", ".join(allowed)
            # The answer is Chinese whatever was asked (LocaleMiddleware keeps this header).
            response["Content-Language"] = "zh-hans"
            if request.method != "POST":  # public reads, no cookies used: any web app may read
                response["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapper

    return decorate


@endpoint("GET")
def discovery(request, params, *, fmt):
    services_url = reverse("open311:services", kwargs={"fmt": "xml"})
    path = services_url.removesuffix("/services.xml")
    base = settings.SERVICEHALL_BASE_URL
    url = f"{base}{path}" if base else request.build_absolute_uri(path)
    return render(open311.discovery(url), fmt=fmt, root="discovery")


@endpoint("GET")
def services(request, params, *, fmt):
    return render(open311.services(), fmt=fmt, root="services")


@endpoint("GET")
def service_definition(request, params, *, service_code, fmt):
    return render(open311.service_definition(service_code), fmt=fmt, root="service_definition")


@endpoint("GET", "POST")
def requests(request, params, *, fmt):
    if request.method != "POST":
        platform = _platform(params, required=False)
        found = open311.find_requests(params, platform=platform)
        return render(found, fmt=fmt, root="service_requests")
    request.open311_platform = _platform(params, required=True)
    usage = get_usage(request, group=RATE_GROUP, key=_per_platform, rate=_post_rate, increment=True)
    if usage is not None and usage["should_limit"]:
        wait = max(int(usage["time_left"]), 1)
        error = Open311Error(429, f"提交过于频繁，请{wait}秒后再试。")
        error.retry_after = wait
        raise error
    try:
        filed = open311.file_request(params, platform=request.open311_platform)
    except WorkflowError as exc:
        raise Open311Error(400, str(exc)) from exc
    except PermissionDenied as exc:
        raise Open311Error(403, str(exc) or "无权提交。") from exc
    return render([open311.filed_data(filed)], fmt=fmt, root="service_requests")


@endpoint("GET")
def service_request(request, params, *, service_request_id, fmt):
    platform = _platform(params, required=False)
    found = open311.find_request(service_request_id, platform=platform)
    return render([found], fmt=fmt, root="service_requests")


@endpoint("GET")
def token(request, params, *, token, fmt):
    platform = _platform(params, required=False)
    if platform is None:
        raise Open311Error(
            403,
            "本局的服务均即时返回service_request_id，不签发令牌；令牌查询用于以贵平台的"
            "platform_request_id查找本局编号，须提供api_key。",
        )
    return render(
        [open311.resolve_token(token, platform=platform)], fmt=fmt, root="service_requests"
    )


@csrf_exempt
def not_found(request, path):
    resource, _dot, suffix = path.rpartition(".")
    fmt = "json" if suffix == "json" else "xml"
    with translation.override("zh-hans"):
        error = Open311Error(404, f"没有这个资源：/open311/{resource or path}")
        return error_response(error, fmt=fmt)
