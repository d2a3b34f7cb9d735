"""Employer batch filing (流动人口集中申报): CSV and XLSX parsing, row validation, limits."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from servicehall.cases.batch import (
    EXAMPLE_ROW,
    WORKER_FIELDS,
    BatchResult,
    RowError,
    parse_batch_file,
    template_csv,
    template_xlsx,
    worker_form_class,
)
from servicehall.catalog.datafiles import read_catalogue
from servicehall.core.idnumbers import make_id_number

HEADER = ["姓名", "身份证号码", "手机号码", "现住址", "户籍地址", "来本市日期", "入住日期", "工种"]


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def worker_id(n: int) -> str:
    return make_id_number("230102", dt.date(1960, 1, 1) + dt.timedelta(days=n), n % 1000)


def worker(n: int, **changes) -> list[str]:
    row = {
        "姓名": f"王{'一二三四五六七八九十'[n % 10]}",
        "身份证号码": worker_id(n),
        "手机号码": f"139{n:08d}",
        "现住址": "沈阳市铁西区示例街8号员工宿舍",
        "户籍地址": "黑龙江省哈尔滨市示例区",
        "来本市日期": "2026-02-01",
        "入住日期": "2026-02-03",
        "工种": "焊工",
    }
    row.update(changes)
    return [row[column] for column in HEADER]


def csv_bytes(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEADER, title: str | None = None) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(content: bytes, name="申报表.csv"):
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def rows_of(result: BatchResult) -> list[int]:
    return [row for row, _ in result.valid_rows]


def test_za_ba_001_form_is_the_employer_application_not_the_worker_list():
    """The per-worker columns live in batch.py because ZA-BA-001's `form` is the employer's
    application; if the item ever gains per-worker fields, this test says so."""
    item = next(doc for doc in read_catalogue().items if doc["code"] == "ZA-BA-001")
    names = {field["name"] for field in item["form"]}
    assert names == {"company_credit_code", "workers_count", "site_address", "contact_phone"}
    # The row fields share ZA-GG-001's names, so a row can become a residence registration.
    individual = next(doc for doc in read_catalogue().items if doc["code"] == "ZA-GG-001")
    row_names = {field["name"] for field in WORKER_FIELDS}
    assert {field["name"] for field in individual["form"]} <= row_names


def test_good_rows_are_kept_and_bad_rows_reported_by_row_and_field():
    content = csv_bytes(
        [
            worker(1),  # row 2
            worker(2, 身份证号码="230102198001011234"),  # row 3: wrong check digit
            worker(3, 姓名="", 入住日期="2026-02-30"),  # row 4: two errors
            worker(4, 手机号码="12345"),  # row 5
            worker(5),  # row 6
        ]
    )
    result = parse_batch_file(upload(content))
    assert rows_of(result) == [2, 6]
    assert result.errors == [
        RowError(3, "身份证号码", "身份证号码校验位不正确，请核对后重新输入。"),
        RowError(4, "姓名", "请填写此项。"),
        RowError(4, "入住日期", "请输入正确的日期，例如 2024-03-15。"),
        RowError(5, "手机号码", "请输入11位中国大陆手机号码，例如 13812345678。"),
    ]
    row_number, data = result.valid_rows[0]
    assert data == {
        "full_name": "王二",
        "applicant_id_number": worker_id(1),
        "residence_address": "沈阳市铁西区示例街8号员工宿舍",
        "move_in_date": "2026-02-03",
        "phone": "13900000001",
        "household_address": "黑龙江省哈尔滨市示例区",
        "arrival_date": "2026-02-01",
        "hire_date": None,
        "occupation": "焊工",
        "residence_type": "",
    }
    assert result.errors_json()[0] == {
        "row": 3,
        "field": "身份证号码",
        "message": "身份证号码校验位不正确，请核对后重新输入。",
    }
    assert not result.ok


def test_utf8_without_bom_and_lowercase_x():
    number = next(worker_id(n) for n in range(200) if worker_id(n).endswith("X"))
    result = parse_batch_file(upload(csv_bytes([worker(1, 身份证号码=number.lower())])))
    assert result.ok, result.errors
    assert result.valid_rows[0][1]["applicant_id_number"] == number


def test_utf8_with_bom():
    content = b"\xef\xbb\xbf" + csv_bytes([worker(1), worker(2)])
    result = parse_batch_file(upload(content))
    assert result.ok, result.errors
    assert rows_of(result) == [2, 3]


def test_gb18030_csv_from_chinese_excel():
    content = csv_bytes(
        [worker(1), worker(2, 现住址="沈阳市于洪区䶮字测试路1号")], encoding="gb18030"
    )
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    result = parse_batch_file(upload(content))
    assert result.ok, result.errors
    assert result.valid_rows[1][1]["residence_address"] == "沈阳市于洪区䶮字测试路1号"


def test_utf16_tab_separated_unicode_text():
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows([HEADER, worker(1)])
    result = parse_batch_file(upload(out.getvalue().encode("utf-16")))
    assert result.ok, result.errors
    assert rows_of(result) == [2]


def test_xlsx_with_title_row_dates_and_numeric_phones():
    rows = [
        worker(1),
        [*worker(2)[:2], 13900000002, *worker(2)[3:6], dt.datetime(2026, 2, 3), "电工"],
        worker(3, 身份证号码="123"),
    ]
    content = xlsx_bytes(rows, title="某某建筑公司流动人口信息集中申报表")
    result = parse_batch_file(upload(content, "申报表.xlsx"))
    # The title is row 1, the header row 2, so workers start on row 3.
    assert rows_of(result) == [3, 4]
    assert result.valid_rows[1][1]["phone"] == "13900000002"
    assert result.valid_rows[1][1]["move_in_date"] == "2026-02-03"
    assert result.errors == [RowError(5, "身份证号码", "身份证号码应为18位，您输入了3位。")]


def test_xlsx_id_number_mangled_into_scientific_notation():
    rows = [[*worker(1)[:1], float(worker_id(1)[:17] + "0"), *worker(1)[2:]]]
    result = parse_batch_file(upload(xlsx_bytes(rows), "a.xlsx"))
    assert result.valid_rows == []
    assert result.errors[0].row == 2
    assert "科学计数法" in result.errors[0].message
    # The same in a CSV saved by Excel.
    result = parse_batch_file(upload(csv_bytes([worker(2, 身份证号码="2.30102E+17")])))
    assert "科学计数法" in result.errors[0].message


def test_excel_text_formula_wrapper_in_csv():
    result = parse_batch_file(upload(csv_bytes([worker(1, 身份证号码=f'="{worker_id(1)}"')])))
    assert result.ok, result.errors


def test_wrong_columns_give_one_error_naming_the_missing_ones():
    header = ["名字", "证件号", "地址", "电话"]
    result = parse_batch_file(upload(csv_bytes([["张三", "1", "x", "y"]], header=header)))
    assert result.valid_rows == []
    assert result.errors == [
        RowError(
            1,
            "",
            "缺少以下列：身份证号码、现住址、入住日期。请使用大厅提供的模板，表头须在第一行。",
        )
    ]


def test_header_aliases_notes_and_ignored_columns():
    header = ["序号", "*姓名", "身份证号（18位）", "居住地址", "入住时间", "联系电话", "备注"]
    rows = [["1", "李四", worker_id(7), "沈阳市皇姑区示例路2号", "2026/3/5", "13912345678", ""]]
    result = parse_batch_file(upload(csv_bytes(rows, header=header)))
    assert result.ok, result.errors
    assert result.ignored_columns == ["序号", "备注"]
    assert result.valid_rows[0][1]["move_in_date"] == "2026-03-05"
    assert result.valid_rows[0][1]["phone"] == "13912345678"


def test_a_column_given_twice_is_refused():
    header = [*HEADER, "身份证号"]
    result = parse_batch_file(upload(csv_bytes([[*worker(1), worker_id(1)]], header=header)))
    assert result.errors == [RowError(1, "", "“身份证号码”列出现了不止一次，请删除重复的列。")]


def test_duplicate_id_numbers_are_reported_on_the_later_row():
    rows = [
        worker(1),
        worker(2),
        worker(1, 姓名="另一人"),
        worker(2, 入住日期="不是日期"),  # the duplicate is reported with its other errors
        worker(3),
    ]
    result = parse_batch_file(upload(csv_bytes(rows)))
    assert rows_of(result) == [2, 3, 6]
    assert result.errors == [
        RowError(4, "身份证号码", "身份证号码与第2行重复。"),
        RowError(5, "入住日期", "请输入正确的日期，例如 2024-03-15。"),
        RowError(5, "身份证号码", "身份证号码与第3行重复。"),
    ]


def test_duplicates_count_rows_whose_other_fields_are_wrong():
    rows = [worker(1, 入住日期=""), worker(1)]
    result = parse_batch_file(upload(csv_bytes(rows)))
    assert rows_of(result) == []
    assert [(e.row, e.field) for e in result.errors] == [(2, "入住日期"), (3, "身份证号码")]


def test_blank_rows_are_skipped_but_row_numbers_stay_true():
    content = csv_bytes([worker(1), ["", "", "", "", "", "", "", ""], [], worker(2)])
    result = parse_batch_file(upload(content))
    assert rows_of(result) == [2, 5]


def test_short_rows_and_multiline_cells():
    short = worker(1)[:2] + ["", "沈阳市\n和平区示例路", "", "", "2026-02-03"]  # no 工种 cell
    result = parse_batch_file(upload(csv_bytes([short, worker(2)])))
    assert result.ok, result.errors
    # A quoted cell spanning two lines is still one spreadsheet row.
    assert rows_of(result) == [2, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件是空的，请按模板填写后再上传。"),
        (b"\xef\xbb\xbf\r\n\r\n", "文件是空的，请按模板填写后再上传。"),
        (b",,,\r\n,,,\r\n", "文件是空的，请按模板填写后再上传。"),
    ],
)
def test_empty_file(content, message):
    assert parse_batch_file(upload(content)).errors == [RowError(None, "", message)]


def test_header_only_file():
    result = parse_batch_file(upload(csv_bytes([])))
    assert result.errors == [RowError(None, "", "文件中只有表头，没有人员信息。")]
    result = parse_batch_file(upload(xlsx_bytes([]), "a.xlsx"))
    assert result.errors == [RowError(None, "", "文件中只有表头，没有人员信息。")]


def test_empty_xlsx():
    workbook = openpyxl.Workbook()
    out = io.BytesIO()
    workbook.save(out)
    result = parse_batch_file(upload(out.getvalue(), "a.xlsx"))
    assert result.errors == [RowError(None, "", "文件是空的，请按模板填写后再上传。")]


def test_too_many_rows_refuses_the_whole_file(settings):
    settings.CASES_MAX_BATCH_ROWS = 3
    result = parse_batch_file(upload(csv_bytes([worker(n) for n in range(5)])))
    assert result.valid_rows == []
    assert result.errors == [
        RowError(None, "", "一个文件最多申报3人，本文件有5行人员信息，请分成几个文件申报。")
    ]
    assert parse_batch_file(upload(csv_bytes([worker(n) for n in range(3)]))).ok


def test_default_limits():
    from servicehall.cases.batch import max_bytes_setting, max_rows_setting

    assert max_rows_setting() == 5000
    assert max_bytes_setting() == 5 * 1024 * 1024


def test_too_large_file_is_refused():
    content = csv_bytes([worker(n) for n in range(50)])
    result = parse_batch_file(upload(content), max_bytes=1024 * 1024 // 1024)
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith("文件不能超过")


def test_unreadable_files():
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    assert "xls" in parse_batch_file(upload(old_excel, "a.xls")).errors[0].message
    broken_xlsx = xlsx_bytes([worker(1)])[:300]
    assert parse_batch_file(upload(broken_xlsx, "a.xlsx")).errors == [
        RowError(None, "", "无法读取该文件，请上传CSV或Excel（.xlsx）格式的文件。")
    ]
    binary = b"%PDF-1.4\n\x00\x01\x02" * 10
    assert len(parse_batch_file(upload(binary)).errors) == 1


def test_bytes_and_file_objects_are_accepted():
    content = csv_bytes([worker(1)])
    assert parse_batch_file(content).ok
    assert parse_batch_file(io.BytesIO(content)).ok


def test_template_csv_round_trip_refuses_the_example_row():
    text = template_csv()
    assert text.startswith("\ufeff姓名,身份证号码,现住址,入住日期,手机号码")
    assert template_csv(bom=False).startswith("姓名,")
    assert len(text.strip().splitlines()) == 2
    result = parse_batch_file(upload(text.encode("utf-8")))
    assert result.errors == [RowError(2, "", "这是模板中的示例行，请删除后再上传。")]
    assert result.ignored_columns == []
    # Apart from being the example, the row is valid: the template shows a correct row.
    form = worker_form_class()(data=EXAMPLE_ROW)
    assert form.is_valid(), form.errors


def test_template_xlsx_round_trip():
    content = template_xlsx()
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    id_column = [spec["name"] for spec in WORKER_FIELDS].index("applicant_id_number") + 1
    assert sheet.cell(row=3, column=id_column).number_format == "@"
    result = parse_batch_file(upload(content, "模板.xlsx"))
    assert result.errors == [RowError(2, "", "这是模板中的示例行，请删除后再上传。")]
    # Filled in like a user would: the example replaced by a worker.
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.active
    sheet.cell(row=2, column=1).value = "赵六"
    sheet.cell(row=2, column=id_column).value = worker_id(9)
    out = io.BytesIO()
    workbook.save(out)
    result = parse_batch_file(upload(out.getvalue(), "a.xlsx"))
    assert result.ok, result.errors
    assert result.valid_rows[0][1]["residence_type"] == "单位宿舍"
    assert result.valid_rows[0][1]["move_in_date"] == "2026-03-01"


def test_five_thousand_rows_are_parsed():
    rows = [worker(n) for n in range(5000)]
    result = parse_batch_file(upload(csv_bytes(rows)))
    assert result.ok, result.errors[:3]
    assert len(result.valid_rows) == 5000
    assert result.valid_rows[-1][0] == 5001
