"""Application forms generated from catalogue items, their JSON form, and flow rules."""

import datetime as dt
from decimal import Decimal
from functools import cache

import pytest
from django.utils import timezone, translation

from servicehall.cases.forms import (
    application_form_class,
    cleaned_data_to_json,
    condition_holds,
    evaluate_flow,
    initial_from_json,
)
from servicehall.catalog.datafiles import read_catalogue
from servicehall.core.idnumbers import make_credit_code, make_id_number

CREDIT_CODE = make_credit_code("91", "210102", "MA0RT5B3")
ID_NUMBER = make_id_number("210102", dt.date(1990, 3, 7), 123)


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


@cache
def _items() -> dict[str, dict]:
    return {item["code"]: item for item in read_catalogue().items}


def item(code: str) -> dict:
    return _items()[code]


def bind(code: str, **data):
    form = application_form_class(item(code))(data=data)
    form.is_valid()
    return form


# --- every item builds ------------------------------------------------------------------------


def test_every_catalogue_item_with_a_form_builds_and_renders():
    with_form = [doc for doc in read_catalogue().items if doc.get("form")]
    assert len(with_form) > 50
    for doc in with_form:
        form_class = application_form_class(doc)
        assert list(form_class.base_fields) == [f["name"] for f in doc["form"]], doc["code"]
        form = form_class()
        html = form.as_div()
        for spec in doc["form"]:
            assert spec["label"] in html
        # An empty submission is refused exactly when some field is required.
        empty = form_class(data={})
        assert empty.is_valid() == (not any(f.get("required") for f in doc["form"])), doc["code"]
        # Every flow rule refers to a field of the form.
        for rule in doc.get("flow_rules", []):
            for condition in rule["when"]:
                assert condition["field"] in form_class.base_fields


def test_item_without_form_gets_an_empty_form():
    form = application_form_class({"code": "XX-QT-001", "flow": "standard"})(data={})
    assert form.is_valid()
    assert form.to_json() == {}


def test_labels_help_and_required_come_from_the_data():
    doc = {
        "code": "XX-QT-001",
        "flow": "standard",
        "form": [
            {"name": "a", "label": "甲", "type": "text", "required": True, "help": "说明甲"},
            {"name": "b", "label": "乙", "type": "text"},
        ],
    }
    form = application_form_class(doc)()
    assert form.fields["a"].label == "甲"
    assert form.fields["a"].help_text == "说明甲"
    assert form.fields["a"].required is True
    assert form.fields["b"].required is False


def test_unknown_type_or_duplicate_name_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown"):
        application_form_class({"form": [{"name": "a", "label": "甲", "type": "colour"}]})
    with pytest.raises(ValueError, match="duplicate"):
        application_form_class(
            {"form": [{"name": "a", "label": "甲", "type": "text"}] * 2},
        )


# --- flow rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("area", "flow"),
    [
        ("120", "filing_spot_check"),
        ("299.99", "filing_spot_check"),
        ("300", "standard"),
        ("300.00", "standard"),
        ("800", "standard"),
    ],
)
def test_fire_filing_routes_by_floor_area(area, flow):
    form = bind(
        "XF-BA-001",
        project_name="某商场三层室内装修",
        project_address="沈阳市和平区示例路1号",
        floor_area_m2=area,
        builder_credit_code=CREDIT_CODE,
    )
    assert form.is_valid(), form.errors
    assert evaluate_flow(item("XF-BA-001"), form.cleaned_data) == flow
    # The saved JSON routes the same way.
    assert evaluate_flow(item("XF-BA-001"), form.to_json()) == flow


@pytest.mark.parametrize(
    ("category", "flow"),
    [("第三类", "filing_spot_check"), ("第一类", "standard"), ("第二类", "standard")],
)
def test_precursor_transport_routes_by_category(category, flow):
    form = bind(
        "JD-XK-002",
        company_credit_code=CREDIT_CODE,
        category=category,
        chemical_name="硫酸",
        quantity_kg="12.5",
        route="沈阳市铁西区—鞍山市铁东区，沈海高速",
    )
    assert form.is_valid(), form.errors
    assert evaluate_flow(item("JD-XK-002"), form.cleaned_data) == flow


def test_missing_or_empty_field_makes_a_condition_false():
    doc = item("XF-BA-001")
    assert evaluate_flow(doc, {}) == "standard"
    assert evaluate_flow(doc, {"floor_area_m2": None}) == "standard"
    assert evaluate_flow(doc, {"floor_area_m2": ""}) == "standard"
    ne = {"field": "x", "op": "ne", "value": "a"}
    assert condition_holds(ne, {}) is False
    assert condition_holds(ne, {"x": "b"}) is True


@pytest.mark.parametrize(
    ("op", "value", "data", "holds"),
    [
        ("lt", 300, Decimal("120"), True),
        ("lt", 300, "120", True),  # JSON strings compare numerically against a number
        ("lt", 300, "1000", False),  # not as strings ("1000" < "300")
        ("lt", 300, 300, False),
        ("le", 300, 300, True),
        ("gt", 5, 6, True),
        ("ge", 5, Decimal("5.0"), True),
        ("eq", 5, "5.00", True),
        ("ne", 5, 6, True),
        ("eq", 0.001, Decimal("0.001"), True),
        ("lt", 300, "不是数字", False),
        ("eq", "第三类", "第三类", True),
        ("eq", "第三类", "第一类", False),
        ("ne", "第三类", "第一类", True),
        ("lt", "b", "a", True),  # strings as strings
        ("in", ["第二类", "第三类"], "第三类", True),
        ("in", ["第二类", "第三类"], "第一类", False),
        ("in", [1, 2], "2", True),
        ("eq", "2024-03-15", dt.date(2024, 3, 15), True),
        ("lt", "2024-03-15", dt.date(2024, 1, 1), True),
        ("eq", True, True, True),
        ("eq", True, "True", False),
    ],
)
def test_condition_operators(op, value, data, holds):
    assert condition_holds({"field": "x", "op": op, "value": value}, {"x": data}) is holds


def test_first_matching_rule_wins_and_all_conditions_must_hold():
    doc = {
        "flow": "standard",
        "flow_rules": [
            {
                "when": [
                    {"field": "area", "op": "lt", "value": 300},
                    {"field": "kind", "op": "eq", "value": "装修"},
                ],
                "flow": "filing_spot_check",
            },
            {"when": [{"field": "area", "op": "lt", "value": 50}], "flow": "instant"},
        ],
    }
    assert evaluate_flow(doc, {"area": 10, "kind": "装修"}) == "filing_spot_check"
    assert evaluate_flow(doc, {"area": 10, "kind": "新建"}) == "instant"
    assert evaluate_flow(doc, {"area": 100, "kind": "新建"}) == "standard"


# --- errors in Chinese ------------------------------------------------------------------------


def test_required_fields_get_chinese_errors():
    form = bind("HZ-QR-001")
    assert form.errors == {
        "child_name": ["请填写此项。"],
        "child_gender": ["请选择此项。"],
        "birth_date": ["请填写此项。"],
        "guardian_id_number": ["请填写此项。"],
    }


def test_invalid_values_get_chinese_errors():
    form = bind(
        "HZ-QR-001",
        child_name="一二三四五六七",
        child_gender="未知",
        birth_date="2024-13-01",
        guardian_id_number="12345",
    )
    assert form.errors["child_name"] == ["最多6个字，您输入了7个。"]
    assert form.errors["child_gender"] == ["请从列表中选择一项。"]
    assert form.errors["birth_date"] == ["请输入正确的日期，例如 2024-03-15。"]
    assert form.errors["guardian_id_number"] == ["身份证号码应为18位，您输入了5位。"]


def test_numbers_and_decimals():
    form = bind(
        "XF-BA-001",
        project_name="x",
        project_address="y",
        floor_area_m2="0.5",
        builder_credit_code=CREDIT_CODE,
    )
    assert form.errors["floor_area_m2"] == ["不能小于1。"]
    form = bind("XF-BA-001", floor_area_m2="abc")
    assert form.errors["floor_area_m2"] == ["请输入数字，例如 120.5。"]
    form = bind("XF-BA-001", floor_area_m2="1e999")
    assert "数字过大" in form.errors["floor_area_m2"][0]
    # Full-width digits and thousands separators are what people type.
    assert bind("XF-BA-001", floor_area_m2="１２０．５").cleaned_data["floor_area_m2"] == Decimal(
        "120.5"
    )
    assert bind("XF-BA-001", floor_area_m2="1,200").cleaned_data["floor_area_m2"] == 1200
    assert "floor_area_m2" in bind("XF-BA-001", floor_area_m2="1,5").errors

    number_item = item("ZA-BA-001")
    form = application_form_class(number_item)(data={"workers_count": "5001"})
    form.is_valid()
    assert form.errors["workers_count"] == ["不能大于5000。"]
    form = application_form_class(number_item)(data={"workers_count": "2.5"})
    form.is_valid()
    assert form.errors["workers_count"] == ["请输入整数，例如 12。"]
    form = application_form_class(number_item)(data={"workers_count": "３０"})
    form.is_valid()
    assert form.cleaned_data["workers_count"] == 30


def test_absurd_dates_are_refused():
    today = timezone.localdate()
    for value in ["0024-03-01", "1899-12-31", f"{today.year + 11}-01-01"]:
        form = bind("HZ-QR-001", birth_date=value)
        assert form.errors["birth_date"][0].startswith("日期应在1900-01-01至"), value
    for value in ["2024/3/5", "2024年3月5日", "２０２４-０３-０５", "2024.03.05"]:
        assert bind("HZ-QR-001", birth_date=value).cleaned_data["birth_date"] == dt.date(
            2024, 3, 5
        ), value


def test_bool_required_means_ticked():
    doc = {
        "form": [{"name": "pledge", "label": "我承诺所填属实", "type": "bool", "required": True}]
    }
    form = application_form_class(doc)(data={})
    assert not form.is_valid()
    assert form.errors["pledge"] == ["请勾选此项。"]
    form = application_form_class(doc)(data={"pledge": "on"})
    assert form.is_valid()
    assert form.to_json() == {"pledge": True}


def test_email_field():
    doc = {"form": [{"name": "mail", "label": "电子邮箱", "type": "email", "required": True}]}
    form = application_form_class(doc)(data={"mail": "not-an-address"})
    assert not form.is_valid()
    assert form.errors["mail"] == ["请输入正确的电子邮箱地址，例如 name@example.com。"]
    assert application_form_class(doc)(data={"mail": "a@example.com"}).is_valid()


# --- identity numbers -------------------------------------------------------------------------


def _id_with_x() -> str:
    for sequence in range(1000):
        number = make_id_number("210102", dt.date(1985, 6, 15), sequence)
        if number.endswith("X"):
            return number
    raise AssertionError("no ID number ending in X")


def test_id_number_is_normalised_and_checked():
    with_x = _id_with_x()
    form = bind("HZ-QR-001", guardian_id_number=with_x.lower())
    assert form.cleaned_data["guardian_id_number"] == with_x
    full_width = ID_NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert bind("HZ-QR-001", guardian_id_number=f" {full_width} ").cleaned_data[
        "guardian_id_number"
    ] == (ID_NUMBER)
    wrong_check = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
    form = bind("HZ-QR-001", guardian_id_number=wrong_check)
    assert form.errors["guardian_id_number"] == ["身份证号码校验位不正确，请核对后重新输入。"]


def test_phone_is_normalised_and_checked():
    doc = item("ZA-BA-001")
    form = application_form_class(doc)(data={"contact_phone": "+86 138-1234-5678"})
    form.is_valid()
    assert form.cleaned_data["contact_phone"] == "13812345678"
    form = application_form_class(doc)(data={"contact_phone": "024-12345678"})
    form.is_valid()
    assert form.errors["contact_phone"] == ["请输入11位中国大陆手机号码，例如 13812345678。"]


def test_credit_code_is_normalised_and_checked():
    form = bind("XF-BA-001", builder_credit_code=CREDIT_CODE.lower())
    assert form.cleaned_data["builder_credit_code"] == CREDIT_CODE
    form = bind("XF-BA-001", builder_credit_code=CREDIT_CODE[:17] + "0")
    if CREDIT_CODE[17] != "0":
        assert form.errors["builder_credit_code"] == [
            "统一社会信用代码校验位不正确，请核对后重新输入。"
        ]
    form = bind("XF-BA-001", builder_credit_code="123")
    assert form.errors["builder_credit_code"] == ["统一社会信用代码应为18位，您输入了3位。"]


# --- widgets for phones and screen readers ----------------------------------------------------


def _widget_html(code: str, name: str) -> str:
    form = application_form_class(item(code))()
    return str(form[name])


def test_widgets_carry_the_right_html_attributes():
    phone = _widget_html("ZA-BA-001", "contact_phone")
    assert 'type="tel"' in phone
    assert 'inputmode="numeric"' in phone
    assert 'autocomplete="tel-national"' in phone
    assert "required" in phone

    count = _widget_html("ZA-BA-001", "workers_count")
    assert 'inputmode="numeric"' in count
    assert 'type="text"' in count

    area = _widget_html("XF-BA-001", "floor_area_m2")
    assert 'inputmode="decimal"' in area

    date = _widget_html("HZ-QR-001", "birth_date")
    assert 'type="date"' in date
    assert 'min="1900-01-01"' in date

    id_number = _widget_html("HZ-QR-001", "guardian_id_number")
    assert 'autocapitalize="characters"' in id_number
    assert "inputmode" not in id_number  # numeric pads cannot type the X

    address = _widget_html("XF-BA-001", "project_address")
    assert 'autocomplete="street-address"' in address

    name = _widget_html("HZ-QR-001", "child_name")
    assert 'maxlength="6"' in name

    email_doc = {"form": [{"name": "mail", "label": "邮箱", "type": "email"}]}
    email = str(application_form_class(email_doc)()["mail"])
    assert 'type="email"' in email
    assert 'autocomplete="email"' in email

    gender = _widget_html("HZ-QR-001", "child_gender")
    assert '<option value="" selected>请选择</option>' in gender


# --- JSON and drafts --------------------------------------------------------------------------


def test_cleaned_data_to_json_and_back():
    doc = item("HZ-QR-001")
    form = bind(
        "HZ-QR-001",
        child_name="张小明",
        child_gender="男",
        birth_date="2026-01-02",
        guardian_id_number=ID_NUMBER,
    )
    assert form.is_valid(), form.errors
    saved = form.to_json()
    assert saved == {
        "child_name": "张小明",
        "child_gender": "男",
        "birth_date": "2026-01-02",
        "guardian_id_number": ID_NUMBER,
    }
    initial = initial_from_json(doc, saved)
    assert initial["birth_date"] == dt.date(2026, 1, 2)
    draft = application_form_class(doc)(initial=initial)
    assert 'value="2026-01-02"' in str(draft["birth_date"])
    # Saved JSON binds again to the same cleaned data.
    again = application_form_class(doc)(data=saved)
    assert again.is_valid()
    assert again.to_json() == saved


def test_decimals_are_plain_strings_in_json():
    assert cleaned_data_to_json(
        {"a": Decimal("120.50"), "b": Decimal("1E+3"), "c": 5, "d": None, "e": ""}
    ) == {"a": "120.50", "b": "1000", "c": 5, "d": None, "e": ""}
    doc = item("XF-BA-001")
    initial = initial_from_json(doc, {"floor_area_m2": "120.50", "gone_field": "x"})
    assert initial == {"floor_area_m2": Decimal("120.50")}


def test_initial_tolerates_values_that_no_longer_parse():
    doc = item("HZ-QR-001")
    assert initial_from_json(doc, {"birth_date": "去年", "child_name": None}) == {
        "birth_date": "去年"
    }
    assert initial_from_json(doc, None) == {}
