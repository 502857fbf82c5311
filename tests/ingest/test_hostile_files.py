"""Files built to make the importer read gigabytes or spin for minutes (issue 9, item 8), and files that used
to end in a traceback (item 10). Each is refused early with the file, the row and the limit named."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from techbridge.errors import ImportFailed
from techbridge.ingest import xlsx_guard
from techbridge.ingest.importer import import_file
from techbridge.ingest.limits import LimitExceeded, ReadLimits, TooManyRows, UnreadableFile
from techbridge.ingest.readers import open_rows

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED_STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_STRINGS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
HEADER = ["需求名称", "需求单位"]


def _workbook(path: Path, rows: list[list[object]] | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *(rows or [["激光焊接质量在线监测", "无锡激光公司"]])]:
        sheet.append(row)
    book.save(path)
    return path


def _replace_parts(path: Path, parts: dict[str, str | bytes]) -> Path:
    """Rewrite parts of a real workbook, as an attacker would with a zip tool."""
    with zipfile.ZipFile(path) as source:
        kept = {name: source.read(name) for name in source.namelist() if name not in parts}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in {**kept, **parts}.items():
            target.writestr(name, data)
    return path


def _sheet(rows_xml: str, dimension: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = f"{dim}<sheetData>{rows_xml}</sheetData>"
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{body}</worksheet>'


def _row(number: int, *values: str) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def _col(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _header_and(*rows: str) -> str:
    return _row(1, *HEADER) + "".join(rows)


def _with_shared_strings(path: Path, sst: str, part: str = "xl/sharedStrings.xml") -> Path:
    """Store the title in a shared-strings part, as Excel does (openpyxl itself writes inline strings)."""
    with zipfile.ZipFile(path) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    override = f'<Override PartName="/{part}" ContentType="{SHARED_STRINGS_TYPE}" />'
    relation = f'<Relationship Type="{SHARED_STRINGS_REL}" Target="/{part}" Id="rId9" />'
    title = '<c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>无锡甲公司</t></is></c>'
    parts = {
        "[Content_Types].xml": types.replace("</Types>", override + "</Types>"),
        "xl/_rels/workbook.xml.rels": rels.replace("</Relationships>", relation + "</Relationships>"),
        "xl/worksheets/sheet1.xml": _sheet(_header_and(f'<row r="2">{title}</row>')),
        part: sst,
    }
    return _replace_parts(path, parts)


def _sst(*strings: str) -> str:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'<?xml version="1.0"?><sst {NS} count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'


def test_shared_strings_are_read(sqlite_url: str, tmp_path: Path) -> None:
    path = _with_shared_strings(_workbook(tmp_path / "excel.xlsx"), _sst("激光焊接质量在线监测"))
    assert import_file(sqlite_url, "demand", path, zone_code="wuxi", dry_run=True).inserted == 1


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/worksheets/s.xml"], ids=["usual", "renamed"])
def test_one_huge_shared_string_is_refused_before_it_is_read(tmp_path: Path, part: str) -> None:
    path = _with_shared_strings(_workbook(tmp_path / "bomb.xlsx"), _sst("x" * 3_000_000), part)
    assert path.stat().st_size < 100_000  # a small file that unpacks to megabytes
    with pytest.raises(LimitExceeded) as caught:
        open_rows(path, ReadLimits(max_part_bytes=1 << 20))
    assert caught.value.status == 413
    assert "bomb.xlsx" in caught.value.message and part in caught.value.message
    assert "TECHBRIDGE_IMPORT_MAX_PART_MB" in caught.value.message


@pytest.mark.parametrize(
    "header",
    [
        "".join(f'<c r="{_col(i)}1" t="inlineStr"><is><t>h{i}</t></is></c>' for i in range(1, 5001)),
        '<c r="A1" t="inlineStr"><is><t>需求名称</t></is></c><c r="XFD1" t="inlineStr"><is><t>x</t></is></c>',
        "<c><v>1</v></c>" * 5000,  # no cell references: counted one by one
    ],
    ids=["5000-columns", "one-cell-at-XFD", "unreferenced-cells"],
)
def test_a_header_wider_than_the_column_cap_is_refused_before_parsing(tmp_path: Path, header: str) -> None:
    path = _replace_parts(
        _workbook(tmp_path / "wide.xlsx"), {"xl/worksheets/sheet1.xml": _sheet(f'<row r="1">{header}</row>')}
    )
    with pytest.raises(
        LimitExceeded, match=r"wide.xlsx: 第 1 行有第 1,001 列, 超过 1,000 列的上限|第 16,384 列"
    ):
        open_rows(path, ReadLimits(max_columns=1000))


def test_a_prefixed_namespace_does_not_hide_cells_from_the_scan(tmp_path: Path) -> None:
    main = NS.replace("xmlns=", "xmlns:x=")
    cells = "<x:c><x:v>1</x:v></x:c>" * 1001
    data = f'<x:sheetData><x:row r="1">{cells}</x:row></x:sheetData>'
    sheet = f'<?xml version="1.0"?><x:worksheet {main}>{data}</x:worksheet>'
    path = _replace_parts(_workbook(tmp_path / "x.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(LimitExceeded, match="1,001 列"):
        open_rows(path, ReadLimits(max_columns=1000))


def test_rows_over_the_request_cap_stop_the_scan_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(_row(n, f"需求第{n}号", "无锡甲公司") for n in range(2, 20_002))
    path = _replace_parts(
        _workbook(tmp_path / "many.xlsx"), {"xl/worksheets/sheet1.xml": _sheet(_header_and(rows))}
    )
    seen = []  # the rows the guard's scan reached (counted, not timed: a loaded runner is slow either way)
    new_row = xlsx_guard._SheetScan.new_row
    monkeypatch.setattr(
        xlsx_guard._SheetScan, "new_row", lambda scan, attrs: (seen.append(1), new_row(scan, attrs))
    )
    with pytest.raises(TooManyRows) as caught:
        open_rows(path, ReadLimits(max_rows=1000))
    assert len(seen) <= 1002, "the scan stops at the cap (header, 1,000 rows, the one over)"
    assert (caught.value.limit, caught.value.status) == (1000, 413)


def test_a_lying_dimension_neither_pads_nor_truncates_rows(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = "".join(_row(n, f"激光焊接质量在线监测{n}号", "无锡激光公司") for n in range(2, 7))
    # What openpyxl is asked to read: the scanned extent, not the sheet's own claim (16,384 × 1,048,576
    # cells would take minutes to pad; too few would drop rows).
    extents = []
    iter_rows = ReadOnlyWorksheet.iter_rows

    def spy(sheet: ReadOnlyWorksheet, **bounds: int) -> object:
        extents.append((bounds["max_row"], bounds["max_col"]))
        return iter_rows(sheet, **bounds)

    monkeypatch.setattr(ReadOnlyWorksheet, "iter_rows", spy)
    for dimension in ("A1:XFD1048576", "A1:B2"):
        path = tmp_path / f"dim-{dimension.replace(':', '-')}.xlsx"
        _replace_parts(_workbook(path), {"xl/worksheets/sheet1.xml": _sheet(_header_and(rows), dimension)})
        report = import_file(sqlite_url, "demand", path, zone_code="wuxi", dry_run=True)
        assert (report.total_rows, report.inserted) == (5, 5), dimension
        assert extents.pop() == (6, len(HEADER)), dimension


def test_a_row_with_megabytes_of_inline_text_is_refused(tmp_path: Path) -> None:
    rows = _row(2, "x" * 5_000_000, "无锡甲公司")
    path = _replace_parts(
        _workbook(tmp_path / "fat.xlsx"), {"xl/worksheets/sheet1.xml": _sheet(_header_and(rows))}
    )
    with pytest.raises(LimitExceeded, match=r"fat.xlsx: 第 2 行的内容超过 4 MB"):
        open_rows(path)


def test_a_cell_over_the_cell_limit_is_a_row_error(sqlite_url: str, tmp_path: Path) -> None:
    # openpyxl itself truncates what it writes to Excel's 32,767 characters; other writers do not.
    rows = _header_and(_row(2, "x" * 140_000, "无锡甲公司"), _row(3, "激光焊接质量在线监测", "无锡激光公司"))
    path = _replace_parts(_workbook(tmp_path / "long.xlsx"), {"xl/worksheets/sheet1.xml": _sheet(rows)})
    report = import_file(sqlite_url, "demand", path, zone_code="wuxi", skip_invalid=True)
    assert report.inserted == 1
    [error] = report.errors
    assert (error.row, error.field, error.reason) == (2, "需求名称", "单元格超过 131,072 个字符")


def test_a_doctype_in_a_worksheet_is_refused(tmp_path: Path) -> None:
    sheet = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + _sheet(_header_and()).split("?>", 1)[1]
    path = _replace_parts(_workbook(tmp_path / "dtd.xlsx"), {"xl/worksheets/sheet1.xml": sheet})
    with pytest.raises(UnreadableFile, match="DOCTYPE"):
        open_rows(path)


def test_a_large_second_sheet_must_declare_its_size(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "two.xlsx")
    book = Workbook()
    first = book.active
    assert first is not None
    first.append(HEADER)
    first.append(["激光焊接质量在线监测", "无锡激光公司"])
    book.create_sheet("附表").append(["x"])
    book.save(path)
    big = _sheet("".join(_row(n, "y" * 50) for n in range(1, 30_000)))
    _replace_parts(path, {"xl/worksheets/sheet2.xml": big})
    with pytest.raises(LimitExceeded, match="xl/worksheets/sheet2.xml"):
        open_rows(path, ReadLimits(max_part_bytes=1 << 20))
    _replace_parts(
        path,
        {
            "xl/worksheets/sheet2.xml": _sheet(
                "".join(_row(n, "y" * 50) for n in range(1, 30_000)), "A1:A29999"
            )
        },
    )
    assert open_rows(path, ReadLimits(max_part_bytes=1 << 20)).headers == HEADER


# -- rows that repeat (issue 9, item 9) --------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 100])
def test_a_row_repeating_an_earlier_one_is_reported_not_silently_dropped(
    db_url: str, tmp_path: Path, batch_size: int
) -> None:
    rows = [
        {"需求名称": "锂电池隔膜涂覆技术", "需求单位": "无锡甲公司"},
        {"需求名称": "规格 2-13 型号需求", "需求单位": "无锡甲公司"},
        {"需求名称": "规格 21-3 型号需求", "需求单位": "无锡甲公司"},
        {"需求名称": "锂电池 隔膜涂覆技术。", "需求单位": "无锡甲公司"},  # the first row again
    ]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = import_file(db_url, "demand", path, zone_code="wuxi", batch_size=batch_size)
    assert (report.total_rows, report.inserted, report.skipped) == (4, 3, 1)
    assert report.warnings == ["第 4 行与第 1 行是同一条记录 (编号、专利号或单位与标题相同), 已跳过第 4 行"]


def test_warnings_are_capped_but_counted(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "same.csv"
    path.write_text("需求名称,需求单位\n" + "锂电池隔膜涂覆技术,无锡甲公司\n" * 1500, encoding="utf-8")
    report = import_file(sqlite_url, "demand", path, zone_code="wuxi")
    assert (report.inserted, report.skipped, report.warning_count) == (1, 1499, 1499)
    assert len(report.warnings) == 1001 and report.warnings[-1] == "另有 499 条提示未列出"


def test_bad_rows_are_still_all_or_nothing(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("需求名称,需求单位\n锂电池隔膜涂覆技术,无锡甲公司\n短,无锡甲公司\n", encoding="utf-8")
    with pytest.raises(ImportFailed):
        import_file(sqlite_url, "demand", path, zone_code="wuxi")
