"""The one workbook writer of stagesco (openpyxl).

Values, never formulas: every text cell is typed as text, so input text that starts with ``=``,
``+``, ``-``, ``@``, TAB, CR, ``＝`` or ``{=`` stays inert and exactly as typed (``+33 5 55 …``).
Headers come from the field metadata; the header row is frozen, filters are on, widths fitted.
Files are written atomically and are byte-stable (see :mod:`pipeline.stable_zip`).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from schemas.fields import all_fields

from ..contract import atomic
from . import stable_zip

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
LOCKED_FILL = PatternFill("solid", fgColor="EEEEEE")
EDITABLE_HEADER_FILL = PatternFill("solid", fgColor="FFF2A8")
HEADER_FONT = Font(bold=True)
MAX_WIDTH = 30  # longer text wraps: a sheet printed fitted to the page width stays legible
HEADER_WIDTH = 10  # a header wraps too: beyond this it does not widen its column (but its longest word fits)
EDITABLE_WIDTH = 14  # room to type in a column to fill


@dataclass
class Sheet:
    """One sheet: a table, its column labels (default: the field metadata's) and its dropdowns."""

    title: str
    frame: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    dropdowns: dict[str, list[str]] = field(default_factory=dict)
    fills: dict[str, dict[str, str]] = field(default_factory=dict)
    editable: list[str] = field(default_factory=list)  # when set, the sheet is protected except these
    whole_numbers: dict[str, tuple[int, int]] = field(default_factory=dict)
    extra_rows: int = 0  # empty editable rows below the data (forms to fill)
    key_columns: int = 1  # columns kept in view when scrolling right (frozen) — the row's key


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def cell_value(value):
    """A Python value as a workbook cell holds it: lists joined, booleans in French, NA empty; control
    characters a workbook cannot hold (pasted from a word processor) become U+FFFD."""
    if isinstance(value, str):
        return _ILLEGAL.sub("\ufffd", value)
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
        if isinstance(value, bool):
            return "Oui" if value else "Non"
    return value


def build(sheets: list[Sheet]) -> Workbook:
    metadata = all_fields()
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.creator = "stagesco"
    workbook.properties.lastModifiedBy = "stagesco"
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title[:31])
        names = list(spec.frame.columns)
        headers = [spec.labels.get(n) or (metadata[n].label if n in metadata else str(n)) for n in names]
        # a header wraps at its spaces, in bold: its longest word and a little room must fit
        widths = [max(min(len(h), HEADER_WIDTH), *(len(w) + 2 for w in h.split())) if h.strip() else 4 for h in headers]
        for c, name in enumerate(names):
            if name in spec.editable:
                widths[c] = max(widths[c], EDITABLE_WIDTH)
        for col, header in enumerate(headers, start=1):
            cell = sheet.cell(row=1, column=col)
            cell.value = header
            cell.data_type = "s"
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r, record in enumerate(spec.frame.itertuples(index=False), start=2):
            for c, (name, raw) in enumerate(zip(names, record), start=1):
                value = cell_value(raw)
                cell = sheet.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = value
                    cell.data_type = "s"  # text, never a formula
                    cell.number_format = "@"
                    if "\n" in value or len(value) > MAX_WIDTH:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                    longest = max((len(line) for line in value.split("\n")), default=0)
                elif isinstance(value, datetime):
                    cell.value = value
                    cell.number_format = "dd/mm/yyyy hh:mm" if (value.hour or value.minute) else "dd/mm/yyyy"
                    longest = 16
                elif isinstance(value, date):
                    cell.value = value
                    cell.number_format = "dd/mm/yyyy"
                    longest = 10
                else:
                    cell.value = value
                    longest = len(str(value)) if value is not None else 0
                    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
                        cell.number_format = "#,##0"  # thousands grouped as the reader's Excel groups them
                        longest += len(str(abs(value))) // 3
                fill = spec.fills.get(name, {}).get(value if isinstance(value, str) else "")
                if fill:
                    cell.fill = PatternFill("solid", fgColor=fill)
                elif spec.editable and name not in spec.editable:
                    cell.fill = LOCKED_FILL
                widths[c - 1] = max(widths[c - 1], longest)
        for c, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, max(6, width + 1))
        _fit_row_heights(sheet, [min(MAX_WIDTH, max(6, w + 1)) for w in widths], len(spec.frame) + 1)
        sheet.freeze_panes = f"{get_column_letter(min(spec.key_columns, max(1, len(names))) + 1)}2" if names else "A2"
        page_setup(sheet, spec.title)
        last = max(2, len(spec.frame) + 1 + spec.extra_rows)
        if spec.editable:
            _protect(sheet, names, spec.editable, last)
        if names:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{last}"
        for name, choices in spec.dropdowns.items():
            col = get_column_letter(names.index(name) + 1)
            rule = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                  showErrorMessage=True, errorTitle="Valeur non prévue",
                                  error="Choisissez une valeur dans la liste.")
            rule.add(f"{col}2:{col}{last}")
            sheet.add_data_validation(rule)
        for name, (low, high) in spec.whole_numbers.items():
            col = get_column_letter(names.index(name) + 1)
            rule = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high),
                                  allow_blank=True, showErrorMessage=True, errorTitle="Nombre attendu",
                                  error=f"Saisissez un nombre entier entre {low} et {high}.")
            rule.add(f"{col}2:{col}{last}")
            sheet.add_data_validation(rule)
    return workbook


LINE_HEIGHT = 13.5  # points per line of 11-point text


def text_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a wrapping column ``width`` characters wide (words are not cut:
    a little slack per line)."""
    per_line = max(1.0, width - 1.5)
    return sum(max(1, math.ceil(len(part) * 1.08 / per_line)) for part in str(text).split("\n"))


def _fit_row_heights(sheet, widths: list[float], rows: int) -> None:
    """Explicit heights for the rows holding wrapped text: LibreOffice does not grow a row for its wrapped
    cells when it opens a workbook, so without them only one line of each would show and print."""
    for row in sheet.iter_rows(min_row=1, max_row=rows):
        lines = 1
        for cell in row:
            if isinstance(cell.value, str) and cell.alignment is not None and cell.alignment.wrap_text:
                lines = max(lines, text_lines(cell.value, widths[cell.column - 1]))
        if lines > 1:
            sheet.row_dimensions[row[0].row].height = min(409, round(LINE_HEIGHT * lines + 2, 1))


def page_setup(sheet, title: str) -> None:
    """How every sheet prints: A4 landscape, fitted to the page width (as many pages down as needed), the
    header row repeated on each page, small margins, the sheet's name and page numbers in the header/footer."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = sheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.3
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.center.text = "Page &P / &N"


def _protect(sheet, names: list[str], editable: list[str], last: int) -> None:
    """Lock every cell but the editable columns' data cells; the header of those is highlighted."""
    for name in editable:
        col = names.index(name) + 1
        sheet.cell(row=1, column=col).fill = EDITABLE_HEADER_FILL
        for row in range(2, last + 1):
            sheet.cell(row=row, column=col).protection = Protection(locked=False)
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False


def write_workbook(path: Path, sheets: list[Sheet]) -> Path:
    """Write ``sheets`` to ``path`` atomically, byte-stable."""
    buffer = io.BytesIO()
    build(sheets).save(buffer)
    atomic.write_bytes(Path(path), stable_zip.stabilise(buffer.getvalue()))
    return Path(path)
