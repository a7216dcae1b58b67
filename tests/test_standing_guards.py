"""Events that would leave the kept standing, the books or the stored figures wrong are refused or
followed (found by a review of the kept standing)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from ledger.checks import receivables_match_schedules
from ledger.models import JournalEntry, MonthFigures
from loans.models import Loan, LoanStatus
from loans.services import (
    late_fees_waive,
    loan_position,
    loan_restructure,
    repayment_record,
    repayment_reverse,
)
from risk import selectors
from risk.services import loan_write_off
from tests.factories import (
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    ketua_of,
    login,
    make_active_loan,
)

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def reversed_payment():
    """Paid on 08/01, reversed on 20/01: the loan holds events up to 20/01."""
    loan = make_active_loan()  # 1.200.000 weekly from 01/01/2026
    payment = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    repayment_reverse(repayment=payment, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), reason="salah")
    return Loan.objects.get(pk=loan.pk)


def test_a_write_off_cannot_be_dated_before_the_loans_last_event(reversed_payment):
    loan = reversed_payment
    with pytest.raises(ValidationError, match="20/01/2026"):
        loan_write_off(loan=loan, actor=ketua_of(loan.lkmm), on=D(2026, 1, 10), reason="macet")
    loan_write_off(loan=loan, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), reason="macet")
    loan.refresh_from_db()
    assert (loan.status, loan.written_off_principal, loan.principal_outstanding_derived) == (
        LoanStatus.DIHAPUSBUKUKAN,
        1_200_000,
        0,
    )


def test_a_restructure_cannot_be_dated_before_the_loans_last_event(reversed_payment):
    loan = reversed_payment
    with pytest.raises(ValidationError, match="20/01/2026"):
        loan_restructure(
            loan=loan, actor=ketua_of(loan.lkmm), on=D(2026, 1, 10), product=loan.product, reason="x"
        )
    new = loan_restructure(
        loan=loan, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), product=loan.product, reason="x"
    )
    loan.refresh_from_db()
    assert (new.principal, loan.principal_outstanding_derived) == (1_200_000, 0)


def test_a_back_dated_late_fee_waiver_brings_the_books_to_the_re_allocation():
    product = LoanProductFactory(late_fee=2_500, frequency="daily", installment_count=8)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    repayment_record(loan=loan, amount=593, paid_on=D(2026, 1, 5), actor=None)  # all to installment 1's fee
    late_fees_waive(
        loan=Loan.objects.get(pk=loan.pk), actor=ketua_of(loan.lkmm), on=D(2026, 1, 3), reason="x"
    )
    assert list(receivables_match_schedules([loan.lkmm])) == []
    entry = JournalEntry.objects.filter(loan=loan, kind="reallocation").get()
    assert entry.date == D(2026, 1, 3)


def test_an_early_payoff_cannot_be_reversed_so_its_waived_interest_is_not_lost():
    product = LoanProductFactory(waive_interest_on_payoff=True)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    settle = loan_position(loan=loan, at=D(2026, 1, 5))["early_payoff"]
    payment = repayment_record(loan=loan, amount=settle, paid_on=D(2026, 1, 5), actor=None)
    with pytest.raises(ValidationError, match="belum dapat dibatalkan"):
        repayment_reverse(repayment=payment, actor=ketua_of(loan.lkmm), on=D(2026, 1, 6), reason="salah")
    payment.refresh_from_db()
    assert payment.reversed_on is None


def test_stored_month_figures_are_computed_under_the_lkmms_lock_and_dropped_by_a_later_event():
    loan = make_active_loan()
    january = D(2026, 1, 1)
    selectors.month_figures(lkmms=[loan.lkmm], month=january)
    repayment_record(loan=Loan.objects.get(pk=loan.pk), amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    assert not MonthFigures.objects.filter(lkmm=loan.lkmm, month=january).exists()
    again = selectors.month_figures(lkmms=[loan.lkmm], month=january)[loan.lkmm_id]
    assert again["outstanding"] == selectors.portfolio(lkmms=[loan.lkmm], at=D(2026, 1, 31))["outstanding"]


@pytest.mark.parametrize("at", ["9999-12-31", "0001-01-01", "2100-01-01"])
def test_a_report_date_out_of_range_is_explained_not_a_500(client, at):
    loan = make_active_loan()
    staff = StaffFactory(lkmm=loan.lkmm)
    login(client, staff)
    for name in ("reports:quality", "reports:arrears"):
        response = client.get(reverse(name, args=[loan.lkmm.code]), {"at": at})
        assert response.status_code == 200
        assert "Tanggal terlalu jauh di masa" in response.context["form"].errors["at"][0]
