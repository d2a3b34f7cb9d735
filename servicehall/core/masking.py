"""Masking of personal data for display (DESIGN: masked by default, full only with permission).

    mask_id_number("110101199003071234") -> "110101********1234"
    mask_phone("13812345678")           -> "138****5678"
    mask_name("张三") -> "张*"; mask_name("欧阳娜娜") -> "欧阳**"; mask_name("李小明") -> "李**"

Every function accepts None or an empty value and returns "" for it; input that does not have
the expected shape is masked more, never less.
"""

from __future__ import annotations

MASK = "*"

# Common two-character (compound) surnames (复姓); the surname stays visible, the given name
# is masked. A single-character surname is assumed otherwise.
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "令狐",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "钟离",
        "闻人",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "赫连",
        "万俟",
        "濮阳",
        "淳于",
        "单于",
        "东郭",
        "拓跋",
        "司空",
        "鲜于",
        "闾丘",
        "公羊",
        "梁丘",
        "左丘",
        "谷梁",
        "第五",
        "贺兰",
        "颛孙",
        "子车",
        "乐正",
        "漆雕",
        "壤驷",
        "巫马",
        "公西",
        "东门",
    }
)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def mask_middle(value: object, keep_start: int, keep_end: int) -> str:
    """Keep `keep_start` leading and `keep_end` trailing characters; mask the rest.

    If that would hide less than a third of the value (short or malformed input), everything
    but the last character is masked instead.
    """
    text = _text(value)
    if not text:
        return ""
    hidden = len(text) - keep_start - keep_end
    if hidden < max(1, len(text) // 3):
        return MASK * (len(text) - 1) + text[-1] if len(text) > 2 else MASK * len(text)
    return text[:keep_start] + MASK * hidden + text[len(text) - keep_end :]


def mask_id_number(value: object) -> str:
    """Resident ID: region code (6) and last 4 stay; birth date and sequence are hidden."""
    return mask_middle(value, 6, 4)


def mask_phone(value: object) -> str:
    """Mobile: network prefix (3) and last 4 stay; landlines keep the last 4 only."""
    text = "".join(_text(value).split())
    if len(text) == 11 and text.startswith("1"):
        return mask_middle(text, 3, 4)
    return mask_middle(text, 0, 4)


def mask_name(value: object) -> str:
    """Surname stays (one character, or two for a compound surname); the given name is masked
    one star per character. Names with an interpunct (维吾尔族 names, foreign names:
    买买提·艾力) keep the first character only. Latin names keep their first letter."""
    text = _text(value)
    if not text:
        return ""
    if len(text) == 1:
        return MASK
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text[0] + "".join(ch if ch == " " else MASK for ch in text[1:])
    keep = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
    return text[:keep] + "".join(ch if ch in "·•" else MASK for ch in text[keep:])
