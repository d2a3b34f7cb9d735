"""Checks that text meant for the public page carries no personal data.

    personal_data_in("请联系138 1234 5678")   -> ["mobile"]
    personal_data_in("来信人138****5678")     -> []   (masked forms pass)

Staff redact by hand; this is the safety net that refuses what a person overlooked: ID card
and bank card numbers (any run of 15 to 19 digits, with or without a final X), mainland
mobile numbers and e-mail addresses. Digits split by spaces or dashes, and full-width digits,
count as one run. Landline numbers (024-23456789: a station's public phone) are allowed.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext_lazy as _

LABELS = {
    "id_number": _("身份证号码或银行卡号"),
    "mobile": _("手机号码"),
    "email": _("电子邮箱地址"),
}

_JOINED_DIGITS = re.compile(r"(?<=\d)[\s\-—–·.]+(?=\d)")
_LONG_NUMBER = re.compile(r"(?<!\d)\d{15,19}[xX]?(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def personal_data_in(text: str) -> list[str]:
    """The kinds of personal data found (keys of LABELS), in a stable order."""
    text = _normalise(text)
    joined = _JOINED_DIGITS.sub("", text)
    found = []
    if _LONG_NUMBER.search(joined):
        found.append("id_number")
    if _MOBILE.search(joined):
        found.append("mobile")
    if _EMAIL.search(text):
        found.append("email")
    return found
