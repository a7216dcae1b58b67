"""The arrears list (daftar tunggakan) and the loan quality and reserve report (kolektibilitas & PPAP) at
any date, as pages and as CSV and XLSX downloads."""

import csv
import datetime
import io
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.models import AccountCode
from ledger.services import entry_post
from loans.services import repayment_record
from members import services as member_services
from members.models import Weekday
from reports.report_views import split_whole
from risk.models import QualityPolicy
from risk.selectors import portfolio
from tests.factories import LoanProductFactory, MemberFactory, UserFactory, login, make_active_loan

pytestmark = pytest.mark.django_db
D = datetime.date
AT = D(2026, 1, 20)
NEW_YEAR = D(2026, 1, 1)
INSTALLMENT = 124_154  # Rp1.200.000 weekly at 1,5% flat over 10: 120.000 principal + 4.154 interest


def arrears_url(lkmm, at=AT, **params):
    query = "&".join(f"{k}={v}" for k, v in {"at": f"{at:%Y-%m-%d}", **params}.items())
    return f"{reverse('reports:arrears', args=[lkmm.code])}?{query}"


def quality_url(lkmm, at=AT, **params):
    query = "&".join(f"{k}={v}" for k, v in {"at": f"{at:%Y-%m-%d}", **params}.items())
    return f"{reverse('reports:quality', args=[lkmm.code])}?{query}"


def weekly_loan(lkmm, *, name, disbursed_on=NEW_YEAR, product=None, principal=1_200_000, **member):
    """Rp1.200.000 weekly unless told, nothing paid: the first installment falls due a week after
    disbursement."""
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name=name, **member),
        product=product or LoanProductFactory(lkmm=lkmm),
        principal=principal,
        disbursed_on=disbursed_on,
    )


@pytest.fixture
def book(lkmm, other_lkmm):
    """At 20/01/2026, nothing paid on any loan:
    - Siti (group Mawar), disbursed 01/01/2026: installments due 08/01 and 15/01 unpaid, 12 days past due,
      overdue 2 x 124.154 = 248.308, class L (weekly lkm-2015: <= 28 days);
    - Rina, disbursed 01/12/2025 with a Rp5.000 late fee: 7 installments due 08/12 to 19/01 unpaid, 43 days
      past due, overdue 7 x 124.154 = 869.078, late fees 7 x 5.000 = 35.000, class D (29-56 days);
    - Budi, disbursed 15/01/2026: first due 22/01, not past due;
    - a loan of another LKMM, past due."""
    siti = weekly_loan(lkmm, name="Siti Aminah", phone="+6281234567890")
    member_services.group_create(
        lkmm=lkmm,
        actor=None,
        name="Mawar",
        meeting_day=Weekday.SENIN,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=[siti.member, *MemberFactory.create_batch(2, lkmm=lkmm)],
        leader=siti.member,
        on=D(2026, 1, 5),
    )
    rina = weekly_loan(
        lkmm,
        name="Rina Wati",
        disbursed_on=D(2025, 12, 1),
        product=LoanProductFactory(lkmm=lkmm, late_fee=5_000),
    )
    budi = weekly_loan(lkmm, name="Budi Lancar", disbursed_on=D(2026, 1, 15))
    weekly_loan(other_lkmm, name="Orang Wonosari")
    return {"siti": siti, "rina": rina, "budi": budi}


# --- daftar tunggakan ------------------------------------------------------------------------------------


def test_arrears_list_at_a_date(pengelola_client, lkmm, book):
    response = pengelola_client.get(arrears_url(lkmm))

    assert response.status_code == 200
    loans = response.context["loans"]
    assert [loan.member.full_name for loan in loans] == ["Rina Wati", "Siti Aminah"]  # most days first
    rina, siti = loans
    assert (siti.days_past_due, siti.overdue_amount, siti.overdue_fees, siti.quality_class.code) == (
        12,
        248_308,
        0,
        "L",
    )
    assert (rina.days_past_due, rina.overdue_amount, rina.overdue_fees, rina.quality_class.code) == (
        43,
        7 * INSTALLMENT,
        35_000,
        "D",
    )
    assert siti.group_name == "Mawar" and rina.group_name is None
    assert response.context["totals"] == {
        "principal": 2_400_000,
        "outstanding": 2_400_000,
        "overdue_amount": 1_117_386,
        "overdue_fees": 35_000,
    }
    html = response.content.decode()
    assert "Rp 248.308" in html and "Rp 1.117.386" in html and "Rp 35.000" in html
    assert "Budi Lancar" not in html and "Orang Wonosari" not in html
    assert "data-print" in html and "report-landscape" in html  # printed A4 landscape (app.css)
    assert 'class="table-wrap"' in html and 'class="num wide-only"' in html


def test_arrears_at_a_past_date_ignore_later_payments(pengelola_client, lkmm, book):
    repayment_record(loan=book["siti"], amount=INSTALLMENT, paid_on=D(2026, 1, 25), actor=None)

    before = pengelola_client.get(arrears_url(lkmm)).context["loans"][1]
    after = pengelola_client.get(arrears_url(lkmm, at=D(2026, 1, 25))).context["loans"][1]

    assert (before.days_past_due, before.overdue_amount, before.outstanding) == (12, 248_308, 1_200_000)
    # 25/01: the 08/01 installment is paid; 15/01 and 22/01 are not (15/01 is 10 days ago).
    assert (after.days_past_due, after.overdue_amount, after.outstanding) == (10, 248_308, 1_080_000)


def test_arrears_without_a_date_are_today_and_say_so(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("reports:arrears", args=[lkmm.code]))
    assert response.status_code == 200
    assert "Tidak ada pinjaman menunggak per tanggal ini." in response.content.decode()

    response = pengelola_client.get(reverse("reports:arrears", args=[lkmm.code]) + "?at=31-31-2026")
    assert response.status_code == 200
    assert response.context["at"] == timezone.localdate()
    assert 'role="alert"' in response.content.decode()


def test_arrears_csv(pengelola_client, lkmm, book):
    response = pengelola_client.get(arrears_url(lkmm, format="csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="daftar-tunggakan-semenggu-2026-01-20.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Anggota",
        "Kode anggota",
        "Kelompok",
        "Telepon",
        "Kode pinjaman",
        "Tanggal cair",
        "Pokok pinjaman",
        "Sisa pokok",
        "Tunggakan pokok + bunga",
        "Denda",
        "Hari tunggakan",
        "Kelas",
    ]
    siti = book["siti"]
    assert rows[2] == [
        "Siti Aminah",
        siti.member.code,
        "Mawar",
        "'+6281234567890",  # a leading "+" starts a formula in a spreadsheet: kept as text
        siti.code,
        "01/01/2026",
        "1200000",
        "1200000",
        "248308",
        "0",
        "12",
        "L Lancar",
    ]
    assert rows[1][:2] == ["Rina Wati", book["rina"].member.code] and rows[1][5] == "01/12/2025"
    assert rows[3] == [
        "Jumlah (2 pinjaman)",
        "",
        "",
        "",
        "",
        "",
        "2400000",
        "2400000",
        "1117386",
        "35000",
        "",
        "",
    ]
    assert len(rows) == 4


def test_arrears_xlsx(pengelola_client, lkmm, book):
    response = pengelola_client.get(arrears_url(lkmm, format="xlsx"))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert (
        response["Content-Disposition"] == 'attachment; filename="daftar-tunggakan-semenggu-2026-01-20.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [r[0] for r in rows[:3]] == ["Daftar tunggakan", "LKMM Semenggu", "Per 20/01/2026"]
    assert rows[4][0] == "Anggota" and rows[4][8] == "Tunggakan pokok + bunga"
    assert rows[6] == [
        "Siti Aminah",
        book["siti"].member.code,
        "Mawar",
        "+6281234567890",
        book["siti"].code,
        datetime.datetime(2026, 1, 1),  # a real date in XLSX (issue 10), shown dd/mm/yyyy
        1_200_000,
        1_200_000,
        248_308,
        0,
        12,
        "L Lancar",
    ]
    assert rows[5][9] == 35_000 and rows[5][10] == 43
    assert rows[7][0] == "Jumlah (2 pinjaman)" and rows[7][6:10] == [2_400_000, 2_400_000, 1_117_386, 35_000]
    assert sheet["I7"].number_format == "#,##0" and sheet.freeze_panes == "A6"
    assert sheet["F7"].number_format == "dd/mm/yyyy"


def test_a_name_that_looks_like_a_formula_stays_text(pengelola_client, lkmm):
    weekly_loan(lkmm, name="=HYPERLINK(1)")

    rows = list(
        csv.reader(io.StringIO(pengelola_client.get(arrears_url(lkmm, format="csv")).content.decode()))
    )
    assert rows[1][0] == "'=HYPERLINK(1)"
    content = pengelola_client.get(arrears_url(lkmm, format="xlsx")).content
    cell = openpyxl.load_workbook(io.BytesIO(content)).active["A6"]
    assert (cell.value, cell.data_type) == ("=HYPERLINK(1)", "s")


@pytest.mark.parametrize("name", ['+HYPERLINK("http://x","y")', "-2+3", "@SUM(1)", "\tcmd", "\r=1", "|calc"])
def test_every_formula_start_is_inert_in_csv_and_xlsx_and_amounts_stay_numbers(pengelola_client, lkmm, name):
    weekly_loan(lkmm, name=name)

    content = pengelola_client.get(arrears_url(lkmm, format="csv")).content.decode("utf-8-sig")
    row = list(csv.reader(io.StringIO(content)))[1]
    assert row[0] == "'" + name
    assert row[6] == "1200000"  # the principal: a plain number, no apostrophe
    content = pengelola_client.get(arrears_url(lkmm, format="xlsx")).content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    # (XML keeps a carriage return as a line feed.)
    assert (sheet["A6"].value.strip(), sheet["A6"].data_type) == (name.strip(), "s")
    assert (sheet["G6"].value, sheet["G6"].data_type) == (1_200_000, "n")


def test_csv_cell_neutralises_text_and_keeps_numbers():
    from reports.exports import csv_cell

    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@a", "\ta", "\ra", "|a")] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\ta",
        "'\ra",
        "'|a",
    ]
    assert [csv_cell(v) for v in (-5, 0, 12, Decimal("-1.50"), None, "Siti", "")] == [
        -5,
        0,
        12,
        Decimal("-1.50"),
        "",
        "Siti",
        "",
    ]


def test_an_lkmm_name_like_a_formula_stays_text_in_the_xlsx_title(pengelola_client, lkmm):
    lkmm.name = "=cmd|' /C calc'!A0"
    lkmm.save()
    weekly_loan(lkmm, name="Siti")

    sheet = openpyxl.load_workbook(
        io.BytesIO(pengelola_client.get(arrears_url(lkmm, format="xlsx")).content)
    ).active
    assert (sheet["A2"].value, sheet["A2"].data_type) == (lkmm.name, "s")


# --- kolektibilitas & PPAP -------------------------------------------------------------------------------


def provision(lkmm, amount):
    entry_post(
        kind="provision",
        lkmm=lkmm,
        date=D(2026, 1, 10),
        memo="Penyisihan",
        lines=[(AccountCode.BEBAN_PENYISIHAN, amount, 0), (AccountCode.CADANGAN, 0, amount)],
    )


def test_quality_report_lists_every_class_of_the_policy(pengelola_client, lkmm, book):
    provision(lkmm, 150_000)

    response = pengelola_client.get(quality_url(lkmm))

    assert response.status_code == 200
    rows = [
        (r["quality_class"].code, r["loans"], r["outstanding"], r["rate"], r["required"])
        for r in response.context["rows"]
    ]
    # Budi is current (class L); Siti 12 days (L); Rina 43 days (D, 50%). M is empty and still listed.
    assert rows == [
        ("L", 2, 2_400_000, Decimal("0"), 0),
        ("D", 1, 1_200_000, Decimal("50"), 600_000),
        ("M", 0, 0, Decimal("100"), 0),
    ]
    figures = response.context["figures"]
    assert (figures["loans"], figures["outstanding"], figures["required"]) == (3, 3_600_000, 600_000)
    assert (figures["npl"], figures["npl_ratio"]) == (1_200_000, Decimal("33.33"))
    assert (figures["held"], figures["coverage"]) == (150_000, Decimal("25.00"))
    html = response.content.decode()
    assert "NPL = sisa pokok kelas bermasalah ÷ sisa pokok seluruhnya × 100%" in html
    assert "cakupan = cadangan dimiliki ÷ PPAP wajib × 100%" in html
    assert "sisa pokok pinjaman di kelas bermasalah (D, M)" in html
    assert "Rp 600.000" in html and "33,33%" in html and "25%" in html and "batas Dinas ≤ 5%" in html


def test_quality_report_at_a_date_before_any_loan(pengelola_client, lkmm, book):
    response = pengelola_client.get(quality_url(lkmm, at=D(2025, 11, 1)))
    assert [(r["quality_class"].code, r["loans"], r["required"]) for r in response.context["rows"]] == [
        ("L", 0, 0),
        ("D", 0, 0),
        ("M", 0, 0),
    ]
    assert response.context["figures"]["npl_ratio"] is None
    assert "–" in response.content.decode()


def test_class_reserves_add_up_to_the_required_reserve(pengelola_client, lkmm):
    """bank-5: L 1% of 1.000.050 = 10.000,50 and DPK 5% of 1.000.010 = 50.000,50. Each loan is rounded
    half up on its own (DOMAIN.md): 10.001 + 50.001, and the required reserve is their sum 60.002 (not
    the rounded exact sum 60.001)."""
    lkmm.quality_policy = QualityPolicy.objects.get(code="bank-5")
    lkmm.save()
    weekly_loan(lkmm, name="Lancar", principal=1_000_050, disbursed_on=D(2026, 1, 15))
    weekly_loan(lkmm, name="Telat", principal=1_000_010)

    response = pengelola_client.get(quality_url(lkmm))

    rows = {r["quality_class"].code: (r["outstanding"], r["required"]) for r in response.context["rows"]}
    assert rows == {
        "L": (1_000_050, 10_001),
        "DPK": (1_000_010, 50_001),
        "KL": (0, 0),
        "D": (0, 0),
        "M": (0, 0),
    }
    assert response.context["figures"]["required"] == 60_002 == portfolio(lkmms=[lkmm], at=AT)["required"]


@pytest.mark.parametrize(
    ("total", "exact", "parts"),
    [
        (60_001, ["10000.5", "50000.5"], [10_001, 50_000]),
        (3, ["1.4", "1.3", "0.3"], [2, 1, 0]),
        (600_000, ["0", "600000", "0"], [0, 600_000, 0]),
        (2, ["0.6", "0.6", "0.6"], [1, 1, 0]),
        (0, [], []),
    ],
)
def test_split_whole(total, exact, parts):
    assert split_whole(total, [Decimal(x) for x in exact]) == parts


def test_quality_csv_and_xlsx(pengelola_client, lkmm, book):
    provision(lkmm, 150_000)

    response = pengelola_client.get(quality_url(lkmm, format="csv"))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="kolektibilitas-ppap-semenggu-2026-01-20.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[:5] == [
        ["Kode", "Kelas", "Jumlah pinjaman", "Sisa pokok", "Tarif cadangan (%)", "PPAP wajib"],
        ["L", "Lancar", "2", "2400000", "0", "0"],
        ["D", "Diragukan", "1", "1200000", "50", "600000"],
        ["M", "Macet", "0", "0", "100", "0"],
        ["Jumlah", "", "3", "3600000", "", "600000"],
    ]
    assert rows[6] == ["Ukuran", "Nilai", "Rumus"]
    measures = {row[0]: row[1:] for row in rows[7:]}
    assert measures["NPL (kredit bermasalah)"][0] == "1200000"
    assert measures["NPL (%)"] == [
        "33.33",
        "NPL = sisa pokok kelas bermasalah ÷ sisa pokok seluruhnya × 100%",
    ]
    assert measures["Cadangan dimiliki"][0] == "150000" and measures["Cakupan cadangan (%)"][0] == "25"

    response = pengelola_client.get(quality_url(lkmm, format="xlsx"))
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="kolektibilitas-ppap-semenggu-2026-01-20.xlsx"'
    )
    rows = [
        list(r)
        for r in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    ]
    assert rows[3][0] == f"Kebijakan kualitas: {lkmm.quality_policy.name}"
    assert rows[5] == ["Kode", "Kelas", "Jumlah pinjaman", "Sisa pokok", "Tarif cadangan (%)", "PPAP wajib"]
    assert rows[7] == ["D", "Diragukan", 1, 1_200_000, 50, 600_000]
    assert rows[9] == ["Jumlah", None, 3, 3_600_000, None, 600_000]
    measures = {row[0]: row[1] for row in rows[12:]}
    assert measures["NPL (%)"] == pytest.approx(33.33) and measures["PPAP wajib"] == 600_000


# --- who may read ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reports:arrears", "reports:quality"])
def test_anonymous_is_sent_to_login(client, lkmm, name):
    url = reverse(name, args=[lkmm.code]) + "?format=xlsx"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={quote(url)}"


@pytest.mark.parametrize("name", ["reports:arrears", "reports:quality"])
def test_a_user_without_a_role_is_refused(client, lkmm, name):
    login(client, UserFactory())
    assert client.get(reverse(name, args=[lkmm.code])).status_code == 403


@pytest.mark.parametrize("name", ["reports:arrears", "reports:quality"])
@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx"])
def test_another_lkmms_report_is_404(pengelola_client, other_lkmm, name, fmt):
    response = pengelola_client.get(reverse(name, args=[other_lkmm.code]) + f"?format={fmt}")
    assert response.status_code == 404


def test_an_unknown_format_is_404(pengelola_client, lkmm):
    assert pengelola_client.get(arrears_url(lkmm, format="pdf")).status_code == 404


def test_dinas_reads_every_lkmms_reports(dinas_client, lkmm, other_lkmm, book):
    response = dinas_client.get(arrears_url(other_lkmm))
    assert [loan.member.full_name for loan in response.context["loans"]] == ["Orang Wonosari"]
    assert len(dinas_client.get(arrears_url(lkmm)).context["loans"]) == 2
    for target in (lkmm, other_lkmm):
        assert dinas_client.get(quality_url(target)).status_code == 200
        assert dinas_client.get(quality_url(target, format="xlsx")).status_code == 200


def test_own_report_short_urls(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("reports:my_arrears") + "?at=2026-01-20")
    assert response["Location"] == reverse("reports:arrears", args=[lkmm.code]) + "?at=2026-01-20"
    response = pengelola_client.get(reverse("reports:my_quality"))
    assert response["Location"] == reverse("reports:quality", args=[lkmm.code])


def test_dinas_short_url_goes_to_the_overview(dinas_client):
    assert dinas_client.get(reverse("reports:my_arrears"))["Location"] == reverse("reports:home")


# --- query counts ----------------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def _overdue_loans(lkmm, n):
    product = LoanProductFactory(lkmm=lkmm, late_fee=5_000)
    for i in range(n):
        weekly_loan(
            lkmm, name=f"Anggota {i}", product=product, disbursed_on=D(2025, 12, 1) + datetime.timedelta(i)
        )


@pytest.mark.parametrize("fmt", ["html", "csv", "xlsx"])
def test_query_counts_do_not_grow_with_the_loans(pengelola_client, lkmm, fmt):
    _overdue_loans(lkmm, 3)
    arrears_few = _queries(pengelola_client, arrears_url(lkmm, format=fmt))
    quality_few = _queries(pengelola_client, quality_url(lkmm, format=fmt))
    _overdue_loans(lkmm, 9)
    assert _queries(pengelola_client, arrears_url(lkmm, format=fmt)) == arrears_few
    assert _queries(pengelola_client, quality_url(lkmm, format=fmt)) == quality_few


def test_query_counts_are_pinned(pengelola_client, lkmm, django_assert_num_queries):
    _overdue_loans(lkmm, 12)
    # session, user, staff, the LKMM with its policy, the loans' figures (risk.figures, one statement),
    # the loans with members and groups, the classes for their names; the page adds the staff's LKMM
    # (base.html's brand).
    with django_assert_num_queries(8):
        pengelola_client.get(arrears_url(lkmm))
    # A download adds its audit row (savepoint, insert, release: audit.services.download_recorded).
    with django_assert_num_queries(10):
        pengelola_client.get(arrears_url(lkmm, format="xlsx"))
    # session, user, staff, the LKMM; portfolio: the aggregate, the reserve held; by_class: the rows per
    # class, their classes; the policy's classes; the page: the staff's LKMM.
    with django_assert_num_queries(10):
        pengelola_client.get(quality_url(lkmm))
    with django_assert_num_queries(12):
        pengelola_client.get(quality_url(lkmm, format="csv"))
