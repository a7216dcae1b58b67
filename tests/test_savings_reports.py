"""Savings reports (issue 13 item 7): balances per member and kind at a date, deposits and withdrawals in
a period, their downloads, scoping and query counts; savings totals per LKMM for the Dinas pages; the
simpanan accounts in the neraca; and the book format's savings sheet."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from ledger.models import AccountCode
from ledger.services import voucher_post
from ledger.statements import MONTH, Period, statements_for
from savings import selectors, services
from savings.models import SavingsAccount
from tests.factories import DinasFactory, LkmmFactory, MemberFactory, StaffFactory, ketua_of, login

pytestmark = pytest.mark.django_db

D = datetime.date
MARCH_31 = D(2026, 3, 31)


def deposit(member, kind, amount, on, actor):
    return services.savings_deposit(member=member, kind=kind, amount=amount, on=on, actor=actor)


@pytest.fixture
def book(lkmm, pengelola):
    """Two savers. Ani: pokok, wajib and a sukarela deposit in March; another wajib in April (a later
    deposit) and the sukarela deposit reversed on 10 April (a later reversal). Budi: wajib and sukarela in
    March, 10.000 of the sukarela taken out on 16 March."""
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 1, 2),
        amount=1_000_000,
        memo="Hibah",
        account_code="3101",
        cash_account_code="1101",
    )
    ketua = ketua_of(lkmm)
    ani = MemberFactory(lkmm=lkmm, full_name="Ani")
    budi = MemberFactory(lkmm=lkmm, full_name="Budi")
    user = pengelola.user
    deposit(ani, "pokok", 10_000, D(2026, 3, 2), user)
    deposit(ani, "wajib", 5_000, D(2026, 3, 2), user)
    mistaken = deposit(ani, "sukarela", 50_000, D(2026, 3, 2), user)
    deposit(ani, "wajib", 5_000, D(2026, 4, 6), user)
    services.savings_reverse(movement=mistaken, actor=ketua, on=D(2026, 4, 10), reason="Salah catat")
    deposit(budi, "wajib", 20_000, D(2026, 3, 2), user)
    deposit(budi, "sukarela", 30_000, D(2026, 3, 9), user)
    services.savings_withdraw(
        account=SavingsAccount.objects.get(member=budi, kind="sukarela"),
        amount=10_000,
        on=D(2026, 3, 16),
        actor=ketua,
    )
    return {"ani": ani, "budi": budi, "mistaken": mistaken}


def figures(report):
    return {row.full_name: (row.pokok, row.wajib, row.sukarela, row.total) for row in report.rows}


# --- balances at a date -----------------------------------------------------------------------------------


def test_balances_at_a_past_date_count_a_later_reversal_and_not_a_later_deposit(lkmm, book):
    report = selectors.balances_report(lkmm=lkmm, at=MARCH_31)

    assert figures(report) == {"Ani": (10_000, 5_000, 50_000, 65_000), "Budi": (0, 20_000, 20_000, 40_000)}
    assert report.totals == {"pokok": 10_000, "wajib": 25_000, "sukarela": 70_000, "total": 105_000}
    assert report.ledger == report.totals
    assert report.matches


def test_balances_after_the_reversal_and_on_the_reversal_day(lkmm, book):
    on_the_day = selectors.balances_report(lkmm=lkmm, at=D(2026, 4, 10))
    day_before = selectors.balances_report(lkmm=lkmm, at=D(2026, 4, 9))

    assert figures(on_the_day)["Ani"] == (10_000, 10_000, 0, 20_000)
    assert figures(day_before)["Ani"] == (10_000, 10_000, 50_000, 70_000)
    assert on_the_day.totals["total"] == sum(row.total for row in on_the_day.rows) == 60_000
    assert on_the_day.ledger["total"] == 60_000
    # Before anyone saved: no rows, zero totals.
    assert selectors.balances_report(lkmm=lkmm, at=D(2026, 3, 1)).rows == []


def test_the_balances_page_prints_the_rows_totals_and_the_ledger_check(client, lkmm, pengelola, book):
    login(client, pengelola)
    url = reverse("reports:savings_balances", args=[lkmm.code])

    page = client.get(url, {"at": "2026-03-31"})

    assert page.status_code == 200
    report = page.context["report"]
    assert page.context["at"] == MARCH_31
    assert report.totals["total"] == 105_000
    html = page.content.decode()
    assert "Rp 105.000" in html and "Rp 65.000" in html and "Rp 40.000" in html
    assert "cocok" in html
    assert "format=csv-id" in html and "format=xlsx" in html


def test_a_bad_date_is_explained_and_the_report_is_for_today(client, lkmm, pengelola, book):
    login(client, pengelola)
    url = reverse("reports:savings_balances", args=[lkmm.code])

    page = client.get(url, {"at": "1800-01-01"})

    assert page.status_code == 200
    assert page.context["form"].errors["at"]
    assert page.context["report"].totals["total"] == 60_000  # today


def test_the_balances_xlsx_holds_the_page_figures(client, lkmm, pengelola, book):
    login(client, pengelola)
    url = reverse("reports:savings_balances", args=[lkmm.code])

    response = client.get(url, {"at": "2026-03-31", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="saldo-simpanan-semenggu-2026-03-31.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header_at = rows.index(
        ["Kode anggota", "Anggota", "Simpanan pokok", "Simpanan wajib", "Simpanan sukarela", "Jumlah"]
    )
    assert sheet.freeze_panes == f"A{header_at + 2}"
    body = rows[header_at + 1 :]
    assert body[0][1:] == ["Ani", 10_000, 5_000, 50_000, 65_000]
    assert body[1][1:] == ["Budi", 0, 20_000, 20_000, 40_000]
    assert body[2] == ["Jumlah (2 anggota)", None, 10_000, 25_000, 70_000, 105_000]
    assert body[3][2:] == [10_000, 25_000, 70_000, 105_000]
    assert sheet.cell(row=header_at + 2, column=3).number_format == "#,##0"
    assert sheet.cell(row=header_at + 4, column=1).font.bold


def test_the_balances_csv_in_both_forms(client, lkmm, pengelola, book):
    login(client, pengelola)
    url = reverse("reports:savings_balances", args=[lkmm.code])

    comma = client.get(url, {"at": "2026-03-31", "format": "csv"}).content.decode("utf-8-sig")
    semicolon = client.get(url, {"at": "2026-03-31", "format": "csv-id"}).content.decode("utf-8-sig")

    rows = list(csv.reader(io.StringIO(comma)))
    assert rows[0][0] == "Kode anggota"
    assert rows[1][1:] == ["Ani", "10000", "5000", "50000", "65000"]
    assert rows[3][2:] == ["10000", "25000", "70000", "105000"]
    assert list(csv.reader(io.StringIO(semicolon), delimiter=";")) == rows


def test_an_unknown_format_is_404(client, lkmm, pengelola):
    login(client, pengelola)
    assert (
        client.get(reverse("reports:savings_balances", args=[lkmm.code]), {"format": "pdf"}).status_code
        == 404
    )


@pytest.mark.parametrize("name", ["reports:savings_balances", "reports:savings_movements"])
def test_scoping(client, lkmm, other_lkmm, book, name):
    url = reverse(name, args=[lkmm.code])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, StaffFactory(lkmm=other_lkmm))
    assert client.get(url).status_code == 404
    login(client, StaffFactory(dinas=True, dinas_of=DinasFactory(code="bontang", kabupaten="Bontang")))
    assert client.get(url).status_code == 404
    login(client, StaffFactory(dinas=True))  # the LKMM's own Dinas reads it
    assert client.get(url).status_code == 200
    login(client, ketua_of(lkmm))
    assert client.get(url).status_code == 200


def test_my_savings_report_goes_to_the_users_lkmm(client, lkmm, pengelola):
    login(client, pengelola)
    response = client.get(reverse("reports:my_savings"))
    assert response.status_code == 302
    assert response.url == reverse("reports:savings_balances", args=[lkmm.code])


def _savers(lkmm, pengelola, n):
    for i in range(n):
        member = MemberFactory(lkmm=lkmm, full_name=f"Penabung {i}")
        deposit(member, "wajib", 5_000, D(2026, 3, 2), pengelola.user)
        deposit(member, "sukarela", 10_000, D(2026, 3, 3), pengelola.user)


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("reports:savings_balances", {"at": "2026-03-31"}),
        ("reports:savings_balances", {"at": "2026-03-31", "format": "xlsx"}),
        ("reports:savings_movements", {"start": "2026-03-01", "end": "2026-03-31"}),
        ("reports:savings_movements", {"start": "2026-03-01", "end": "2026-03-31", "format": "csv"}),
    ],
)
def test_query_count_does_not_grow_with_members(client, lkmm, other_lkmm, name, params):
    small = StaffFactory(lkmm=lkmm)
    large = StaffFactory(lkmm=other_lkmm)
    _savers(lkmm, small, 3)
    _savers(other_lkmm, large, 12)
    login(client, small)
    few = _queries(client, reverse(name, args=[lkmm.code]), params)
    login(client, large)
    many = _queries(client, reverse(name, args=[other_lkmm.code]), params)
    assert few == many


# --- deposits and withdrawals in a period ----------------------------------------------------------------


def test_the_period_report_lists_each_movement_and_its_reversal(lkmm, book):
    report = selectors.movements_report(lkmm=lkmm, start=D(2026, 3, 1), end=D(2026, 4, 30))

    listed = [
        (
            line.on,
            line.movement.account.member.full_name,
            line.movement.account.kind,
            line.deposit,
            line.withdrawal,
        )
        for line in report.lines
    ]
    assert listed == [
        (D(2026, 3, 2), "Ani", "pokok", 10_000, 0),
        (D(2026, 3, 2), "Ani", "wajib", 5_000, 0),
        (D(2026, 3, 2), "Ani", "sukarela", 50_000, 0),
        (D(2026, 3, 2), "Budi", "wajib", 20_000, 0),
        (D(2026, 3, 9), "Budi", "sukarela", 30_000, 0),
        (D(2026, 3, 16), "Budi", "sukarela", 0, 10_000),
        (D(2026, 4, 6), "Ani", "wajib", 5_000, 0),
        (D(2026, 4, 10), "Ani", "sukarela", -50_000, 0),
    ]
    assert report.lines[2].movement.reversed_on == D(2026, 4, 10) and not report.lines[2].reversal
    assert report.lines[-1].reversal
    assert report.totals["pokok"] == {"deposit": 10_000, "withdrawal": 0, "net": 10_000}
    assert report.totals["wajib"] == {"deposit": 30_000, "withdrawal": 0, "net": 30_000}
    assert report.totals["sukarela"] == {"deposit": 30_000, "withdrawal": 10_000, "net": 20_000}
    assert report.totals["total"] == {"deposit": 70_000, "withdrawal": 10_000, "net": 60_000}
    assert report.totals["total"]["deposit"] == sum(line.deposit for line in report.lines)


def test_the_period_report_of_march_shows_the_reversed_deposit_but_not_its_april_reversal(lkmm, book):
    report = selectors.movements_report(lkmm=lkmm, start=D(2026, 3, 1), end=MARCH_31)
    assert len(report.lines) == 6
    assert report.totals["total"] == {"deposit": 115_000, "withdrawal": 10_000, "net": 105_000}
    april = selectors.movements_report(lkmm=lkmm, start=D(2026, 4, 1), end=D(2026, 4, 30))
    assert [(line.deposit, line.reversal) for line in april.lines] == [(5_000, False), (-50_000, True)]
    assert april.totals["total"]["net"] == -45_000
    # The net of a period is the change in the balances over it.
    start = selectors.balances_report(lkmm=lkmm, at=MARCH_31).totals["total"]
    end = selectors.balances_report(lkmm=lkmm, at=D(2026, 4, 30)).totals["total"]
    assert end - start == april.totals["total"]["net"]


def test_the_period_page_and_its_downloads(client, lkmm, pengelola, book):
    login(client, pengelola)
    url = reverse("reports:savings_movements", args=[lkmm.code])
    params = {"start": "2026-03-01", "end": "2026-04-30"}

    page = client.get(url, params)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pembatalan K-000003" in html and "Dibatalkan per 10/04/2026" in html
    assert "Rp 70.000" in html and "Rp 10.000" in html

    sheet = load_workbook(io.BytesIO(client.get(url, {**params, "format": "xlsx"}).content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    start = rows.index(
        [
            "Tanggal",
            "Kuitansi",
            "Kode anggota",
            "Anggota",
            "Jenis simpanan",
            "Setor/tarik",
            "Setoran",
            "Penarikan",
            "Pembatalan",
        ]
    )
    first = rows[start + 1]
    assert first[0] == datetime.datetime(2026, 3, 2)
    assert sheet.cell(row=start + 2, column=1).number_format == "dd/mm/yyyy"
    assert first[1:8] == ["K-000001", book["ani"].code, "Ani", "Simpanan pokok", "Setoran", 10_000, 0]
    reversal = rows[start + 8]
    assert reversal[6] == -50_000 and reversal[8] == "Pembatalan K-000003"
    assert rows[start + 3][8] == "Dibatalkan per 10/04/2026"
    assert rows[start + 9][6:8] == [70_000, 10_000]
    per_kind = [row[:4] for row in rows].index(["Jenis simpanan", "Setoran", "Penarikan", "Bersih"])
    assert rows[per_kind + 4][:4] == ["Jumlah", 70_000, 10_000, 60_000]

    comma = client.get(url, {**params, "format": "csv"}).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(comma)))
    assert lines[1][:2] == ["02/03/2026", "K-000001"]
    semicolon = client.get(url, {**params, "format": "csv-id"}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(semicolon), delimiter=";")) == lines


def test_the_period_defaults_to_this_month_and_refuses_a_year_and_more(client, lkmm, pengelola):
    login(client, pengelola)
    url = reverse("reports:savings_movements", args=[lkmm.code])
    from django.utils import timezone

    today = timezone.localdate()
    page = client.get(url)
    assert (page.context["start"], page.context["end"]) == (today.replace(day=1), today)

    too_long = client.get(url, {"start": "2024-01-01", "end": "2026-03-31"})
    assert too_long.status_code == 200
    assert "Paling panjang 366 hari" in str(too_long.context["form"].errors["end"])
    backwards = client.get(url, {"start": "2026-03-31", "end": "2026-03-01"})
    assert backwards.context["form"].errors["end"]
    junk = client.get(url, {"start": "٢٠٢٦-03-01", "end": "9999-99-99"})
    assert junk.status_code == 200 and junk.context["form"].errors
    # Only a start: the period runs to today, at most 366 days.
    start_only = client.get(url, {"start": "2025-01-01"})
    assert start_only.context["end"] == D(2025, 12, 31) + datetime.timedelta(days=1)


# --- savings totals per LKMM (for the Dinas pages) --------------------------------------------------------


def test_savings_totals_per_lkmm_in_one_query(lkmm, other_lkmm, book):
    _savers(other_lkmm, StaffFactory(lkmm=other_lkmm), 3)
    empty = LkmmFactory(code="kosong")

    with CaptureQueriesContext(connection) as queries:
        totals = selectors.savings_totals(lkmm_ids=[lkmm.pk, other_lkmm.pk, empty.pk], at=MARCH_31)

    assert len(queries) == 1
    assert totals == {
        lkmm.pk: {"pokok": 10_000, "wajib": 25_000, "sukarela": 70_000, "total": 105_000, "savers": 2},
        other_lkmm.pk: {"pokok": 0, "wajib": 15_000, "sukarela": 30_000, "total": 45_000, "savers": 3},
    }
    later = selectors.savings_totals(lkmm_ids=[lkmm.pk], at=D(2026, 4, 30))
    assert later[lkmm.pk]["total"] == 60_000 and later[lkmm.pk]["sukarela"] == 20_000


# --- the neraca ----------------------------------------------------------------------------------------


def test_the_neraca_shows_each_kind_of_savings_as_a_liability(lkmm, book):
    statements = statements_for([lkmm], Period(MONTH, 2026, 4))
    liabilities = next(s for s in statements.neraca.sections if str(s.title) == "Kewajiban")
    by_code = {row.code: (row.current, row.previous) for row in liabilities.rows}

    assert by_code[AccountCode.SIMPANAN_POKOK] == (10_000, 10_000)
    assert by_code[AccountCode.SIMPANAN_WAJIB] == (30_000, 25_000)
    assert by_code[AccountCode.SIMPANAN_SUKARELA] == (20_000, 70_000)
    (_, assets, _), (_, claims, _) = statements.neraca.totals
    assert assets == claims


# --- the book format's savings sheet ---------------------------------------------------------------------

SAVINGS = [
    "nik,type,on,amount,kind,reversed_on,reversal_reason",
    "3509011205800001,pokok,2025-01-02,10000,setor,,",
    "3509011205800001,wajib,2025-01-06,5.000,setor,,",
    "3509011205800001,sukarela,2025-02-03,50000,setor,,",
    "3509011205800001,sukarela,2025-03-03,20000,tarik,,",
    "3509015205820002,sukarela,03/02/2025,40000,setor,2025-02-10,Salah catat",
    "3509015205820002,sukarela,2025-02-10,30000,setor,,",
]


def savings_plan(tmp_path, lkmm, savings):
    from tests.test_books_import import plan_of

    return plan_of(tmp_path, lkmm, savings=savings)


@pytest.mark.parametrize(
    ("index", "line", "expected"),
    [
        (
            1,
            "3509011205800009,pokok,2025-01-02,10000,setor,,",
            "savings:2:nik: NIK ini tidak ada di lembar members.",
        ),
        (
            1,
            "3509011205800001,tabungan,2025-01-02,10000,setor,,",
            "savings:2:type: Pilih salah satu: pokok, wajib",
        ),
        (
            1,
            "3509011205800001,pokok,2025-01-02,10000,ambil,,",
            "savings:2:kind: Pilih salah satu: setor, tarik.",
        ),
        (
            1,
            "3509011205800001,pokok,2024-12-31,10000,setor,,",
            "savings:2:on: Tanggal tidak boleh sebelum anggota",
        ),
        (
            1,
            "3509011205800001,pokok,2027-01-02,10000,setor,,",
            "savings:2:on: Tanggal tidak boleh di masa depan.",
        ),
        (1, "3509011205800001,pokok,2025-02-30,10000,setor,,", "savings:2:on: Bukan tanggal"),
        (1, "3509011205800001,pokok,2025-01-02,0,setor,,", "savings:2:amount: Harus lebih dari nol."),
        (1, "3509011205800001,pokok,2025-01-02,,setor,,", "savings:2:amount: Wajib diisi."),
        (
            4,
            "3509011205800001,sukarela,2025-03-03,50001,tarik,,",
            "savings:5:amount: Saldo simpanan sukarela menjadi kurang dari nol pada 03/03/2025",
        ),
        (
            # A withdrawal dated before the deposit it would need.
            4,
            "3509011205800001,sukarela,2025-02-02,20000,tarik,,",
            "savings:5:amount: Saldo simpanan sukarela menjadi kurang dari nol pada 02/02/2025",
        ),
        (
            3,
            "3509011205800001,sukarela,2025-02-03,50000,setor,2025-03-10,Salah",
            "savings:4:reversed_on: Saldo simpanan sukarela menjadi kurang dari nol pada 10/03/2025",
        ),
        (
            5,
            "3509015205820002,sukarela,2025-02-03,40000,setor,2025-02-01,Salah",
            "savings:6:reversed_on: Tanggal pembatalan tidak boleh sebelum tanggal mutasi.",
        ),
        (0, "nik,type,on,amount", "savings:1:kind: Kolom wajib tidak ada."),
    ],
)
def test_the_savings_sheet_is_checked(tmp_path, lkmm, index, line, expected):
    savings = list(SAVINGS)
    savings[index] = line
    plan = savings_plan(tmp_path, lkmm, savings)
    errors = [str(p) for p in plan.errors]
    assert any(e.startswith(expected) for e in errors), errors


def test_the_savings_sheet_is_imported_through_the_savings_services(tmp_path, lkmm, ketua):
    from books.recorder import apply
    from institutions.models import AuditLog
    from ledger.checks import CHECKS
    from ledger.models import JournalEntry
    from members.models import Member
    from savings.models import SavingsMovement

    plan = savings_plan(tmp_path, lkmm, SAVINGS)
    assert plan.ok, [str(p) for p in plan.errors]
    assert plan.summary()["savings"] == 6 and plan.summary()["savings_total"] == 75_000

    apply(plan, actor=ketua.user)

    budi = Member.objects.get(lkmm=lkmm, nik="3509011205800001")
    siti = Member.objects.get(lkmm=lkmm, nik="3509015205820002")
    kept = dict(SavingsAccount.objects.filter(member=budi).values_list("kind", "balance_derived"))
    assert kept == {"pokok": 10_000, "wajib": 5_000, "sukarela": 30_000}
    assert SavingsAccount.objects.get(member=siti, kind="sukarela").balance_derived == 30_000
    assert SavingsAccount.objects.filter(member=siti).count() == 3
    withdrawal = SavingsMovement.objects.get(account__member=budi, kind="tarik")
    assert (withdrawal.amount, withdrawal.on) == (20_000, D(2025, 3, 3))
    reversed_one = SavingsMovement.objects.get(account__member=siti, reversed_on__isnull=False)
    assert reversed_one.reversed_on == D(2025, 2, 10) and reversed_one.reversal_reason == "Salah catat"
    assert JournalEntry.objects.filter(lkmm=lkmm, source_type="savings.savingsmovement").count() == 7
    assert AuditLog.objects.filter(lkmm=lkmm, action="savings.import").count() == 6
    assert AuditLog.objects.filter(lkmm=lkmm, action="savings.import_reverse").count() == 1
    # Receipts continue the one kuitansi sequence after the imported repayments (4 of them), gap-free.
    receipts = sorted(SavingsMovement.objects.filter(lkmm=lkmm).values_list("receipt_no", flat=True))
    assert receipts == list(range(5, 11))
    report = selectors.balances_report(lkmm=lkmm, at=D(2025, 2, 5))
    assert report.totals == {"pokok": 10_000, "wajib": 5_000, "sukarela": 90_000, "total": 105_000}
    assert report.matches
    problems = [p for check in CHECKS for p in check(type(lkmm).objects.filter(pk=lkmm.pk))]
    assert problems == []


def test_an_import_withdrawal_below_zero_is_refused_by_the_service_too(lkmm, ketua):
    from django.core.exceptions import ValidationError

    member = MemberFactory(lkmm=lkmm)
    services.savings_movement_import(
        member=member,
        kind="sukarela",
        movement_kind="setor",
        amount=10_000,
        on=D(2026, 3, 2),
        actor=ketua.user,
    )
    with pytest.raises(ValidationError):
        services.savings_movement_import(
            member=member,
            kind="sukarela",
            movement_kind="tarik",
            amount=10_001,
            on=D(2026, 3, 3),
            actor=ketua.user,
        )
    assert SavingsAccount.objects.get(member=member, kind="sukarela").balance_derived == 10_000


def test_the_export_writes_the_savings_sheet_and_a_copy_exports_the_same(tmp_path, lkmm, book):
    from books import formats
    from books.exporter import book_tables, write_book
    from books.importer import validate
    from books.recorder import apply
    from institutions.services import lkmm_create

    tables, skipped = book_tables(lkmm)
    header, rows = tables["savings"]
    assert header == ["nik", "type", "on", "amount", "kind", "reversed_on", "reversal_reason"]
    ani = book["ani"].nik
    assert rows[2] == [ani, "sukarela", D(2026, 3, 2), 50_000, "setor", D(2026, 4, 10), "Salah catat"]
    assert [row[4] for row in rows].count("tarik") == 1
    assert not any("Setoran" in line or "Penarikan" in line for line in skipped)
    for form in ("book.xlsx", "csv"):
        write_book(tables, tmp_path / form)
        copy = lkmm_create(
            code=f"copy-{form[:4]}",
            name=f"Salinan {form}",
            desa=lkmm.desa,
            kecamatan=lkmm.kecamatan,
            founded_on=lkmm.founded_on,
            dinas=lkmm.dinas,
            quality_policy=lkmm.quality_policy,
            default_rounding_unit=lkmm.default_rounding_unit,
        )
        if form == "csv":
            assert (tmp_path / "csv" / "savings.csv").exists()
        plan = validate(formats.read_book(tmp_path / form), lkmm=copy)
        assert plan.ok, [str(p) for p in plan.errors]
        apply(plan, actor=None)
        assert book_tables(copy)[0]["savings"] == tables["savings"]
        for at in (D(2026, 3, 15), MARCH_31, D(2026, 4, 9), D(2026, 4, 10)):
            assert figures(selectors.balances_report(lkmm=copy, at=at)) == figures(
                selectors.balances_report(lkmm=lkmm, at=at)
            )


def test_the_savings_reports_are_linked_from_the_savings_section_and_the_other_reports(client, lkmm, ketua):
    login(client, ketua)
    balances = reverse("reports:savings_balances", args=[lkmm.code])
    movements = reverse("reports:savings_movements", args=[lkmm.code])
    for page in (
        reverse("savings:products"),
        reverse("reports:arrears", args=[lkmm.code]),
        reverse("reports:home"),
    ):
        html = client.get(page).content.decode()
        assert balances in html and movements in html, page
