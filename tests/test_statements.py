"""Financial statements from the books (issue 11 item 3): neraca, laba rugi, arus kas per LKMM and
consolidated, capital sources, and the quarterly package (SEOJK 1/SEOJK.06/2025)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from institutions.models import AuditLog, Lkmm, Role, Staff
from ledger.forms import StatementPeriodForm
from ledger.models import AccountCode, CapitalKind, CapitalSource, JournalEntry, JournalLine
from ledger.package import package_for
from ledger.services import capital_source_record, voucher_post
from ledger.statements import MONTH, QUARTER, YEAR, Period, period_containing, statements_for
from tests.factories import LkmmFactory, LoanProductFactory, StaffFactory, ketua_of, login, make_active_loan

TODAY = timezone.localdate()


def _row(statement, code):
    for section in statement.sections:
        for row in section.rows:
            if row.code == code:
                return row
    raise KeyError(code)


def _cash(result, column="current"):
    return sum(getattr(_row(result.neraca, code), column) for code in (AccountCode.KAS, AccountCode.BANK))


def check_identities(result):
    """The three identities the issue asks for, on both columns."""
    neraca, laba_rugi, arus_kas = result.neraca, result.laba_rugi, result.arus_kas
    (_, assets, prev_assets), (_, claims, prev_claims) = neraca.totals
    assert assets == claims and prev_assets == prev_claims, "the neraca balances"
    shu = _row(neraca, AccountCode.SHU_TAHUN_BERJALAN)
    result_line = laba_rugi.totals[0]
    # The previous column is the period before, ending the day before this one starts.
    opening_shu = shu.previous if result.period.start.month != 1 else 0
    assert result_line[1] == shu.current - opening_shu, "laba rugi = change in SHU tahun berjalan"
    closing, opening = arus_kas.totals[2], arus_kas.totals[1]
    assert closing[1] == _cash(result), "arus kas closing = kas + bank"
    assert opening[1] == _cash(result, "previous"), "arus kas opening = kas + bank a period earlier"
    assert closing[2] == _cash(result, "previous")


def _figures(result):
    """Every figure of the statements by (statement, label), both columns."""
    figures = {}
    for statement in result.all:
        for section in statement.sections:
            for row in section.rows:
                figures[(statement.title, row.label)] = (row.current, row.previous)
        for label, current, previous in statement.totals:
            figures[(statement.title, label)] = (current, previous)
    figures["memo"] = (result.memo.current, result.memo.previous)
    return figures


def _sum_of(results):
    total = {}
    for result in results:
        for key, (current, previous) in _figures(result).items():
            old = total.get(key, (0, 0))
            total[key] = (old[0] + current, old[1] + previous)
    return total


@pytest.mark.django_db
def test_demo_statements_hold_their_identities_at_every_month_end():
    call_command("seed_demo")
    lkmm = Lkmm.objects.get(code="semenggu")
    # Capital from the city and a bank loan, so the financing lines and the liability are exercised.
    ketua = ketua_of(lkmm)
    capital_source_record(
        lkmm=lkmm,
        actor=ketua,
        kind=CapitalKind.DANA_BERGULIR,
        received_on=TODAY,
        source_name="Dana bergulir Pemkab",
        amount=5_000_000,
        cash_account_code=AccountCode.BANK,
    )
    capital_source_record(
        lkmm=lkmm,
        actor=ketua,
        kind=CapitalKind.PINJAMAN_BANK,
        received_on=TODAY,
        source_name="Bank Jatim",
        amount=10_000_000,
        owed_back=11_200_000,
    )
    first = JournalEntry.objects.order_by("date").values_list("date", flat=True).first()
    lkmms = list(Lkmm.objects.all())
    kecamatans = sorted({x.kecamatan for x in lkmms})
    periods = []
    month = first.replace(day=1)
    while month <= TODAY:
        periods.append(period_containing(MONTH, month))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    periods += [Period(QUARTER, TODAY.year, q) for q in range(1, (TODAY.month - 1) // 3 + 2)]
    periods += [Period(YEAR, TODAY.year, 1), Period(YEAR, TODAY.year - 1, 1)]
    checked = 0
    for period in periods:
        own = {x.pk: statements_for(Lkmm.objects.filter(pk=x.pk), period) for x in lkmms}
        for result in own.values():
            check_identities(result)
        for kecamatan in kecamatans:
            result = statements_for(Lkmm.objects.filter(kecamatan=kecamatan), period)
            check_identities(result)
            assert _figures(result) == _sum_of(
                r for pk, r in own.items() if Lkmm.objects.get(pk=pk).kecamatan == kecamatan
            )
        city = statements_for(Lkmm.objects.all(), period)
        check_identities(city)
        assert _figures(city) == _sum_of(own.values()), "consolidated = sum of the LKMMs"
        checked += 1
    assert checked >= 8
    current = statements_for(Lkmm.objects.filter(pk=lkmm.pk), period_containing(MONTH, TODAY))
    assert _row(current.neraca, AccountCode.PINJAMAN_BANK).current == 10_000_000
    financing = current.arus_kas.sections[1]
    assert financing.current == 15_000_000
    # The demo has loans in arrears: some interest is due and unpaid.
    assert statements_for(Lkmm.objects.all(), period_containing(MONTH, TODAY)).memo.current > 0


def _books_of(lkmm):
    """A small LKMM: a grant, a loan paid for a while, an expense."""
    ketua = ketua_of(lkmm)
    capital_source_record(
        lkmm=lkmm,
        actor=ketua,
        kind=CapitalKind.HIBAH,
        received_on=datetime.date(2026, 1, 2),
        source_name="APBD Jember 2026",
        amount=30_000_000,
    )
    from members.models import Member
    from tests.factories import MemberFactory

    member = MemberFactory(lkmm=lkmm, number=Member.objects.filter(lkmm=lkmm).count() + 1)
    loan = make_active_loan(member=member, disbursed_on=datetime.date(2026, 1, 5))
    from loans.services import repayment_record

    repayment_record(loan=loan, amount=124_154, paid_on=datetime.date(2026, 1, 12), actor=ketua)
    voucher_post(
        lkmm=lkmm,
        actor=ketua,
        kind="cash_out",
        date=datetime.date(2026, 2, 3),
        amount=50_000,
        memo="ATK",
        account_code=AccountCode.BEBAN_OPERASIONAL,
    )
    return loan


@pytest.mark.django_db
def test_statements_of_a_small_lkmm_and_their_cash_flow_lines():
    lkmm = LkmmFactory()
    _books_of(lkmm)
    result = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, 2026, 1))
    check_identities(result)
    operating = {row.code + row.label: row.current for row in result.arus_kas.sections[0].rows}
    assert operating[AccountCode.PIUTANG + "Penerimaan angsuran pokok pinjaman"] == 120_000
    assert operating[AccountCode.PIUTANG + "Pencairan pinjaman"] == -1_200_000
    assert operating[AccountCode.PENDAPATAN_BUNGA + "Penerimaan bunga (jasa) pinjaman"] == 4_154
    assert result.arus_kas.sections[1].current == 30_000_000
    assert _row(result.neraca, AccountCode.MODAL_HIBAH).current == 30_000_000
    assert _row(result.neraca, AccountCode.SHU_TAHUN_BERJALAN).current == 4_154
    assert result.laba_rugi.totals[0][1] == 4_154
    february = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, 2026, 2))
    check_identities(february)
    assert february.laba_rugi.totals[0][1] == -50_000
    assert _row(february.neraca, AccountCode.SHU_TAHUN_BERJALAN).current == 4_154 - 50_000
    # The next year: last year's result is SHU ditahan, the new year's SHU starts from nought.
    next_year = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, 2027, 1))
    check_identities(next_year)
    if TODAY.year > 2026:
        assert (
            _row(next_year.neraca, AccountCode.SHU_DITAHAN).current
            == _row(
                statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(YEAR, 2026, 1)).neraca,
                AccountCode.SHU_TAHUN_BERJALAN,
            ).current
        )


@pytest.mark.django_db
def test_interest_due_unpaid_is_a_memorandum_line():
    lkmm = LkmmFactory()
    loan = _books_of(lkmm)
    # Ten weekly installments of 124.154 from 12/01/2026: one paid, the rest unpaid; interest 4.154 each.
    result = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, 2026, 1))
    due_before_31 = loan.installments.filter(due_date__lt=datetime.date(2026, 1, 31)).count()
    assert result.memo.current == (due_before_31 - 1) * 4_154
    march = statements_for(Lkmm.objects.filter(pk=lkmm.pk), Period(MONTH, 2026, 3))
    assert march.memo.current == 9 * 4_154
    assert (
        march.memo.previous
        == (loan.installments.filter(due_date__lt=datetime.date(2026, 2, 28)).count() - 1) * 4_154
    )


# --- the maximum-interest-rate report ------------------------------------------------------------------


@pytest.mark.django_db
def test_maximum_rate_report_gives_the_effective_rates_of_domains_worked_examples():
    lkmm = LkmmFactory()
    # DOMAIN.md: Rp1.200.000 at 1,5% flat over 10 weekly (10 x 124.154): IRR 0,6236% a week x 52.
    LoanProductFactory(lkmm=lkmm, name="Flat", max_amount=1_200_000, rounding_unit=1)
    # Rp1.000.000 at 1,5% annuity over 12 monthly, unit Rp100 (11 x 91.700 + 91.439): 18,0%.
    LoanProductFactory(
        lkmm=lkmm,
        name="Anuitas",
        interest_method="annuity",
        frequency="monthly",
        installment_count=12,
        rounding_unit=100,
        max_amount=1_000_000,
    )
    # Rp1.000.000 at 2% declining over 10 monthly, unit Rp1.000: 24,0%.
    LoanProductFactory(
        lkmm=lkmm,
        name="Menurun",
        interest_method="declining",
        frequency="monthly",
        rate_per_month=Decimal("2"),
        installment_count=10,
        rounding_unit=1000,
        max_amount=1_000_000,
    )
    # The flat one with a 2% fee deducted at disbursement: the borrower receives 1.176.000.
    LoanProductFactory(lkmm=lkmm, name="Flat biaya", max_amount=1_200_000, admin_fee_percent=Decimal("2"))
    LoanProductFactory(lkmm=lkmm, name="Lama", is_active=False)
    content = package_for(Lkmm.objects.filter(pk=lkmm.pk), Period(QUARTER, 2026, 1))
    rates = {product.name: (product.nominal_rate, product.effective_rate) for product in content.products}
    assert rates == {
        "Anuitas": (Decimal("18.00"), Decimal("18.0")),
        "Flat": (Decimal("18.00"), Decimal("32.4")),
        "Flat biaya": (Decimal("18.00"), Decimal("51.9")),
        "Menurun": (Decimal("24.00"), Decimal("24.0")),
    }


def _irr_percent(received, installments, periods_per_year):
    low, high = 0.0, 1.0
    for _ in range(200):
        mid = (low + high) / 2
        value = -received + sum(a / (1 + mid) ** (k + 1) for k, a in enumerate(installments))
        low, high = (mid, high) if value > 0 else (low, mid)
    return round(low * periods_per_year * 100, 1)


def test_the_expected_effective_rates_are_the_irr_of_the_worked_schedules():
    assert _irr_percent(1_200_000, [124_154] * 10, 52) == 32.4
    assert _irr_percent(1_176_000, [124_154] * 10, 52) == 51.9
    assert _irr_percent(1_000_000, [91_700] * 11 + [91_439], 12) == 18.0
    declining = [100_000 + 20_000 - 2_000 * k for k in range(10)]
    assert _irr_percent(1_000_000, declining, 12) == 24.0


# --- pages, downloads and scoping ----------------------------------------------------------------------


@pytest.fixture
def world():
    lkmm = LkmmFactory(code="satu", kecamatan="Sumbersari")
    other = LkmmFactory(code="dua", kecamatan="Patrang")
    _books_of(lkmm)
    _books_of(other)
    return {
        "lkmm": lkmm,
        "other": other,
        "pengelola": StaffFactory(lkmm=lkmm).user,
        "ketua": ketua_of(lkmm),
        "dinas": StaffFactory(dinas=True).user,
    }


JANUARY = {"jenis": "bulan", "tahun": "2026", "bulan": "1"}


@pytest.mark.django_db
def test_statements_page_and_its_xlsx_and_csv_hold_the_same_figures(client, world):
    login(client, world["pengelola"])
    url = reverse("ledger:statements", args=["satu"])
    response = client.get(url, JANUARY)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.period == Period(MONTH, 2026, 1)
    content = response.content.decode()
    assert "Neraca" in content and "Arus kas" in content and "SEMENTARA" in content
    figures = _figures(result)
    xlsx = client.get(url, {**JANUARY, "format": "xlsx"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.freeze_panes is not None
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    read = {}
    title = None
    for row in cells:
        if row[0] and row[1] is not None and isinstance(row[1], str):  # a statement's header row
            title = row[0]
        elif row[0] and isinstance(row[1], int):
            read.setdefault((title, row[0]), (row[1], row[2]))
    for key, values in figures.items():
        if key == "memo":
            assert read[("Pos", result.memo.label)] == values
        else:
            assert read[key] == values, key
    money = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, int)]
    assert money and all(cell.number_format == "#,##0" for cell in money)
    response = client.get(url, {**JANUARY, "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [str(figures["memo"][0])] == [r[1] for r in rows if r and r[0] == result.memo.label]


@pytest.mark.django_db
def test_statements_are_scoped(client, world):
    url = reverse("ledger:statements", args=["dua"])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, world["pengelola"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("ledger:package", args=["dua"])).status_code == 404
    assert client.get(reverse("ledger:capital_list", args=["dua"])).status_code == 404
    # The manager's "consolidated" page holds their own LKMM only.
    own = client.get(reverse("ledger:statements", args=["satu"]), JANUARY).context["result"]
    everything = client.get(reverse("ledger:statements_all"), JANUARY).context["result"]
    assert _figures(own) == _figures(everything)
    assert client.get(reverse("ledger:statements_all"), {"kecamatan": "Patrang"}).status_code == 404
    client.logout()
    login(client, world["dinas"])
    assert client.get(url).status_code == 200
    response = client.get(reverse("ledger:statements_all"), {**JANUARY, "kecamatan": "Patrang"})
    assert response.status_code == 200
    assert _figures(response.context["result"]) == _figures(
        statements_for(Lkmm.objects.filter(code="dua"), Period(MONTH, 2026, 1))
    )
    assert client.get(reverse("ledger:statements_all"), {"kecamatan": "Tidak ada"}).status_code == 404
    assert client.get(reverse("ledger:statements_all"), {"format": "pdf"}).status_code == 404


@pytest.mark.django_db
def test_consolidated_statements_take_the_same_queries_for_2_or_5_lkmms(client, world):
    login(client, world["dinas"])
    url = reverse("ledger:statements_all")
    client.get(url, JANUARY)  # warm caches (sessions, content types)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, JANUARY).status_code == 200
            assert (
                client.get(reverse("ledger:package_all"), {"tahun": "2026", "triwulan": "1"}).status_code
                == 200
            )
        return len(captured)

    two = queries()
    for code in ("tiga", "empat", "lima"):
        _books_of(LkmmFactory(code=code))
    LoanProductFactory(lkmm=Lkmm.objects.get(code="tiga"))
    assert Lkmm.objects.count() == 5
    assert queries() == two


@pytest.mark.django_db
def test_period_form_bounds():
    def period(data, **kwargs):
        form = StatementPeriodForm(data, **kwargs)
        return form.is_valid(), form.period

    assert period({"jenis": "triwulan", "tahun": "2026", "triwulan": "2"}) == (True, Period(QUARTER, 2026, 2))
    assert period({"jenis": "tahun", "tahun": "2025"}) == (True, Period(YEAR, 2025, 1))
    assert period({"jenis": "bulan", "tahun": "2025"}) == (True, Period(MONTH, 2025, 12))
    assert not period({"tahun": "1999"})[0]
    assert not period({"tahun": str(TODAY.year + 1)})[0]
    assert not period({"tahun": "２０２６"})[0]
    assert not period({"jenis": "bulan", "tahun": str(TODAY.year), "bulan": "13"})[0]
    if TODAY.month < 12:
        assert not period({"jenis": "bulan", "tahun": str(TODAY.year), "bulan": str(TODAY.month + 1)})[0]
    # Invalid input falls back to the last month that has ended.
    assert period({"tahun": "abc"})[1] == period_containing(MONTH, TODAY).previous()
    assert period({}, quarters_only=True)[1] == period_containing(QUARTER, TODAY).previous()


# --- capital sources -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_capital_source_posts_its_entry_with_an_audit_row():
    lkmm = LkmmFactory()
    ketua = ketua_of(lkmm)
    source = capital_source_record(
        lkmm=lkmm,
        actor=ketua,
        kind=CapitalKind.PINJAMAN_BANK,
        received_on=datetime.date(2026, 3, 2),
        source_name=" Bank Jatim ",
        amount=10_000_000,
        owed_back=11_500_000,
        cash_account_code=AccountCode.BANK,
    )
    lines = {
        line.account.code: (line.debit, line.credit) for line in source.entry.lines.select_related("account")
    }
    assert lines == {AccountCode.BANK: (10_000_000, 0), AccountCode.PINJAMAN_BANK: (0, 10_000_000)}
    assert source.source_name == "Bank Jatim" and source.entry.date == datetime.date(2026, 3, 2)
    assert AuditLog.objects.filter(action="capital.record", object_id=source.pk, lkmm=lkmm).exists()
    with pytest.raises(ValidationError) as refused:
        capital_source_record(
            lkmm=lkmm,
            actor=ketua,
            kind=CapitalKind.PINJAMAN_BANK,
            received_on=datetime.date(2026, 3, 2),
            source_name="Bank",
            amount=10_000_000,
            owed_back=9_000_000,
        )
    assert "owed_back" in refused.value.error_dict
    with pytest.raises(PermissionDenied):
        capital_source_record(
            lkmm=lkmm,
            actor=StaffFactory(lkmm=lkmm).user,
            kind=CapitalKind.HIBAH,
            received_on=datetime.date(2026, 3, 2),
            source_name="APBD",
            amount=1,
        )
    assert CapitalSource.objects.count() == 1 and JournalEntry.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        CapitalSource.objects.filter(pk=source.pk).update(owed_back=1)


@pytest.mark.django_db
def test_capital_pages(client, world):
    url = reverse("ledger:capital_create", args=["satu"])
    data = {
        "received_on": "2026-03-02",
        "kind": "dana_bergulir",
        "source_name": "Dana bergulir Pemkab 2026",
        "amount": "15.000.000",
        "cash_account_code": AccountCode.BANK,
        "owed_back": "",
        "note": "",
    }
    login(client, world["pengelola"])
    assert client.post(url, data).status_code == 403
    client.logout()
    login(client, world["dinas"])
    assert client.post(url, data).status_code == 403
    assert client.get(reverse("ledger:capital_list", args=["satu"])).status_code == 200
    client.logout()
    login(client, world["ketua"])
    assert client.get(reverse("ledger:capital_create", args=["dua"])).status_code == 404
    response = client.post(url, data)
    assert response.status_code == 302
    source = CapitalSource.objects.get(source_name="Dana bergulir Pemkab 2026")
    assert (source.lkmm, source.amount, source.kind) == (world["lkmm"], 15_000_000, CapitalKind.DANA_BERGULIR)
    assert JournalLine.objects.filter(
        entry=source.entry, account__code=AccountCode.DANA_BERGULIR
    ).get().credit == (15_000_000)
    page = client.get(reverse("ledger:capital_list", args=["satu"]))
    assert "Dana bergulir Pemkab 2026" in page.content.decode()
    # Grant 30.000.000 + revolving fund 15.000.000, interest 4.154 received, expense 50.000.
    assert page.context["total"] == 45_000_000
    assert page.context["equity"] == 45_000_000 + 4_154 - 50_000
    assert (
        client.post(
            url, {**data, "received_on": (TODAY + datetime.timedelta(days=1)).isoformat()}
        ).status_code
        == 200
    )


# --- the quarterly package -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_quarterly_package_is_provisional_until_the_quarter_is_closed(client, world):
    LoanProductFactory(lkmm=world["lkmm"], name="Flat", max_amount=1_200_000)
    login(client, world["pengelola"])
    url = reverse("ledger:package", args=["satu"])
    quarter = {"tahun": "2026", "triwulan": "1"}
    response = client.get(url, quarter)
    assert response.status_code == 200 and not response.context["closed"]
    assert "SEMENTARA" in response.content.decode()
    content = response.context["content"]
    assert content.capital_total == 30_000_000
    assert content.class_totals["outstanding"] == sum(
        row.current for row in content.statements.neraca.sections[0].rows if row.code == AccountCode.PIUTANG
    )
    from reports.report_views import quality_report
    from risk.services import month_close

    for month in (1, 2, 3):
        month_close(lkmm=world["lkmm"], actor=world["ketua"], month=datetime.date(2026, month, 1))
    response = client.get(url, quarter)
    assert response.context["closed"] and "SEMENTARA" not in response.content.decode()
    # The notes of a closed quarter are the figures stored at its close, as the quality report gives them.
    rows, figures = quality_report(lkmm=world["lkmm"], at=datetime.date(2026, 3, 31))
    classes = response.context["content"].classes
    assert [(r["code"], r["loans"], r["outstanding"], r["required"]) for r in classes] == [
        (r["quality_class"].code, r["loans"], r["outstanding"], r["required"]) for r in rows if r["loans"]
    ]
    assert response.context["content"].reserve_required == figures["required"] > 0
    xlsx = client.get(url, {**quarter, "format": "xlsx"})
    values = [
        cell.value for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows() for cell in row
    ]
    assert "Flat" in values and 32.4 in values and 30_000_000 in values
    assert "SEMENTARA: periode belum ditutup buku" not in values
    # The city's package: the Dinas, every LKMM; provisional while one LKMM's quarter is open.
    client.logout()
    login(client, world["dinas"])
    response = client.get(reverse("ledger:package_all"), quarter)
    assert response.status_code == 200 and not response.context["closed"]
    assert response.context["content"].capital_total == 60_000_000
    csv_response = client.get(reverse("ledger:package_all"), {**quarter, "format": "csv"})
    assert csv_response.status_code == 200


@pytest.mark.django_db
def test_dashboard_links_to_the_statements(client, world):
    login(client, world["pengelola"])
    page = client.get(reverse("reports:home")).content.decode()
    assert reverse("ledger:statements", args=["satu"]) in page
    client.logout()
    login(client, world["dinas"])
    dashboard = client.get(reverse("reports:lkmm", args=["satu"])).content.decode()
    assert reverse("ledger:statements", args=["satu"]) in dashboard
    assert Staff.objects.get(user=world["dinas"]).role == Role.DINAS


def test_the_period_form_shows_the_period_the_page_shows():
    from ledger.forms import StatementPeriodForm

    today = timezone.localdate()
    shown = StatementPeriodForm.default()
    form = StatementPeriodForm()
    assert (form["jenis"].value(), form["tahun"].value(), form["bulan"].value()) == (
        "bulan",
        shown.year,
        shown.number,
    )
    assert shown.start < today.replace(day=1) <= shown.end + datetime.timedelta(days=1)
    package = StatementPeriodForm(quarters_only=True)
    assert package["triwulan"].value() == StatementPeriodForm.default(quarters_only=True).number
