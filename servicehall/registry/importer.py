"""Registry CSV import (户籍卡片导入): validate row by row, stream in batches, upsert.

Public API:
- import_file(path, *, report_path=None, batch_size=50_000, progress=False, restart=False,
              writer="auto", fast_first_load=None, rebuild_names=True, on_batch=None,
              parallel=None, stdout=None) -> ImportSummary
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

PostgreSQL (the "copy" writer): a forked child process reads and validates (Python, one
core) and hands each batch over as COPY-ready bytes; this process only talks to the database
(the other core): it COPYs each batch into a temporary staging table and applies it with a
few INSERT ... SELECT ... ON CONFLICT statements. A first load into empty tables
(fast_first_load; by default for files of DROP_INDEXES_MIN_BYTES and more) goes further: it
drops the secondary indexes, the one-live-card unique index and the foreign keys of the two
tables, appends plain INSERTs from two staging tables (households take ids from a block
reserved on their sequence; a Bloom filter in the reader spares the look-up of households it
has not seen before), and at the end removes the duplicates the way the upserts would have
(the later card wins), rebuilds the indexes, two at a time, and adds the foreign keys back,
which validates them. An interrupted first load leaves the tables that way and resumes the
same way; any other import (or ensure_schema(), `import_registry --complete-schema`) first
completes what it left undone. While a first load runs nothing else may write the registry
(no unique index guards it). Other databases (the "orm" writer) use bulk_create /
bulk_update in batches, inline: the same meaning, not the same speed; writer="orm" forces it
on PostgreSQL too (the tests compare both).

Measured (10M synthetic residents, PostgreSQL 15 with its default settings, this 2-core
machine while other work ran on it): fast first load ~190 s — ~90 s reading, validating and
writing (~110k rows/s; the reader process and the database each keep one core busy) and
~95 s rebuilding indexes and checking foreign keys; a re-run of a loaded file (every card an
update) ~12k rows/s.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gc
import hashlib
import io
import json
import multiprocessing
import os
import queue
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.db import (
    DatabaseError,
    IntegrityError,
    connection,
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
    parallel: bool | None = None,
    stdout=None,
) -> ImportSummary:
    """Import a registry CSV; see the module docstring.

    `on_batch(run)` is called after each committed batch (tests interrupt there);
    `parallel` (default: with the COPY writers) reads and validates in a child process.
    Raises RegistryImportError for a file that cannot be imported at all; any other
    exception leaves a run that the next call with the same file resumes."""
    path = Path(path)
    if not path.is_file():
        raise RegistryImportError(f"找不到文件：{path}")
    if batch_size < 1:
        raise RegistryImportError("批大小必须大于0")
    with open(path, "rb") as fh:
        _read_header(fh.readline())
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
        if writer == "orm":
            batch_writer = _OrmWriter(run, districts)
        elif first_load:
            batch_writer = _DirectWriter(run)
        else:
            batch_writer = _CopyWriter(run)
        producer = _Producer(
            path,
            resumed_from,
            batch_size,
            batch_writer.shape,
            districts,
            stations,
            parallel=writer == "copy" if parallel is None else parallel,
        )
        bar = _progress_bar(path, progress)
        try:
            with _Report(report_path, keep_through_line=resumed_from + 1) as report:
                for batch in producer:
                    _write_batch(batch, run, batch_writer, report, summary, districts)
                    if bar is not None:
                        bar.update(batch.position - bar.n)
                    if on_batch is not None:
                        on_batch(run)
        except BaseException:
            producer.close()
            if first_load:
                # Left as it is, as after a kill: resuming goes on at first-load speed
                # (rebuilding now would make the rest of a 10M load crawl through upserts,
                # measured ~6x slower), and any other import completes the schema first.
                out.write(
                    "快速首次导入中断：索引和外键尚未重建。再次运行同一命令将继续导入，"
                    "完成后重建；如不再继续，请运行 import_registry --complete-schema。\n"
                )
            raise
        finally:
            producer.close()
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


def _write_batch(batch: _Batch, run, batch_writer, report, summary, districts) -> None:
    # Reasons are written before the commit: after a crash between the two, resuming cuts
    # the report back to the committed lines; the other order could lose reasons.
    report.write(batch.rejects)
    with transaction.atomic():
        counts = _create_stations(batch.stations, districts)
        if batch.accepted:
            counts.add(batch_writer.write(batch.payload))
        run.lines_done += batch.lines
        run.accepted += batch.accepted
        run.rejected += batch.rejected
        run.save(update_fields=["lines_done", "accepted", "rejected"])
    summary.lines += batch.lines
    summary.accepted += batch.accepted
    summary.rejected += batch.rejected
    summary.counts.add(counts)


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


class _SeenFilter:
    """A Bloom filter of strings in a fixed 16 MiB (memory does not grow with the file):
    check_and_add() says False only for a string never added before; a True may be wrong
    (about 1 in 5,000 at 4 million households), which costs one database look-up."""

    BITS = 1 << 27

    def __init__(self):
        self.bits = bytearray(self.BITS >> 3)

    def check_and_add(self, value: str) -> bool:
        bits, mask = self.bits, self.BITS - 1
        h = hash(value)  # salted per process; the filter lives no longer than the process
        position, step = h & mask, (h >> 27) | 1
        present = True
        for _probe in range(4):
            byte, bit = position >> 3, 1 << (position & 7)
            if not bits[byte] & bit:
                bits[byte] |= bit
                present = False
            position = (position + step) & mask
        return present


@dataclass
class _Batch:
    payload: object  # what the writer's shape asks for (see _read_batches)
    rejects: list[tuple[int, str, str, str]]  # (line, field, reason, raw)
    lines: int  # physical lines read
    accepted: int
    rejected: int
    stations: list[tuple[str, str, str]]  # new stations the rows need: (code, name, district)
    position: int = 0  # bytes of the file read so far (the progress bar)


def _read_batches(
    fh,
    lineno: int,
    check,
    batch_size: int,
    *,
    shape: str,
    districts: dict[str, int],
    new_stations: list,
    seen: _SeenFilter | None = None,
) -> Iterator[_Batch]:
    """Validate `batch_size` lines at a time. `lineno` is the line before the first one.

    The valid rows become the payload the writer wants (`shape`): "fields" a list of (line
    number, fields) for the ORM; "stage" one CSV blob, each line with its line number, for
    COPY into the staging table; "direct" (households, count, persons): two COPY blobs for
    the fast first load's staging tables, one household per number (its head's row, else
    the first row), marked "maybe written before" unless `seen` (the household numbers
    this reading has passed) proves otherwise. Within a batch, a later valid row replaces an
    earlier one for the same card (live: ID number; closed: ID number, household, status),
    so each batch writes a card once."""
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
        households: dict[str, tuple] = {}
        cards: dict = {}
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
            earlier = cards.get(key)
            if earlier is not None:
                good[earlier] = None
                replaced = True
            cards[key] = len(good)
            if shape == "direct":
                f = fields
                if "\\" in line:  # the one character COPY's text format needs escaped here
                    f = [value.replace("\\", "\\\\") for value in f]
                number, relation, district = f[HOUSEHOLD_NUMBER], f[RELATION], f[DISTRICT_CODE]
                if relation == HEAD_RELATION or number not in households:
                    households[number] = (
                        f[HOUSEHOLD_KIND],
                        f[ADDRESS],
                        district,
                        f[STATION_CODE],
                        relation == HEAD_RELATION,
                    )
                former = f[FORMER_NAMES]
                good.append(
                    "\t".join(
                        (
                            number,
                            f[STATION_CODE],
                            idn,
                            f[NAME],
                            dumps(former.split("|"), ensure_ascii=False) if former else "[]",
                            "M" if f[GENDER] == "男" else "F",
                            f[ETHNICITY],
                            f[BIRTH_DATE],
                            relation,
                            f[ADDRESS],
                            district_ids[district],
                            f[PHONE],
                            status,
                        )
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
        if shape == "direct":
            maybe_old = (lambda number: True) if seen is None else seen.check_and_add
            household_lines = [
                f"{n}\t{number}\t{kind}\t{address}\t{district_ids[district]}\t{code}\t"
                f"{'t' if head else 'f'}\t{'t' if maybe_old(number) else 'f'}\n"
                for n, (number, (kind, address, district, code, head)) in enumerate(
                    households.items(), 1
                )
            ]
            payload: object = (
                "".join(household_lines).encode("utf-8"),
                len(household_lines),
                ("\n".join(good) + "\n").encode("utf-8") if good else b"",
            )
        elif shape == "stage":
            payload = b"".join(good)
        else:
            payload = good
        stations = new_stations[:]
        new_stations.clear()
        yield _Batch(payload, rejects, read, accepted, rejected, stations, fh.tell())


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
def _gc_paused():
    """The cyclic garbage collector paused while batches are built: a batch holds ~10^5
    strings and tuples, every full collection walks them all, and rows never form cycles
    (reference counting frees them). The loop collects the young generations per batch."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _batches_of_file(
    path: Path, skip: int, batch_size: int, shape: str, districts, stations
) -> Iterator[_Batch]:
    new_stations: list[tuple[str, str, str]] = []
    check = make_row_checker(
        districts,
        stations,
        on_new_station=lambda code, name, district: new_stations.append((code, name, district)),
    )
    with open(path, "rb") as fh, _gc_paused():
        _read_header(fh.readline())
        _skip(fh, skip)
        for batch in _read_batches(
            fh,
            skip + 1,  # the header is line 1
            check,
            batch_size,
            shape=shape,
            districts=districts,
            new_stations=new_stations,
            # Households this reading passed: a first load's are nearly all new, and asking
            # the database about each costs more than inserting it. After a resume the
            # earlier session's are unknown, so every household is asked about.
            seen=_SeenFilter() if shape == "direct" and not skip else None,
        ):
            yield batch
            gc.collect(1)


def _producer_main(channel, arguments) -> None:
    """The child process: read and validate, hand batches over. It never touches the
    database (the parent's connection was inherited with the fork and stays the parent's),
    leaves Ctrl-C to the parent, which stops it, and gives up if the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def hand_over(item) -> None:
        while True:
            try:
                channel.put(item, timeout=1)
                return
            except queue.Full:
                if os.getppid() != parent:  # the parent was killed: nobody reads this
                    raise SystemExit(1) from None

    try:
        for batch in _batches_of_file(*arguments):
            hand_over(batch)
        hand_over(None)
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001 - reported to the parent
        hand_over(traceback.format_exc())


class _Producer:
    """The batches of a file from line `skip` + 2 on. With `parallel`, a forked child
    process reads and validates (the second core: validation costs about twice what the
    database does) while this process writes; otherwise inline, one batch at a time."""

    def __init__(
        self,
        path: Path,
        skip: int,
        batch_size: int,
        shape: str,
        districts,
        stations,
        *,
        parallel: bool,
    ):
        self.arguments = (path, skip, batch_size, shape, districts, stations)
        self.parallel = parallel
        self.process = None

    def __iter__(self) -> Iterator[_Batch]:
        if not self.parallel:
            yield from _batches_of_file(*self.arguments)
            return
        context = multiprocessing.get_context("fork")
        self.queue = context.Queue(maxsize=2)  # bounded: memory stays flat
        self.process = context.Process(
            target=_producer_main, args=(self.queue, self.arguments), daemon=True
        )
        self.process.start()
        while True:
            try:
                item = self.queue.get(timeout=5)
            except queue.Empty:
                if not self.process.is_alive():
                    raise RuntimeError("读取进程意外退出") from None
                continue
            if item is None:
                return
            if isinstance(item, str):
                raise RuntimeError(f"读取进程出错：\n{item}")
            yield item

    def close(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join(timeout=10)
            self.queue.close()
            self.process = None


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

    def write(self, blob: bytes) -> Counts:
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
                copy.write(blob)
            self._maybe_analyze(cursor, blob.count(b"\n"))

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


_HOUSEHOLD_ID_SEQUENCE = "pg_get_serial_sequence('registry_household', 'id')"
_DIRECT_HOUSEHOLDS = "registry_import_households"
_DIRECT_PERSONS = "registry_import_persons"
_DIRECT_TABLES = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_DIRECT_HOUSEHOLDS} (n integer NOT NULL, "
    "number text NOT NULL, kind text NOT NULL, address text NOT NULL, "
    "district_id bigint NOT NULL, station_code text NOT NULL, is_head boolean NOT NULL, "
    "maybe_old boolean NOT NULL, old_id bigint)",
    f"CREATE TEMP TABLE IF NOT EXISTS {_DIRECT_PERSONS} (household_number text NOT NULL, "
    "station_code text NOT NULL, id_number text NOT NULL, name text NOT NULL, "
    "former_names jsonb NOT NULL, gender text NOT NULL, ethnicity text NOT NULL, "
    "birth_date date NOT NULL, relation text NOT NULL, address text NOT NULL, "
    "district_id bigint NOT NULL, phone text NOT NULL, status text NOT NULL)",
    f"TRUNCATE {_DIRECT_HOUSEHOLDS}, {_DIRECT_PERSONS}",
    # Temporary tables have no statistics: the estimates balloon, and JIT compilation then
    # costs more than the statements (measured: up to a second a batch).
    "SET LOCAL jit = off",
    # The persons-to-households join: hashed in memory (without statistics the planner
    # expects millions of rows and sorts both sides, on disk at the default work_mem).
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL enable_mergejoin = off",
)
# Households an earlier batch may have created (the reader's filter says which): one index
# probe each (a correlated subquery, and no sequential scans: while the table is small its
# statistics say so, and a scan per household turns quadratic as the table grows).
_DIRECT_OLD_SQL = f"""
    UPDATE {_DIRECT_HOUSEHOLDS} s
    SET old_id = (SELECT h.id FROM registry_household h WHERE h.number = s.number)
    WHERE s.maybe_old
"""  # noqa: S608
_DIRECT_NEW_SQL = f"""
    INSERT INTO registry_household (id, number, kind, address, district_id, station_id)
    SELECT %(first)s + s.n - 1, s.number, s.kind, s.address, s.district_id, st.id
    FROM {_DIRECT_HOUSEHOLDS} s LEFT JOIN accounts_station st ON st.code = s.station_code
    WHERE s.old_id IS NULL
"""  # noqa: S608
_DIRECT_HEADS_SQL = f"""
    UPDATE registry_household h SET
        kind = s.kind, address = s.address, district_id = s.district_id, station_id = st.id
    FROM {_DIRECT_HOUSEHOLDS} s LEFT JOIN accounts_station st ON st.code = s.station_code
    WHERE s.old_id IS NOT NULL AND s.is_head AND h.id = s.old_id
      AND (h.kind, h.address, h.district_id, h.station_id)
          IS DISTINCT FROM (s.kind, s.address, s.district_id, st.id)
"""  # noqa: S608
_DIRECT_PERSONS_SQL = f"""
    INSERT INTO registry_person ({_PERSON_COLUMNS})
    SELECT p.id_number, p.name, p.former_names, p.gender, p.ethnicity, p.birth_date,
           coalesce(h.old_id, %(first)s + h.n - 1), p.relation, p.address, p.district_id,
           st.id, p.phone, p.status, %(stamp)s
    FROM {_DIRECT_PERSONS} p
    JOIN {_DIRECT_HOUSEHOLDS} h ON h.number = p.household_number
    LEFT JOIN accounts_station st ON st.code = p.station_code
"""  # noqa: S608


class _DirectWriter:
    """A fast first load: the batch's households and persons COPYed into two temporary
    tables, then inserted into tables that have no secondary index, one-live-card index or
    foreign key to maintain. New households take ids from a block reserved on the id
    sequence, so nothing per row comes back to Python. A first load has the tables to
    itself (nobody else inserts households meanwhile)."""

    shape = "direct"

    def __init__(self, run: ImportRun):
        self.run = run

    def write(self, payload) -> Counts:
        households, household_count, persons = payload
        counts = Counts()
        with connection.cursor() as cursor:
            for sql in _DIRECT_TABLES:
                cursor.execute(sql)
            cursor.execute(
                f"SELECT clock_timestamp(), setval({_HOUSEHOLD_ID_SEQUENCE}, "
                f"nextval({_HOUSEHOLD_ID_SEQUENCE}) + %s - 1)",
                [max(household_count, 1)],
            )
            stamp, last = cursor.fetchone()
            params = {"first": last - max(household_count, 1) + 1, "stamp": stamp}
            with cursor.copy(
                f"COPY {_DIRECT_HOUSEHOLDS} (n, number, kind, address, district_id, "
                "station_code, is_head, maybe_old) FROM STDIN"
            ) as copy:
                copy.write(households)
            cursor.execute("SET LOCAL enable_seqscan = off")  # probes, not scans (above)
            cursor.execute(_DIRECT_OLD_SQL)
            cursor.execute(_DIRECT_NEW_SQL, params)
            counts.households_created = cursor.rowcount
            if counts.households_created < household_count:
                cursor.execute(_DIRECT_HEADS_SQL)
                counts.households_updated = cursor.rowcount
            cursor.execute("SET LOCAL enable_seqscan = on")
            with cursor.copy(
                f"COPY {_DIRECT_PERSONS} (household_number, station_code, id_number, name, "
                "former_names, gender, ethnicity, birth_date, relation, address, "
                "district_id, phone, status) FROM STDIN"
            ) as copy:
                copy.write(persons)
            cursor.execute(_DIRECT_PERSONS_SQL, params)
            counts.persons_created = cursor.rowcount
        return counts


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
    (what the upserts would have done), build the missing indexes (two at a time when it
    can) and add the missing foreign keys (which validates them). Returns (cards removed,
    names created)."""
    missing = _missing_parts()
    created: list[str] = []
    removed = 0
    if not missing:
        return removed, created
    with connection.cursor() as cursor:
        _fire_deferred_checks(cursor)
        cursor.execute(f"SET maintenance_work_mem = '{_INDEX_MEMORY}'")
        try:
            if any(part.name == _LIVE_INDEX for part in missing):
                # Closed cards appended twice (same ID number, household and status); the
                # load's own index on closed cards finds them without a scan.
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
            unique = [part for part in missing if part.kind == "unique"]
            indexes = [part for part in missing if part.kind == "index"]
            removed += _build_indexes(cursor, unique, indexes)
            created += [part.name for part in unique + indexes]
            for part in missing:
                if part.kind == "fk":
                    cursor.execute(part.sql)
                    created.append(part.name)
        finally:
            cursor.execute("RESET maintenance_work_mem")
    return removed, created


_INDEX_MEMORY = "512MB"


def _build_indexes(cursor, unique: list[_Part], indexes: list[_Part]) -> int:
    """Build the unique index(es) (removing replaced live cards if it must) and the other
    indexes; returns the cards removed. In autocommit (the command), a second connection
    builds alongside: PostgreSQL sorts in parallel but writes each index from one process,
    so two builds at once keep both cores busy (measured: 72 s -> 60 s at 10M persons).
    Inside a transaction (tests, a caller's atomic block) a second connection could not see
    the tables, so one at a time."""
    # Largest first, so that the two lanes finish together.
    work: queue.SimpleQueue = queue.SimpleQueue()
    for part in sorted(indexes, key=lambda p: (p.table != Person._meta.db_table, p.name)):
        work.put(part)
    failures: list[BaseException] = []

    def drain(target_cursor) -> None:
        while True:
            try:
                part = work.get_nowait()
            except queue.Empty:
                return
            target_cursor.execute(part.sql)

    def second_lane() -> None:
        raw = connection.get_new_connection(connection.get_connection_params())
        try:
            raw.autocommit = True
            with raw.cursor() as other:
                other.execute(f"SET maintenance_work_mem = '{_INDEX_MEMORY}'")
                drain(other)
        except BaseException as exc:  # noqa: BLE001 - raised again below
            failures.append(exc)
        finally:
            raw.close()

    helper = None
    if not connection.in_atomic_block and len(indexes) > 1:
        helper = threading.Thread(target=second_lane, name="registry-import-index")
        helper.start()
    removed = 0
    try:
        for part in unique:
            removed += _create_unique(cursor, part)
        drain(cursor)
    finally:
        if helper is not None:
            helper.join()
    if failures:
        raise failures[0]
    return removed


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
