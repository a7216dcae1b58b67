"""Report tables as CSV or XLSX downloads, made for a spreadsheet rather than for the eye: money as plain
integers of whole rupiah (no "Rp", no thousands dots) so the columns sum, dates as dd/mm/yyyy text in CSV
as the LKMM's paper books write them and as real dates in XLSX, headers in the reader's language (Bahasa
Indonesia by default). CSV comes in two forms: comma separated with decimal points (for machines), and
"csv-id", semicolon separated with decimal commas, which Excel in an Indonesian locale opens in columns."""

import csv
import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

FORMATS = ("csv", "csv-id", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "csv-id": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSIONS = {"csv": "csv", "csv-id": "csv", "xlsx": "xlsx"}


@dataclass
class Block:
    """One table of a download: a header row, the rows, then the rows in bold (totals)."""

    header: list
    rows: list
    footer: list = field(default_factory=list)


def _cell(value):
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)  # a rate of 50.00% reads as 50
    if value is None or isinstance(value, int | Decimal | str):
        return value
    return str(value)  # lazy translations, quality classes


def download(fmt, *, filename, title, blocks):
    """An attachment named `filename`.`fmt`. `title`: lines above the tables in XLSX (CSV holds the tables
    only, for machines; the file name says which LKMM and date); `blocks`: tables, a blank row apart.
    XLSX dates are date cells shown dd/mm/yyyy (sortable)."""
    response = HttpResponse(content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{EXTENSIONS[fmt]}"'
    if fmt in ("csv", "csv-id"):
        _write_csv(response, blocks, semicolon=fmt == "csv-id")
    else:
        response.write(_xlsx(title, blocks))
    return response


def _write_csv(response, blocks, *, semicolon=False):
    response.write("\ufeff")  # the BOM makes Excel read UTF-8 (names, "÷") instead of the ANSI code page
    writer = csv.writer(response, delimiter=";" if semicolon else ",")
    for i, block in enumerate(blocks):
        if i:
            writer.writerow([])
        for row in [block.header, *block.rows, *block.footer]:
            cells = [csv_cell(v) for v in row]
            if semicolon:
                # Excel in an Indonesian locale reads "50,5" as a number and "50.5" as text.
                cells = [str(c).replace(".", ",") if isinstance(c, Decimal) else c for c in cells]
            writer.writerow(cells)


# What a spreadsheet reads as the start of a formula or a command (OWASP "CSV injection"): "=", "+", "-",
# "@", a tab or carriage return (Excel skips them and reads what follows), "|" (DDE in older Excel).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "|")


def csv_cell(value):
    """A value as a CSV cell that no spreadsheet runs: text that could start a formula gets a leading
    apostrophe, which spreadsheets show as text; numbers stay numbers (a negative -5 stays -5)."""
    value = "" if value is None else _cell(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _xlsx(title, blocks):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(title[0])[:31]  # Excel's limit on a sheet name
    for line in title:
        sheet.append([str(line)])
        _as_text(sheet[sheet.max_row])
    sheet["A1"].font = Font(bold=True, size=13)
    widths = {}
    for block in blocks:
        sheet.append([])
        sheet.append([_xlsx_cell(v) for v in block.header])
        if block is blocks[0]:
            sheet.freeze_panes = f"A{sheet.max_row + 1}"  # the header stays in view
        _style(sheet[sheet.max_row], widths, bold=True)
        for row in block.rows:
            sheet.append([_xlsx_cell(v) for v in row])
            _style(sheet[sheet.max_row], widths)
        for row in block.footer:
            sheet.append([_xlsx_cell(v) for v in row])
            _style(sheet[sheet.max_row], widths, bold=True)
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = min(width + 2, 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value):
    """Dates stay dates in XLSX (shown dd/mm/yyyy), so a spreadsheet can sort and filter by them."""
    if isinstance(value, datetime.date):
        return value
    return _cell(value)


def _style(cells, widths, *, bold=False):
    for cell in cells:
        if bold:
            cell.font = Font(bold=True)
        _as_text([cell])
        if isinstance(cell.value, datetime.date):
            cell.number_format = "dd/mm/yyyy"
        elif isinstance(cell.value, int):
            cell.number_format = "#,##0"
        elif isinstance(cell.value, Decimal):
            cell.number_format = "0.00"
        if cell.value is not None:
            widths[cell.column_letter] = max(widths.get(cell.column_letter, 8), len(str(cell.value)))


def _as_text(cells):
    """Strings stay strings: openpyxl would store one starting with "=" as a formula."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"
