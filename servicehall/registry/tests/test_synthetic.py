"""The synthetic city: deterministic, valid row by row, unique IDs, plausible shape, streaming.

No database is needed: the generator and its command only write files.
"""

from __future__ import annotations

import collections
import datetime as dt
import io
import itertools
import re
import tracemalloc

import pytest
from django.core.management import CommandError, call_command

from servicehall.accounts.organisation import SHENYANG_DISTRICTS
from servicehall.core.idnumbers import (
    id_number_birth_date,
    id_number_gender,
    is_valid_cn_mobile,
    is_valid_id_number,
    make_id_number,
)
from servicehall.registry import synthetic
from servicehall.registry.synthetic import HEADER, REFERENCE_DATE, city_text, iter_city, write_city

DISTRICT_CODES = {code for code, _ in SHENYANG_DISTRICTS}
DISTRICT_NAMES = dict(SHENYANG_DISTRICTS)
NAME = re.compile(r"^[\u4e00-\u9fff]+(\u00b7[\u4e00-\u9fff]+)?$")
SAMPLE = 50_000


@pytest.fixture(scope="module")
def sample() -> list[tuple[str, ...]]:
    """A 50k-resident city, shared by the distribution checks (~0.5 s)."""
    return list(iter_city(SAMPLE, 2026))


def _age(birth: str) -> int:
    born = dt.date.fromisoformat(birth)
    return (
        REFERENCE_DATE.year
        - born.year
        - ((born.month, born.day) > (REFERENCE_DATE.month, REFERENCE_DATE.day))
    )


def _surname(name: str) -> str:
    shares = synthetic.han_surname_shares()
    return name[:2] if name[:2] in shares else name[:1]


# --- determinism ----------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes():
    first = city_text(3000, 7)
    assert city_text(3000, 7) == first
    assert city_text(3000, 8) != first
    assert first.startswith(",".join(HEADER) + "\n")
    assert first.count("\n") == 3001


def test_output_does_not_depend_on_workers(tmp_path):
    """Several chunks and all lanes, generated in one process and in three."""
    one, three = tmp_path / "one.csv", tmp_path / "three.csv"
    assert write_city(one, 9000, 5, workers=1, chunk_size=1000) == 9000
    assert write_city(three, 9000, 5, workers=3, chunk_size=1000) == 9000
    assert one.read_bytes() == three.read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_empty_city_is_a_header():
    assert city_text(0, 1) == ",".join(HEADER) + "\n"
    with pytest.raises(ValueError):
        list(iter_city(-1, 1))


# --- every row valid ------------------------------------------------------------------------


def test_every_row_validates(sample):
    relations = set(synthetic.RELATIONS)
    stations = {code: (district, name) for district, code, name in synthetic.stations()}
    for row in sample:
        assert len(row) == len(HEADER)
        (id_number, name, gender, ethnicity, birth, household, kind, relation, address,
         district, station, station_name, phone, status, former) = row  # fmt: skip
        assert is_valid_id_number(id_number, today=REFERENCE_DATE), row
        assert id_number_birth_date(id_number).isoformat() == birth, row
        assert id_number_gender(id_number) == ("M" if gender == "男" else "F"), row
        assert int(id_number[14:17]) < 990, "990-999 are left to hand-made numbers"
        assert 2 <= len(name) <= 6 and NAME.match(name), row
        assert ethnicity in synthetic.ETHNICITIES
        assert district in DISTRICT_CODES
        assert stations[station] == (district, station_name), row
        assert re.fullmatch(rf"{district}-S\d\d", station)
        assert address.startswith("沈阳市" + DISTRICT_NAMES[district]), row
        assert household.startswith(district) and kind in ("family", "collective")
        assert relation in relations
        assert phone == "" or (is_valid_cn_mobile(phone) and phone.startswith("154")), row
        assert status in synthetic.STATUSES
        for old in filter(None, former.split("|")):
            assert old != name and 2 <= len(old) <= 6 and NAME.match(old), row
        assert dt.date(1920, 1, 1) <= dt.date.fromisoformat(birth) < REFERENCE_DATE


def test_check_digit_is_gb11643_as_make_id_number_computes_it(sample):
    for row in sample[:2000]:
        number = row[0]
        birth = dt.date.fromisoformat(row[4])
        assert make_id_number(number[:6], birth, int(number[14:17])) == number


def test_id_numbers_are_unique():
    seen = set()
    for row in iter_city(60_000, 11, chunk_size=5000):
        assert row[0] not in seen
        seen.add(row[0])


def test_region_codes_home_district_or_elsewhere(sample):
    born_here = sum(row[0][:6] == row[9] for row in sample) / len(sample)
    assert 0.70 <= born_here <= 0.80
    assert all(row[0][:2] in {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33",
                              "34", "35", "36", "37", "41", "42", "43", "44", "45", "46", "50",
                              "51", "52", "53", "61", "62", "63", "64", "65"} for row in sample)  # fmt: skip


def test_households_are_consistent(sample):
    households = collections.defaultdict(list)
    for row in sample:
        households[row[5]].append(row)
    last = sample[-1][5]  # may be cut short by the city's size
    for number, members in households.items():
        assert len({(m[6], m[8], m[9], m[10]) for m in members}) == 1, "one address and station"
        if members[0][6] == "collective":
            assert {m[7] for m in members} == {"其他"}
            continue
        assert len(members) <= 6
        heads = [m for m in members if m[7] == "户主"]
        assert len(heads) == 1 and members[0] is heads[0], number
        head_age = _age(heads[0][4])
        assert head_age >= 18
        for member in members[1:]:
            age, relation = _age(member[4]), member[7]
            if relation in ("子", "女"):
                assert head_age - age >= 17, members
                assert (relation == "子") == (member[2] == "男")
            elif relation in ("孙子", "孙女"):
                assert head_age - age >= 34, members
            elif relation in ("父", "母"):
                assert age - head_age >= 20, members
                assert (relation == "父") == (member[2] == "男")
            elif relation == "配偶":
                assert member[2] != heads[0][2] and age >= 18, members
        if number != last and any(m[7] == "配偶" for m in members):
            spouses = [heads[0], next(m for m in members if m[7] == "配偶")]
            father = next(m for m in spouses if m[2] == "男")
            for kid in (m for m in members if m[7] in ("子", "女") and "·" not in m[1]):
                if father[3] != "蒙古族" and kid[3] != "蒙古族":
                    assert kid[1].startswith(_surname(father[1])), members


# --- the shape of the city ------------------------------------------------------------------


def test_surnames_follow_the_national_order_with_a_north_eastern_accent(sample):
    han = [row[1] for row in sample if row[3] == "汉族"]
    counts = collections.Counter(_surname(name) for name in han)
    top = [name for name, _ in counts.most_common(12)]
    assert set(top[:4]) == {"王", "李", "张", "刘"}
    assert {"赵", "杨", "孙", "陈"} <= set(top[:10])
    assert 0.06 <= counts["王"] / len(han) <= 0.11
    assert counts["张"] > counts["赵"] > counts["覃"]
    shares = synthetic.han_surname_shares()
    assert len(shares) >= 300
    for tricky in "曾单解仇区朴覃查":  # pinyin tools misread these as surnames
        assert 0 < shares[tricky] < 0.005, tricky
    for compound in ("欧阳", "司马", "上官", "诸葛", "慕容"):
        assert compound in shares
    everyone = collections.Counter(_surname(row[1]) for row in sample)
    assert everyone["曾"] and everyone["单"] and everyone["解"] and everyone["朴"]
    assert sum(everyone[c] for c in ("欧阳", "司马", "上官", "诸葛", "慕容", "司徒")) > 0


def test_ethnicities_and_minority_names(sample):
    counts = collections.Counter(row[3] for row in sample)
    n = len(sample)
    assert 0.80 <= counts["汉族"] / n <= 0.87
    assert 0.10 <= counts["满族"] / n <= 0.15
    for minority in ("蒙古族", "回族", "朝鲜族", "锡伯族"):
        assert counts[minority] > 0.001 * n, minority
    korean = collections.Counter(row[1][0] for row in sample if row[3] == "朝鲜族")
    assert {"金", "李", "朴"} <= {s for s, _ in korean.most_common(5)}
    dotted = [row for row in sample if "·" in row[1]]
    assert dotted and all(row[3] == "维吾尔族" for row in dotted)


def test_popular_names_collide_and_rare_ones_do_not(sample):
    names = collections.Counter(row[1] for row in sample)
    assert names["张伟"] + names["王伟"] + names["李伟"] >= 60
    assert names["王芳"] + names["李娜"] + names["张敏"] >= 30
    unique = sum(1 for count in names.values() if count == 1)
    assert unique / len(names) >= 0.6


def test_given_names_by_generation(sample):
    single = collections.Counter()
    total = collections.Counter()
    for row in sample:
        if row[3] != "汉族":
            continue
        given = row[1][len(_surname(row[1])) :]
        cohort = "old" if row[4] < "1960" else "young" if row[4] >= "1980" else "mid"
        total[cohort] += 1
        single[cohort] += len(given) == 1
    assert (
        single["old"] / total["old"]
        > single["mid"] / total["mid"]
        > single["young"] / total["young"]
    )
    assert 0.75 <= 1 - single["young"] / total["young"] <= 0.9  # two characters ≈ 80 %
    young = collections.Counter(
        row[1][1:] for row in sample if row[4] >= "2010" and row[3] == "汉族"
    )
    old = collections.Counter(row[1][1:] for row in sample if row[4] < "1960" and row[3] == "汉族")
    assert sum(young[g] for g in ("子涵", "梓萱", "浩然", "一诺", "梓涵", "宇轩")) > 0
    assert sum(old[g] for g in ("建国", "国庆", "淑珍", "桂兰", "秀英")) > 0
    assert sum(young[g] for g in ("淑珍", "桂兰", "建国")) == 0


def test_sex_ratio_and_age_pyramid(sample):
    n = len(sample)
    genders = collections.Counter(row[2] for row in sample)
    assert 0.97 <= genders["男"] / genders["女"] <= 1.06
    years = collections.Counter(int(row[4][:4]) for row in sample)
    bulge = sum(years[y] for y in range(1960, 1990)) / n
    after = sum(years[y] for y in range(1990, 2020)) / n
    assert bulge > 0.4 and bulge > after * 1.3
    children = sum(1 for row in sample if _age(row[4]) < 15) / n
    elderly = sum(1 for row in sample if _age(row[4]) >= 60) / n
    assert 0.06 <= children <= 0.13
    assert 0.22 <= elderly <= 0.36
    assert min(years) >= 1920 and max(years) == 2026


def test_districts_statuses_phones_former_names(sample):
    n = len(sample)
    districts = collections.Counter(row[9] for row in sample)
    assert set(districts) == DISTRICT_CODES
    for big in ("210102", "210103", "210104", "210105", "210106", "210112", "210114"):
        for small in ("210123", "210124", "210115"):
            assert districts[big] > districts[small]
    per_district = collections.Counter(code for code, _, _ in synthetic.stations())
    assert all(8 <= count <= 30 for count in per_district.values())
    statuses = collections.Counter(row[13] for row in sample)
    assert 0.96 <= statuses["registered"] / n <= 0.985
    assert 0.005 <= statuses["deceased"] / n <= 0.02
    assert 0.005 <= statuses["moved_out"] / n <= 0.02
    dead_ages = [_age(row[4]) for row in sample if row[13] == "deceased"]
    assert sum(dead_ages) / len(dead_ages) > 65
    adults = [row for row in sample if 18 <= _age(row[4]) <= 70]
    assert sum(bool(row[12]) for row in adults) / len(adults) > 0.85
    assert not any(row[12] for row in sample if _age(row[4]) < 12)
    assert 0.01 <= sum(bool(row[14]) for row in sample) / n <= 0.03
    kinds = collections.Counter(row[6] for row in sample)
    assert 0.01 <= kinds["collective"] / n <= 0.06


# --- streaming ------------------------------------------------------------------------------


def test_iter_city_streams():
    """The first rows of a 10-million city come at once: nothing is materialised."""
    rows = list(itertools.islice(iter_city(10_000_000, 1), 5))
    assert len(rows) == 5


class _Discard:
    def write(self, data: bytes) -> None:
        pass


def test_memory_does_not_grow_with_the_city():
    synthetic._tables()  # built once per process, whatever the size

    def peak(people: int) -> int:
        tracemalloc.start()
        try:
            write_city(_Discard(), people, 4, chunk_size=250)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(1000), peak(6000)
    assert large - small < 2_000_000, (small, large)


# --- the command ----------------------------------------------------------------------------


def test_command_writes_the_file(tmp_path):
    out = tmp_path / "city.csv"
    stdout = io.StringIO()
    call_command(
        "generate_city",
        people=120,
        seed=9,
        out=str(out),
        workers=2,
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert out.read_text(encoding="utf-8") == city_text(120, 9)
    assert "wrote 120 residents" in stdout.getvalue()


def test_command_writes_to_stdout():
    stdout = io.StringIO()
    call_command("generate_city", "--people", "30", "--seed", "4", "--out", "-", stdout=stdout)
    assert stdout.getvalue() == city_text(30, 4)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--people", "-1", "--out", "{tmp}/x.csv"], "--people"),
        (["--people", "5", "--out", "{tmp}/missing/x.csv"], "does not exist"),
        (["--people", "5", "--workers", "0", "--out", "{tmp}/x.csv"], "--workers"),
    ],
)
def test_command_refuses_bad_arguments(tmp_path, arguments, message):
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("generate_city", *arguments)
