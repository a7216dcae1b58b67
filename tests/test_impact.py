"""Impact (dampak, issue 11 item 5) on a hand-made case whose figures are worked out by hand below."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.db import connection
from django.db.models import F, Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from institutions.models import Lkmm
from loans.models import Loan, LoanStatus
from loans.services import repayment_record
from members.models import IncomeRecord, Member
from reports.impact import impact
from tests.factories import LkmmFactory, MemberFactory, StaffFactory, login, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db


def _member(lkmm, *, gender, dtsen=False, income=None, follow_ups=(), status="aktif"):
    member = MemberFactory(
        lkmm=lkmm, gender=gender, dtsen_listed=dtsen, net_income_at_admission=income, status="aktif"
    )
    for on, amount in follow_ups:
        IncomeRecord.objects.create(member=member, recorded_on=on, turnover=amount * 3, net_income=amount)
    member.wanted_status = status
    return member


def _loan(member, principal, on, *, paid_off=False):
    loan = make_active_loan(member=member, principal=principal, disbursed_on=on)
    if paid_off:
        due = loan.installments.aggregate(s=Sum(F("principal") + F("interest")))["s"]
        repayment_record(loan=loan, amount=due, paid_on=on + datetime.timedelta(days=7), actor=None)
        loan.refresh_from_db()
        assert loan.status == LoanStatus.LUNAS
    return loan


@pytest.fixture
def case(lkmm, other_lkmm):
    """Semenggu: four active members (three women, two in DTSEN), one who left, one applicant; six new
    loans. Wonosari: one woman with one loan, which only the city counts."""
    m1 = _member(
        lkmm,
        gender="P",
        dtsen=True,
        income=400_000,
        follow_ups=[(D(2025, 1, 6), 600_000), (D(2026, 1, 5), 900_000)],
    )
    m2 = _member(lkmm, gender="L", income=1_500_000, follow_ups=[(D(2025, 7, 1), 1_200_000)])
    m3 = _member(lkmm, gender="P", dtsen=True, income=2_500_000, follow_ups=[(D(2026, 3, 2), 3_500_000)])
    _member(lkmm, gender="P", income=800_000)  # no follow-up yet: not in the income figures
    m5 = _member(lkmm, gender="L", income=6_000_000, follow_ups=[(D(2025, 9, 1), 7_000_000)])
    MemberFactory(lkmm=lkmm, gender="P", dtsen_listed=True, status="pendaftar", net_income_at_admission=1)
    _loan(m1, 500_000, D(2024, 3, 1), paid_off=True)
    _loan(m1, 1_000_000, D(2025, 2, 3), paid_off=True)
    _loan(m1, 1_500_000, D(2026, 1, 5), paid_off=True)
    _loan(m2, 2_000_000, D(2025, 6, 2))
    _loan(m3, 800_000, D(2026, 2, 2), paid_off=True)
    _loan(m5, 1_200_000, D(2024, 5, 6))
    Member.objects.filter(pk=m5.pk).update(status="keluar")  # left after borrowing
    _loan(MemberFactory(lkmm=other_lkmm, gender="P"), 3_000_000, D(2026, 1, 5))
    return lkmm


def test_the_hand_made_case(case):
    figures = impact(lkmms=Lkmm.objects.filter(pk=case.pk))
    assert figures["members"] == {"admitted": 5, "active": 4, "dtsen": 2, "women": 3}
    assert (str(figures["dtsen_share"]), str(figures["women_share"])) == ("50.00", "75.00")
    income = figures["income"]
    # Admission 400.000, 1.500.000, 2.500.000, 6.000.000; latest 900.000, 1.200.000, 3.500.000, 7.000.000.
    assert (income["members"], income["median_admission"], income["median_latest"]) == (
        4,
        2_000_000,
        2_350_000,
    )
    assert (income["rose"], str(income["rose_share"])) == (3, "75.00")
    assert [b["admission"] for b in income["bands"]] == [1, 0, 1, 1, 0, 1]
    assert [b["latest"] for b in income["bands"]] == [0, 1, 1, 0, 1, 1]
    loans = figures["loans"]
    # 500.000, 800.000, 1.000.000, 1.200.000, 1.500.000, 2.000.000: sum 7.000.000.
    assert (loans["n"], loans["amount"], loans["average"], loans["median"]) == (
        6,
        7_000_000,
        1_166_667,
        1_100_000,
    )
    assert (loans["women_n"], str(loans["women_share"])) == (4, "66.67")
    assert (loans["women_amount"], str(loans["women_amount_share"])) == (3_800_000, "54.29")
    assert [
        (r["year"], r["loans"], r["borrowers"], r["amount"], r["members"]) for r in figures["by_year"]
    ] == [
        (2024, 2, 2, 1_700_000, 5),
        (2025, 2, 2, 3_000_000, 5),
        (2026, 2, 2, 2_300_000, 5),
    ]
    assert [str(r["per_member"]) for r in figures["by_year"]] == ["0.40", "0.40", "0.40"]
    assert (figures["paid_off_3"], str(figures["paid_off_3_share"])) == (1, "20.00")


def test_the_city_counts_every_lkmm_and_an_odd_median_is_the_middle_value(case, other_lkmm):
    figures = impact(lkmms=Lkmm.objects.all())
    assert figures["loans"]["n"] == 7 and figures["loans"]["median"] == 1_200_000
    assert figures["members"]["active"] == 5 and str(figures["women_share"]) == "80.00"


def test_an_empty_lkmm_has_no_figures_to_divide(lkmm):
    figures = impact(lkmms=Lkmm.objects.filter(pk=lkmm.pk))
    assert figures["dtsen_share"] is None and figures["loans"]["median"] is None
    assert figures["income"]["median_admission"] is None and figures["by_year"] == []


def test_the_page_prints_each_figure_with_its_definition(client, case, dinas):
    login(client, dinas)
    response = client.get(reverse("oversight:impact_lkmm", args=[case.code]))
    page = response.content.decode()
    assert response.status_code == 200 and "style=" not in page
    for measure in response.context["measures"]:
        assert escape(measure["definition"]) in page
    assert "Rp 2.000.000" in page and "Rp 1.100.000" in page
    assert client.get(reverse("oversight:impact")).status_code == 200


def test_downloads_hold_the_figures(client, case, dinas):
    login(client, dinas)
    url = reverse("oversight:impact_lkmm", args=[case.code])
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(url, {"format": "xlsx"}).content)).active
    values = {row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value}
    assert values["Median besar pinjaman"] == 1_100_000
    assert values["Median pendapatan bersih per bulan saat masuk"] == 2_000_000
    assert values["Anggota yang melunasi 3 pinjaman atau lebih"] == 1
    lines = list(csv.reader(io.StringIO(client.get(url, {"format": "csv"}).content.decode("utf-8-sig"))))
    average = next(line for line in lines if line and line[0] == "Rata-rata besar pinjaman")
    assert average[1] == "1166667"
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_lkmm_staff_read_their_own_lkmms_impact(client, case, other_lkmm):
    login(client, StaffFactory(lkmm=case))
    assert client.get(reverse("oversight:impact"))["Location"] == reverse(
        "oversight:impact_lkmm", args=[case.code]
    )
    assert client.get(reverse("oversight:impact_lkmm", args=[case.code])).status_code == 200
    assert client.get(reverse("oversight:impact_lkmm", args=[other_lkmm.code])).status_code == 404


def test_the_query_count_does_not_grow_with_lkmms(client, dinas):
    login(client, dinas)
    counts = []
    for count in (2, 4):
        for _ in range(count):
            lkmm = LkmmFactory()
            member = _member(lkmm, gender="P", income=500_000, follow_ups=[(D(2026, 1, 5), 700_000)])
            _loan(member, 1_000_000, D(2026, 1, 5))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("oversight:impact")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert Loan.objects.count() == 6
