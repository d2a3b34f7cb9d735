import pytest
from django.template import Context, Template

from servicehall.core.masking import mask_id_number, mask_name, mask_phone


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110101199003071234", "110101********1234"),
        ("11010519491231002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),  # old 15-digit number
        ("12345", "****5"),  # malformed: hide nearly everything
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value, expected):
    assert mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("024-23456789", "********6789"),  # landline: last four only
        ("110", "**0"),  # short: all but the last character
        ("", ""),
        (None, ""),
    ],
)
def test_mask_phone(value, expected):
    assert mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三", "张*"),
        ("李小明", "李**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("欧阳", "欧*"),  # two characters: treated as surname + given name
        ("买买提·艾力", "买**·**"),
        ("John Smith", "J*** *****"),
        ("王", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value, expected):
    assert mask_name(value) == expected


def test_masked_values_never_contain_the_hidden_part():
    number = "210102199001011234"
    assert "19900101" not in mask_id_number(number)
    assert "1234" not in mask_phone("13812345678")[:7]


def test_template_filters():
    template = Template(
        "{% load masking %}{{ id|mask_id }} {{ phone|mask_phone }} {{ name|mask_name }} "
        "[{{ missing|mask_id }}]"
    )
    html = template.render(
        Context({"id": "110101199003071234", "phone": "13812345678", "name": "张三"})
    )
    assert html == "110101********1234 138****5678 张* []"
