"""Pinyin of a person's name, fast and with surnames read as surnames.

Canonical format (what NameStat.pinyin / pinyin_tones and PinyinStat.key hold):

* syllables in lower-case ASCII, separated by one space;
* ü is written ``v`` (吕 ``lv3``, 略 ``lve4``), as pypinyin's TONE3 style does;
* with tones: the tone number follows each syllable, 1–4, and 5 for the neutral tone
  (张伟 ``zhang1 wei3``); toneless: the same without digits (``zhang wei``);
* the middle dot of minority names (阿依古丽·买买提) is a separator like the space between
  syllables, so it leaves no trace in the key;
* a character without a known reading (a rare ideograph) stands for itself.

Why not call pypinyin per name: it costs ~23–50 µs a name (phrase matching, style
conversion); the name query and the rebuild of the counts need ~1 µs. So pypinyin's own
character dictionary is converted once per process into a character → (toneless, toned)
table (~40 ms), and a name is a handful of dict look-ups.

Why a surname table: pypinyin reads a character's most common reading, which for many
surnames is wrong (曾 ceng, 单 dan, 解 jie, 仇 chou, 区 qu, 朴 pu, 覃 tan ...). The first
character(s) of a Han name are read from SURNAMES below, compound surnames first; the rest
uses the character table with a few corrections for readings that names use (GIVEN_NAME).
Names with a middle dot are transliterations without a Han surname: no surname reading.
"""

from __future__ import annotations

from functools import cache

MIDDLE_DOT = "\u00b7"

# Compound surnames (复姓). Checked before single ones; applied only when at least one
# character is left for the given name (欧阳 alone is surname 欧 + given name 阳, read alike).
# 单于 is listed because it is a compound surname, although 单 + a given name starting with
# 于 is the likelier reading today; 长孙 and 万俟 have no such rival.
COMPOUND_SURNAMES: dict[str, str] = {
    "尉迟": "yu4 chi2",
    "万俟": "mo4 qi2",
    "长孙": "zhang3 sun1",
    "单于": "chan2 yu2",
    "澹台": "tan2 tai2",
    "令狐": "ling2 hu2",
    "乐正": "yue4 zheng4",
    "欧阳": "ou1 yang2",
    "司马": "si1 ma3",
    "上官": "shang4 guan1",
    "诸葛": "zhu1 ge3",
    "东方": "dong1 fang1",
    "皇甫": "huang2 fu3",
    "慕容": "mu4 rong2",
    "公孙": "gong1 sun1",
    "夏侯": "xia4 hou2",
    "宇文": "yu3 wen2",
    "司徒": "si1 tu2",
    "司空": "si1 kong1",
    "南宫": "nan2 gong1",
    "百里": "bai3 li3",
    "呼延": "hu1 yan2",
    "闻人": "wen2 ren2",
    "端木": "duan1 mu4",
    "独孤": "du2 gu1",
    "轩辕": "xuan1 yuan2",
    "西门": "xi1 men2",
    "钟离": "zhong1 li2",
    "宗政": "zong1 zheng4",
    "濮阳": "pu2 yang2",
    "淳于": "chun2 yu2",
    "太叔": "tai4 shu1",
    "申屠": "shen1 tu2",
    "赫连": "he4 lian2",
    "拓跋": "tuo4 ba2",
    "左丘": "zuo3 qiu1",
    "东郭": "dong1 guo1",
    "公冶": "gong1 ye3",
    "亓官": "qi2 guan1",
    "仲孙": "zhong4 sun1",
    "羊舌": "yang2 she2",
    "梁丘": "liang2 qiu1",
    "第五": "di4 wu3",
}

# Single surnames whose surname reading differs from pypinyin's first reading.
SURNAMES: dict[str, str] = {
    "曾": "zeng1",
    "单": "shan4",
    "解": "xie4",
    "仇": "qiu2",
    "区": "ou1",
    "朴": "piao2",
    "覃": "qin2",
    "查": "zha1",
    "盖": "ge3",
    "缪": "miao4",
    "晟": "cheng2",
    "乐": "yue4",
    "华": "hua4",
    "纪": "ji3",
    "任": "ren2",
    "沈": "shen3",
    "燕": "yan1",
    "翟": "zhai2",
    "牟": "mu4",
    "种": "chong2",
    "秘": "bi4",
    "尉": "wei4",
    "长": "chang2",
    "万": "wan4",
    "召": "shao4",
    "员": "yun4",
    "阚": "kan4",
    "隗": "wei3",
    "句": "gou1",
    "繁": "po2",
    "过": "guo1",
    "黑": "he4",
    "逄": "pang2",
    "宿": "su4",
    "曲": "qu1",
    "卜": "bu3",
    "柏": "bai3",
    "贲": "ben1",
    "薄": "bo2",
    "褚": "chu3",
    "折": "she2",
    "佴": "nai4",
    "莘": "shen1",
    "乜": "nie4",
    "番": "pan1",
    "能": "nai4",
    "便": "pian2",
    "蕃": "pi2",
    "角": "jue2",
    "重": "chong2",
    "都": "du1",
    "相": "xiang4",
    "应": "ying1",
    "朝": "chao2",
    "那": "na1",
    "澹": "tan2",
    "洗": "xian3",
    "郇": "huan2",
    "眭": "sui1",
    "厍": "she4",
    "粘": "nian2",
}

# Given-name characters whose reading in names differs from pypinyin's most common reading.
# 乐 stays le4 in a given name (乐乐, 欣乐) and is yue4 only as a surname (above).
GIVEN_NAME: dict[str, str] = {
    "长": "chang2",  # 长青, 长江
    "朝": "zhao1",  # 朝阳, 朝晖
    "晟": "sheng4",  # 晟睿: shèng in given names, chéng as a surname
    "伽": "jia1",  # 伽伽, 伽罗
    "莘": "xin1",  # 莘怡
    "重": "chong2",  # 重阳, 重光
    "栎": "yue4",  # 栎阳 (a place name used in given names)
}

_TONE_MARKS = {
    **{c: (v, 1) for v, c in zip("aeiouü", "āēīōūǖ", strict=True)},
    **{c: (v, 2) for v, c in zip("aeiouü", "áéíóúǘ", strict=True)},
    **{c: (v, 3) for v, c in zip("aeiouü", "ǎěǐǒǔǚ", strict=True)},
    **{c: (v, 4) for v, c in zip("aeiouü", "àèìòùǜ", strict=True)},
    "ń": ("n", 2),
    "ň": ("n", 3),
    "ǹ": ("n", 4),
    "ḿ": ("m", 2),
    "ế": ("ê", 2),
    "ề": ("ê", 4),
    "\u0304": ("", 1),  # combining macron (ê̄)
    "\u030c": ("", 3),  # combining caron (ê̌)
    "\u0300": ("", 4),  # combining grave (ề)
}


def to_tone3(marked: str) -> str:
    """'lǚ' → 'lv3', 'zhāng' → 'zhang1', 'ma' → 'ma5' (pypinyin's TONE3 with v for ü and 5
    for the neutral tone; tests compare this with pypinyin for every character it knows)."""
    tone = 5
    letters = []
    for ch in marked:
        if ch in _TONE_MARKS:
            base, tone = _TONE_MARKS[ch]
            letters.append(base)
        else:
            letters.append(ch)
    return "".join(letters).replace("ü", "v") + str(tone)


def _toneless(toned: str) -> str:
    return toned.rstrip("12345")


@cache
def char_table() -> dict[str, tuple[str, str]]:
    """character → (toneless, toned) for every character pypinyin knows: its first reading."""
    from pypinyin.pinyin_dict import pinyin_dict

    table = {}
    for codepoint, readings in pinyin_dict.items():
        toned = to_tone3(readings.split(",", 1)[0])
        table[chr(codepoint)] = (_toneless(toned), toned)
    return table


def _pair(toned: str) -> tuple[str, str]:
    return _toneless(toned), toned


_SURNAME_PAIRS = {s: (" ".join(map(_toneless, r.split())), r) for s, r in SURNAMES.items()}
_COMPOUND_PAIRS = {
    s: (" ".join(map(_toneless, r.split())), r) for s, r in COMPOUND_SURNAMES.items()
}
# Filled on first use: given-name readings as two flat dicts, toneless and toned (a list
# comprehension over a flat dict is the fastest way through a name in CPython: ~1 µs for two
# characters where pypinyin takes ~25 µs).
_PLAIN: dict[str, str] = {}
_TONED: dict[str, str] = {}


def _load() -> None:
    from pypinyin.pinyin_dict import pinyin_dict

    table = dict(char_table())
    # Names are not read in the neutral tone: 子 is zi (桌子) first in pypinyin but zǐ in 子涵.
    for codepoint, readings in pinyin_dict.items():
        if table[chr(codepoint)][1].endswith("5"):
            toned = [to_tone3(r) for r in readings.split(",")[1:]]
            toned = [r for r in toned if not r.endswith("5")]
            if toned:
                table[chr(codepoint)] = _pair(toned[0])
    table.update({ch: _pair(reading) for ch, reading in GIVEN_NAME.items()})
    _TONED.update({ch: pair[1] for ch, pair in table.items()})
    _PLAIN.update({ch: pair[0] for ch, pair in table.items()})


def name_pinyin(name: str) -> tuple[str, str]:
    """(toneless, toned) pinyin of a validated name, e.g. 张伟 → ('zhang wei', 'zhang1 wei3')."""
    if not _PLAIN:
        _load()
    plain, toned = _PLAIN, _TONED
    if MIDDLE_DOT in name:
        name = name.replace(MIDDLE_DOT, "")
    elif len(name) > 2 and name[:2] in _COMPOUND_PAIRS:
        surname, rest = _COMPOUND_PAIRS[name[:2]], name[2:]
        return (
            surname[0] + " " + " ".join([plain.get(c, c) for c in rest]),
            surname[1] + " " + " ".join([toned.get(c, c) for c in rest]),
        )
    elif name[:1] in _SURNAME_PAIRS:
        surname, rest = _SURNAME_PAIRS[name[:1]], name[1:]
        if not rest:
            return surname
        return (
            surname[0] + " " + " ".join([plain.get(c, c) for c in rest]),
            surname[1] + " " + " ".join([toned.get(c, c) for c in rest]),
        )
    # A character without a known reading stands for itself.
    return " ".join([plain.get(c, c) for c in name]), " ".join([toned.get(c, c) for c in name])


_MARKS = {
    "a": "āáǎà",
    "e": "ēéěè",
    "i": "īíǐì",
    "o": "ōóǒò",
    "u": "ūúǔù",
    "ü": "ǖǘǚǜ",
}


def _marked_syllable(syllable: str) -> str:
    if not syllable[-1:].isdigit():
        return syllable
    base, tone = syllable[:-1].replace("v", "ü"), int(syllable[-1])
    if tone == 5:
        return base
    for vowel in ("a", "e"):
        if vowel in base:
            break
    else:
        if "ou" in base:
            vowel = "o"
        else:
            vowels = [c for c in base if c in "iouü"]
            if not vowels:
                return base
            vowel = vowels[-1]
    position = base.rindex(vowel) if vowel in "iouü" else base.index(vowel)
    return base[:position] + _MARKS[vowel][tone - 1] + base[position + 1 :]


def with_marks(toned: str) -> str:
    """'zhang1 wei3' → 'zhāng wěi': the canonical toned form as people read it."""
    return " ".join(_marked_syllable(s) for s in toned.split(" "))
