"""The same-name query: validation, counts equal to independent counts over persons, the
rebuild (both paths, schema kept, atomic for readers), the API and page, the rate limit."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.db.models.functions import ExtractYear
from django.urls import reverse

from servicehall.accounts.models import District
from servicehall.accounts.organisation import sync_districts
from servicehall.accounts.tests.factories import district
from servicehall.registry import names
from servicehall.registry.models import NameStat, Person, PersonStatus, PinyinStat
from servicehall.registry.schemas import NameAnswerOut
from servicehall.registry.tests.factories import HouseholdFactory, PersonFactory

API = "/api/registry/names"
PAGE = "/registry/names/"

# --- helpers shared with test_actions -----------------------------------------------------------


@pytest.fixture
def city(catalogue):
    """The catalogue and the 13 districts (a transactional test's flush empties them)."""
    sync_districts(District)
    return catalogue


def independent(name: str, district_code: str | None = None) -> dict:
    """What the answer must say, counted straight from the person table."""
    people = Person.objects.filter(name=name, status=PersonStatus.REGISTERED)
    if district_code:
        people = people.filter(district__code=district_code)
    decades = Counter()
    for year, gender in people.annotate(y=ExtractYear("birth_date")).values_list("y", "gender"):
        decades[(year // 10 * 10, gender)] += 1
    return {
        "total": people.count(),
        "male": people.filter(gender="M").count(),
        "female": people.filter(gender="F").count(),
        "decades": {
            decade: (decades[(decade, "M")], decades[(decade, "F")])
            for decade in sorted({d for d, _ in decades})
        },
    }


def answered(answer_part) -> dict:
    return {
        "total": answer_part.total,
        "male": answer_part.male,
        "female": answer_part.female,
        "decades": {row.decade: (row.male, row.female) for row in answer_part.decades},
    }


def same_sound(key: str, toned: bool) -> Counter:
    """Registered persons per spelling whose name has this pronunciation (independently)."""
    from servicehall.registry.pinyin import name_pinyin

    counts = Counter(
        Person.objects.filter(status=PersonStatus.REGISTERED).values_list("name", flat=True)
    )
    return Counter({n: c for n, c in counts.items() if name_pinyin(n)[int(toned)] == key})


def assert_consistent(sample) -> None:
    """Counts, splits and homophones for each name equal independent counts."""
    for name in sample:
        answer = names.query(name)
        assert answered(answer) == independent(name), name
        for code in ("210102", "210103"):
            scoped = names.query(name, code)
            assert answered(scoped.district) == independent(name, code), (name, code)
        for sound, toned in ((answer.same_pinyin, False), (answer.same_tones, True)):
            expected = same_sound(sound.pinyin, toned)
            assert sound.total == sum(expected.values()), name
            assert sound.spellings == len(expected)
            assert sound.others == sum(c for n, c in expected.items() if n != name)
            ranked = sorted(expected.items(), key=lambda nc: (-nc[1], nc[0]))[:10]
            assert [(s.name, s.count) for s in sound.top] == ranked


def stats_snapshot() -> tuple[list, list]:
    return (
        sorted(
            NameStat.objects.values_list(
                "name", "pinyin", "pinyin_tones", "total", "male", "female", "decades", "detail"
            )
        ),
        sorted(PinyinStat.objects.values_list("key", "toned", "total", "spellings", "top")),
    )


def households() -> dict[str, object]:
    return {
        "210102": HouseholdFactory(),  # station in 和平区
        "210103": HouseholdFactory(station=None, district=district("210103")),
        "210104": HouseholdFactory(station=None, district=district("210104")),
    }


def populate() -> None:
    """A small registry with same names, homophones, several decades and districts, and
    people who must not be counted (moved out, deceased)."""
    homes = households()
    rows = [
        # name, district, birth year, gender, status
        ("张伟", "210102", 1985, "M", "registered"),
        ("张伟", "210102", 1987, "M", "registered"),
        ("张伟", "210102", 1991, "F", "registered"),
        ("张伟", "210103", 1985, "M", "registered"),
        ("张伟", "210104", 2012, "M", "registered"),
        ("张伟", "210103", 1960, "M", "deceased"),
        ("张伟", "210102", 1970, "F", "moved_out"),
        ("张薇", "210102", 1990, "F", "registered"),
        ("张薇", "210103", 1992, "F", "registered"),
        ("章伟", "210104", 1975, "M", "registered"),
        ("张维", "210102", 1965, "M", "registered"),
        ("曾伟", "210103", 2001, "M", "registered"),  # zeng, not ceng
        ("单明", "210102", 1999, "M", "registered"),
        ("买买提·艾力", "210104", 1995, "F", "registered"),
        ("王芳", "210103", 1958, "F", "deceased"),  # nobody living: not counted at all
    ]
    for i, (name, code, year, gender, status) in enumerate(rows):
        PersonFactory(
            name=name,
            household=homes[code],
            birth_date=dt.date(year, 1 + i % 12, 1 + i),
            gender=gender,
            status=status,
        )


SAMPLE = ["张伟", "张薇", "章伟", "张维", "曾伟", "单明", "买买提·艾力", "王芳", "李四"]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张伟", "张伟"),
        ("  张伟 ", "张伟"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),  # bullet typed for the dot
        ("买买提・艾力", "买买提·艾力"),  # katakana middle dot
        ("爱新觉罗溥仪", "爱新觉罗溥仪"),
        ("王\U00020001", "王\U00020001"),  # an extension B ideograph
        ("艾力·买买提江", "艾力·买买提江"),  # 6 characters: the dot does not count
    ],
)
def test_valid_names(raw, expected):
    assert names.validate_name(raw) == expected


BAD_NAMES = [
    ("张", "2至6个汉字"),
    ("爱新觉罗溥仪子", "2至6个汉字"),  # 7 characters
    ("阿依古丽·买买提", "2至6个汉字"),  # 7 characters and a dot
    ("Zhang Wei", "不能包含字母"),
    ("张wei", "不能包含字母"),
    ("张伟1", "不能包含字母"),
    ("张 伟", "不能包含字母"),  # a space inside
    ("张伟😀", "不能包含字母"),
    ("·张伟", "间隔号"),
    ("张伟·", "间隔号"),
    ("买买提··艾力", "间隔号"),
    ("张伟！", "不能包含字母"),
    ("ＡＢ", "不能包含字母"),  # full-width letters
    ("", "请输入"),
    ("   ", "请输入"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_NAMES)
def test_invalid_names(raw, message):
    with pytest.raises(names.ValidationError) as error:
        names.validate_name(raw)
    assert message in error.value.messages[0]


# --- counts ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rebuild_counts_equal_independent_counts(city):
    populate()
    report = names.rebuild()
    assert report.persons == Person.objects.filter(status=PersonStatus.REGISTERED).count() == 12
    assert report.names == 7
    assert_consistent(SAMPLE)
    answer = names.query("张伟", "210102")
    assert (answer.total, answer.male, answer.female) == (5, 4, 1)
    assert answer.district.name == "和平区" and answer.district.total == 3
    assert [(d.decade, d.total) for d in answer.decades] == [(1980, 3), (1990, 1), (2010, 1)]
    # Homophones: 张伟 章伟 张维 张薇 sound alike; only 张伟 and 章伟 share the tones.
    assert answer.same_pinyin.total == 9 and answer.same_pinyin.others == 4
    assert answer.same_pinyin.spellings == 4
    assert [(s.name, s.count, s.is_query) for s in answer.same_pinyin.top][:2] == [
        ("张伟", 5, True),
        ("张薇", 2, False),
    ]
    assert answer.same_tones.pinyin == "zhang1 wei3"
    assert {s.name for s in answer.same_tones.top} == {"张伟", "章伟"}
    # The surname reading decides the homophones: 曾伟 is zeng, not ceng.
    assert names.query("曾伟").same_pinyin.pinyin == "zeng wei"


@pytest.mark.django_db
def test_unknown_and_dead_names_are_zero(city):
    populate()
    names.rebuild()
    for name in ("李四", "王芳"):
        answer = names.query(name, "210102")
        assert (answer.total, answer.male, answer.female, answer.decades) == (0, 0, 0, [])
        assert answer.district.total == 0
        assert answer.same_tones.top == [] or all(not s.is_query for s in answer.same_tones.top)


@pytest.mark.django_db
def test_both_rebuild_paths_build_the_same_tables(city, monkeypatch):
    populate()
    names.rebuild()
    fast = stats_snapshot()
    monkeypatch.setattr(connection, "vendor", "portable-path")
    names.rebuild()
    monkeypatch.undo()
    assert stats_snapshot() == fast
    assert fast[0] and fast[1]


@pytest.mark.django_db
def test_rebuild_replaces_previous_counts(city):
    populate()
    names.rebuild()
    Person.objects.filter(name="张薇").update(status=PersonStatus.MOVED_OUT)
    names.rebuild()
    assert not NameStat.objects.filter(name="张薇").exists()
    assert_consistent(["张伟", "张薇"])


# --- rebuild on PostgreSQL: schema kept, invisible to readers until it commits -----------------


def _schema(table: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, regexp_replace(indexdef, ' ON \\S+', '') FROM pg_indexes "
            "WHERE tablename = %s ORDER BY indexname",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, is_identity FROM "
            "information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [indexes, constraints, cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db
def test_rebuild_keeps_the_tables_schema(city):
    before = {t: _schema(t) for t in ("registry_namestat", "registry_pinyinstat")}
    populate()
    names.rebuild()
    names.rebuild()
    assert {t: _schema(t) for t in before} == before
    # New pronunciation rows still get ids from the table's own identity.
    PinyinStat.objects.create(key="test", toned=False, total=1, spellings=1, top=[])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('registry_pinyinstat', 'id')")
        assert cursor.fetchone()[0] == "public.registry_pinyinstat_id_seq"


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_failed_rebuild_leaves_the_old_counts(city, monkeypatch):
    populate()
    names.rebuild()
    before = stats_snapshot()
    Person.objects.filter(name="张伟").update(status=PersonStatus.DECEASED)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(names, "_swap", fail)
    with pytest.raises(RuntimeError):
        names.rebuild()
    assert stats_snapshot() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readers_see_old_counts_until_the_rebuild_commits(city, monkeypatch):
    populate()
    names.rebuild()
    PersonFactory(name="张伟", household=HouseholdFactory(), birth_date=dt.date(2020, 5, 5))
    building, go_on = threading.Event(), threading.Event()
    real_copy = names._copy_indexes

    def paused(*args, **kwargs):
        building.set()
        assert go_on.wait(10)
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(names, "_copy_indexes", paused)
    errors = []

    def run():
        try:
            names.rebuild()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert building.wait(10)
        # Mid-build, in this connection: the old tables, whole.
        assert names.query("张伟").total == 5
        assert NameStat.objects.count() == 7
    finally:
        go_on.set()
        worker.join(20)
    assert not errors
    assert names.query("张伟").total == 6
    assert_consistent(["张伟", "张薇"])


# --- API --------------------------------------------------------------------------------------------


@pytest.fixture
def no_rate_limit(settings):
    settings.REGISTRY_NAME_QUERY_RATE = ""


@pytest.mark.django_db
def test_api_answers_counts_only(client, city, no_rate_limit):
    populate()
    names.rebuild()
    response = client.get(API, {"name": "张伟", "district": "210103"})
    assert response.status_code == 200
    body = response.json()
    NameAnswerOut.model_validate(body)
    assert body["total"] == 5 and body["male"] == 4 and body["female"] == 1
    assert body["district"] == {
        "code": "210103",
        "name": "沈河区",
        "total": 1,
        "male": 1,
        "female": 0,
        "decades": [{"decade": 1980, "total": 1, "male": 1, "female": 0}],
    }
    assert body["same_pinyin"]["pinyin"] == "zhang wei"
    assert body["same_tones"]["pinyin"] == "zhang1 wei3"
    assert body["same_pinyin"]["top"][0] == {"name": "张伟", "count": 5, "is_query": True}
    # Nothing about any person: no ID numbers, birth dates, addresses or phones anywhere.
    text = response.content.decode()
    for person in Person.objects.all():
        assert person.id_number not in text and person.phone not in text
        assert person.birth_date.isoformat() not in text
    assert response["Content-Type"].startswith("application/json")
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_api_unknown_name_is_zero_not_404(client, city, no_rate_limit):
    response = client.get(API, {"name": "赵钱孙"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 0 and body["decades"] == [] and body["district"] is None
    assert body["same_pinyin"] == {
        "pinyin": "zhao qian sun",
        "total": 0,
        "others": 0,
        "spellings": 0,
        "top": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("raw", "message"), [*BAD_NAMES, ("张三丰王五赵六钱", "2至6个汉字")])
def test_api_bad_names_are_400_in_chinese(client, no_rate_limit, raw, message):
    response = client.get(API, {"name": raw})
    assert response.status_code == 400
    assert message in response.json()["detail"]


@pytest.mark.django_db
def test_api_missing_name_and_bad_district(client, city, no_rate_limit):
    response = client.get(API)
    assert response.status_code == 400 and "请输入" in response.json()["detail"]
    response = client.get(API, {"name": "张伟", "district": "999999"})
    assert response.status_code == 400 and "区县" in response.json()["detail"]


@pytest.mark.django_db
def test_api_is_documented(client):
    schema = client.get("/api/openapi.json").json()
    operation = schema["paths"]["/api/registry/names"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"name", "district"}
    assert {"200", "400", "429"} <= set(operation["responses"])


@pytest.mark.django_db
def test_rate_limit_429_in_chinese_shared_by_page_and_api(client, city, settings):
    settings.REGISTRY_NAME_QUERY_RATE = "5/m"
    from django.core.cache import cache

    cache.clear()
    for _ in range(3):
        assert client.get(API, {"name": "张伟"}).status_code == 200
    # A bad name counts too: probing is querying.
    assert client.get(API, {"name": "x"}).status_code == 400
    assert client.get(PAGE, {"name": "张伟"}).status_code == 200
    response = client.get(API, {"name": "张伟"})
    assert response.status_code == 429
    assert "查询过于频繁" in response.json()["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60
    response = client.get(PAGE, {"name": "张伟"})
    assert response.status_code == 429
    assert "查询过于频繁" in response.content.decode()
    # Another client is not affected.
    other = client.get(API, {"name": "张伟"}, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 200
    # The empty form does not count.
    assert client.get(PAGE).status_code == 200
    cache.clear()


# --- page --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_counts_and_homophones(client, city, no_rate_limit):
    populate()
    names.rebuild()
    response = client.get(reverse("registry_public:names"), {"name": "张伟", "district": "210102"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“张伟”的查询结果" in html
    assert "zhāng wěi" in html
    assert "其中和平区" in html
    assert "1980年代" in html and "2010年代" in html
    assert "读音相同（不计声调）" in html and "张薇" in html and "章伟" in html
    assert "只显示人数" in html
    answer = response.context["answer"]
    assert answer.total == 5 and answer.district.total == 3


@pytest.mark.django_db
def test_page_empty_form_and_bad_input(client, city, no_rate_limit):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "新生儿取名重名查询" in html and "全市" in html and "和平区" in html
    response = client.get(PAGE, {"name": "Tom"})
    assert response.status_code == 400
    assert "不能包含字母" in response.content.decode()
    response = client.get(PAGE, {"name": "张伟", "district": "nowhere"})
    assert response.status_code == 400


@pytest.mark.django_db
def test_page_for_a_name_nobody_has(client, city, no_rate_limit):
    response = client.get(PAGE, {"name": "赵钱孙"})
    assert response.status_code == 200
    assert "全市暂无在册居民使用这个姓名" in response.content.decode()


def test_query_is_one_statement(city, monkeypatch):
    from django.test.utils import CaptureQueriesContext

    names.districts()  # cached once per process
    fetched = []
    real = names._fetch
    monkeypatch.setattr(names, "_fetch", lambda *a: fetched.append(a) or real(*a))
    with CaptureQueriesContext(connection) as ordinary:
        names.query("张伟", "210102")
    assert len(fetched) == 1 and len(ordinary) == 1  # in a transaction: through the cursor


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_prepared_query_follows_the_table_swap(city):
    """A prepared statement planned against the old tables answers from the new ones."""
    populate()
    names.rebuild()
    for _ in range(3):
        assert names.query("张伟").total == 5
    PersonFactory(name="张伟", household=HouseholdFactory(), birth_date=dt.date(2020, 1, 1))
    names.rebuild()
    assert names.query("张伟").total == 6
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] >= 1


@pytest.mark.django_db
def test_transaction_wrapped_query_sees_own_changes(city):
    populate()
    with transaction.atomic():
        names.rebuild()
        assert names.query("张伟").total == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_query_survives_its_prepared_statement_being_dropped(city):
    """A pooler's DISCARD ALL (or a DEALLOCATE) costs one re-prepare, never an error."""
    populate()
    names.rebuild()
    assert names.query("张伟").total == 5
    with connection.cursor() as cursor:
        cursor.execute(f"DEALLOCATE {names._STATEMENT.decode()}")
    assert names.query("张伟").total == 5
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = %s",
            [names._STATEMENT.decode()],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_query_errors_are_django_database_errors(city, monkeypatch):
    from django.db import DatabaseError

    monkeypatch.setattr(names, "_STATEMENT", b"servicehall_name_counts_broken")
    monkeypatch.setattr(names, "_prepared", __import__("weakref").WeakSet())
    monkeypatch.setattr(names, "_query_sql", lambda placeholder="%s": "SELECT * FROM no_such_table")
    with pytest.raises(DatabaseError):
        names.query("张伟")


def test_migration_rewrites_nested_detail_into_ordered_groups(db):
    """Counts stored before 0005 ({district: {decade: [m, f]}}) read the same after it, and
    the city-wide split by decade is filled in."""
    import importlib

    from django.apps import apps
    from django.db import connection

    migration = importlib.import_module(
        "servicehall.registry.migrations.0005_namestat_detail_as_groups"
    )
    NameStat.objects.create(
        name="王芳",
        pinyin="wang fang",
        pinyin_tones="wang2 fang1",
        total=6,
        male=1,
        female=5,
        detail={"210104": {"1990": [0, 2]}, "210102": {"2000": [1, 1], "1980": [0, 2]}},
    )
    NameStat.objects.create(name="李娜", pinyin="li na", pinyin_tones="li3 na4", detail={})

    class Editor:  # what the migration uses of a schema editor (SQLite refuses a real one
        connection = connection  # inside the test's transaction)

        def execute(self, sql):
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.to_groups(apps, Editor())
    wang = NameStat.objects.get(name="王芳")
    assert wang.detail == [[1980, 210102, 0, 2], [1990, 210104, 0, 2], [2000, 210102, 1, 1]]
    assert wang.decades == [[1980, 0, 2], [1990, 0, 2], [2000, 1, 1]]
    li = NameStat.objects.get(name="李娜")
    assert (li.detail, li.decades) == ([], [])
