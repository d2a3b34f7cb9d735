"""The newborn same-name query (新生儿重名查询): counts of a name and of its homophones.

Read side:
- validate_name(raw) -> str: the name as stored, or ValidationError with a Chinese message.
- query(name, district=None) -> NameAnswer: counts only, never a person. One round trip:
  the NameStat row by primary key and the two PinyinStat rows by their unique key.

Write side:
- rebuild() -> RebuildReport: recompute NameStat and PinyinStat from the Person table
  (registered, living persons only). Called after an import.
- adjust(...): the incremental change one recorded birth, death or move makes; called only by
  servicehall.registry.actions inside its transaction.

Shapes (also documented in NameStat / PinyinStat):
- NameStat.decades = [[birth decade, male, female], ...] city-wide, by decade, e.g.
  [[1980, 3, 3], [1990, 0, 2]]: what nearly every query shows, ready to use.
- NameStat.detail = [[birth decade, district code, male, female], ...] ordered by decade,
  then district, e.g. [[1980, 210102, 3, 1], [1980, 210103, 0, 2], [1990, 210102, 0, 2]]:
  read only for a query within one district. Empty groups are left out of both. Lists of
  number tuples rather than nested objects: PostgreSQL builds both from one sort of the
  persons with array aggregates (two levels of json_object_agg took ~60 % of the rebuild at
  10M residents), and a query reads the city-wide split without adding anything up.
- PinyinStat.top = [[name, count], ...], at most TOP_SPELLINGS, most common first, ties by
  name in code-point order (COLLATE "C" on PostgreSQL, so SQL and Python agree).

How rebuild() stays consistent and invisible to readers (PostgreSQL): one transaction that
(1) takes a SHARE lock on the person table, so nothing changes a person while the counts are
built and every recorded birth/death/move either committed before (and is counted) or waits
and then adjusts the new tables; (2) aggregates persons in SQL; (3) adds pinyin for the
distinct names from Python (COPY) and fills the new name table, then the new pronunciation
table from it in SQL, both without indexes; (4) builds the indexes
the old tables have, under the same names; (5) drops the old tables and renames the new ones.
Readers see the old counts until the commit and the new ones after; they wait only for the
drop-and-rename at the end. Elsewhere (the embedded SQLite) it is a delete and bulk insert in
one transaction.
"""

from __future__ import annotations

import bisect
import re
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass

import orjson
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import District

from .models import NameStat, Person, PersonStatus, PinyinStat
from .pinyin import MIDDLE_DOT, name_pinyin

TOP_SPELLINGS = 10
MIN_LENGTH, MAX_LENGTH = 2, 6

# --- validation ------------------------------------------------------------------------------

# CJK unified ideographs: basic block, extension A, extensions B–F and G–H (rare characters do
# occur in names), and the compatibility block's unified ideographs are left out on purpose.
_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef\U00030000-\U0003134f"
_NAME = re.compile(rf"[{_IDEOGRAPH}]+(?:{MIDDLE_DOT}[{_IDEOGRAPH}]+)*")
# Dots that Chinese input methods and fonts produce for the separator in minority names.
_DOT_LOOKALIKES = str.maketrans(
    dict.fromkeys("\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387", MIDDLE_DOT)
)


def validate_name(raw: object) -> str:
    """The name to look up: 2–6 CJK ideographs, with the middle dot only *between* parts of a
    minority name (买买提·艾力; the dot is a separator, not counted as a character).

    Surrounding whitespace is dropped and look-alike dots become U+00B7; anything else
    (Latin letters, digits, spaces inside, emoji, punctuation) is refused.
    """
    name = str(raw or "").strip().translate(_DOT_LOOKALIKES)
    if not name:
        raise ValidationError(_("请输入要查询的姓名。"), code="required")
    if not _NAME.fullmatch(name):
        if name.startswith(MIDDLE_DOT) or name.endswith(MIDDLE_DOT) or MIDDLE_DOT * 2 in name:
            message = _("间隔号“·”只能用在姓名的两部分之间，例如“买买提·艾力”。")
        else:
            message = _(
                "姓名只能由汉字组成（少数民族姓名可用间隔号“·”分隔），"
                "不能包含字母、数字、空格或其他符号。"
            )
        raise ValidationError(message, code="invalid")
    length = len(name) - name.count(MIDDLE_DOT)
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise ValidationError(
            _("姓名应为%(min)d至%(max)d个汉字，您输入了%(count)d个。")
            % {"min": MIN_LENGTH, "max": MAX_LENGTH, "count": length},
            code="length",
        )
    return name


# --- districts ----------------------------------------------------------------------------------

_DISTRICTS: dict[str, str] = {}


def districts() -> dict[str, str]:
    """code → name of the city's districts (13 rows that never change; cached per process)."""
    if not _DISTRICTS:
        _DISTRICTS.update(District.objects.values_list("code", "name"))
    return _DISTRICTS


def validate_district(raw: object) -> str | None:
    """A district code or None (whole city); ValidationError for an unknown one."""
    code = str(raw or "").strip()
    if not code:
        return None
    if code not in districts():
        _DISTRICTS.clear()  # reload once: the table may have been (re)loaded since
        if code not in districts():
            raise ValidationError(_("区县代码不正确，请从列表中选择区县。"), code="district")
    return code


# --- the answer -------------------------------------------------------------------------------


# The answer's parts are plain slotted dataclasses, built afresh per query and never shared:
# frozen dataclasses cost several times as much to create, on the hottest path of the site.
@dataclass(slots=True)
class DecadeCount:
    decade: int  # 1980 = born 1980–1989
    total: int
    male: int
    female: int


@dataclass(slots=True)
class DistrictCount:
    code: str
    name: str
    total: int
    male: int
    female: int
    decades: list[DecadeCount]


@dataclass(slots=True)
class Spelling:
    name: str
    count: int
    is_query: bool  # the queried name itself


@dataclass(slots=True)
class Homophones:
    pinyin: str
    total: int  # everyone whose name sounds like this, the queried name included
    others: int  # the same without the queried name
    spellings: int  # distinct names (written forms) with this sound
    top: list[Spelling]


@dataclass(slots=True)
class NameAnswer:
    name: str
    pinyin: str
    pinyin_tones: str
    total: int
    male: int
    female: int
    decades: list[DecadeCount]
    district: DistrictCount | None
    same_pinyin: Homophones  # toneless: zhang wei
    same_tones: Homophones  # with tones: zhang1 wei3


def _json(value):
    # psycopg hands jsonb to Django as text (JSONField parses it); so does SQLite.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _homophones(key: str, own: int, name: str, total, spellings, top) -> Homophones:
    total = total or 0
    return Homophones(
        pinyin=key,
        total=total,
        others=max(total - own, 0),
        spellings=spellings or 0,
        top=[Spelling(n, c, n == name) for n, c in (_json(top) if top else [])],
    )


def _query_sql(placeholder: str = "%s") -> str:
    """Three index look-ups in one statement (one round trip): the name's row by primary key
    and the two pronunciation rows by their unique (key, toned). Parameters: name, toneless
    key, toned key, and whether the district detail is wanted (it is ~10× the city-wide
    split, so it is sent only for a query within one district)."""
    qn = connection.ops.quote_name
    n, p = qn(NameStat._meta.db_table), qn(PinyinStat._meta.db_table)
    one, two, three, four = (placeholder.format(i) for i in (1, 2, 3, 4))
    return (
        f"SELECT n.total, n.male, n.female, n.decades, CASE WHEN {four} THEN n.detail END, "  # noqa: S608
        "p0.total, p0.spellings, p0.top, p1.total, p1.spellings, p1.top "
        "FROM (SELECT 1 AS one) AS q "
        f"LEFT JOIN {n} n ON n.name = {one} "
        f"LEFT JOIN {p} p0 ON p0.{qn('key')} = {two} AND NOT p0.toned "
        f"LEFT JOIN {p} p1 ON p1.{qn('key')} = {three} AND p1.toned"
    )


# The statement's name on a PostgreSQL connection (psycopg names its own _pg3_*).
_STATEMENT = b"servicehall_name_counts_v3"
# Raw psycopg connections on which _STATEMENT is prepared (weak: they come and go).
_prepared: weakref.WeakSet = weakref.WeakSet()
_INTEGER_COLUMNS = (0, 1, 2, 5, 6, 8, 9)


def _fetch_postgresql(params: list) -> list:
    """The look-up as one prepared execution through libpq itself.

    This is the hottest statement of the public site, and its client-side cost was most of the
    query's: Django's cursor wrapper and psycopg's generic execute/fetch machinery cost about
    three times what libpq's own PQexecPrepared does (measured in-process: ~50 µs against
    ~15 µs a call; the round trip to the server itself is ~80 µs). So the statement is
    prepared once per connection under its own name and executed directly; errors become
    psycopg's (then Django's) exceptions as usual. The prepared plan survives the rebuild's
    table swap: PostgreSQL re-plans a prepared statement when a table it reads is replaced.
    Behind a transaction-pooling PgBouncer this needs PgBouncer ≥ 1.21 with
    max_prepared_statements set; a pooler that discards the statement costs one re-prepare.
    """
    import psycopg

    with connection.wrap_database_errors:
        connection.ensure_connection()
        raw = connection.connection
        pgconn = raw.pgconn
        values = [v.encode() if isinstance(v, str) else (b"t" if v else b"f") for v in params]
        for _attempt in range(2):
            if raw not in _prepared:
                _check(raw, pgconn.prepare(_STATEMENT, _query_sql("${}").encode()))
                _prepared.add(raw)
            result = pgconn.exec_prepared(_STATEMENT, values)
            if result.status == psycopg.pq.ExecStatus.TUPLES_OK:
                break
            _prepared.discard(raw)
            missing = result.error_field(psycopg.pq.DiagnosticField.SQLSTATE) == b"26000"
            if not missing or pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                _check(raw, result)  # (inside a transaction block, the error aborted it)
            # The statement was discarded (a pooler's DISCARD ALL): prepare it again.
        row = [result.get_value(0, i) for i in range(result.nfields)]
    for i in _INTEGER_COLUMNS:
        if row[i] is not None:
            row[i] = int(row[i])
    return row


def _check(raw, result) -> None:
    import psycopg

    if result.status not in (psycopg.pq.ExecStatus.COMMAND_OK, psycopg.pq.ExecStatus.TUPLES_OK):
        raise psycopg.errors.error_from_result(result, encoding=raw.info.encoding)


def _fetch(params: list) -> list:
    # The libpq path only outside a transaction block (the API's requests): psycopg drops
    # every prepared statement (DEALLOCATE ALL) after a ROLLBACK, also to a savepoint, once
    # it has prepared statements of its own, and finding ours gone inside a block would
    # abort the caller's transaction; in autocommit it costs one re-prepare.
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _fetch_postgresql(params)
    name, plain, toned, with_detail = params
    with connection.cursor() as cursor:
        # "%s" placeholders are positional: the detail flag comes first in the statement.
        cursor.execute(_query_sql(), [with_detail, name, plain, toned])
        return list(cursor.fetchone())


def query(name: str, district: str | None = None) -> NameAnswer:
    """Counts for a validated name (an unknown name is simply 0), optionally also within one
    district (a validated code)."""
    plain, toned = name_pinyin(name)
    row = _fetch([name, plain, toned, district is not None])
    total, male, female, by_decade, detail, p0, s0, t0, p1, s1, t1 = row
    total = total or 0
    decades = [DecadeCount(d, m + f, m, f) for d, m, f in (_json(by_decade) or [])]
    in_district = None
    if district is not None:
        code = int(district)
        local = [g for g in (_json(detail) or []) if g[1] == code]
        rows = [DecadeCount(d, m + f, m, f) for d, _code, m, f in local]
        m, f = sum(g[2] for g in local), sum(g[3] for g in local)
        in_district = DistrictCount(district, districts().get(district, ""), m + f, m, f, rows)
    return NameAnswer(
        name=name,
        pinyin=plain,
        pinyin_tones=toned,
        total=total,
        male=male or 0,
        female=female or 0,
        decades=decades,
        district=in_district,
        same_pinyin=_homophones(plain, total, name, p0, s0, t0),
        same_tones=_homophones(toned, total, name, p1, s1, t1),
    )


# --- incremental changes (births, deaths, moves) ------------------------------------------------


def _top(column: str, key: str) -> list[list]:
    """The most common spellings of a pronunciation, read through the (pinyin, -total) index."""
    qn = connection.ops.quote_name
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT name, total FROM {qn(NameStat._meta.db_table)} WHERE {qn(column)} = %s "  # noqa: S608
        f"ORDER BY total DESC, name{collate} LIMIT {TOP_SPELLINGS}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        return [[n, c] for n, c in cursor.fetchall()]


def _locked_row(model, delta: int, lookup: dict, defaults: dict):
    """The row for `lookup`, locked; created first (empty) when a person is being added.

    Insert-if-missing then lock, retried: between the two statements another transaction may
    delete the row (its count fell to zero) — the lock then finds nothing, and the next insert
    succeeds. A row missing when a person is taken away means the counts are out of date.
    """
    for _attempt in range(10):
        if delta > 0:
            model.objects.bulk_create([model(**lookup, **defaults)], ignore_conflicts=True)
        row = model.objects.select_for_update().filter(**lookup).first()
        if row is not None:
            return row
        if delta < 0:
            break
    raise ValueError(f"no {model.__name__} row to change: the counts are out of date")


def _with_change(groups: list, key: list, gender: str, delta: int) -> list:
    """`groups` (NameStat.detail or .decades: key values then [male, female], in key order)
    with one person added or taken away, kept in order."""
    size = len(key)
    groups = [list(g) for g in groups]
    keys = [g[:size] for g in groups]
    at = bisect.bisect_left(keys, key)
    if at == len(groups) or keys[at] != key:
        groups.insert(at, [*key, 0, 0])
    group = groups[at]
    group[size if gender == "M" else size + 1] += delta
    if min(group[size:]) < 0:
        raise ValueError("counts would go below zero: the statistics are out of date")
    if group[size:] == [0, 0]:
        del groups[at]
    return groups


def adjust(*, name: str, district_code: str, birth_year: int, gender: str, delta: int) -> None:
    """Add (delta=+1) or remove (delta=-1) one person from the counts, inside the caller's
    transaction. Rows are locked in one order — the name, then its toneless and its toned
    pronunciation — so concurrent changes neither deadlock nor lose an update; a name or
    pronunciation that drops to zero is deleted, as a rebuild would leave it out."""
    if delta not in (1, -1) or gender not in ("M", "F"):
        raise ValueError("delta must be ±1 and gender 'M' or 'F'")
    plain, toned = name_pinyin(name)
    stat = _locked_row(NameStat, delta, {"name": name}, {"pinyin": plain, "pinyin_tones": toned})
    before = stat.total
    decade = birth_year // 10 * 10
    stat.decades = _with_change(stat.decades, [decade], gender, delta)
    stat.detail = _with_change(stat.detail, [decade, int(district_code)], gender, delta)
    stat.total += delta
    if gender == "M":
        stat.male += delta
    else:
        stat.female += delta
    if stat.total == 0:
        stat.delete()
    else:
        stat.save(update_fields=["total", "male", "female", "decades", "detail"])
    # A new spelling appears (0 → 1) or one disappears (1 → 0).
    spelling_delta = 1 if before == 0 else (-1 if stat.total == 0 else 0)
    for key, is_toned, column in ((plain, False, "pinyin"), (toned, True, "pinyin_tones")):
        sound = _locked_row(PinyinStat, delta, {"key": key, "toned": is_toned}, {})
        sound.total += delta
        sound.spellings += spelling_delta
        if sound.total <= 0:
            sound.delete()
            continue
        sound.top = _top(column, key)
        sound.save(update_fields=["total", "spellings", "top"])


# --- rebuild -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RebuildReport:
    persons: int
    names: int
    pronunciations: int
    seconds: float


# Arbitrary constant naming "the name-count rebuild" among PostgreSQL advisory locks.
REBUILD_LOCK_KEY = 0x5348_5265_6749_0001


def rebuild() -> RebuildReport:
    """Recompute NameStat and PinyinStat from registered persons, atomically."""
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        persons, names, sounds = _rebuild_postgresql()
    else:
        persons, names, sounds = _rebuild_portable()
    return RebuildReport(persons, names, sounds, round(time.perf_counter() - started, 3))


def _aggregate_in_python(rows) -> dict[str, dict]:
    """rows of (name, district code, birth year, gender, count) → NameStat field values."""
    stats: dict[str, dict] = {}
    groups: dict[str, dict[tuple[int, int], list[int]]] = defaultdict(dict)
    for name, code, year, gender, count in rows:
        stat = stats.get(name)
        if stat is None:
            stat = stats[name] = {"total": 0, "male": 0, "female": 0}
        pair = groups[name].setdefault((year // 10 * 10, int(code)), [0, 0])
        pair[0 if gender == "M" else 1] += count
        stat["total"] += count
        stat["male" if gender == "M" else "female"] += count
    for name, stat in stats.items():
        detail = [[*key, m, f] for key, (m, f) in sorted(groups[name].items())]
        city: dict[int, list[int]] = {}
        for decade, _code, m, f in detail:
            pair = city.setdefault(decade, [0, 0])
            pair[0] += m
            pair[1] += f
        stat["detail"] = detail
        stat["decades"] = [[decade, m, f] for decade, (m, f) in city.items()]
    return stats


class _SoundTally:
    """Totals, spelling counts and the top spellings per pronunciation, in one pass over the
    names; memory stays bounded by keeping at most a few times TOP_SPELLINGS candidates."""

    def __init__(self):
        self.sounds: dict[tuple[str, bool], list] = {}

    def add(self, name: str, total: int, plain: str, toned: str) -> None:
        for key in ((plain, False), (toned, True)):
            entry = self.sounds.get(key)
            if entry is None:
                entry = self.sounds[key] = [0, 0, []]
            entry[0] += total
            entry[1] += 1
            members = entry[2]
            members.append((-total, name))  # most first, then by name (code points)
            if len(members) > 4 * TOP_SPELLINGS:
                members.sort()
                del members[TOP_SPELLINGS:]

    def rows(self):
        """(key, toned, total, spellings, top) per pronunciation."""
        for (key, toned), (total, spellings, members) in self.sounds.items():
            members.sort()
            top = [[name, -minus] for minus, name in members[:TOP_SPELLINGS]]
            yield key, toned, total, spellings, top


def _rebuild_portable() -> tuple[int, int, int]:
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    with transaction.atomic():
        rows = (
            Person.objects.filter(status=PersonStatus.REGISTERED)
            .values_list("name", "district__code", ExtractYear("birth_date"), "gender")
            .annotate(n=Count("id"))
            .order_by()
        )
        stats = _aggregate_in_python(rows.iterator(chunk_size=10_000))
        pinyins = {name: name_pinyin(name) for name in stats}
        NameStat.objects.all().delete()
        PinyinStat.objects.all().delete()
        NameStat.objects.bulk_create(
            (
                NameStat(name=name, pinyin=pinyins[name][0], pinyin_tones=pinyins[name][1], **s)
                for name, s in stats.items()
            ),
            batch_size=2000,
        )
        tally = _SoundTally()
        for name, stat in stats.items():
            tally.add(name, stat["total"], *pinyins[name])
        sounds = [
            PinyinStat(key=key, toned=toned, total=total, spellings=spellings, top=top)
            for key, toned, total, spellings, top in tally.rows()
        ]
        PinyinStat.objects.bulk_create(sounds, batch_size=2000)
        persons = sum(s["total"] for s in stats.values())
    return persons, len(stats), len(sounds)


_CREATE_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (\S+) (USING .*)$")


def _copy_indexes(cursor, table: str, new_table: str) -> list[tuple[str, str, str | None]]:
    """Create on new_table the indexes table has (under temporary names); return
    (temporary name, final name, constraint kind or None) for the swap."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid), c.contype
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid
        WHERE x.indrelid = %s::regclass
        ORDER BY i.relname
        """,
        [table],
    )
    renames = []
    for index, definition, contype in cursor.fetchall():
        match = _CREATE_INDEX.match(definition)
        if match is None:
            raise RuntimeError(f"unexpected index definition: {definition}")
        unique, _name, _table, rest = match.groups()
        temporary = f"{index[:50]}_next"
        cursor.execute(
            f'CREATE {unique or ""}INDEX "{temporary}" ON "{new_table}" {rest}'  # noqa: S608
        )
        renames.append((temporary, index, {"p": "PRIMARY KEY", "u": "UNIQUE"}.get(contype)))
    return renames


def _swap(cursor, table: str, new_table: str, renames, identity: str | None) -> None:
    cursor.execute(f'DROP TABLE "{table}"')
    cursor.execute(f'ALTER TABLE "{new_table}" RENAME TO "{table}"')
    for temporary, final, constraint in renames:
        if constraint:
            cursor.execute(
                f'ALTER TABLE "{table}" ADD CONSTRAINT "{final}" {constraint} USING INDEX "{temporary}"'
            )
        else:
            cursor.execute(f'ALTER INDEX "{temporary}" RENAME TO "{final}"')
    if identity:
        # The identity's sequence came with the new table; give it the usual name back.
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, identity])
        cursor.execute(f'ALTER SEQUENCE {cursor.fetchone()[0]} RENAME TO "{table}_{identity}_seq"')


def _rebuild_postgresql() -> tuple[int, int, int]:
    # SQL here is built from model table names only (noqa: S608); values are parameters.
    person = Person._meta.db_table
    district = District._meta.db_table
    names = NameStat._meta.db_table
    sounds = PinyinStat._meta.db_table
    names_next, sounds_next = f"{names}_next", f"{sounds}_next"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REBUILD_LOCK_KEY])
        # Births, deaths and moves change a person first: they wait here, or are counted.
        cursor.execute(f'LOCK TABLE "{person}" IN SHARE MODE')
        # Room to sort in memory instead of spilling to disk (this transaction only;
        # PostgreSQL's defaults of 4MB/64MB suit many small queries, not this one). At 10M
        # residents the sort of the living persons' (name, district, decade) takes ~0.9 GB.
        cursor.execute("SET LOCAL work_mem = '1GB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for stale in (names_next, sounds_next):
            cursor.execute(f'DROP TABLE IF EXISTS "{stale}"')
        cursor.execute("DROP TABLE IF EXISTS pg_temp.registry_name_agg")
        cursor.execute("DROP TABLE IF EXISTS pg_temp.registry_name_pinyin")
        # 1. Counts per name, with both splits, from one sort of the persons by (name,
        #    decade, district): grouped by (name, decade, district) and by (name, decade) in
        #    one pass (grouping sets that are prefixes of one sort order), then by name. Hash
        #    aggregation is switched off (for this transaction: step 3 relies on it too)
        #    because a hash table holds an array state per group at once (~1.5M at 10M
        #    residents: gigabytes, spilled to disk), while the sorted stream holds one;
        #    array_agg then sees each name's groups in (decade, district) order, the order
        #    detail and decades keep. A decade's subtotal row is the one without a district.
        #    Sorting by bytes (COLLATE "C") is several times cheaper than by the locale.
        cursor.execute("SET LOCAL enable_hashagg = off")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE registry_name_agg ON COMMIT DROP AS
            SELECT name,
                   sum(m + f) FILTER (WHERE code IS NULL)::int AS total,
                   sum(m) FILTER (WHERE code IS NULL)::int AS male,
                   sum(f) FILTER (WHERE code IS NULL)::int AS female,
                   array_to_json(array_agg(ARRAY[decade, m, f]) FILTER (WHERE code IS NULL)
                   )::jsonb AS decades,
                   array_to_json(array_agg(ARRAY[decade, code, m, f])
                                 FILTER (WHERE code IS NOT NULL))::jsonb AS detail
            FROM (
                SELECT p.name COLLATE "C" AS name,
                       (EXTRACT(YEAR FROM p.birth_date)::int / 10) * 10 AS decade,
                       d.code::int AS code,
                       count(*) FILTER (WHERE p.gender = 'M')::int AS m,
                       count(*) FILTER (WHERE p.gender = 'F')::int AS f
                FROM "{person}" p JOIN "{district}" d ON d.id = p.district_id
                WHERE p.status = %s
                GROUP BY GROUPING SETS ((1, 2, 3), (1, 2))
            ) AS g
            GROUP BY name
            """,  # noqa: S608
            [PersonStatus.REGISTERED],
        )
        # 2. Pinyin of each distinct name, computed here (~1 µs a name) and copied back.
        with cursor.cursor.copy("COPY (SELECT name FROM registry_name_agg) TO STDOUT") as copy:
            distinct = [name for (name,) in copy.rows()]
        cursor.execute(
            "CREATE TEMPORARY TABLE registry_name_pinyin "
            "(name text, pinyin text, pinyin_tones text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY registry_name_pinyin FROM STDIN") as copy:
            for name in distinct:
                copy.write_row((name, *name_pinyin(name)))
        del distinct
        # 3. The new tables, filled without indexes, then indexed like the old ones.
        for table, new_table in ((names, names_next), (sounds, sounds_next)):
            cursor.execute(
                f'CREATE TABLE "{new_table}" (LIKE "{table}" INCLUDING DEFAULTS '
                "INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING STORAGE)"
            )
        cursor.execute(
            f"""
            INSERT INTO "{names_next}"
                (name, pinyin, pinyin_tones, total, male, female, decades, detail)
            SELECT a.name, n.pinyin, n.pinyin_tones, a.total, a.male, a.female, a.decades,
                   a.detail
            FROM registry_name_agg a JOIN registry_name_pinyin n ON n.name = a.name
            """  # noqa: S608
        )
        # Pronunciations from the new names, toneless and toned alike: one sort by
        # (toned, key, most first, name), so each group's first TOP_SPELLINGS names are its
        # top spellings (ties by code point, as _SoundTally orders them). ~4× faster than
        # tallying 1.5M names in Python.
        cursor.execute(
            f"""
            INSERT INTO "{sounds_next}" (key, toned, total, spellings, top)
            SELECT key, toned, sum(total)::int, count(*)::int,
                   array_to_json((array_agg(json_build_array(name, total)))[1:%s])::jsonb
            FROM (
                SELECT * FROM (
                    SELECT pinyin COLLATE "C" AS key, false AS toned, name, total
                    FROM "{names_next}"
                    UNION ALL
                    SELECT pinyin_tones COLLATE "C", true, name, total FROM "{names_next}"
                ) AS u ORDER BY toned, key, total DESC, name COLLATE "C"
            ) AS s
            GROUP BY toned, key
            """,  # noqa: S608
            [TOP_SPELLINGS],
        )
        renames = {
            table: _copy_indexes(cursor, table, new_table)
            for table, new_table in ((names, names_next), (sounds, sounds_next))
        }
        cursor.execute(f'ANALYZE "{names_next}"')
        cursor.execute(f'ANALYZE "{sounds_next}"')
        cursor.execute(f'SELECT count(*), coalesce(sum(total), 0) FROM "{names_next}"')  # noqa: S608
        name_count, persons = cursor.fetchone()
        cursor.execute(f'SELECT count(*) FROM "{sounds_next}"')  # noqa: S608
        sound_count = cursor.fetchone()[0]
        # 4. The swap: readers wait only from here to the commit.
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        _swap(cursor, names, names_next, renames[names], None)
        _swap(cursor, sounds, sounds_next, renames[sounds], PinyinStat._meta.pk.column)
        cursor.execute("SET LOCAL lock_timeout TO DEFAULT")
        cursor.execute("DROP TABLE registry_name_agg")
        cursor.execute("DROP TABLE registry_name_pinyin")
    return persons, name_count, sound_count
