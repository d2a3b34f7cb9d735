"""Emergency-intake settings with their defaults, so the app works with a settings file that
names none of them (set any of them in config/settings.py to override)."""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # The desks a dispatcher (Role "dispatcher") works, by their department's code. The
    # command centre (指挥中心) is the unified 110/119/122 centre (三台合一) and works all
    # three; a traffic or fire dispatcher works their own desk only.
    "ALARM_DESK_DEPARTMENTS": {
        "zhihui": ("police", "fire", "traffic"),
        "xunte": ("police",),
        "xiaofang": ("fire",),
        "jiaojing": ("traffic",),
    },
    # Duplicate suggestions: incidents sharing a desk within this distance and time window.
    "ALARM_DUPLICATE_METRES": 300,
    "ALARM_DUPLICATE_MINUTES": 30,
    # Nearest units: how many suggestions, and how far (straight line) to look at most.
    "ALARM_NEAREST_UNITS": 5,
    "ALARM_NEAREST_MAX_METRES": 50_000,
    # The NENA call-answering target: 90 % of calls answered within this many seconds.
    "ALARM_ANSWER_TARGET_SECONDS": 15,
    # Shifts for the figures, local time: the day shift starts and ends at these hours.
    "ALARM_DAY_SHIFT_HOURS": (8, 20),
    # The longest inbound SMS text kept (concatenated messages arrive joined by the gateway).
    "ALARM_SMS_MAX_CHARS": 1000,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
