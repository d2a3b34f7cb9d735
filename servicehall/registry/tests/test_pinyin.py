"""Pinyin of names: surnames read as surnames, the canonical format, the fast table agrees
with pypinyin."""

import pytest
from pypinyin import Style, lazy_pinyin
from pypinyin.contrib.tone_convert import to_tone3 as pypinyin_tone3
from pypinyin.pinyin_dict import pinyin_dict

from servicehall.registry.pinyin import (
    COMPOUND_SURNAMES,
    SURNAMES,
    char_table,
    name_pinyin,
    to_tone3,
    with_marks,
)

# The surnames pypinyin misreads (DESIGN.md, issue 4) and more, each with a given name.
SURNAME_CASES = [
    ("曾小贤", "zeng1 xiao3 xian2"),
    ("单田芳", "shan4 tian2 fang1"),
    ("解缙", "xie4 jin4"),
    ("仇英", "qiu2 ying1"),
    ("区志强", "ou1 zhi4 qiang2"),
    ("朴树", "piao2 shu4"),
    ("覃海洋", "qin2 hai3 yang2"),
    ("查良镛", "zha1 liang2 yong1"),
    ("盖丽丽", "ge3 li4 li4"),
    ("缪可", "miao4 ke3"),
    ("晟一", "cheng2 yi1"),
    ("乐嘉", "yue4 jia1"),
    ("华佗", "hua4 tuo2"),
    ("纪晓岚", "ji3 xiao3 lan2"),
    ("任正非", "ren2 zheng4 fei1"),
    ("沈从文", "shen3 cong2 wen2"),
    ("燕青", "yan1 qing1"),
    ("翟志刚", "zhai2 zhi4 gang1"),
    ("牟其中", "mu4 qi2 zhong1"),
    ("种师道", "chong2 shi1 dao4"),
    ("秘书", "bi4 shu1"),
    ("尉迟恭", "yu4 chi2 gong1"),
    ("万俟卨", "mo4 qi2 xie4"),
    ("长孙无忌", "zhang3 sun1 wu2 ji4"),
    ("单于明", "chan2 yu2 ming2"),
    ("欧阳修", "ou1 yang2 xiu1"),
    ("令狐冲", "ling2 hu2 chong1"),
    ("澹台灭明", "tan2 tai2 mie4 ming2"),
    ("张伟", "zhang1 wei3"),
    ("王芳", "wang2 fang1"),
]


@pytest.mark.parametrize(("name", "toned"), SURNAME_CASES)
def test_surnames_read_as_surnames(name, toned):
    plain, with_tones = name_pinyin(name)
    assert with_tones == toned
    assert plain == " ".join(s.rstrip("12345") for s in toned.split())


def test_pypinyin_alone_gets_these_wrong():
    """Why the table exists: pypinyin's readings of the same names differ."""
    wrong = [
        name
        for name, toned in SURNAME_CASES
        if " ".join(lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True)) != toned
    ]
    assert {"曾小贤", "单田芳", "解缙", "仇英", "区志强", "朴树", "覃海洋"} <= set(wrong)


def test_surname_table_format():
    for table in (SURNAMES, COMPOUND_SURNAMES):
        for surname, reading in table.items():
            syllables = reading.split(" ")
            assert len(syllables) == len(surname), surname
            assert all(
                s[:-1].isascii() and s[:-1].isalpha() and s[-1] in "12345" for s in syllables
            )


def test_a_compound_surname_needs_a_given_name_after_it():
    # Two characters are a single surname and a given name: 单于 is Shan Yu, not Chanyu.
    assert name_pinyin("单于") == ("shan yu", "shan4 yu2")
    assert name_pinyin("单于明")[1] == "chan2 yu2 ming2"


def test_heteronym_reads_by_position():
    # 乐 is yue4 as a surname and le4 in a given name (乐乐, 欣乐).
    assert name_pinyin("乐乐")[1] == "yue4 le4"
    assert name_pinyin("王欣乐")[1] == "wang2 xin1 le4"
    # 长, 朝, 晟 in given names.
    assert name_pinyin("李长青")[1] == "li3 chang2 qing1"
    assert name_pinyin("刘朝阳")[1] == "liu2 zhao1 yang2"
    assert name_pinyin("王晟睿")[1] == "wang2 sheng4 rui4"


def test_names_are_not_read_in_the_neutral_tone():
    # pypinyin reads 子 as the suffix zi (桌子) first; in a name it is zǐ.
    assert pinyin_dict[ord("子")].startswith("zi,")
    assert name_pinyin("张子涵")[1] == "zhang1 zi3 han2"
    assert name_pinyin("卜子夏")[1] == "bu3 zi3 xia4"


def test_middle_dot_is_a_separator_and_names_with_it_have_no_han_surname():
    assert name_pinyin("阿依古丽·买买提") == (
        "a yi gu li mai mai ti",
        "a1 yi1 gu3 li4 mai3 mai3 ti2",
    )
    # Same sound with or without the dot.
    assert name_pinyin("买买提·艾力") == name_pinyin("买买提艾力")
    # 单 in a transliteration keeps its common reading: no surname rule after a dot name.
    assert name_pinyin("单·买买提")[1].startswith("dan1 ")


def test_canonical_format():
    plain, toned = name_pinyin("吕绿略")
    assert toned == "lv3 lv4 lve4"  # ü written v
    assert plain == "lv lv lve"
    for name, _ in SURNAME_CASES:
        for form in name_pinyin(name):
            assert form == form.strip() and "  " not in form and form.isascii()
            assert form == form.lower()


def test_unknown_character_stands_for_itself():
    rare = "\U0003134a"  # an extension G ideograph pypinyin has no reading for
    assert ord(rare) not in pinyin_dict
    assert name_pinyin(f"张{rare}") == (f"zhang {rare}", f"zhang1 {rare}")
    assert name_pinyin(f"曾{rare}") == (f"zeng {rare}", f"zeng1 {rare}")


def test_character_table_matches_pypinyin_for_every_character():
    table = char_table()
    assert len(table) == len(pinyin_dict)
    for codepoint, readings in pinyin_dict.items():
        first = readings.split(",")[0]
        expected = pypinyin_tone3(first, neutral_tone_with_five=True)
        assert to_tone3(first) == expected, chr(codepoint)
        assert table[chr(codepoint)] == (expected.rstrip("12345"), expected)


def test_common_given_names_agree_with_pypinyin():
    """Outside the surname and given-name corrections the fast path is pypinyin's reading."""
    for name in ["张梓涵", "李欣怡", "王浩然", "陈一诺", "刘梓轩", "杨雨桐", "赵思彤"]:
        expected = " ".join(lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True))
        assert name_pinyin(name)[1] == expected


def test_with_marks():
    assert with_marks("zhang1 wei3") == "zhāng wěi"
    assert with_marks("lv3 lve4") == "lǚ lüè"
    assert with_marks("liu2 gui4 zhuo1 ou1 er5") == "liú guì zhuō ōu er"
