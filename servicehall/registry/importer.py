"""Registry CSV import (户籍卡片导入): validate row by row, stream in batches, upsert.

Public API:
- import_file(path, *, report_path=None, batch_size=50_000, progress=False, restart=False,
              writer="auto", fast_first_load=None, rebuild_names=True, on_batch=None,
              stdout=None) -> ImportSummary
- make_row_checker(districts, stations, *, today=None, on_new_station=None)
    -> check(fields) -> [(field, reason), ...]  (empty when the row is valid)
- ensure_schema() -> names of the indexes and foreign keys it (re)created
- HEADER (the contract with servicehall.registry.synthetic), REPORT_HEADER
- RegistryImportError: the file as a whole cannot be imported (header, lock, missing file)

The file (UTF-8, optional BOM) has the header row HEADER and one card per line. Fields may be
quoted, but no field may contain a line break: one physical line is one record, so line
numbers are exact, a stray quote cannot swallow the rows after it, and resuming is a matter
of skipping lines.

Validation (make_row_checker). A bad row is written to the rejected-rows report (CSV columns
line, field, reason, raw; one line per bad field, reasons in Chinese) and skipped; the rows
around it are imported. Checked: the column count, UTF-8, no control characters; the ID
number (18 characters, GB 11643 checksum, a province-level region code, a real embedded
birth date not after today); birth_date equal to the ID's date; gender 男/女 agreeing with
the ID's 17th digit (odd = man); name and former names (2-6 CJK ideographs, "·" only between
them, as servicehall.registry.names accepts); one of the 56 ethnic groups (or 其他 /
外国血统中国籍人士); household number (ASCII letters, digits, "-", at most 20) and kind
(family / collective); relation and address lengths; district code one of the city's
districts; station code "<district code>-<letters/digits>" in that district (an unknown one
is created as a Station named station_name, and counted); phone empty or an 11-digit mobile
number; status registered / moved_out / deceased.

What a row means (so that re-running a file changes nothing, whatever the batch size):
- Households: the household with that number is created if missing. Its own fields (kind,
  address, district, station) follow the row of its head (relation 户主; the last one if
  several); without a head row, the first row that mentions it creates it and later rows
  leave it alone.
- A registered row is the person's one live card: it updates the live card with that ID
  number (wherever it is, so a changed household or address moves it) or creates it.
  Duplicate live ID numbers in one file: the later row wins (nothing is duplicated, the
  earlier row's values are overwritten); this needs no memory of earlier batches.
- A moved_out / deceased row is a closed card keyed by (ID number, household, status): it
  updates that card if it exists; otherwise it closes the live card of that ID number in the
  same household, unless this run itself wrote that live card (the file also lists the person
  as registered there, e.g. moved out and back); otherwise it adds the closed card. So a
  moved-out card and a new registered card of one ID number coexist, and a death recorded in
  a newer file closes the live card instead of adding a second one.

Resuming: ImportRun keeps the file's SHA-256 and lines_done, updated in the same transaction
as each batch. Running the same file again after an interruption (Ctrl-C, kill, a crash)
continues after the last committed batch; `restart=True` starts over (safe: rows are
upserts). A run that finished is not resumed: running the file again re-applies it.

PostgreSQL (the "copy" writer): rows are validated in Python, streamed with COPY into a
temporary staging table and applied with a few INSERT ... SELECT ... ON CONFLICT statements
per batch; a second thread writes one batch while the next is validated (the connection is
shared, never used by both at once). A first load into empty tables (fast_first_load; by
default for files of DROP_INDEXES_MIN_BYTES and more) goes further: it drops the secondary
indexes, the one-live-card unique index and the foreign keys of the two tables, appends
plain INSERTs, and at the end (also after a failure) ensure_schema() removes duplicates the
way the upserts would have (the later card wins), then rebuilds the indexes and validates
the foreign keys. Every import runs ensure_schema() first, so a killed first load is
completed by the next import (or resumed in the same mode). Other databases (the "orm"
writer) use bulk_create / bulk_update in batches: the same meaning, not the same speed;
writer="orm" forces it on PostgreSQL too (the tests compare both).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import hashlib
import io
import json
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import UniqueConstraint
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicehall.accounts.models import District, Station
from servicehall.core import audit
from servicehall.core.idnumbers import ID_MIN_BIRTH_YEAR, PROVINCE_CODES

from .models import Household, ImportRun, Person, PersonStatus

HEADER = (
    "id_number",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "household_number",
    "household_kind",
    "relation",
    "address",
    "district_code",
    "station_code",
    "station_name",
    "phone",
    "status",
    "former_names",
)
(
    ID_NUMBER,
    NAME,
    GENDER,
    ETHNICITY,
    BIRTH_DATE,
    HOUSEHOLD_NUMBER,
    HOUSEHOLD_KIND,
    RELATION,
    ADDRESS,
    DISTRICT_CODE,
    STATION_CODE,
    STATION_NAME,
    PHONE,
    STATUS,
    FORMER_NAMES,
) = range(len(HEADER))
ROW_FIELD = "row"  # the `field` of a report line about the whole line
REPORT_HEADER = ("line", "field", "reason", "raw")
HEAD_RELATION = "户主"
DEFAULT_BATCH = 50_000
# A first load bigger than this (bytes) drops and rebuilds secondary indexes; below it the
# rebuild costs more than it saves.
DROP_INDEXES_MIN_BYTES = 32 * 1024 * 1024

ETHNIC_GROUPS = frozenset(
    [
        "汉族",
        "蒙古族",
        "回族",
        "藏族",
        "维吾尔族",
        "苗族",
        "彝族",
        "壮族",
        "布依族",
        "朝鲜族",
        "满族",
        "侗族",
        "瑶族",
        "白族",
        "土家族",
        "哈尼族",
        "哈萨克族",
        "傣族",
        "黎族",
        "傈僳族",
        "佤族",
        "畲族",
        "高山族",
        "拉祜族",
        "水族",
        "东乡族",
        "纳西族",
        "景颇族",
        "柯尔克孜族",
        "土族",
        "达斡尔族",
        "仫佬族",
        "羌族",
        "布朗族",
        "撒拉族",
        "毛南族",
        "仡佬族",
        "锡伯族",
        "阿昌族",
        "普米族",
        "塔吉克族",
        "怒族",
        "乌孜别克族",
        "俄罗斯族",
        "鄂温克族",
        "德昂族",
        "保安族",
        "裕固族",
        "京族",
        "塔塔尔族",
        "独龙族",
        "鄂伦春族",
        "赫哲族",
        "门巴族",
        "珞巴族",
        "基诺族",
        "其他",
        "外国血统中国籍人士",
    ]
)
HOUSEHOLD_KINDS = frozenset(Household.Kind.values)
STATUSES = frozenset(PersonStatus.values)
GENDERS = {"男": "M", "女": "F"}
MAX_NAME_CHARS = 6

# The ranges servicehall.registry.names accepts for a queried name (its Ext. B-H split
# included), so that every imported name can be asked about.
_IDEOGRAPH = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef\U00030000-\U0003134f"
MIDDLE_DOT = "\u00b7"
_NAME = re.compile(f"[{_IDEOGRAPH}]+(?:\u00b7[{_IDEOGRAPH}]+)*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOUSEHOLD_NUMBER = re.compile(r"[0-9A-Za-z-]{1,20}")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")

# Reasons (Chinese source strings; resolved once per run, not per row).
MESSAGES = {
    "encoding": _("不是有效的UTF-8文本"),
    "control": _("含有控制字符"),
    "quote": _("引号不匹配（字段内不能换行）"),
    "columns": _("应有15列，实际为%(count)d列"),
    "id_missing": _("缺少身份证号码"),
    "id_length": _("身份证号码应为18位"),
    "id_shape": _("身份证号码格式不正确：前17位应为数字，最后一位为数字或X"),
    "id_region": _("身份证号码的地区码不正确"),
    "id_date": _("身份证号码中的出生日期不正确"),
    "id_future": _("身份证号码中的出生日期晚于今天"),
    "id_check": _("身份证号码校验位不正确"),
    "birth_format": _("出生日期应为有效日期，格式为YYYY-MM-DD"),
    "birth_mismatch": _("出生日期与身份证号码不一致"),
    "gender": _("性别应为“男”或“女”"),
    "gender_mismatch": _("性别与身份证号码第17位不一致（奇数为男，偶数为女）"),
    "name_missing": _("缺少姓名"),
    "name": _("姓名应为2至6个汉字，少数民族姓名可用“·”分隔两部分"),
    "ethnicity": _("民族应为56个民族之一（如“汉族”）"),
    "household_missing": _("缺少户号"),
    "household_number": _("户号只能包含数字、字母和“-”，最多20位"),
    "household_kind": _("户别应为family（家庭户）或collective（集体户）"),
    "relation": _("与户主关系最多16个字"),
    "address_missing": _("缺少住址"),
    "address": _("住址最多200个字"),
    "district": _("区县代码不是本市的区县"),
    "station_code": _("派出所代码应为“区县代码-编号”，如210102-S07，且属于该区县"),
    "station_district": _("派出所代码属于其他区县"),
    "station_name_missing": _("新派出所缺少名称"),
    "station_name": _("派出所名称最多64个字"),
    "station_without_code": _("有派出所名称但缺少派出所代码"),
    "phone": _("手机号码应为11位数字，以1开头"),
    "status": _("状态应为registered（在册）、moved_out（已迁出）或deceased（已死亡）"),
    "former_names": _("曾用名应为2至6个汉字，多个曾用名以“|”分隔"),
}


class RegistryImportError(Exception):
    """The file as a whole cannot be imported; the message is for the operator (Chinese)."""


# --- validation -------------------------------------------------------------------------------

# GB 11643 checksum by table look-up: the 17-digit body is cut into chunks and each chunk's
# weighted sum (ISO 7064 MOD 11-2 weights) is read from a dict. Six look-ups instead of 17
# int() calls, and a non-digit (including full-width digits) is simply a missing key.
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHUNKS = ((0, 3), (3, 6), (6, 9), (9, 12), (12, 15), (15, 17))


def _chunk_table(start: int, end: int) -> dict[str, int]:
    width = end - start
    return {
        f"{n:0{width}d}": sum(
            int(d) * w for d, w in zip(f"{n:0{width}d}", _WEIGHTS[start:end], strict=True)
        )
        for n in range(10**width)
    }


_T0, _T1, _T2, _T3, _T4, _T5 = (_chunk_table(a, b) for a, b in _CHUNKS)
_CHECK_CHAR = tuple("X" if (12 - r) % 11 == 10 else str((12 - r) % 11) for r in range(11))
# The fast path reads an ID number in three look-ups: the region (digits 1-6, cached per
# region), the birth date (7-14, in the date table) and the tail (15-18): for every sequence
# and check character, (weighted sum of the sequence, the remainder that check character
# stands for, the gender the sequence's last digit means).
_SEQUENCE = _chunk_table(14, 17)
_TAILS = {
    sequence + char: (weighted, _CHECK_CHAR.index(char), "男" if sequence[2] in "13579" else "女")
    for sequence, weighted in _SEQUENCE.items()
    for char in "0123456789X"
}


class _Regions(dict):
    """Region code (6 digits) -> weighted sum of its digits, or -1 when the code is not
    digits or not a province's; computed once per region, bounded against garbage."""

    def __init__(self, provinces):
        super().__init__()
        self.provinces = provinces

    def __missing__(self, region: str) -> int:
        if len(self) > 100_000:
            self.clear()
        try:
            weighted = _T0[region[:3]] + _T1[region[3:6]]
        except KeyError:
            weighted = -1
        if region[:2] not in self.provinces:
            weighted = -1
        self[region] = weighted
        return weighted


_LAST_CHARS = frozenset("0123456789Xx")
_ODD = frozenset("13579")


@functools.lru_cache(maxsize=2)
def _date_tables(today: dt.date) -> tuple[dict[str, tuple[str, int]], frozenset[str]]:
    """{'YYYYMMDD': ('YYYY-MM-DD', weighted sum of those 8 ID digits)} for every real date
    from ID_MIN_BIRTH_YEAR to today, and the set of the ISO forms: look-ups replace date
    parsing per row (~53k entries)."""
    day = dt.date(ID_MIN_BIRTH_YEAR, 1, 1)
    one = dt.timedelta(days=1)
    weights = _WEIGHTS[6:14]
    compact = {}
    while day <= today:
        iso = day.isoformat()
        digits = iso.replace("-", "")
        compact[digits] = (iso, sum(int(d) * w for d, w in zip(digits, weights, strict=True)))
        day += one
    return compact, frozenset(iso for iso, _sum in compact.values())


def make_row_checker(
    districts: dict[str, int],
    stations: dict[str, str],
    *,
    today: dt.date | None = None,
    on_new_station: Callable[[str, str, str], None] | None = None,
) -> Callable[[list[str]], list[tuple[str, str]]]:
    """A function checking one row's 15 fields; it returns [(field, reason), ...], empty
    when the row is valid.

    `districts` maps district code -> id, `stations` station code -> district code. A
    well-formed unknown station code of an otherwise valid row calls
    `on_new_station(code, name, district code)` once and is then known (added to
    `stations`); the caller creates the station.
    """
    today = today or timezone.localdate()
    dates, iso_dates = _date_tables(today)
    today_compact = f"{today:%Y%m%d}"
    msg = {key: str(value) for key, value in MESSAGES.items()}
    provinces = frozenset(PROVINCE_CODES)
    name_re = _NAME.fullmatch
    t0, t1, t2, t3, t4, t5 = _T0, _T1, _T2, _T3, _T4, _T5
    regions = _Regions(provinces)
    tails = _TAILS
    household_re = _HOUSEHOLD_NUMBER.fullmatch
    phone_re = _MOBILE.fullmatch
    ethnic_groups, kinds, statuses = ETHNIC_GROUPS, HOUSEHOLD_KINDS, STATUSES
    check_char = _CHECK_CHAR
    dot = MIDDLE_DOT
    valid: tuple = ()
    # Names repeat (张伟 by the thousand) and a household's rows are usually together: cache
    # the last good values instead of running the regular expressions again. Bounded.
    good_names: set[str] = set()
    last_household = [""]

    def check(f: list[str]) -> list[tuple[str, str]] | tuple:
        # The fast path: one chain of tests that an ordinary valid row passes (most rows);
        # anything unusual (a lower-case x, former names, a new station, a long minority
        # name, an error) takes the detailed path below, which also names the problems.
        idn = f[0]
        if (
            len(idn) == 18
            and (birth := dates.get(idn[6:14])) is not None
            and birth[0] == f[4]
            and (tail := tails.get(idn[14:])) is not None
            and tail[2] == f[2]
            and (region := regions[idn[:6]]) >= 0
            and (region + birth[1] + tail[0]) % 11 == tail[1]
            and (
                (name := f[1]) in good_names
                or (2 <= len(name) <= MAX_NAME_CHARS and name_re(name) and _remember(name))
            )
            and f[3] in ethnic_groups
            and ((household := f[5]) == last_household[0] or _household_ok(household))
            and f[6] in kinds
            and len(f[7]) <= 16
            and 0 < len(f[8]) <= 200
            and f[9] in districts
            and (not (phone := f[12]) or phone_re(phone))
            and f[13] in statuses
            and not f[14]
            and (((code := f[10]) and stations.get(code) == f[9]) or (not code and not f[11]))
        ):
            return valid
        return detailed(f)

    def _remember(name: str) -> bool:
        if len(good_names) >= 500_000:
            good_names.clear()
        good_names.add(name)
        return True

    def _household_ok(household: str) -> bool:
        if household_re(household):
            last_household[0] = household
            return True
        return False

    def detailed(f: list[str]) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        add = errors.append

        # ID number.
        idn = f[0]
        birth = None
        id_shape_ok = False
        if not idn:
            add(("id_number", msg["id_missing"]))
        elif len(idn) != 18:
            add(("id_number", msg["id_length"]))
        else:
            try:
                total = (
                    t0[idn[0:3]]
                    + t1[idn[3:6]]
                    + t2[idn[6:9]]
                    + t3[idn[9:12]]
                    + t4[idn[12:15]]
                    + t5[idn[15:17]]
                )
            except KeyError:
                total = None
            if total is None or idn[17] not in _LAST_CHARS:
                add(("id_number", msg["id_shape"]))
            else:
                id_shape_ok = True
                birth = dates.get(idn[6:14])
                birth = birth[0] if birth is not None else None
                if idn[:2] not in provinces:
                    add(("id_number", msg["id_region"]))
                elif birth is None:
                    future = idn[6:14] > today_compact and _real_date(idn[6:14])
                    add(("id_number", msg["id_future" if future else "id_date"]))
                elif check_char[total % 11] != idn[17].upper():
                    add(("id_number", msg["id_check"]))

        # Birth date and gender against the ID number.
        if f[4] not in iso_dates:
            add(("birth_date", msg["birth_format"]))
        elif birth is not None and f[4] != birth:
            add(("birth_date", msg["birth_mismatch"]))
        gender = f[2]
        if gender != "男" and gender != "女":
            add(("gender", msg["gender"]))
        elif id_shape_ok and (gender == "男") != (idn[16] in _ODD):
            add(("gender", msg["gender_mismatch"]))

        name = f[1]
        if not name:
            add(("name", msg["name_missing"]))
        elif not (2 <= len(name) - name.count(dot) <= MAX_NAME_CHARS and name_re(name)):
            add(("name", msg["name"]))
        if f[3] not in ETHNIC_GROUPS:
            add(("ethnicity", msg["ethnicity"]))

        household = f[5]
        if not household:
            add(("household_number", msg["household_missing"]))
        elif not household_re(household):
            add(("household_number", msg["household_number"]))
        if f[6] not in HOUSEHOLD_KINDS:
            add(("household_kind", msg["household_kind"]))
        if len(f[7]) > 16:
            add(("relation", msg["relation"]))
        if not f[8]:
            add(("address", msg["address_missing"]))
        elif len(f[8]) > 200:
            add(("address", msg["address"]))

        district = f[9]
        district_ok = district in districts
        if not district_ok:
            add(("district_code", msg["district"]))
        phone = f[12]
        if phone and not phone_re(phone):
            add(("phone", msg["phone"]))
        if f[13] not in STATUSES:
            add(("status", msg["status"]))
        former = f[14]
        if former:
            for part in former.split("|"):
                if not (2 <= len(part) - part.count(dot) <= MAX_NAME_CHARS and name_re(part)):
                    add(("former_names", msg["former_names"]))
                    break

        # Station last: an unknown one is created only for an otherwise valid row.
        code = f[10]
        if code:
            known = stations.get(code)
            if known is not None:
                if district_ok and known != district:
                    add(("station_code", msg["station_district"]))
            elif not (
                7 < len(code) <= 32
                and code[:7] == district + "-"
                and code.isascii()
                and code[7:].replace("-", "").isalnum()
            ):
                add(("station_code", msg["station_code"]))
            elif not f[11]:
                add(("station_name", msg["station_name_missing"]))
            elif len(f[11]) > 64:
                add(("station_name", msg["station_name"]))
            elif not errors:
                stations[code] = district
                if on_new_station is not None:
                    on_new_station(code, f[11], district)
        elif f[11]:
            add(("station_name", msg["station_without_code"]))
        return errors

    return check


def _real_date(compact: str) -> bool:
    try:
        dt.date(int(compact[:4]), int(compact[4:6]), int(compact[6:8]))
    except ValueError:
        return False
    return True


# --- results ----------------------------------------------------------------------------------


@dataclass
class Counts:
    households_created: int = 0
    households_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    stations_created: int = 0

    def add(self, other: Counts) -> None:
        self.households_created += other.households_created
        self.households_updated += other.households_updated
        self.persons_created += other.persons_created
        self.persons_updated += other.persons_updated
        self.stations_created += other.stations_created


@dataclass
class ImportSummary:
    run_id: int
    path: str
    report_path: str
    writer: str
    fast_first_load: bool = False
    resumed_from_line: int = 0  # data lines done by an earlier, interrupted session
    lines: int = 0  # data lines read in this session (blank ones included)
    accepted: int = 0
    rejected: int = 0  # rows, not reasons: a row with three bad fields counts once
    seconds: float = 0.0
    counts: Counts = field(default_factory=Counts)
    duplicates_removed: int = 0  # fast first load: earlier cards the later ones replaced
    schema_rebuilt: list[str] = field(default_factory=list)
    names_rebuilt: bool = False

    @property
    def stations_created(self) -> int:
        return self.counts.stations_created

    @property
    def rows_per_second(self) -> float:
        return self.lines / self.seconds if self.seconds else 0.0

    def lines_text(self) -> list[str]:
        """The summary the command prints (Chinese, for the operator)."""
        c = self.counts
        text = []
        if self.resumed_from_line:
            text.append(
                f"从第 {self.resumed_from_line + 2} 行继续（此前已完成 {self.resumed_from_line} 行数据）"
            )
        text += [
            f"读取行数: {self.lines}",
            f"导入: {self.accepted}",
            f"拒绝: {self.rejected}" + (f"（明细见 {self.report_path}）" if self.rejected else ""),
            f"户: 新建 {c.households_created}，更新 {c.households_updated}",
            f"人员: 新建 {c.persons_created - self.duplicates_removed}，"
            f"更新 {c.persons_updated + self.duplicates_removed}",
            f"新建派出所: {c.stations_created}",
            f"用时: {self.seconds:.1f} 秒（{self.rows_per_second:,.0f} 行/秒）",
        ]
        return text


# --- the import -------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    path,
    *,
    report_path=None,
    batch_size: int = DEFAULT_BATCH,
    progress: bool = False,
    restart: bool = False,
    writer: str = "auto",
    fast_first_load: bool | None = None,
    rebuild_names: bool = True,
    on_batch: Callable[[ImportRun], None] | None = None,
    stdout=None,
) -> ImportSummary:
    """Import a registry CSV; see the module docstring.

    `on_batch(run)` is called after each committed batch (tests interrupt there). Raises
    RegistryImportError for a file that cannot be imported at all; any other exception
    leaves a run that the next call with the same file resumes."""
    path = Path(path)
    if not path.is_file():
        raise RegistryImportError(f"找不到文件：{path}")
    if batch_size < 1:
        raise RegistryImportError("批大小必须大于0")
    postgres = connection.vendor == "postgresql"
    if writer == "auto":
        writer = "copy" if postgres else "orm"
    if writer not in ("copy", "orm") or (writer == "copy" and not postgres):
        raise RegistryImportError(f"不支持的写入方式：{writer}")
    out = stdout or sys.stdout
    started = time.monotonic()

    with _ImportLock():
        sha = file_sha256(path)
        run = None if restart else ImportRun.objects.filter(sha256=sha).order_by("-id").first()
        if run is not None and run.finished_at is not None:
            run = None  # a finished file is re-applied, not resumed
        resumed_from = run.lines_done if run is not None else 0
        if report_path is None:
            report_path = run.report_path if run is not None and run.report_path else None
            report_path = report_path or f"{path}.rejected.csv"
        report_path = Path(report_path)
        if run is None:
            run = _new_run(path, sha, report_path)
        elif str(report_path) != run.report_path:
            run.report_path = str(report_path)[:500]
            run.save(update_fields=["report_path"])
        summary = ImportSummary(
            run_id=run.pk,
            path=str(path),
            report_path=str(report_path),
            writer=writer,
            resumed_from_line=resumed_from,
        )

        first_load = False
        if postgres:
            first_load = _prepare_schema(
                resuming=bool(resumed_from),
                wanted=fast_first_load
                if fast_first_load is not None
                else writer == "copy" and path.stat().st_size >= DROP_INDEXES_MIN_BYTES,
                out=out,
            )
        summary.fast_first_load = first_load

        districts = dict(District.objects.values_list("code", "id"))
        stations = dict(Station.objects.values_list("code", "district__code"))
        new_stations: list[tuple[str, str, str]] = []
        check = make_row_checker(
            districts,
            stations,
            on_new_station=lambda code, name, district: new_stations.append((code, name, district)),
        )
        if writer == "orm":
            batch_writer = _OrmWriter(run, districts)
        elif first_load:
            batch_writer = _DirectWriter(run)
        else:
            batch_writer = _CopyWriter(run)
        bar = _progress_bar(path, progress)
        try:
            with (
                open(path, "rb") as fh,
                _Report(report_path, keep_through_line=resumed_from + 1) as report,
            ):
                _read_header(fh.readline())
                _skip(fh, resumed_from)

                def write(batch: _Batch) -> None:
                    # Reasons are written before the commit: after a crash between the two,
                    # resuming cuts the report back to the committed lines; the other order
                    # could lose reasons.
                    report.write(batch.rejects)
                    with transaction.atomic():
                        counts = _create_stations(batch.stations, districts)
                        if batch.good:
                            counts.add(batch_writer.write(batch.good))
                        run.lines_done += batch.lines
                        run.accepted += batch.accepted
                        run.rejected += batch.rejected
                        run.save(update_fields=["lines_done", "accepted", "rejected"])
                    summary.lines += batch.lines
                    summary.accepted += batch.accepted
                    summary.rejected += batch.rejected
                    summary.counts.add(counts)
                    # The collector is paused (_python_tuned_for_bulk): free any reference
                    # cycles the ORM made for this batch now, so memory stays flat.
                    gc.collect(1)
                    if on_batch is not None:
                        on_batch(run)

                with (
                    _python_tuned_for_bulk(),
                    _Pipeline(write, threaded=writer == "copy") as pipeline,
                ):
                    for batch in _read_batches(
                        fh,
                        resumed_from + 1,
                        check,
                        batch_size,
                        shape=batch_writer.shape,
                        districts=districts,
                        new_stations=new_stations,
                    ):
                        pipeline.submit(batch)
                        if bar is not None:
                            bar.update(fh.tell() - bar.n)
        except BaseException:
            if first_load:
                # The tables get their indexes and constraints back after a failure too (a
                # resumed run then goes on with upserts); a failure here must not hide the
                # first one, and the next import tries again.
                out.write("导入中断，正在恢复索引和外键……\n")
                try:
                    _complete_schema()
                except Exception as exc:  # noqa: BLE001
                    out.write(f"恢复索引和外键失败（下次导入时会再次尝试）：{exc}\n")
            raise
        finally:
            if bar is not None:
                bar.close()
        if first_load:
            out.write("正在去重、建立索引和外键……\n")
            summary.duplicates_removed, summary.schema_rebuilt = _complete_schema()

        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at"])
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE registry_household")
                cursor.execute("ANALYZE registry_person")
        audit.record(
            actor=None,
            actor_label="system:import_registry",
            action="registry.import",
            target=run,
            target_repr=path.name,
            details={
                "lines": run.lines_done,
                "accepted": run.accepted,
                "rejected": run.rejected,
                "stations_created": summary.stations_created,
            },
        )
    summary.names_rebuilt = rebuild_names and _rebuild_names()
    summary.seconds = time.monotonic() - started
    return summary


def _new_run(path: Path, sha: str, report_path: Path) -> ImportRun:
    run = ImportRun.objects.create(
        source=str(path.resolve())[:500], sha256=sha, report_path=str(report_path)[:500]
    )
    # The run's start separates "written by this run" from older cards (see the module
    # docstring); take it from the clock that stamps the cards.
    run.started_at = _db_clock()
    run.save(update_fields=["started_at"])
    return run


def _db_clock() -> dt.datetime:
    if connection.vendor == "postgresql":
        # clock_timestamp(), not now(): now() stands still for a whole transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()


class _ImportLock:
    """One import at a time (a PostgreSQL advisory lock; SQLite has one writer anyway)."""

    KEY = 4_711_004_002

    def __enter__(self):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.KEY])
                if not cursor.fetchone()[0]:
                    raise RegistryImportError("另一个户籍导入正在进行，请等它结束后再试")
        return self

    def __exit__(self, *exc):
        if connection.vendor == "postgresql" and connection.connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [self.KEY])
            except DatabaseError:
                # An aborted outer transaction (tests): the lock goes with the session, and
                # the error that aborted it is the one to report.
                pass
        return False


def _read_header(line: bytes) -> None:
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if tuple(c.strip().strip('"') for c in text.split(",")) != HEADER:
        raise RegistryImportError("第1行应为表头：" + ",".join(HEADER) + "；实际为：" + text[:300])


def _skip(fh, lines: int) -> None:
    for _line in islice(fh, lines):
        pass


def _progress_bar(path: Path, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc="导入", file=sys.stderr)


def _create_stations(new: list[tuple[str, str, str]], districts: dict[str, int]) -> Counts:
    counts = Counts()
    for code, name, district in new:
        _station, created = Station.objects.get_or_create(
            code=code, defaults={"name": name, "district_id": districts[district]}
        )
        counts.stations_created += created
    return counts


def _rebuild_names() -> bool:
    """Rebuild the name statistics if servicehall.registry.names provides rebuild()."""
    try:
        from servicehall.registry import names
    except ModuleNotFoundError as exc:
        if exc.name != "servicehall.registry.names":
            raise
        return False
    rebuild = getattr(names, "rebuild", None)
    if rebuild is None:
        return False
    rebuild()
    return True


# --- reading ----------------------------------------------------------------------------------


@dataclass
class _Batch:
    good: list  # COPY lines (bytes) or (line number, fields)
    rejects: list[tuple[int, str, str, str]]  # (line, field, reason, raw)
    lines: int  # physical lines read
    accepted: int
    rejected: int
    stations: list[tuple[str, str, str]]  # new stations the rows need: (code, name, district)


def _read_batches(
    fh,
    lineno: int,
    check,
    batch_size: int,
    *,
    shape: str,
    districts: dict[str, int],
    new_stations: list,
) -> Iterator[_Batch]:
    """Validate `batch_size` lines at a time. `lineno` is the line before the first one.

    Each valid row becomes what the writer wants (`shape`): "fields" (line number, fields)
    for the ORM, "stage" a CSV line with its line number for COPY into the staging table,
    "direct" the parts of a COPY line for the person table (see _DirectWriter). Within a
    batch, a later valid row replaces an earlier one for the same card (live: ID number;
    closed: ID number, household, status), so each batch writes a card once."""
    columns = len(HEADER)
    msg_columns = str(MESSAGES["columns"])
    msg_encoding = str(MESSAGES["encoding"])
    msg_control = str(MESSAGES["control"])
    msg_quote = str(MESSAGES["quote"])
    control = _CONTROL.search
    registered = PersonStatus.REGISTERED.value
    district_ids = {code: str(pk) for code, pk in districts.items()}
    dumps = json.dumps

    while True:
        good: list = []
        seen: dict = {}
        replaced = False
        rejects: list[tuple[int, str, str, str]] = []
        rejected = read = accepted = 0
        for raw in islice(fh, batch_size):
            read += 1
            lineno += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                rejects.append((lineno, ROW_FIELD, msg_encoding, text))
                rejected += 1
                continue
            line = line.rstrip("\r\n")
            if not line:
                continue
            # isprintable() is a fast no for every control character (and a few harmless
            # characters such as U+3000, which the regular expression then lets through).
            if not line.isprintable() and control(line):
                rejects.append((lineno, ROW_FIELD, msg_control, line))
                rejected += 1
                continue
            quoted = '"' in line
            if quoted:
                try:
                    fields = next(csv.reader([line], strict=True))
                except csv.Error:
                    rejects.append((lineno, ROW_FIELD, msg_quote, line))
                    rejected += 1
                    continue
            else:
                fields = line.split(",")
            if len(fields) != columns:
                rejects.append((lineno, ROW_FIELD, msg_columns % {"count": len(fields)}, line))
                rejected += 1
                continue
            errors = check(fields)
            if errors:
                for field_name, reason in errors:
                    rejects.append((lineno, field_name, reason, line))
                rejected += 1
                continue
            accepted += 1
            idn = fields[ID_NUMBER]
            if idn[17] == "x":
                idn = idn.upper()
            status = fields[STATUS]
            key = idn if status == registered else (idn, fields[HOUSEHOLD_NUMBER], status)
            earlier = seen.get(key)
            if earlier is not None:
                good[earlier] = None
                replaced = True
            seen[key] = len(good)
            if shape == "direct":
                f = fields
                if "\\" in line:  # the one character COPY's text format needs escaped here
                    f = [value.replace("\\", "\\\\") for value in f]
                district = district_ids[f[DISTRICT_CODE]]
                former = f[FORMER_NAMES]
                good.append(
                    (
                        f[HOUSEHOLD_NUMBER],
                        f[STATION_CODE],
                        f[RELATION] == HEAD_RELATION,
                        f[HOUSEHOLD_KIND],
                        f[ADDRESS],
                        district,
                        "\t".join(
                            (
                                idn,
                                f[NAME],
                                dumps(former.split("|"), ensure_ascii=False) if former else "[]",
                                "M" if f[GENDER] == "男" else "F",
                                f[ETHNICITY],
                                f[BIRTH_DATE],
                                f[RELATION],
                                f[ADDRESS],
                                district,
                                f[PHONE],
                                status,
                            )
                        ),
                    )
                )
            elif shape == "stage":
                if quoted:
                    good.append(_csv_line(fields, lineno))
                else:
                    good.append(b"%b,%d\n" % (raw.rstrip(b"\r\n"), lineno))
            else:
                good.append((lineno, fields))
        if not read:
            return
        if replaced:
            good = [row for row in good if row is not None]
        stations = new_stations[:]
        new_stations.clear()
        yield _Batch(good, rejects, read, accepted, rejected, stations)


def _csv_line(fields: list[str], lineno: int) -> bytes:
    """A quoted line re-written so that PostgreSQL's CSV reader sees what Python's did (they
    disagree about a quote in the middle of an unquoted field)."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow([*fields, lineno])
    return buffer.getvalue().encode("utf-8")


class _Report:
    """The rejected-rows CSV (UTF-8 with BOM, so spreadsheet programs show the Chinese).

    Resuming keeps its lines up to `keep_through_line` (what was committed) and drops those
    of a batch that never committed."""

    def __init__(self, path: Path, *, keep_through_line: int):
        self.path = path
        self.keep = keep_through_line

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.keep > 1 and self.path.exists():
            self._truncate()
            self.fh = open(self.path, "a", encoding="utf-8", newline="")  # noqa: SIM115
        else:
            self.fh = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            csv.writer(self.fh).writerow(REPORT_HEADER)
        self.writer = csv.writer(self.fh)
        return self

    def _truncate(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with (
            open(self.path, encoding="utf-8-sig", newline="") as src,
            open(tmp, "w", encoding="utf-8-sig", newline="") as dst,
        ):
            writer = csv.writer(dst)
            for row in csv.reader(src):
                if row and row[0].isdigit() and int(row[0]) > self.keep:
                    break
                writer.writerow(row)
        os.replace(tmp, self.path)

    def write(self, rows) -> None:
        if rows:
            self.writer.writerows(rows)
            self.fh.flush()

    def __exit__(self, *exc):
        self.fh.close()
        return False


@contextmanager
def _python_tuned_for_bulk():
    """Two interpreter settings for the duration of the load. The cyclic garbage collector
    is paused: a batch holds ~10^5 tuples, every full collection walks all of them, and rows
    never form cycles (reference counting frees them). The thread switch interval drops from
    5 ms to 0.5 ms: the writer thread needs the GIL back after each database round trip and
    would otherwise wait out the validating thread's whole time slice every time."""
    collecting = gc.isenabled()
    interval = sys.getswitchinterval()
    gc.disable()
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        if collecting:
            gc.enable()


class _Pipeline:
    """Runs write(batch) on a second thread, one batch behind the reader, so that Python
    validates batch n+1 while PostgreSQL works on batch n (the thread mostly waits on the
    socket, with the GIL released). The thread uses the caller's connection (thread sharing);
    the reader does not touch the database meanwhile. threaded=False writes inline."""

    def __init__(self, write: Callable[[_Batch], None], *, threaded: bool):
        self.write = write
        self.threaded = threaded
        self.error: BaseException | None = None
        self.stop = False

    def __enter__(self):
        if self.threaded:
            self.connection = connections[DEFAULT_DB_ALIAS]
            self.connection.inc_thread_sharing()
            self.queue: queue.Queue = queue.Queue(maxsize=1)
            self.thread = threading.Thread(target=self._run, name="registry-import-writer")
            self.thread.start()
        return self

    def _run(self) -> None:
        connections[DEFAULT_DB_ALIAS] = self.connection
        while (batch := self.queue.get()) is not None:
            if self.error is None and not self.stop:
                try:
                    self.write(batch)
                except BaseException as exc:  # noqa: BLE001 - handed to the reader thread
                    self.error = exc

    def submit(self, batch: _Batch) -> None:
        if not self.threaded:
            self.write(batch)
            return
        self._raise()
        self.queue.put(batch)

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error

    def __exit__(self, exc_type, exc, tb):
        if self.threaded:
            # On an error here (Ctrl-C while validating) the batch being written still
            # commits, queued ones are dropped: the run resumes after the last commit.
            self.stop = exc_type is not None
            self.queue.put(None)
            self.thread.join()
            self.connection.dec_thread_sharing()
            if exc_type is None:
                self._raise()
        return False


# --- PostgreSQL: COPY into a staging table, then set-based statements -------------------------

_STAGE = "registry_import_stage"
_CLOSED = "registry_import_closed"

_PERSON_COLUMNS = (
    "id_number, name, former_names, gender, ethnicity, birth_date, household_id, relation, "
    "address, district_id, station_id, phone, status, updated_at"
)
# The staged text as the person's columns (s = stage, h = household, d = district,
# st = station); the same for live and closed cards.
_PERSON_VALUES = """
    upper(s.id_number) AS id_number,
    s.name,
    CASE WHEN s.former_names = '' THEN '[]'::jsonb
         ELSE to_jsonb(string_to_array(s.former_names, '|')) END AS former_names,
    CASE s.gender WHEN '男' THEN 'M' ELSE 'F' END AS gender,
    s.ethnicity,
    s.birth_date::date AS birth_date,
    h.id AS household_id,
    s.relation,
    s.address,
    d.id AS district_id,
    st.id AS station_id,
    s.phone,
    s.status
"""
_JOINS = f"""
    FROM {_STAGE} s
    JOIN registry_household h ON h.number = s.household_number
    JOIN accounts_district d ON d.code = s.district_code
    LEFT JOIN accounts_station st ON st.code = s.station_code
"""
_HOUSEHOLDS_SQL = f"""
    WITH src AS MATERIALIZED (
        SELECT DISTINCT ON (s.household_number)
            s.household_number AS number, s.household_kind AS kind, s.address,
            d.id AS district_id, st.id AS station_id, s.relation = %(head)s AS is_head
        FROM {_STAGE} s
        JOIN accounts_district d ON d.code = s.district_code
        LEFT JOIN accounts_station st ON st.code = s.station_code
        ORDER BY s.household_number, s.relation = %(head)s DESC,
                 CASE WHEN s.relation = %(head)s THEN -s.line ELSE s.line END
    ), heads AS (
        INSERT INTO registry_household (number, kind, address, district_id, station_id)
        SELECT number, kind, address, district_id, station_id FROM src WHERE is_head
        ON CONFLICT (number) DO UPDATE SET
            kind = EXCLUDED.kind, address = EXCLUDED.address,
            district_id = EXCLUDED.district_id, station_id = EXCLUDED.station_id
        WHERE (registry_household.kind, registry_household.address,
               registry_household.district_id, registry_household.station_id)
              IS DISTINCT FROM
              (EXCLUDED.kind, EXCLUDED.address, EXCLUDED.district_id, EXCLUDED.station_id)
        RETURNING (xmax = 0) AS inserted
    ), others AS (
        INSERT INTO registry_household (number, kind, address, district_id, station_id)
        SELECT number, kind, address, district_id, station_id FROM src WHERE NOT is_head
        ON CONFLICT (number) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FILTER (WHERE inserted) FROM heads) + (SELECT count(*) FROM others),
           (SELECT count(*) FILTER (WHERE NOT inserted) FROM heads)
"""  # noqa: S608 - table names are constants
# Live cards: one per ID number (the reader kept the batch's last row). Always written, no
# "unchanged" shortcut: updated_at marks the card as asserted by this run.
_LIVE_SQL = f"""
    WITH up AS (
        INSERT INTO registry_person ({_PERSON_COLUMNS})
        SELECT {_PERSON_VALUES}, %(stamp)s
        {_JOINS}
        WHERE s.status = 'registered'
        ON CONFLICT (id_number) WHERE status = 'registered' DO UPDATE SET
            name = EXCLUDED.name, former_names = EXCLUDED.former_names,
            gender = EXCLUDED.gender, ethnicity = EXCLUDED.ethnicity,
            birth_date = EXCLUDED.birth_date, household_id = EXCLUDED.household_id,
            relation = EXCLUDED.relation, address = EXCLUDED.address,
            district_id = EXCLUDED.district_id, station_id = EXCLUDED.station_id,
            phone = EXCLUDED.phone, updated_at = EXCLUDED.updated_at
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
"""  # noqa: S608
_CLOSED_SQL = (
    f"DROP TABLE IF EXISTS {_CLOSED}",
    f"""
    CREATE TEMP TABLE {_CLOSED} AS
    SELECT {_PERSON_VALUES}, s.line, NULL::bigint AS person_id
    {_JOINS}
    WHERE s.status <> 'registered'
    """,
    # 1. The same closed card, from an earlier import.
    f"""
    UPDATE {_CLOSED} c SET person_id = (
        SELECT max(p.id) FROM registry_person p
        WHERE p.id_number = c.id_number AND p.household_id = c.household_id
          AND p.status = c.status)
    """,  # noqa: S608
    # 2. Otherwise the live card in that household, unless this run wrote it (several closed
    #    rows for one live card: the last line gets it, the others become cards).
    f"""
    UPDATE {_CLOSED} c SET person_id = m.pid
    FROM (
        SELECT DISTINCT ON (p.id) p.id AS pid, o.line
        FROM {_CLOSED} o
        JOIN registry_person p ON p.id_number = o.id_number
             AND p.status = 'registered' AND p.household_id = o.household_id
        WHERE o.person_id IS NULL AND p.updated_at < %(run_start)s
        ORDER BY p.id, o.line DESC
    ) m
    WHERE c.line = m.line
    """,  # noqa: S608
    # 3. Update those, add the rest.
    f"""
    WITH upd AS (
        UPDATE registry_person p SET
            name = c.name, former_names = c.former_names, gender = c.gender,
            ethnicity = c.ethnicity, birth_date = c.birth_date,
            household_id = c.household_id, relation = c.relation, address = c.address,
            district_id = c.district_id, station_id = c.station_id, phone = c.phone,
            status = c.status, updated_at = %(stamp)s
        FROM {_CLOSED} c WHERE p.id = c.person_id
        RETURNING 1
    ), ins AS (
        INSERT INTO registry_person ({_PERSON_COLUMNS})
        SELECT id_number, name, former_names, gender, ethnicity, birth_date, household_id,
               relation, address, district_id, station_id, phone, status, %(stamp)s
        FROM {_CLOSED} WHERE person_id IS NULL
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd)
    """,  # noqa: S608
)


class _CopyWriter:
    shape = "stage"

    def __init__(self, run: ImportRun):
        self.run = run
        self.rows_since_analyze = 0
        with connection.cursor() as cursor:  # an estimate: count(*) would scan the table
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'registry_person'")
            self.rows_at_analyze = max(10_000, int(cursor.fetchone()[0]))

    def write(self, lines: list[bytes]) -> Counts:
        counts = Counts()
        stamp = _db_clock()
        columns = ", ".join(HEADER)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ("
                + ", ".join(f"{name} text NOT NULL" for name in HEADER)
                + ", line bigint NOT NULL)"
            )
            # TRUNCATE, not ON COMMIT DELETE ROWS: inside an outer transaction (tests)
            # nothing commits between batches.
            cursor.execute(f"TRUNCATE {_STAGE}")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # the batch's sorts stay in memory
            cursor.execute("SET LOCAL jit = off")  # see _DirectWriter
            with cursor.copy(
                f"COPY {_STAGE} ({columns}, line) FROM STDIN "
                f"WITH (FORMAT csv, FORCE_NOT_NULL ({columns}))"
            ) as copy:
                copy.write(b"".join(lines))
            self._maybe_analyze(cursor, len(lines))

            cursor.execute(_HOUSEHOLDS_SQL, {"head": HEAD_RELATION})
            counts.households_created, counts.households_updated = cursor.fetchone()
            cursor.execute(_LIVE_SQL, {"stamp": stamp})
            created, updated = cursor.fetchone()
            counts.persons_created += created
            counts.persons_updated += updated
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {_STAGE} WHERE status <> 'registered')"  # noqa: S608
            )
            if cursor.fetchone()[0]:
                params = {"stamp": stamp, "run_start": self.run.started_at}
                for sql in _CLOSED_SQL:
                    cursor.execute(sql, params if "%(" in sql else None)
                created, updated = cursor.fetchone()
                counts.persons_created += created
                counts.persons_updated += updated
        return counts

    def _maybe_analyze(self, cursor, rows: int) -> None:
        """Tables growing from empty keep their "tiny" statistics until autovacuum comes
        by, and the planner may then scan millions of households per batch: re-analyse
        whenever they have doubled since the last time."""
        self.rows_since_analyze += rows
        if self.rows_since_analyze >= self.rows_at_analyze:
            cursor.execute("ANALYZE registry_household")
            cursor.execute("ANALYZE registry_person")
            self.rows_at_analyze += self.rows_since_analyze
            self.rows_since_analyze = 0


_HOUSEHOLD_STAGE = "registry_import_households"
# New households: plain INSERT of those the table lacks (the look-up is a correlated
# subquery, one index probe each, so that the planner never hashes the whole growing table).
# A first load has the tables to itself, so nothing races between the probe and the insert.
_DIRECT_NEW_HOUSEHOLDS_SQL = f"""
    INSERT INTO registry_household (number, kind, address, district_id, station_id)
    SELECT number, kind, address, district_id, station_id FROM {_HOUSEHOLD_STAGE} s
    WHERE (SELECT h.id FROM registry_household h WHERE h.number = s.number) IS NULL
    RETURNING number, id
"""  # noqa: S608
# Households an earlier batch created: their head's row (if in this batch) updates them.
_DIRECT_OLD_HOUSEHOLDS_SQL = f"""
    WITH old AS (
        SELECT h.id, h.number FROM registry_household h WHERE h.number = ANY(%(numbers)s)
    ), upd AS (
        UPDATE registry_household h SET
            kind = s.kind, address = s.address, district_id = s.district_id,
            station_id = s.station_id
        FROM {_HOUSEHOLD_STAGE} s
        WHERE s.number = h.number AND s.is_head AND h.number = ANY(%(numbers)s)
          AND (h.kind, h.address, h.district_id, h.station_id)
              IS DISTINCT FROM (s.kind, s.address, s.district_id, s.station_id)
        RETURNING 1
    )
    SELECT number, id, (SELECT count(*) FROM upd) FROM old
"""  # noqa: S608
_NULL = r"\N"


class _DirectWriter:
    """A fast first load: households through a small staging table (they may span batches),
    persons COPYed straight into the person table, which then has no unique index, foreign
    key or secondary index to maintain. The reader built each person's COPY line except the
    household and station ids, which only the database knows."""

    shape = "direct"

    def __init__(self, run: ImportRun):
        self.run = run
        self.stations: dict[str, str] = {}
        self.rows_since_analyze = 0
        self.rows_at_analyze = 10_000

    def write(self, rows: list[tuple]) -> Counts:
        counts = Counts()
        stamp = _db_clock().isoformat()
        if any(row[1] and row[1] not in self.stations for row in rows):
            self.stations = {
                code: str(pk) for code, pk in Station.objects.values_list("code", "id")
            }
        stations = self.stations
        households: dict[str, tuple] = {}
        for number, code, is_head, kind, address, district, _rest in rows:
            # The head's row wins (the last one); otherwise the first row (as _CopyWriter).
            if is_head or number not in households:
                households[number] = (kind, address, district, code, is_head)
        lines = [
            "\t".join(
                (number, kind, address, district, stations.get(code, _NULL), "t" if head else "f")
            )
            + "\n"
            for number, (kind, address, district, code, head) in households.items()
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_HOUSEHOLD_STAGE} (number text NOT NULL, "
                "kind text NOT NULL, address text NOT NULL, district_id bigint NOT NULL, "
                "station_id bigint, is_head boolean NOT NULL)"
            )
            cursor.execute(f"TRUNCATE {_HOUSEHOLD_STAGE}")
            # A freshly truncated table has no statistics, the estimates balloon, and JIT
            # compilation with inlining then costs more than the statement (measured: up to
            # a second per batch).
            cursor.execute("SET LOCAL jit = off")
            with cursor.copy(f"COPY {_HOUSEHOLD_STAGE} FROM STDIN") as copy:
                copy.write("".join(lines).encode("utf-8"))
            self._maybe_analyze(cursor, len(lines))
            # While the table is empty or small its statistics say so, and the planner probes
            # it with a sequential scan per staged row, which turns quadratic as the insert
            # grows it (measured: 3 s for the first 19k households). Index probes only.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(_DIRECT_NEW_HOUSEHOLDS_SQL)
            ids = {number: str(pk) for number, pk in cursor.fetchall()}
            counts.households_created = len(ids)
            if len(ids) < len(households):
                numbers = [number for number in households if number not in ids]
                cursor.execute(_DIRECT_OLD_HOUSEHOLDS_SQL, {"numbers": numbers})
                for number, pk, updated in cursor.fetchall():
                    ids[number] = str(pk)
                    counts.households_updated = updated
            cursor.execute("SET LOCAL enable_seqscan = on")
            middle = "\t" + stamp + "\t"
            data = "".join(
                [
                    ids[row[0]] + middle + stations.get(row[1], _NULL) + "\t" + row[6] + "\n"
                    for row in rows
                ]
            )
            with cursor.copy(
                "COPY registry_person (household_id, updated_at, station_id, id_number, name, "
                "former_names, gender, ethnicity, birth_date, relation, address, district_id, "
                "phone, status) FROM STDIN"
            ) as copy:
                copy.write(data.encode("utf-8"))
        counts.persons_created = len(rows)
        return counts

    def _maybe_analyze(self, cursor, rows: int) -> None:
        # The household look-ups above join a growing table: keep its statistics current.
        self.rows_since_analyze += rows
        if self.rows_since_analyze >= self.rows_at_analyze:
            cursor.execute("ANALYZE registry_household")
            self.rows_at_analyze += self.rows_since_analyze
            self.rows_since_analyze = 0


# --- what a fast first load drops and rebuilds (PostgreSQL) -----------------------------------

_LIVE_INDEX = "registry_one_live_card_per_id_number"
# Only during a fast first load: finds closed cards appended twice without scanning the table
# (about one card in forty is closed, so it costs little to maintain).
_CLOSED_INDEX = "registry_import_closed_cards"


@dataclass(frozen=True)
class _Part:
    kind: str  # "index", "unique" or "fk"
    table: str
    name: str
    sql: str


def _schema_parts() -> list[_Part]:
    """The indexes, the one-live-card unique index and the foreign keys of the household
    and person tables, as Django's migrations create them (same names, same SQL). Kept out:
    primary keys and the unique household number (the household upsert needs it)."""
    parts = []
    with connection.schema_editor(atomic=False, collect_sql=True) as editor:
        for model in (Household, Person):
            table = model._meta.db_table
            for statement in editor._model_indexes_sql(model):
                name = str(statement.parts["name"]).strip('"')
                parts.append(_Part("index", table, name, str(statement)))
            for constraint in model._meta.constraints:
                if isinstance(constraint, UniqueConstraint):
                    sql = str(constraint.create_sql(model, editor))
                    parts.append(_Part("unique", table, constraint.name, sql))
            for fld in model._meta.local_concrete_fields:
                if fld.remote_field is not None and fld.db_constraint:
                    statement = editor._create_fk_sql(model, fld, "_fk_%(to_table)s_%(to_column)s")
                    name = str(statement.parts["name"]).strip('"')
                    parts.append(_Part("fk", table, name, str(statement)))
    return parts


def _existing_parts(tables) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) "
            "UNION ALL SELECT conname FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [list(tables), list(tables)],
        )
        return {row[0] for row in cursor.fetchall()}


def _missing_parts() -> list[_Part]:
    parts = _schema_parts()
    existing = _existing_parts({part.table for part in parts})
    return [part for part in parts if part.name not in existing]


def _prepare_schema(*, resuming: bool, wanted: bool, out) -> bool:
    """Decide whether this import is a fast first load (and drop what it does not need);
    complete an abandoned one first. Returns True for a fast first load."""
    missing = _missing_parts()
    if resuming and any(part.name == _LIVE_INDEX for part in missing):
        return True  # resuming a fast first load: go on the same way
    if missing:
        out.write("上次导入未完成索引和外键，正在补建……\n")
        _complete_schema()
    if not wanted or Person.objects.exists() or Household.objects.exists():
        return False
    with connection.cursor() as cursor:
        _fire_deferred_checks(cursor)
        for part in _schema_parts():
            if part.kind == "fk":
                cursor.execute(f'ALTER TABLE "{part.table}" DROP CONSTRAINT "{part.name}"')
            else:
                cursor.execute(f'DROP INDEX "{part.name}"')
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{_CLOSED_INDEX}" ON registry_person '
            "(id_number, household_id, status) WHERE status <> 'registered'"
        )
    return True


def _complete_schema() -> tuple[int, list[str]]:
    """After a fast first load: keep the later card where the load appended one card twice
    (what the upserts would have done), then build the missing indexes and add the missing
    foreign keys (which validates them). Returns (cards removed, names created)."""
    missing = _missing_parts()
    created: list[str] = []
    removed = 0
    if not missing:
        return removed, created
    with connection.cursor() as cursor:
        _fire_deferred_checks(cursor)
        cursor.execute("SET maintenance_work_mem = '512MB'")
        try:
            for part in missing:
                if part.kind == "index":
                    cursor.execute(part.sql)
                    created.append(part.name)
            for part in missing:
                if part.kind == "unique":
                    removed += _create_unique(cursor, part)
                    created.append(part.name)
            if any(part.name == _LIVE_INDEX for part in missing):
                # Closed cards appended twice (same ID number, household and status).
                cursor.execute(
                    """
                    DELETE FROM registry_person WHERE id IN (
                        SELECT id FROM (
                            SELECT id, row_number() OVER (
                                PARTITION BY id_number, household_id, status ORDER BY id DESC
                            ) AS n
                            FROM registry_person WHERE status <> 'registered'
                        ) ranked WHERE n > 1)
                    """
                )
                removed += cursor.rowcount
                _fire_deferred_checks(cursor)
            cursor.execute(f'DROP INDEX IF EXISTS "{_CLOSED_INDEX}"')
            for part in missing:
                if part.kind == "fk":
                    cursor.execute(part.sql)
                    created.append(part.name)
        finally:
            cursor.execute("RESET maintenance_work_mem")
    return removed, created


def _fire_deferred_checks(cursor) -> None:
    """Inside an open transaction (tests; a caller's atomic block), pending deferred
    foreign-key checks would make ALTER TABLE refuse the tables; run them now. Autocommit
    (the command) has none pending."""
    if connection.in_atomic_block:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _create_unique(cursor, part: _Part) -> int:
    """Create the one-live-card index; if live ID numbers were appended twice, remove the
    earlier cards (lower ids: earlier batches) and try again."""
    try:
        with transaction.atomic():
            cursor.execute(part.sql)
        return 0
    except IntegrityError:
        pass
    cursor.execute(
        """
        DELETE FROM registry_person WHERE id IN (
            SELECT id FROM (
                SELECT id, row_number() OVER (PARTITION BY id_number ORDER BY id DESC) AS n
                FROM registry_person WHERE status = 'registered'
            ) ranked WHERE n > 1)
        """
    )
    removed = cursor.rowcount
    _fire_deferred_checks(cursor)  # the delete queued the identity proofs' key checks
    cursor.execute(part.sql)
    return removed


def ensure_schema() -> list[str]:
    """Complete the registry tables after an interrupted fast first load: remove replaced
    duplicates, build missing indexes, add missing foreign keys. Returns what it created.
    PostgreSQL only; a no-op elsewhere (every import also does this first)."""
    if connection.vendor != "postgresql":
        return []
    return _complete_schema()[1]


# --- other databases: the ORM in batches ------------------------------------------------------


class _OrmWriter:
    """The same meaning as _CopyWriter with bulk_create / bulk_update (SQLite, tests)."""

    shape = "fields"
    CHUNK = 500  # below SQLite's bound-parameter limit

    def __init__(self, run: ImportRun, districts: dict[str, int]):
        self.run = run
        self.districts = districts

    def write(self, rows: list[tuple[int, list[str]]]) -> Counts:
        counts = Counts()
        stamp = _db_clock()
        codes = {f[STATION_CODE] for _line, f in rows if f[STATION_CODE]}
        stations = dict(Station.objects.filter(code__in=codes).values_list("code", "id"))
        households = self._households(rows, stations, counts)

        def values(f: list[str]) -> dict:
            return {
                "name": f[NAME],
                "former_names": f[FORMER_NAMES].split("|") if f[FORMER_NAMES] else [],
                "gender": GENDERS[f[GENDER]],
                "ethnicity": f[ETHNICITY],
                "birth_date": dt.date.fromisoformat(f[BIRTH_DATE]),
                "household_id": households[f[HOUSEHOLD_NUMBER]],
                "relation": f[RELATION],
                "address": f[ADDRESS],
                "district_id": self.districts[f[DISTRICT_CODE]],
                "station_id": stations.get(f[STATION_CODE]),
                "phone": f[PHONE],
                "status": f[STATUS],
                "updated_at": stamp,
            }

        live: dict[str, list[str]] = {}
        closed: dict[tuple[str, int, str], tuple[int, list[str]]] = {}
        for lineno, f in rows:
            idn = f[ID_NUMBER].upper()
            if f[STATUS] == PersonStatus.REGISTERED:
                live[idn] = f
            else:
                closed[(idn, households[f[HOUSEHOLD_NUMBER]], f[STATUS])] = (lineno, f)

        existing = self._in_chunks(
            Person.objects.filter(status=PersonStatus.REGISTERED), "id_number", live
        )
        by_id = {p.id_number: p for p in existing}
        new, changed = [], []
        for idn, f in live.items():
            person = by_id.get(idn)
            if person is None:
                new.append(Person(id_number=idn, **values(f)))
            else:
                for name, value in values(f).items():
                    setattr(person, name, value)
                changed.append(person)
        Person.objects.bulk_create(new, batch_size=self.CHUNK)
        Person.objects.bulk_update(changed, list(_PERSON_FIELDS), batch_size=self.CHUNK)
        counts.persons_created += len(new)
        counts.persons_updated += len(changed)
        if closed:
            created, updated = self._closed(closed, values)
            counts.persons_created += created
            counts.persons_updated += updated
        return counts

    def _in_chunks(self, queryset, column: str, keys) -> list:
        keys = list(keys)
        result = []
        for start in range(0, len(keys), self.CHUNK):
            result += queryset.filter(**{f"{column}__in": keys[start : start + self.CHUNK]})
        return result

    def _households(self, rows, stations, counts: Counts) -> dict[str, int]:
        chosen: dict[str, tuple[bool, list[str]]] = {}
        for _line, f in rows:
            number, is_head = f[HOUSEHOLD_NUMBER], f[RELATION] == HEAD_RELATION
            # A head row replaces what came before (the last head wins); another row only
            # stands in when nothing came before (the first one wins).
            if is_head or number not in chosen:
                chosen[number] = (is_head, f)
        existing = {h.number: h for h in self._in_chunks(Household.objects, "number", chosen)}
        new, changed = [], []
        for number, (is_head, f) in chosen.items():
            wanted = {
                "kind": f[HOUSEHOLD_KIND],
                "address": f[ADDRESS],
                "district_id": self.districts[f[DISTRICT_CODE]],
                "station_id": stations.get(f[STATION_CODE]),
            }
            household = existing.get(number)
            if household is None:
                new.append(Household(number=number, **wanted))
            elif is_head and any(getattr(household, k) != v for k, v in wanted.items()):
                for name, value in wanted.items():
                    setattr(household, name, value)
                changed.append(household)
        Household.objects.bulk_create(new, batch_size=self.CHUNK)
        Household.objects.bulk_update(changed, list(_HOUSEHOLD_FIELDS), batch_size=self.CHUNK)
        counts.households_created += len(new)
        counts.households_updated += len(changed)
        ids = {h.number: h.pk for h in [*existing.values(), *new]}
        missing = [number for number, pk in ids.items() if pk is None]
        if missing:  # a database that does not return ids from bulk_create
            ids.update(
                (h.number, h.pk) for h in self._in_chunks(Household.objects, "number", missing)
            )
        return ids

    def _closed(self, closed, values) -> tuple[int, int]:
        cards = self._in_chunks(Person.objects.all(), "id_number", {key[0] for key in closed})
        same: dict[tuple[str, int, str], Person] = {}
        live_in: dict[tuple[str, int], Person] = {}
        for card in sorted(cards, key=lambda p: p.pk):
            if card.status == PersonStatus.REGISTERED:
                if card.updated_at < self.run.started_at:  # not written by this run
                    live_in[(card.id_number, card.household_id)] = card
            else:
                same[(card.id_number, card.household_id, card.status)] = card  # max id wins
        updates: list[tuple[Person, list[str]]] = []
        claims: dict[int, tuple[Person, list[tuple[int, list[str]]]]] = {}
        new = []
        for key, (lineno, f) in closed.items():
            card = same.get(key)
            if card is not None:
                updates.append((card, f))
            elif (live := live_in.get(key[:2])) is not None:
                claims.setdefault(live.pk, (live, []))[1].append((lineno, f))
            else:
                new.append(Person(id_number=key[0], **values(f)))
        for live, claimants in claims.values():
            # Several closed rows (moved out and deceased) for one live card: the last line
            # closes it, the others become cards of their own.
            claimants.sort(key=lambda claim: claim[0])
            updates.append((live, claimants[-1][1]))
            new += [Person(id_number=live.id_number, **values(f)) for _line, f in claimants[:-1]]
        for card, f in updates:
            for name, value in values(f).items():
                setattr(card, name, value)
        Person.objects.bulk_create(new, batch_size=self.CHUNK)
        Person.objects.bulk_update(
            [card for card, _f in updates], [*_PERSON_FIELDS, "status"], batch_size=self.CHUNK
        )
        return len(new), len(updates)


_HOUSEHOLD_FIELDS = ("kind", "address", "district_id", "station_id")
# Written on every update of a card; "status" only where a card may close.
_PERSON_FIELDS = (
    "name",
    "former_names",
    "gender",
    "ethnicity",
    "birth_date",
    "household_id",
    "relation",
    "address",
    "district_id",
    "station_id",
    "phone",
    "updated_at",
)
