"""The two file formats of report exports, each written row by row in constant memory.

- CSV (`csv` module): UTF-8 with a byte order mark (so spreadsheet programs read the
  Indonesian text right), a header row of column keys, times in ISO 8601 with their offset,
  booleans as `true`/`false`, empty cells for nothing. A text cell that a spreadsheet would run
  as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: citizens write
  these texts) gets a leading `'` (OWASP's advice against CSV injection), unless it is only
  digits, spaces and `+-.,()` (a phone number such as `+62 812 ...` cannot call anything).
- XLSX (XlsxWriter in `constant_memory` mode: each row goes to disk when the next begins):
  text always as text (never a formula, link or number), times as date cells in the export's
  time zone, booleans as booleans. A sheet holds at most 1,048,575 rows below its header; more
  go to the next sheet (`laporan-2`, ...). Its scratch files go in the export folder, not /tmp.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import xlsxwriter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HARMLESS = re.compile(r"[+\-]?[0-9 .,()+\-]*")  # arithmetic at most: no function, no link
XLSX_MAX_ROWS = 1_048_576  # rows of one worksheet, its header included
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class RowWriter(Protocol):
    def write(self, values: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not HARMLESS.fullmatch(text):
        return "'" + text
    return text


class CsvRows:
    """Rows appended to a CSV file (the header first)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.file = path.open("w", newline="", encoding="utf-8-sig")
        self.out = csv.writer(self.file)
        self.out.writerow(columns)

    def write(self, values: Sequence[Any]) -> None:
        self.out.writerow([_csv_cell(v) for v in values])

    def close(self) -> None:
        self.file.close()


class XlsxRows:
    """Rows appended to an XLSX workbook, sheet after sheet (the header on each)."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": str(path.parent),
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.columns = list(columns)
        self.header = self.book.add_format({"bold": True})
        self.when = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.sheets = 0
        self._new_sheet()

    def _new_sheet(self) -> None:
        self.sheets += 1
        name = "laporan" if self.sheets == 1 else f"laporan-{self.sheets}"
        self.sheet = self.book.add_worksheet(name)
        self.sheet.write_row(0, 0, self.columns, self.header)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write(self, values: Sequence[Any]) -> None:
        if self.row >= XLSX_MAX_ROWS:
            self._new_sheet()
        sheet, row = self.sheet, self.row
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(row, col, value)
            elif isinstance(value, datetime):
                sheet.write_datetime(row, col, value.replace(tzinfo=None), self.when)
            else:
                sheet.write_string(row, col, str(value))
        self.row += 1

    def close(self) -> None:
        self.book.close()


def open_rows(fmt: str, path: Path, columns: Sequence[str]) -> RowWriter:
    """A writer of `fmt` (csv or xlsx) to `path`, its header written."""
    if fmt == "csv":
        return CsvRows(path, columns)
    if fmt == "xlsx":
        return XlsxRows(path, columns)
    raise ValueError(f"unknown export format {fmt!r}")
