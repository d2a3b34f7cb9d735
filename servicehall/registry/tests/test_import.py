"""The registry CSV import (servicehall.registry.importer, manage.py import_registry).

Runs on PostgreSQL (COPY writer, both the upsert and the fast-first-load paths) and on SQLite
(ORM writer); tests of PostgreSQL-only machinery are marked. Every CSV here is written by
hand, bad rows included; all data is synthetic.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tracemalloc
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from servicehall.accounts import organisation
from servicehall.accounts.models import District, Station
from servicehall.core.idnumbers import (
    id_number_birth_date,
    id_number_check_digit,
    id_number_error,
    id_number_gender,
    make_id_number,
)
from servicehall.core.models import AuditEntry
from servicehall.registry import importer
from servicehall.registry.models import Household, ImportRun, Person

HEADER = ",".join(importer.HEADER)
HEPING, SHENHE = "210102", "210103"
on_postgres = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _districts(db):
    # A transactional test elsewhere may have flushed the seeded districts.
    organisation.sync_districts(District)
    Station.objects.get_or_create(
        code=f"{HEPING}-S01", defaults={"name": "和平区测试派出所", "district_id": _district_id()}
    )


def _district_id(code: str = HEPING) -> int:
    return District.objects.get(code=code).pk


def idn(n: int, *, male: bool = True, born: dt.date = dt.date(1980, 1, 1), region=HEPING) -> str:
    """A valid ID number; n picks the sequence (the last digit follows the gender)."""
    return make_id_number(region, born, (n % 400) * 2 + (1 if male else 0))


def row(n: int = 1, **changes) -> dict:
    """A valid registered card of household H<n // 3>, head when n % 3 == 0."""
    male = changes.pop("male", True)
    born = changes.pop("born", dt.date(1980, 1, 1) + dt.timedelta(days=n))
    values = {
        "id_number": idn(n, male=male, born=born),
        "name": "王" + "一二三四五六七八九十"[n % 10] + "明",
        "gender": "男" if male else "女",
        "ethnicity": "汉族",
        "birth_date": born.isoformat(),
        "household_number": f"H{n // 3:06d}",
        "household_kind": "family",
        "relation": "户主" if n % 3 == 0 else "子",
        "address": f"沈阳市和平区测试街{n // 3}号",
        "district_code": HEPING,
        "station_code": f"{HEPING}-S01",
        "station_name": "和平区测试派出所",
        "phone": f"139{n:08d}",
        "status": "registered",
        "former_names": "",
    }
    values.update(changes)
    return values


def line(values: dict) -> str:
    return ",".join(values[name] for name in importer.HEADER)


def write(path: Path, rows, *, header: str = HEADER) -> Path:
    """Write a CSV; rows are dicts (made into lines) or raw strings (written as they are)."""
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        for r in rows:
            fh.write((line(r) if isinstance(r, dict) else r) + "\n")
    return path


def run(path, **options):
    options.setdefault("rebuild_names", False)
    return importer.import_file(path, **options)


def report_rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def cards() -> list[tuple]:
    """The person table as comparable tuples (no ids or timestamps)."""
    return sorted(
        Person.objects.values_list(
            "id_number",
            "name",
            "former_names",
            "gender",
            "ethnicity",
            "birth_date",
            "household__number",
            "relation",
            "address",
            "district__code",
            "station__code",
            "phone",
            "status",
        ),
        key=repr,
    )


def households() -> list[tuple]:
    return sorted(
        Household.objects.values_list(
            "number", "kind", "address", "district__code", "station__code"
        )
    )


WRITERS = [
    pytest.param("auto", id="auto"),  # COPY on PostgreSQL, the ORM on SQLite
    pytest.param("orm", id="orm", marks=on_postgres),  # the ORM path, also on PostgreSQL
]


# --- validation ---------------------------------------------------------------------------------

BAD_ROWS = [
    # (changes to a valid row, or a raw line, the field reported, a fragment of the reason)
    ({"id_number": ""}, "id_number", "缺少身份证号码"),
    ({"id_number": "21010219800101001"}, "id_number", "18位"),
    ({"id_number": "2101021980010100１1"}, "id_number", "格式不正确"),
    ({"id_number": "99" + idn(5)[2:]}, "id_number", "地区码"),
    ({"id_number": idn(5)[:17] + ("0" if idn(5)[17] != "0" else "1")}, "id_number", "校验位"),
    # 30 February: the body is re-checksummed so only the date is wrong.
    ({"id_number": "x"}, "id_number", "出生日期不正确"),
    ({"id_number": "future"}, "id_number", "晚于今天"),
    ({"birth_date": "1980/01/06"}, "birth_date", "YYYY-MM-DD"),
    ({"birth_date": "1980-01-07"}, "birth_date", "不一致"),
    ({"gender": "M"}, "gender", "“男”或“女”"),
    ({"gender": "女"}, "gender", "第17位"),
    ({"name": ""}, "name", "缺少姓名"),
    ({"name": "Wang明"}, "name", "2至6个汉字"),
    ({"name": "王"}, "name", "2至6个汉字"),
    ({"name": "欧阳司马上官诸"}, "name", "2至6个汉字"),
    ({"name": "·买买提"}, "name", "2至6个汉字"),
    ({"name": "王 明"}, "name", "2至6个汉字"),
    ({"ethnicity": "汉"}, "ethnicity", "民族"),
    ({"household_number": ""}, "household_number", "缺少户号"),
    ({"household_number": "户001"}, "household_number", "户号"),
    ({"household_kind": "家庭户"}, "household_kind", "family"),
    ({"relation": "户" * 17}, "relation", "16"),
    ({"address": ""}, "address", "缺少住址"),
    ({"address": "址" * 201}, "address", "200"),
    ({"district_code": "110101"}, "district_code", "区县"),
    ({"station_code": f"{SHENHE}-S01", "station_name": "沈河区某派出所"}, "station_code", "区县"),
    ({"station_code": "S07"}, "station_code", "210102-S07"),
    ({"station_code": f"{HEPING}-S77", "station_name": ""}, "station_name", "缺少名称"),
    ({"station_code": "", "station_name": "和平区某派出所"}, "station_name", "缺少派出所代码"),
    ({"phone": "12345678901"}, "phone", "11位"),
    ({"phone": "1391234567"}, "phone", "11位"),
    ({"status": "dead"}, "status", "registered"),
    ({"former_names": "王小|Li"}, "former_names", "曾用名"),
    ({"former_names": "王小||王大"}, "former_names", "曾用名"),
    ("only,three,columns", "row", "15列"),
    ("x\tbad" + ",x" * 14, "row", "控制字符"),
    ('"unterminated' + ",x" * 14, "row", "引号"),
]


def _bad_row(n: int, change) -> str:
    if isinstance(change, str):
        return change
    values = row(n)
    if change.get("id_number") == "x":  # a valid checksum around an impossible date
        body = idn(n)[:6] + "19800230" + idn(n)[14:17]
        change = {"id_number": body + _check(body)}
    elif change.get("id_number") == "future":
        body = idn(n)[:6] + "20991231" + idn(n)[14:17]
        change = {"id_number": body + _check(body)}
    values.update(change)
    return line(values)


def _check(body: str) -> str:
    return id_number_check_digit(body)


@pytest.mark.parametrize("writer", WRITERS)
def test_bad_rows_are_reported_and_good_rows_kept(tmp_path, writer):
    lines = []
    expected = {}  # line number -> (field, reason fragment)
    good = []
    for i, (change, field, reason) in enumerate(BAD_ROWS):
        good.append(row(100 + 2 * i))
        lines.append(good[-1])
        lines.append(_bad_row(101 + 2 * i, change))
        expected[len(lines) + 1] = (field, reason)  # +1: the header is line 1
    lines.append(b"\xff\xfe not utf-8".decode("latin-1"))  # written below as raw bytes
    path = write(tmp_path / "cards.csv", lines[:-1])
    with open(path, "ab") as fh:
        fh.write(b"\xff\xfe not utf-8" + b",x" * 14 + b"\n")
    expected[len(lines) + 1] = ("row", "UTF-8")

    summary = run(path, writer=writer, batch_size=7)

    assert summary.accepted == len(good)
    assert summary.rejected == len(expected)
    assert summary.lines == len(lines)
    reported = report_rows(summary.report_path)
    by_line = {}
    for r in reported:
        by_line.setdefault(int(r["line"]), []).append(r)
    assert set(by_line) == set(expected)
    for number, (field, reason) in expected.items():
        assert any(r["field"] == field and reason in r["reason"] for r in by_line[number]), (
            number,
            field,
            reason,
            by_line[number],
        )
        assert all(r["raw"] for r in by_line[number])
    assert {c[0] for c in cards()} == {g["id_number"] for g in good}
    run_row = ImportRun.objects.get(pk=summary.run_id)
    assert (run_row.lines_done, run_row.accepted, run_row.rejected) == (
        len(lines),
        len(good),
        len(expected),
    )
    assert run_row.finished_at is not None


_BORN = dt.date(1980, 1, 1)
_ID = make_id_number(HEPING, _BORN, 11)  # male
_ID_X = next(
    make_id_number("110101", _BORN, n)
    for n in range(1, 999, 2)
    if make_id_number("110101", _BORN, n)[-1] == "X"
)
_POOLS = {
    "id_number": [
        _ID,
        _ID_X,
        _ID_X.lower(),
        make_id_number(HEPING, _BORN, 12),  # a woman's number
        _ID[:17] + ("0" if _ID[17] != "0" else "1"),
        "99" + _ID[2:16] + "1" + _check("99" + _ID[2:16] + "1"),
        _ID[:6] + "19800230" + _ID[14:17] + _check(_ID[:6] + "19800230" + _ID[14:17]),
        _ID[:6] + "20991231" + _ID[14:17] + _check(_ID[:6] + "20991231" + _ID[14:17]),
        _ID[:17],
        _ID[:16] + "１" + _ID[17],
        " " + _ID[1:],
        "",
    ],
    "name": [
        "王明",
        "欧阳娜娜",
        "艾力·买买提",
        "阿依古丽·买买提",
        "·王明",
        "王明·",
        "王··明",
        "Wang",
        "王",
        "王明明明明明明",
        "𠀀明",
        "豈明",
        "王 明",
        "王明 ",
        "",
    ],
    "gender": ["男", "女", "M", ""],
    "ethnicity": ["汉族", "满族", "汉", ""],
    "birth_date": ["1980-01-01", "1980-1-1", "1980-01-02", "1980-02-30", ""],
    "household_number": ["H1", "H-1", "户1", "", "A" * 20, "A" * 21, "H 1"],
    "household_kind": ["family", "collective", "Family"],
    "relation": ["户主", "", "户" * 16, "户" * 17],
    "address": ["沈阳市某街1号", "", "址" * 200, "址" * 201],
    "district_code": [HEPING, SHENHE, "110101"],
    "station_code": [f"{HEPING}-S01", "", f"{SHENHE}-S01", f"{HEPING}-S99", "S99", f"{HEPING}-"],
    "station_name": ["和平区测试派出所", "", "所" * 65],
    "phone": ["", "13912345678", "1391234567", "12345678901", "１3912345678", "+8613912345678"],
    "status": ["registered", "moved_out", "deceased", "dead"],
    "former_names": ["", "王小", "王小|李大", "王小|", "Li", "艾力·买买提|王小"],
}


def _oracle(f: list[str], stations: dict[str, str]) -> bool:
    """The rules of the module docstring, written with core.idnumbers and names'
    validate_name instead of the importer's look-up tables."""
    from servicehall.registry.names import validate_name

    values = dict(zip(importer.HEADER, f, strict=True))
    number = values["id_number"]

    def name_ok(name):
        try:
            return validate_name(name) == name
        except ValidationError:
            return False

    if not (number.isascii() and len(number) == 18 and id_number_error(number) is None):
        return False
    code, district = values["station_code"], values["district_code"]
    if code:
        known = stations.get(code)
        station_ok = (
            known == district
            if known
            else (
                code.startswith(district + "-")
                and code[7:].isascii()
                and code[7:].replace("-", "").isalnum()
                and 0 < len(values["station_name"]) <= 64
            )
        )
    else:
        station_ok = not values["station_name"]
    return (
        values["birth_date"] == id_number_birth_date(number).isoformat()
        and {"男": "M", "女": "F"}.get(values["gender"]) == id_number_gender(number)
        and name_ok(values["name"])
        and values["ethnicity"] in importer.ETHNIC_GROUPS
        and bool(re.fullmatch(r"[0-9A-Za-z-]{1,20}", values["household_number"]))
        and values["household_kind"] in ("family", "collective")
        and len(values["relation"]) <= 16
        and 0 < len(values["address"]) <= 200
        and district in (HEPING, SHENHE)
        and station_ok
        and (not values["phone"] or bool(re.fullmatch(r"1[3-9][0-9]{9}", values["phone"])))
        and values["status"] in ("registered", "moved_out", "deceased")
        and (not values["former_names"] or all(map(name_ok, values["former_names"].split("|"))))
    )


@hsettings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.fixed_dictionaries({name: st.sampled_from(pool) for name, pool in _POOLS.items()}))
def test_the_row_checker_agrees_with_the_rules(values):
    # Valid rows mostly take the checker's fast path and unusual ones the detailed path;
    # both must accept exactly what the rules accept.
    stations = {f"{HEPING}-S01": HEPING}
    districts = {HEPING: 1, SHENHE: 2}
    f = [values[name] for name in importer.HEADER]
    check = importer.make_row_checker(districts, dict(stations), today=dt.date(2026, 11, 1))
    assert (not check(f)) == _oracle(f, stations), check(f)


def test_a_bad_row_reports_every_bad_field(tmp_path):
    path = write(tmp_path / "c.csv", [row(1, gender="M", phone="123", ethnicity="")])
    summary = run(path)
    assert {r["field"] for r in report_rows(summary.report_path)} == {
        "gender",
        "phone",
        "ethnicity",
    }
    assert summary.rejected == 1


def test_header_must_match(tmp_path):
    path = write(tmp_path / "c.csv", [row(1)], header="身份证号,姓名")
    with pytest.raises(importer.RegistryImportError, match="表头"):
        run(path)
    assert not Person.objects.exists()


@pytest.mark.parametrize("writer", WRITERS)
def test_accepted_values_are_stored_as_the_model_wants(tmp_path, writer):
    male = row(3, former_names="王小明|王晓明")
    female = row(4, male=False, phone="", station_code="", station_name="")
    minority = row(5, name="艾力·买买提", ethnicity="维吾尔族", address='沈阳市和平区"北"街,1号')
    lower_x = row(7)
    lower_x["id_number"] = lower_x["id_number"].lower()
    raw_quoted = line(minority).replace(minority["address"], '"沈阳市和平区""北""街,1号"')
    path = write(tmp_path / "c.csv", [male, female, raw_quoted, lower_x])

    summary = run(path, writer=writer)

    assert summary.accepted == 4, report_rows(summary.report_path)
    m = Person.objects.get(id_number=male["id_number"])
    assert (m.gender, m.former_names, m.station.code, m.household.number) == (
        "M",
        ["王小明", "王晓明"],
        f"{HEPING}-S01",
        "H000001",
    )
    f = Person.objects.get(id_number=female["id_number"])
    assert (f.gender, f.phone, f.station) == ("F", "", None)
    u = Person.objects.get(name="艾力·买买提")
    assert u.address == '沈阳市和平区"北"街,1号'
    assert Person.objects.filter(id_number=lower_x["id_number"].upper()).exists()


@on_postgres
def test_fast_first_load_stores_the_same_as_the_upserts(tmp_path):
    rows = [row(n) for n in range(30)]
    rows[4] = row(4, former_names="王小明|王晓明", address="沈阳市和平区\\测试街")
    rows[7] = row(7, name="阿依古丽·买买提", ethnicity="维吾尔族")  # 7 + the dot: too long
    rows[10] = row(10, name="艾力·买买提", ethnicity="维吾尔族")
    rows[8] = row(8, status="moved_out")
    rows[9] = row(9, station_code=f"{HEPING}-S09", station_name="和平区新派出所")
    rows[11] = line(row(11)).replace(row(11)["address"], '"沈阳市和平区""北""街,1号"')
    rows.append(row(5, name="王后来"))  # the later live row wins
    rows.append(row(8, status="moved_out", phone=""))  # the later closed row wins
    path = write(tmp_path / "c.csv", rows)

    fast = run(path, fast_first_load=True, batch_size=4)
    assert fast.fast_first_load
    fast_cards, fast_households = cards(), households()
    Person.objects.all().delete()
    Household.objects.all().delete()
    slow = run(path, fast_first_load=False, writer="orm", restart=True, batch_size=4)
    assert not slow.fast_first_load

    assert fast_cards == cards()
    assert fast_households == households()
    assert len(fast_cards) == 29
    assert fast.rejected == slow.rejected == 1
    assert {c[0]: c[1] for c in fast_cards}[row(5)["id_number"]] == "王后来"
    assert Person.objects.get(id_number=row(11)["id_number"]).address == '沈阳市和平区"北"街,1号'
    assert Person.objects.get(id_number=row(4)["id_number"]).address == "沈阳市和平区\\测试街"
    assert fast.duplicates_removed == 2


def _schema() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename IN ('registry_person', 'registry_household') "
            "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid IN ('registry_person'::regclass, 'registry_household'::regclass)"
        )
        return sorted(cursor.fetchall())


@on_postgres
def test_fast_first_load_gives_back_every_index_and_foreign_key(tmp_path):
    before = _schema()
    path = write(tmp_path / "c.csv", [row(n) for n in range(10)])
    summary = run(path, fast_first_load=True, batch_size=3)
    assert summary.fast_first_load and summary.schema_rebuilt
    assert _schema() == before
    assert importer.ensure_schema() == []


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_first_load_outside_a_transaction_builds_two_indexes_at_a_time(tmp_path, monkeypatch):
    # What the command does: autocommit, a reader process, a second connection building
    # indexes alongside the first.
    lanes = []
    real = importer._build_indexes

    def spy(cursor, unique, indexes):
        lanes.append(not connection.in_atomic_block)
        return real(cursor, unique, indexes)

    monkeypatch.setattr(importer, "_build_indexes", spy)
    before = _schema()
    rows = [row(n) for n in range(40)] + [row(3, name="王后来"), row(4, status="deceased")]
    summary = run(write(tmp_path / "c.csv", rows), fast_first_load=True, batch_size=7)

    assert lanes == [True]
    assert summary.fast_first_load and summary.duplicates_removed == 1
    assert _schema() == before
    assert Person.objects.count() == 41
    assert Person.objects.get(id_number=row(3)["id_number"]).name == "王后来"


@on_postgres
def test_the_next_import_completes_a_first_load_that_was_killed(tmp_path):
    from servicehall.registry.tests.factories import HouseholdFactory, PersonFactory

    # A killed process runs no clean-up: the tables stay without their indexes and keys,
    # with what it had appended (here one live card twice, the earlier one replaced).
    importer._prepare_schema(resuming=False, wanted=True, out=io.StringIO())
    assert importer._missing_parts()
    home = HouseholdFactory()
    PersonFactory(household=home, id_number=row(1)["id_number"], name="王前")
    PersonFactory(household=home, id_number=row(1)["id_number"], name="王后")

    out = io.StringIO()
    summary = run(write(tmp_path / "c.csv", [row(n) for n in range(2, 6)]), stdout=out)

    assert "上次导入未完成" in out.getvalue()
    assert not summary.fast_first_load
    assert importer._missing_parts() == []
    assert list(
        Person.objects.filter(id_number=row(1)["id_number"]).values_list("name", flat=True)
    ) == ["王后"]
    assert Person.objects.count() == 5


# --- idempotence, updates, resuming -----------------------------------------------------------


@pytest.mark.parametrize("writer", WRITERS)
def test_rerun_does_not_duplicate_and_applies_changes(tmp_path, writer):
    rows = [row(n) for n in range(12)]
    path = write(tmp_path / "v1.csv", rows)
    first = run(path, writer=writer, batch_size=5)
    assert first.counts.persons_created == 12
    before = cards()

    again = run(path, writer=writer, batch_size=5)  # the same file, finished: re-applied
    assert again.run_id != first.run_id
    assert again.counts.persons_created == 0
    assert again.counts.households_created == 0
    assert cards() == before

    rows[3] = row(3, address="沈阳市和平区新址1号", phone="13900000000")  # a head: moves
    rows[4] = row(4, status="deceased")
    rows[5] = row(5, household_number="H000009", relation="其他")  # moves household
    v2 = write(tmp_path / "v2.csv", rows)
    third = run(v2, writer=writer, batch_size=5)

    assert third.counts.persons_created == 0
    assert Person.objects.count() == 12
    assert Person.objects.get(id_number=rows[3]["id_number"]).address == "沈阳市和平区新址1号"
    assert Household.objects.get(number="H000001").address == "沈阳市和平区新址1号"
    assert Person.objects.get(id_number=rows[4]["id_number"]).status == "deceased"
    assert Person.objects.get(id_number=rows[5]["id_number"]).household.number == "H000009"
    assert run(v2, writer=writer, batch_size=3).counts.persons_created == 0
    assert Person.objects.count() == 12


@pytest.mark.parametrize("writer", WRITERS)
def test_moved_out_and_registered_cards_of_one_id_number_coexist(tmp_path, writer):
    moved = row(1, household_number="H000100", status="moved_out")
    live = row(1, household_number="H000200", relation="户主")
    back = row(2, status="moved_out")  # moved out of H000000 and back (registered below)
    back_live = row(2)
    path = write(tmp_path / "c.csv", [moved, live, back, back_live])

    run(path, writer=writer, batch_size=1)
    run(path, writer=writer, batch_size=3)

    assert sorted(
        Person.objects.filter(id_number=moved["id_number"]).values_list(
            "household__number", "status"
        )
    ) == [("H000100", "moved_out"), ("H000200", "registered")]
    assert sorted(
        Person.objects.filter(id_number=back["id_number"]).values_list("status", flat=True)
    ) == ["moved_out", "registered"]


@pytest.mark.parametrize("writer", WRITERS)
def test_a_newer_file_closes_the_live_card_instead_of_adding_one(tmp_path, writer):
    run(write(tmp_path / "v1.csv", [row(1), row(2)]), writer=writer)
    run(write(tmp_path / "v2.csv", [row(1, status="deceased"), row(2)]), writer=writer)
    assert list(
        Person.objects.filter(id_number=row(1)["id_number"]).values_list("status", flat=True)
    ) == ["deceased"]
    assert Person.objects.count() == 2


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("batch_size", [1, 50])
def test_a_duplicate_live_id_number_the_later_row_wins(tmp_path, writer, batch_size):
    path = write(
        tmp_path / "c.csv", [row(1, name="王前"), row(2), row(1, name="王后", relation="其他")]
    )
    summary = run(path, writer=writer, batch_size=batch_size)
    assert summary.accepted == 3
    assert list(
        Person.objects.filter(id_number=row(1)["id_number"]).values_list("name", "relation")
    ) == [("王后", "其他")]


def _interrupt_after(batches: int):
    calls = []

    def on_batch(import_run):
        calls.append(import_run.lines_done)
        if len(calls) == batches:
            raise KeyboardInterrupt  # what Ctrl-C raises

    return on_batch


@pytest.mark.parametrize(
    "writer, fast",
    [
        pytest.param("auto", False, id="auto"),
        pytest.param("orm", False, id="orm", marks=on_postgres),
        pytest.param("copy", True, id="fast-first-load", marks=on_postgres),
    ],
)
def test_an_interrupted_run_resumes_without_duplicates(tmp_path, writer, fast):
    rows = [row(n) for n in range(20)]
    rows[2] = _bad_row(2, {"phone": "1"})  # in the first batch
    rows[13] = _bad_row(13, {"name": "X"})  # in the third batch
    path = write(tmp_path / "c.csv", rows)
    options = {"writer": writer, "batch_size": 5, "fast_first_load": fast}

    with pytest.raises(KeyboardInterrupt):
        run(path, on_batch=_interrupt_after(2), **options)
    # An interrupted fast first load stays one (without its indexes) until it resumes.
    assert bool(connection.vendor == "postgresql" and importer._missing_parts()) == fast
    partial = ImportRun.objects.get()
    assert (partial.lines_done, partial.finished_at) == (10, None)
    assert Person.objects.count() == 9

    summary = run(path, **options)

    assert summary.run_id == partial.pk
    assert summary.resumed_from_line == 10
    assert summary.lines == 10
    assert Person.objects.count() == 18
    assert len({c[0] for c in cards()}) == 18
    finished = ImportRun.objects.get()
    assert (finished.lines_done, finished.accepted, finished.rejected) == (20, 18, 2)
    assert [int(r["line"]) for r in report_rows(summary.report_path)] == [4, 15]
    assert "从第 12 行继续" in summary.lines_text()[0]
    assert summary.fast_first_load == fast
    assert connection.vendor != "postgresql" or importer._missing_parts() == []


@pytest.mark.parametrize("writer", WRITERS)
def test_a_batch_that_failed_mid_write_leaves_no_trace_in_the_report(tmp_path, writer, monkeypatch):
    rows = [row(n) for n in range(10)]
    rows[1] = _bad_row(1, {"phone": "1"})
    rows[6] = _bad_row(6, {"phone": "2"})  # second batch: reported, then the batch fails
    path = write(tmp_path / "c.csv", rows)
    calls = []
    for cls in (importer._CopyWriter, importer._OrmWriter, importer._DirectWriter):
        real = cls.write

        def failing(self, rows, real=real):
            calls.append(1)
            counts = real(self, rows)  # written, inside the batch's transaction
            if len(calls) == 2:
                raise RuntimeError("disk full")
            return counts

        monkeypatch.setattr(cls, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        run(path, writer=writer, batch_size=5)
    assert [int(r["line"]) for r in report_rows(tmp_path / "c.csv.rejected.csv")] == [3, 8]
    monkeypatch.undo()

    summary = run(path, writer=writer, batch_size=5)
    assert summary.resumed_from_line == 5
    assert [int(r["line"]) for r in report_rows(summary.report_path)] == [3, 8]
    assert Person.objects.count() == 8


def test_restart_starts_over_and_still_does_not_duplicate(tmp_path):
    path = write(tmp_path / "c.csv", [row(n) for n in range(6)])
    with pytest.raises(KeyboardInterrupt):
        run(path, batch_size=2, on_batch=_interrupt_after(1))
    summary = run(path, batch_size=2, restart=True)
    assert (summary.resumed_from_line, summary.lines) == (0, 6)
    assert Person.objects.count() == 6
    assert ImportRun.objects.count() == 2


# --- stations, names, memory, the command ---------------------------------------------------


@pytest.mark.parametrize("writer", WRITERS)
def test_unknown_stations_of_a_known_district_are_created_and_counted(tmp_path, writer):
    rows = [
        row(1, station_code=f"{HEPING}-S21", station_name="和平区甲派出所"),
        row(2, station_code=f"{HEPING}-S21", station_name="和平区甲派出所"),
        row(3, station_code=f"{HEPING}-S22", station_name="和平区乙派出所"),
        row(4, station_code=f"{SHENHE}-S23", station_name="沈河区丙派出所"),  # other district
    ]
    summary = run(write(tmp_path / "c.csv", rows), writer=writer, batch_size=2)
    assert summary.stations_created == 2
    assert summary.rejected == 1
    station = Station.objects.get(code=f"{HEPING}-S21")
    assert (station.name, station.district.code) == ("和平区甲派出所", HEPING)
    assert Person.objects.get(id_number=row(2)["id_number"]).station == station
    assert not Station.objects.filter(code=f"{SHENHE}-S23").exists()


def test_the_name_statistics_are_rebuilt_after_an_import(tmp_path, monkeypatch):
    names = pytest.importorskip("servicehall.registry.names")
    calls = []
    monkeypatch.setattr(names, "rebuild", lambda: calls.append(1))
    summary = run(write(tmp_path / "c.csv", [row(1)]), rebuild_names=True)
    assert summary.names_rebuilt and calls == [1]
    assert not run(write(tmp_path / "d.csv", [row(2)]), rebuild_names=False).names_rebuilt
    assert calls == [1]


def test_the_real_name_statistics_follow_the_import(tmp_path):
    names = pytest.importorskip("servicehall.registry.names")
    rows = [row(n, name="李雷") for n in range(4)] + [row(9, name="李雷", status="deceased")]
    summary = run(write(tmp_path / "c.csv", rows), rebuild_names=True)
    assert summary.names_rebuilt
    assert names.query("李雷").total == 4


def _city(path: Path, people: int) -> Path:
    """A file written from a generator, a line at a time (no list of rows in memory)."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(HEADER + "\n")
        for n in range(people):
            values = row(n, born=dt.date(1940, 1, 1) + dt.timedelta(days=n % 20000))
            values["id_number"] = make_id_number(
                HEPING, dt.date(1940, 1, 1) + dt.timedelta(days=n % 20000), (n // 20000) * 2 + 1
            )
            values["name"] = "王" + "一二三四五六七八九十"[n % 10] + "明"
            fh.write(line(values) + "\n")
    return path


def test_memory_stays_flat_however_long_the_file(tmp_path):
    # 60 batches: the peak of traced allocations per batch must not grow along the file
    # (the later half against the earlier one, once one-off caches have filled). No timings.
    path = _city(tmp_path / "city.csv", 12_000)
    peaks = []

    def on_batch(_run):
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.reset_peak()

    tracemalloc.start()
    try:
        summary = run(path, batch_size=200, fast_first_load=False, on_batch=on_batch)
    finally:
        tracemalloc.stop()
    assert summary.accepted == summary.lines == 12_000
    assert len(peaks) == 60
    assert max(peaks[30:]) < max(peaks[10:30]) * 1.2, peaks


def test_the_command_prints_a_summary_and_writes_the_report(tmp_path):
    path = write(tmp_path / "c.csv", [row(1), row(2), _bad_row(3, {"gender": "M"})])
    report = tmp_path / "out" / "rejected.csv"
    out = io.StringIO()
    call_command(
        "import_registry",
        str(path),
        "--report",
        str(report),
        "--no-progress",
        "--no-name-stats",
        stdout=out,
    )
    text = out.getvalue()
    for fragment in ("读取行数: 3", "导入: 2", "拒绝: 1", str(report), "户: 新建 1", "行/秒"):
        assert fragment in text
    assert [r["field"] for r in report_rows(report)] == ["gender"]
    assert AuditEntry.objects.filter(action="registry.import").exists()


@on_postgres
def test_the_command_completes_an_interrupted_first_load_on_request(tmp_path):
    path = write(tmp_path / "c.csv", [row(n) for n in range(6)])
    with pytest.raises(KeyboardInterrupt):
        run(path, fast_first_load=True, batch_size=2, on_batch=_interrupt_after(1))
    assert importer._missing_parts()
    out = io.StringIO()
    call_command("import_registry", "--complete-schema", stdout=out)
    assert "已重建" in out.getvalue()
    assert importer._missing_parts() == []
    call_command("import_registry", "--complete-schema", stdout=out)
    assert "索引和外键完整" in out.getvalue()


def test_the_command_refuses_a_missing_file_or_a_bad_header_clearly(tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_registry", str(tmp_path / "none.csv"), "--no-progress")
    path = write(tmp_path / "c.csv", [], header="a,b,c")
    with pytest.raises(CommandError, match="第1行应为表头"):
        call_command("import_registry", str(path), "--no-progress")


def test_the_command_shows_a_progress_bar(tmp_path, capsys):
    path = write(tmp_path / "c.csv", [row(n) for n in range(5)])
    call_command("import_registry", str(path), "--no-name-stats", stdout=io.StringIO())
    assert "导入" in capsys.readouterr().err
