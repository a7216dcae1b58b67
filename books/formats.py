"""The book format (issue 10): an XLSX workbook with one sheet per table, or a folder of CSV files with
the same names. This module reads either into rows of raw cells and turns cells into values; it knows
nothing of the database. Every problem is a Problem that prints as `sheet:row:column: message`, with rows
numbered as Excel shows them (the header is row 1)."""

import csv
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _

# sheet: (required columns, optional columns, whether the sheet itself is required)
SHEETS = {
    "members": (
        ("nik", "full_name", "gender", "birth_date", "joined_on"),
        (
            "kk_number",
            "address",
            "dusun",
            "rt",
            "rw",
            "desa",
            "kecamatan",
            "phone",
            "business_type",
            "monthly_income",
            "dtsen",
            "dtsen_decile",
            "group",
            "status",
            "left_on",
        ),
        True,
    ),
    "loans": (
        (
            "loan_ref",
            "nik",
            "principal",
            "interest_method",
            "monthly_rate_pct",
            "frequency",
            "installments",
            "disbursed_on",
        ),
        (
            "first_due_on",
            "admin_fee",
            "late_fee",
            "rounding_unit",
            "waive_interest_on_payoff",
            "paid_until",
            "paid_amount",
        ),
        True,
    ),
    "repayments": (
        ("loan_ref", "paid_on", "amount"),
        ("paid_by_nik", "reversed_on", "reversal_reason"),
        False,
    ),
    "events": (("loan_ref", "on", "kind"), ("amount", "new_loan_ref", "reason"), False),
    "opening": (("on", "account", "amount"), (), False),
    # Members' savings movements: type pokok/wajib/sukarela, kind setor/tarik (deposit/withdrawal).
    "savings": (("nik", "type", "on", "amount", "kind"), ("reversed_on", "reversal_reason"), False),
}
ORDER = tuple(SHEETS)
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    column: str
    message: str
    warning: bool = False

    def __str__(self):
        return f"{self.sheet}:{self.row or ''}:{self.column}: {self.message}"


class Cells(dict):
    """One data row: {column: raw cell} plus the row number Excel shows."""

    def __init__(self, sheet, number, values):
        super().__init__(values)
        self.sheet, self.number = sheet, number


@dataclass
class Book:
    sheets: dict  # name -> list of Cells
    problems: list


def _header_name(value):
    return str(value if value is not None else "").strip().lower()


def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _rows_of(sheet, raw_rows, problems):
    """Check the header of one sheet and turn its data rows into Cells."""
    required, optional, _needed = SHEETS[sheet]
    rows = iter(raw_rows)
    header = next(rows, None)
    if header is None:
        problems.append(Problem(sheet, 1, "", _("Baris judul kolom tidak ada.")))
        return []
    names = [_header_name(v) for v in header]
    while names and not names[-1]:
        names.pop()
    known = set(required) | set(optional)
    ok = True
    seen = set()
    for name in names:
        if not name:
            problems.append(Problem(sheet, 1, "", _("Ada kolom tanpa judul.")))
            ok = False
        elif name not in known:
            problems.append(Problem(sheet, 1, name, _("Kolom tidak dikenal.")))
            ok = False
        elif name in seen:
            problems.append(Problem(sheet, 1, name, _("Kolom ini muncul dua kali.")))
            ok = False
        seen.add(name)
    for name in required:
        if name not in seen:
            problems.append(Problem(sheet, 1, name, _("Kolom wajib tidak ada.")))
            ok = False
    if not ok:
        return []
    result = []
    for number, values in enumerate(rows, start=2):
        values = list(values)[: len(names)]
        if all(_blank(v) for v in values):
            continue
        if len(result) >= MAX_ROWS:
            problems.append(
                Problem(sheet, number, "", _("Terlalu banyak baris; pakai perintah import_book."))
            )
            break
        cells = {name: values[i] if i < len(values) else None for i, name in enumerate(names)}
        result.append(Cells(sheet, number, cells))
    return result


def _finish(found, problems):
    sheets = {}
    for sheet in ORDER:
        if sheet in found:
            sheets[sheet] = _rows_of(sheet, found[sheet], problems)
        else:
            if SHEETS[sheet][2]:
                problems.append(Problem(sheet, None, "", _("Lembar wajib tidak ada.")))
            sheets[sheet] = []
    return Book(sheets=sheets, problems=problems)


def read_xlsx(source):
    """`source`: a path or a file object of an .xlsx workbook. Sheets other than the book's are ignored."""
    from openpyxl import load_workbook

    problems = []
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload is one problem for the user, not a crash
        return Book(sheets={s: [] for s in ORDER}, problems=[Problem("", None, "", _("Berkas bukan XLSX."))])
    found = {}
    for ws in workbook.worksheets:
        name = ws.title.strip().lower()
        if name in SHEETS:
            found[name] = ws.iter_rows(values_only=True)
    book = _finish(found, problems)
    workbook.close()
    return book


def _csv_rows(path):
    text = path.read_text(encoding="utf-8-sig")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return list(csv.reader(text.splitlines(), delimiter=delimiter))


def read_folder(folder):
    """A folder of `members.csv`, `loans.csv`, ... (comma or semicolon, UTF-8 with or without BOM)."""
    problems, found = [], {}
    for path in Path(folder).iterdir():
        if path.suffix.lower() != ".csv" or path.stem.lower() not in SHEETS:
            continue
        try:
            found[path.stem.lower()] = _csv_rows(path)
        except UnicodeDecodeError:
            problems.append(Problem(path.stem.lower(), None, "", _("Berkas bukan UTF-8.")))
            found[path.stem.lower()] = []
    return _finish(found, problems)


def read_book(path):
    path = Path(path)
    if path.is_dir():
        return read_folder(path)
    return read_xlsx(path)


# --- values ---------------------------------------------------------------------------------------------


class Bad(ValueError):
    """A cell that does not hold what its column needs; the message is for the user."""


def text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def amount(value):
    """Whole rupiah: `1250000` or `1.250.000` (an Excel number too)."""
    if isinstance(value, bool):
        raise Bad(_("Bukan jumlah rupiah."))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise Bad(_("Jumlah rupiah harus bilangan bulat."))
        return int(value)
    raw = text(value)
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", raw):
        return int(raw.replace(".", ""))
    raise Bad(_("Bukan jumlah rupiah (tulis angka saja, misalnya 1250000)."))


def whole(value):
    try:
        return amount(value)
    except Bad:
        raise Bad(_("Bukan bilangan bulat.")) from None


def rate(value):
    """A percentage with a dot or a comma: `1.5`, `1,5`."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    raw = text(value).replace(",", ".")
    try:
        result = Decimal(raw)
    except InvalidOperation:
        raise Bad(_("Bukan angka persen (misalnya 1,5).")) from None
    if not result.is_finite():
        raise Bad(_("Bukan angka persen (misalnya 1,5)."))
    return result


def date(value):
    """An Excel date, `YYYY-MM-DD` or `DD/MM/YYYY`."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = text(value)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.date.fromisoformat(raw)
        match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", raw)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
    except ValueError:
        pass
    raise Bad(_("Bukan tanggal (tulis 2024-03-31 atau 31/03/2024)."))


def flag(value):
    raw = text(value).lower()
    if raw in ("1", "ya", "true"):
        return True
    if raw in ("0", "tidak", "false"):
        return False
    raise Bad(_("Tulis 1 atau 0."))
