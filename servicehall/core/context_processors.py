from django.conf import settings

LARGE_TYPE_COOKIE = "large_type"


def display_preferences(request):
    """Large-type (elderly-friendly) mode is a cookie so it works without JavaScript."""
    return {
        "large_type": request.COOKIES.get(LARGE_TYPE_COOKIE) == "1",
        "LANGUAGES": settings.LANGUAGES,
    }
