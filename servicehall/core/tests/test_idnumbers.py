import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from servicehall.core.idnumbers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    credit_code_error,
    id_number_birth_date,
    id_number_check_digit,
    id_number_error,
    id_number_gender,
    is_valid_cn_mobile,
    is_valid_credit_code,
    is_valid_id_number,
    make_credit_code,
    make_id_number,
    normalize_cn_mobile,
    normalize_id_number,
    organization_code_check_char,
    validate_cn_mobile,
    validate_credit_code,
    validate_id_number,
)

TODAY = dt.date(2026, 11, 26)

# --- resident ID numbers ------------------------------------------------------------------------

VALID_IDS = [
    "11010519491231002X",  # the example of GB 11643 itself
    "11010519491231002x",  # lower-case x is accepted
    " 110105 19491231 002X ",  # spaces are ignored
    "１１０１０５１９４９１２３１００２ｘ",  # full-width (Chinese input method) is folded
    make_id_number("210102", dt.date(1990, 3, 7), 123),
    make_id_number("650102", dt.date(2000, 2, 29), 1),  # leap day
    make_id_number("810000", dt.date(1975, 12, 31), 998),  # Hong Kong residence permit
    make_id_number("210181", TODAY, 0),  # born today
]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_id_numbers(value):
    assert id_number_error(value, today=TODAY) is None
    assert is_valid_id_number(value, today=TODAY)


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("", "请输入"),
        (None, "请输入"),
        ("110105194912310021", "校验位"),  # wrong check digit
        ("110105194912310029", "校验位"),
        ("11010519491231002Y", "最后一位"),
        ("1101051949123100X2", "前17位"),
        ("11010519491231002٣", "最后一位"),  # non-ASCII digit
        ("11010519491231002", "18位"),  # 17 characters
        ("11010519491231002XX", "18位"),  # 19
        ("110105491231002", "18位"),  # old 15-digit numbers are not accepted
        (make_id_number("990102", dt.date(1990, 1, 1), 1), "地区码"),  # no province 99
        (make_id_number("000000", dt.date(1990, 1, 1), 1), "地区码"),
        ("110105199002300012"[:17] + "0", "出生日期"),  # 30 February
        ("110105199013010012"[:17] + "0", "出生日期"),  # month 13
        ("110105000001010012"[:17] + "0", "出生日期"),  # year 0000
        (make_id_number("110105", dt.date(1870, 1, 1), 1), "出生日期"),  # too old
        (make_id_number("110105", TODAY + dt.timedelta(days=1), 1), "晚于今天"),
    ],
)
def test_invalid_id_numbers(value, message_part):
    error = id_number_error(value, today=TODAY)
    assert error is not None
    assert message_part in str(error)


def test_validator_raises_validation_error_in_chinese():
    with pytest.raises(ValidationError) as excinfo:
        validate_id_number("110105194912310021")
    assert excinfo.value.code == "invalid_id_number"
    assert "身份证号码校验位不正确" in excinfo.value.messages[0]
    validate_id_number("11010519491231002x")  # no error


def test_length_message_counts_characters():
    assert "您输入了17位" in str(id_number_error("1" * 17))


def test_check_digit_examples():
    assert id_number_check_digit("11010519491231002") == "X"
    assert id_number_check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError):
        id_number_check_digit("1101051949123100")


def test_birth_date_and_gender():
    assert id_number_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert id_number_gender("11010519491231002X") == "F"  # 17th digit 2: even
    male = make_id_number("210102", dt.date(1990, 1, 1), 13)
    assert id_number_gender(male) == "M"
    assert id_number_gender(male.lower()) == "M"
    with pytest.raises(ValueError):
        id_number_birth_date("110105199002300012")
    with pytest.raises(ValueError):
        id_number_gender("123")


def test_normalize():
    assert normalize_id_number(" 11010519491231002x\n") == "11010519491231002X"
    assert normalize_id_number(None) == ""


@given(
    region=st.sampled_from(["110105", "210102", "440524", "650102"]),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(0, 999),
    position=st.integers(0, 16),
    digit=st.integers(0, 9),
)
def test_every_single_digit_substitution_is_caught(region, birth, sequence, position, digit):
    number = make_id_number(region, birth, sequence)
    assert is_valid_id_number(number, today=TODAY)
    if number[position] != str(digit):
        changed = number[:position] + str(digit) + number[position + 1 :]
        assert not is_valid_id_number(changed, today=TODAY)


# --- unified social credit codes ---------------------------------------------------------------

VALID_CODES = [
    "91350100M000100Y43",
    "91350100m000100y43",  # lower case is normalised
    make_credit_code("91", "210102", "MA0DEM01"),
    make_credit_code("12", "210100", "00000000"),  # public institution
    make_credit_code("51", "210103", "12345678"),  # social organisation
]


@pytest.mark.parametrize("value", VALID_CODES)
def test_valid_credit_codes(value):
    assert credit_code_error(value) is None
    assert is_valid_credit_code(value)


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        ("", "请输入"),
        ("91350100M000100Y44", "校验位不正确"),  # wrong last character
        ("91350100M000100Y53", "组织机构代码"),  # wrong organisation-code check
        ("91350100M000100Y4", "18位"),
        ("91350100M000100Y433", "18位"),
        ("91350100I000100Y43", "不含"),  # I is not in the alphabet
        ("91350100O000100Y43", "不含"),
        ("9135010-M000100Y43", "不含"),
        ("91ABCDEFM000100Y43", "行政区划"),
    ],
)
def test_invalid_credit_codes(value, message_part):
    error = credit_code_error(value)
    assert error is not None
    assert message_part in str(error)


def test_credit_code_validator():
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code("91350100M000100Y44")
    assert excinfo.value.code == "invalid_credit_code"
    validate_credit_code("91350100M000100Y43")


def test_check_characters():
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert organization_code_check_char("M000100Y") == "4"
    # Remainders giving 10 and 11 become X and 0.
    assert organization_code_check_char("40000000") == "X"  # 11 - 12 % 11 = 10
    assert organization_code_check_char("00000000") == "0"  # 11 - 0 = 11


@given(
    body=st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17),
)
def test_credit_check_char_round_trip(body):
    code = body + credit_code_check_char(body)
    assert len(code) == 18
    for position in range(17):
        for replacement in "0A":
            if code[position] != replacement:
                changed = code[:position] + replacement + code[position + 1 :]
                assert credit_code_check_char(changed[:17]) != changed[17]


# --- mobile numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("13812345678", True),
        ("19912345678", True),
        ("+86 138-1234-5678", True),
        ("１３８１２３４５６７８", True),
        ("008613812345678", True),
        ("12812345678", False),
        ("1381234567", False),
        ("138123456789", False),
        ("0241234567", False),
        ("", False),
        (None, False),
    ],
)
def test_mobile(value, valid):
    assert is_valid_cn_mobile(value) is valid
    if valid:
        validate_cn_mobile(value)
        assert len(normalize_cn_mobile(value)) == 11
    else:
        with pytest.raises(ValidationError, match="手机号码"):
            validate_cn_mobile(value)
