"""Identity numbers: resident ID (GB 11643-1999) and unified social credit code (GB 32100-2015).

The checks are written here on purpose: `stdnum.cn.ric` rejects valid ID numbers whose county
code is missing from its table (counties are renamed and merged every year), so the region is
checked at province level only.

Public API:
- normalize_id_number / is_valid_id_number / validate_id_number / id_number_birth_date /
  id_number_gender / id_number_check_digit / make_id_number
- normalize_credit_code / is_valid_credit_code / validate_credit_code /
  credit_code_check_char / organization_code_check_char / make_credit_code
- validate_cn_mobile / normalize_cn_mobile
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- resident ID number (居民身份证号码, GB 11643-1999) ---------------------------------------

# First two digits: province-level codes of GB/T 2260, plus 83 (Taiwan residents' residence
# permits use 830000; Hong Kong 810000 and Macao 820000 permits share the 18-digit format).
PROVINCE_CODES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    "83": "台湾居民居住证",
}

# ISO 7064 MOD 11-2 weights: 2^(17-i) mod 11 for the 17 body digits.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Nobody alive was born before this; it also rejects "0000" years.
ID_MIN_BIRTH_YEAR = 1880


def _ascii_fold(value: object) -> str:
    """Full-width digits and letters (typed with a Chinese input method) become ASCII;
    whitespace goes."""
    if value is None:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))


def normalize_id_number(value: object) -> str:
    """Fold full-width characters, strip spaces, upper-case a trailing x. Does not validate."""
    return _ascii_fold(value).upper()


def id_number_check_digit(body: str) -> str:
    """The 18th character for a 17-digit body (ISO 7064 MOD 11-2; 10 is written X)."""
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError("body must be 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_number_error(value: object, *, today: dt.date | None = None) -> str | None:
    """The reason a resident ID number is invalid (a translatable message), or None if valid."""
    number = normalize_id_number(value)
    if not number:
        return _("请输入身份证号码。")
    if len(number) != 18:
        return _("身份证号码应为18位，您输入了%(count)d位。") % {"count": len(number)}
    if not _ID_SHAPE.match(number):
        return _("身份证号码前17位应为数字，最后一位为数字或字母X。")
    if number[:2] not in PROVINCE_CODES:
        return _("身份证号码的地区码不正确。")
    birth = _birth_date(number)
    if birth is None or birth.year < ID_MIN_BIRTH_YEAR:
        return _("身份证号码中的出生日期不正确。")
    if birth > (today or timezone.localdate()):
        return _("身份证号码中的出生日期晚于今天。")
    if id_number_check_digit(number[:17]) != number[17]:
        return _("身份证号码校验位不正确，请核对后重新输入。")
    return None


def is_valid_id_number(value: object, *, today: dt.date | None = None) -> bool:
    return id_number_error(value, today=today) is None


def validate_id_number(value: object) -> None:
    """Django validator. Accepts a lower-case x; store `normalize_id_number(value)`."""
    error = id_number_error(value)
    if error is not None:
        raise ValidationError(error, code="invalid_id_number")


def id_number_birth_date(value: object) -> dt.date:
    number = normalize_id_number(value)
    if not _ID_SHAPE.match(number) or (birth := _birth_date(number)) is None:
        raise ValueError("not a resident ID number")
    return birth


def id_number_gender(value: object) -> str:
    """'M' or 'F': the 17th digit (sequence code) is odd for men, even for women."""
    number = normalize_id_number(value)
    if not _ID_SHAPE.match(number):
        raise ValueError("not a resident ID number")
    return "M" if int(number[16]) % 2 else "F"


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """Build a well-formed ID number (for synthetic test and demo data only)."""
    if not (len(region) == 6 and region.isdigit()) or not 0 <= sequence <= 999:
        raise ValueError("region must be 6 digits and sequence 0..999")
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + id_number_check_digit(body)


# --- unified social credit code (统一社会信用代码, GB 32100-2015) ------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O S V Z
_CREDIT_VALUES = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{18}}$")
# Organisation code (GB 11714): 8 body characters (digits or letters, A=10 ... Z=35) + check.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalize_credit_code(value: object) -> str:
    return _ascii_fold(value).upper()


def credit_code_check_char(body: str) -> str:
    """The 18th character for a 17-character body: 31 - (weighted sum mod 31), 31 -> 0."""
    if len(body) != 17 or any(c not in _CREDIT_VALUES for c in body):
        raise ValueError("body must be 17 characters of the credit-code alphabet")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def organization_code_check_char(body: str) -> str:
    """The 9th character of an organisation code (GB 11714): 11 - (sum mod 11); 10 -> X, 11 -> 0."""
    if len(body) != 8 or not re.fullmatch(r"[0-9A-Z]{8}", body):
        raise ValueError("body must be 8 digits or upper-case letters")
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_error(value: object) -> str | None:
    code = normalize_credit_code(value)
    if not code:
        return _("请输入统一社会信用代码。")
    if len(code) != 18:
        return _("统一社会信用代码应为18位，您输入了%(count)d位。") % {"count": len(code)}
    if not _CREDIT_SHAPE.match(code):
        return _("统一社会信用代码只能包含数字和大写字母（不含 I、O、S、V、Z）。")
    if not code[2:8].isdigit():
        return _("统一社会信用代码第3至8位应为行政区划码（数字）。")
    if organization_code_check_char(code[8:16]) != code[16]:
        return _("统一社会信用代码中的组织机构代码校验位不正确。")
    if credit_code_check_char(code[:17]) != code[17]:
        return _("统一社会信用代码校验位不正确，请核对后重新输入。")
    return None


def is_valid_credit_code(value: object) -> bool:
    return credit_code_error(value) is None


def validate_credit_code(value: object) -> None:
    """Django validator; store `normalize_credit_code(value)`."""
    error = credit_code_error(value)
    if error is not None:
        raise ValidationError(error, code="invalid_credit_code")


def make_credit_code(prefix: str, region: str, org_body: str) -> str:
    """Build a well-formed code from a 2-char prefix (e.g. '91'), 6-digit region and 8-char
    organisation body (for synthetic test and demo data only)."""
    org = org_body + organization_code_check_char(org_body)
    body = f"{prefix}{region}{org}"
    return body + credit_code_check_char(body)


# --- mobile numbers ---------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def normalize_cn_mobile(value: object) -> str:
    """Drop spaces, dashes and a leading +86 / 0086."""
    number = re.sub(r"-+", "", _ascii_fold(value))
    return re.sub(r"^(\+86|0086)", "", number)


def is_valid_cn_mobile(value: object) -> bool:
    return bool(_MOBILE.match(normalize_cn_mobile(value)))


def validate_cn_mobile(value: object) -> None:
    if not is_valid_cn_mobile(value):
        raise ValidationError(
            _("请输入11位中国大陆手机号码，例如 13812345678。"), code="invalid_mobile"
        )
