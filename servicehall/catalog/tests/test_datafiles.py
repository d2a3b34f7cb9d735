"""The catalogue's data files: complete, consistent, and every problem reported precisely."""

import shutil
from collections import Counter

import pytest
import yaml

from servicehall.catalog.datafiles import DEFAULT_DIR, SCHEMA_PATH, read_catalogue

CATALOGUE = read_catalogue()


def test_every_data_file_is_valid():
    assert CATALOGUE.problems == []


def test_at_least_107_items_covering_every_department():
    assert len(CATALOGUE.items) >= 107
    per_department = Counter(item["department"] for item in CATALOGUE.items)
    assert set(per_department) == {d["code"] for d in CATALOGUE.departments}
    approval_departments = {d["code"] for d in CATALOGUE.departments if d["approval_powers"]}
    assert len(approval_departments) == 10
    with_powers = {item["department"] for item in CATALOGUE.items if item["in_power_list"]}
    assert approval_departments <= with_powers  # each of the ten exercises a listed power


def test_no_required_field_is_empty():
    required = yaml.safe_load(SCHEMA_PATH.read_text())["required"]

    def empty(value):
        if isinstance(value, str):
            return not value.strip()
        if isinstance(value, list | dict):
            return not value and value != []  # lists may be empty only where the schema says
        return value is None

    for item in CATALOGUE.items:
        for name in required:
            assert name in item, (item["code"], name)
            assert not empty(item[name]), (item["code"], name)
        for material in item["materials"]:
            assert material["name"].strip(), item["code"]


@pytest.mark.parametrize(
    "name",
    [
        "婴儿出生登记",  # household, delegated to stations
        "新生儿",  # newborn same-name query
        "护照",
        "港澳",
        "签证",
        "流动人口",
        "消防",
        "机动车",
        "驾驶证",
        "快处快赔",
        "护送",  # cash escort
        "黄手带",
        "未带",  # identity proof for hotel guests without an ID card
        "局长信箱",
        "12110",
        "12389",
    ],
)
def test_services_the_article_names_are_in_the_catalogue(name):
    texts = [" ".join([i["name"], *i["keywords"], i["summary"]]) for i in CATALOGUE.items]
    assert any(name in text for text in texts), name


def test_item_codes_are_unique_and_match_their_files():
    codes = [item["code"] for item in CATALOGUE.items]
    assert len(codes) == len(set(codes))


@pytest.fixture
def broken_dir(tmp_path):
    target = tmp_path / "items"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True))


def test_broken_file_is_reported_with_file_field_and_reason(broken_dir):
    path = broken_dir / "huzheng" / "HZ-QR-001.yaml"
    _edit(path, lambda d: d["time_limit"].update(promised_days="one"))
    _edit(broken_dir / "xiaofang" / "XF-BA-001.yaml", lambda d: d.pop("legal_basis"))
    problems = {(p.file, p.field): p.reason for p in read_catalogue(broken_dir).problems}
    assert (
        "'one' is not of type 'integer'"
        in problems[("huzheng/HZ-QR-001.yaml", "time_limit.promised_days")]
    )
    assert "required" in problems[("xiaofang/XF-BA-001.yaml", "legal_basis")]


def test_consistency_rules_beyond_the_schema(broken_dir):
    path = broken_dir / "huzheng" / "HZ-QR-001.yaml"
    _edit(path, lambda d: d["time_limit"].update(promised_days=99))
    (broken_dir / "huzheng" / "HZ-QR-001.yaml").rename(broken_dir / "huzheng" / "HZ-QR-999.yaml")
    _edit(broken_dir / "xiaofang" / "XF-BA-001.yaml", lambda d: d["life_events"].append("no_such"))
    problems = [str(p) for p in read_catalogue(broken_dir).problems]
    assert (
        "huzheng/HZ-QR-999.yaml: time_limit.promised_days: promised limit exceeds the legal limit"
        in problems
    )
    assert "huzheng/HZ-QR-999.yaml: code: file must be named HZ-QR-001.yaml" in problems
    assert "xiaofang/XF-BA-001.yaml: life_events.1: unknown life event 'no_such'" in problems


def test_unreadable_yaml_is_reported(broken_dir):
    (broken_dir / "huzheng" / "HZ-QR-001.yaml").write_text("code: [unclosed\n")
    problem = read_catalogue(broken_dir).problems[0]
    assert problem.file == "huzheng/HZ-QR-001.yaml"
    assert "not readable YAML" in problem.reason
