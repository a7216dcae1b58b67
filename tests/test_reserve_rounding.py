"""The required reserve (PPAP) and the KSP weighted sum are rounded loan by loan (DOMAIN.md "Required
reserve (PPAP)"), in the database, identically on SQLite and PostgreSQL; every printed or stored total
is the sum of the rows under it.

The book: a policy with L (weekly DPD <= 28, reserve 1,15%, KSP weight 0,05%) and M (reserve 2,5%, KSP
weight 100%). At 05/01/2026 (and still at 31/01/2026), nothing paid:
- three current loans of 1.001.000, 1.003.000 and 1.005.000 (class L): reserves 11.511,5, 11.534,5 and
  11.557,5, each rounded to 11.512 + 11.535 + 11.558 = 34.605 (rounding their sum gives 34.604);
  KSP 500,5 + 501,5 + 502,5 -> 501 + 502 + 503 = 1.506;
- one loan of 1.000.020 past due since 08/11/2025 (class M): reserve 25.000,5 -> 25.001, KSP 1.000.020.
Required 34.605 + 25.001 = 59.606 (rounding the exact sum 59.604 once would give 59.604); KSP problem
1.506 + 1.000.020 = 1.001.526 (once: 1.001.525).
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import DecimalField, Value
from django.urls import reverse

from institutions.models import Lkmm
from ledger.models import PeriodClose
from loans.schedule import round_half_up
from risk.models import ClosedLoanFigure, QualityClass, QualityPolicy
from risk.selectors import by_class, loans_at, portfolio, portfolio_by_lkmm, rupiah_of_percent
from risk.services import month_close
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, login, make_active_loan

pytestmark = pytest.mark.django_db
D = datetime.date
AT = D(2026, 1, 5)
CURRENT = [1_001_000, 1_003_000, 1_005_000]
LATE = 1_000_020


@pytest.fixture
def book(lkmm):
    policy = QualityPolicy.objects.create(code="uji-setengah", name="Uji setengah rupiah")
    QualityClass.objects.create(
        policy=policy,
        position=1,
        code="L",
        name="Lancar",
        max_dpd_daily=4,
        max_dpd_weekly=28,
        max_dpd_monthly=90,
        reserve_rate=Decimal("1.15"),
        ksp_weight=Decimal("0.05"),
    )
    QualityClass.objects.create(
        policy=policy,
        position=2,
        code="M",
        name="Macet",
        reserve_rate=Decimal("2.50"),
        non_performing=True,
        ksp_weight=Decimal("100"),
    )
    lkmm.quality_policy = policy
    lkmm.save()
    product = LoanProductFactory(lkmm=lkmm)
    loans = [
        make_active_loan(member=MemberFactory(lkmm=lkmm), product=product, principal=principal)
        for principal in CURRENT
    ]
    late = make_active_loan(
        member=MemberFactory(lkmm=lkmm), product=product, principal=LATE, disbursed_on=D(2025, 11, 1)
    )
    return lkmm, [*loans, late]


def test_each_loan_carries_its_own_rounded_reserve(book):
    lkmm, _loans = book
    rows = {
        loan.outstanding: (loan.reserve_rate, loan.required_reserve) for loan in loans_at(AT, lkmms=[lkmm])
    }
    assert rows == {
        1_001_000: (Decimal("1.15"), 11_512),
        1_003_000: (Decimal("1.15"), 11_535),
        1_005_000: (Decimal("1.15"), 11_558),
        1_000_020: (Decimal("2.50"), 25_001),
    }


def test_portfolio_sums_per_loan_reserves(book):
    lkmm, _loans = book
    figures = portfolio(lkmms=[lkmm], at=AT)
    assert (figures["required"], figures["ksp_problem"]) == (59_606, 1_001_526)
    assert type(figures["required"]) is int and type(figures["outstanding"]) is int
    assert portfolio_by_lkmm(lkmms=[lkmm], at=AT)[lkmm.pk]["required"] == 59_606


def test_by_class_rows_add_up_to_the_portfolio(book):
    lkmm, _loans = book
    rows = {
        row["quality_class"].code: (row["loans"], row["required"]) for row in by_class(lkmms=[lkmm], at=AT)
    }
    assert rows == {"L": (3, 34_605), "M": (1, 25_001)}
    assert sum(required for _n, required in rows.values()) == portfolio(lkmms=[lkmm], at=AT)["required"]


def test_month_close_stores_per_loan_reserves_that_add_up_to_its_summary(book):
    lkmm, loans = book
    close = month_close(lkmm=lkmm, actor=ketua_of(lkmm), month=D(2026, 1, 1))
    stored = dict(
        ClosedLoanFigure.objects.filter(period_close=close).values_list("loan_id", "required_reserve")
    )
    assert stored == {loans[0].pk: 11_512, loans[1].pk: 11_535, loans[2].pk: 11_558, loans[3].pk: 25_001}
    assert close.summary["required"] == sum(stored.values()) == 59_606
    assert close.summary["ksp_problem"] == 1_001_526


def test_quality_report_and_export_totals_are_the_sums_of_their_rows(client, book):
    lkmm, _loans = book
    ketua = ketua_of(lkmm)
    login(client, ketua)
    url = reverse("reports:quality", args=[lkmm.code])

    response = client.get(f"{url}?at={AT:%Y-%m-%d}")
    rows = [(r["quality_class"].code, r["required"]) for r in response.context["rows"]]
    assert rows == [("L", 34_605), ("M", 25_001)]
    assert response.context["figures"]["required"] == 59_606
    html = response.content.decode()
    assert "Rp 34.605" in html and "Rp 25.001" in html and "Rp 59.606" in html

    response = client.get(f"{url}?at={AT:%Y-%m-%d}&format=csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[1:4] == [
        ["L", "Lancar", "3", "3009000", "1.15", "34605"],
        ["M", "Macet", "1", "1000020", "2.50", "25001"],
        ["Jumlah", "", "4", "4009020", "", "59606"],
    ]

    # A closed month prints the per-loan reserves stored at the close.
    close = month_close(lkmm=lkmm, actor=ketua, month=D(2026, 1, 1))
    response = client.get(f"{url}?at=2026-01-31&format=csv")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[-1] for row in table[1:4]] == ["34605", "25001", "59606"]

    # A month closed before per-loan rounding stored the once-rounded total: its rows share that out.
    PeriodClose.objects.filter(pk=close.pk).update(summary={**close.summary, "required": 59_604})
    response = client.get(f"{url}?at=2026-01-31")
    assert [r["required"] for r in response.context["rows"]] == [34_604, 25_000]
    assert response.context["figures"]["required"] == 59_604


@pytest.mark.parametrize(
    "rate", ["0", "0.01", "0.29", "0.57", "1", "1.15", "2.5", "4.35", "50", "99.99", "100"]
)
def test_database_rounding_equals_exact_half_up(lkmm, rate):
    """The integer SQL of rupiah_of_percent against exact arithmetic, on whichever database runs the
    tests (CI runs them on PostgreSQL too). 0,29 x 100 and 0,57 x 100 are not whole in binary floats."""
    outstandings = [0, 1, 50, 199, 1_000_050, 1_001_000, 12_345_678, 49_999_999, 9_000_000_000_000]
    percent = Decimal(rate)
    for outstanding in outstandings:
        row = (
            Lkmm.objects.filter(pk=lkmm.pk)
            .annotate(
                outstanding=Value(outstanding),
                rate=Value(percent, output_field=DecimalField(max_digits=5, decimal_places=2)),
            )
            .annotate(reserve=rupiah_of_percent("rate"))
            .values_list("reserve", flat=True)
            .get()
        )
        assert int(row) == round_half_up(Decimal(outstanding) * percent / 100), (outstanding, rate)
