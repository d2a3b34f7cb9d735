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
    # The numbers people text (an inbound message to any other is refused); a gateway may
    # append an extension, so these are prefixes.
    "ALARM_SMS_SERVICE_NUMBERS": ("12110",),
    # HTTP gateways (gateways_http): name -> shared secret of the signed callbacks, and how
    # far a callback's signed timestamp may be from our clock.
    "ALARM_SMS_INBOUND_SECRETS": {},
    "ALARM_SMS_INBOUND_MAX_SKEW_SECONDS": 300,
    # The SMPP 3.4 gateway (gateways_smpp): the SMSC, our account there, our address.
    "ALARM_SMPP_HOST": "127.0.0.1",
    "ALARM_SMPP_PORT": 2775,
    "ALARM_SMPP_SYSTEM_ID": "",
    "ALARM_SMPP_PASSWORD": "",
    "ALARM_SMPP_SOURCE_ADDR": "12110",
    # Seconds an idle receiver waits before it asks the SMSC whether the link is alive, and
    # before it reconnects after the link was lost.
    "ALARM_SMPP_TIMEOUT_SECONDS": 30.0,
    "ALARM_SMPP_RECONNECT_SECONDS": 5.0,
    # A mobile-originated deliver_sm has no message id in SMPP 3.4: the name of an optional
    # parameter (as smpplib names it, e.g. "receipted_message_id") in which an SMSC sends
    # one, or "" to recognise redeliveries by their content within this many seconds.
    "ALARM_SMPP_MO_ID_TLV": "",
    "ALARM_SMPP_DEDUPE_SECONDS": 300,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
