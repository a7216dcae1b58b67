"""The risk reserve: allocation, write-off against it (topping up a shortfall first) and recovery;
after each step the loan, the reserve, the ledger and NPL are checked."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from ledger.models import AccountCode, JournalEntry, JournalLine
from loans.models import Loan, LoanStatus
from risk.selectors import portfolio
from risk.services import loan_write_off, recovery_record, reserve_allocate, write_off_preview
from tests.factories import LoanProductFactory, MemberFactory, StaffFactory, ketua_of, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db


def balance(lkmm, code):
    t = JournalLine.objects.filter(account__lkmm=lkmm, account__code=code).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return (t["d"] or 0) - (t["c"] or 0)


@pytest.fixture
def book():
    """Two weekly Rp1.200.000 loans disbursed 01/01/2026: one paid on time, one never paid."""
    good = make_active_loan()
    bad = make_active_loan(member=MemberFactory(lkmm=good.lkmm), product=LoanProductFactory(lkmm=good.lkmm))
    from loans.services import repayment_record

    for week in range(10):
        repayment_record(
            loan=good, amount=124_154, paid_on=D(2026, 1, 8) + datetime.timedelta(weeks=week), actor=None
        )
    return good.lkmm, good, bad


def test_allocation_tops_the_reserve_up_to_the_required_amount(book):
    lkmm, _good, bad = book
    at = D(2026, 4, 30)  # bad loan: 112 days past due, lkm-2015 weekly Macet (100%)
    before = portfolio(lkmms=[lkmm], at=at)
    assert (before["required"], before["held"], before["npl_ratio"]) == (1_200_000, 0, 100)
    with pytest.raises(PermissionDenied):
        reserve_allocate(lkmm=lkmm, actor=StaffFactory(lkmm=lkmm).user, on=at)
    reserve_allocate(lkmm=lkmm, actor=ketua_of(lkmm), on=at)
    after = portfolio(lkmms=[lkmm], at=at)
    assert (after["held"], after["coverage"]) == (1_200_000, 100)
    assert balance(lkmm, AccountCode.BEBAN_PENYISIHAN) == 1_200_000
    with pytest.raises(ValidationError, match="sudah menutup"):
        reserve_allocate(lkmm=lkmm, actor=ketua_of(lkmm), on=at)


def test_write_off_with_a_short_reserve_tops_it_up_first_then_recovers(book):
    lkmm, good, bad = book
    ketua = ketua_of(lkmm)
    reserve_allocate(lkmm=lkmm, actor=ketua, on=D(2026, 3, 31), amount=500_000)
    on = D(2026, 5, 1)
    assert write_off_preview(loan=bad, on=on) == {
        "outstanding": 1_200_000,
        "held": 500_000,
        "shortfall": 700_000,
    }
    with pytest.raises(ValidationError):
        loan_write_off(loan=bad, actor=ketua, on=on, reason=" ")
    loan_write_off(loan=bad, actor=ketua, on=on, reason="Pindah tanpa alamat; tidak tertagih")
    bad.refresh_from_db()
    assert (bad.status, bad.written_off_on, bad.written_off_principal) == (
        LoanStatus.DIHAPUSBUKUKAN,
        on,
        1_200_000,
    )
    # The reserve took the loss: topped up by 700.000 (provision expense), then used.
    assert balance(lkmm, AccountCode.CADANGAN) == 0
    assert balance(lkmm, AccountCode.BEBAN_PENYISIHAN) == 1_200_000
    assert balance(lkmm, AccountCode.PIUTANG) == 0  # the good loan is paid off too
    assert list(JournalEntry.objects.filter(loan=bad, kind="write_off").values_list("date", flat=True)) == [
        on
    ]
    # Before the write-off date the loan is in the portfolio (NPL 100%); from it on the portfolio is empty.
    assert portfolio(lkmms=[lkmm], at=D(2026, 4, 30))["npl"] == 1_200_000
    after = portfolio(lkmms=[lkmm], at=on)
    assert (after["outstanding"], after["npl"], after["npl_ratio"]) == (0, 0, None)
    assert Loan.objects.with_standing(on).get(pk=bad.pk).outstanding == 0
    # A recovery comes back into the reserve, never more than what was written off.
    with pytest.raises(ValidationError):
        recovery_record(loan=bad, actor=ketua, amount=1_200_001, received_on=D(2026, 6, 1))
    recovery_record(loan=bad, actor=ketua, amount=300_000, received_on=D(2026, 6, 1), note="Dibayar keluarga")
    assert balance(lkmm, AccountCode.CADANGAN) == -300_000  # a credit balance: reserve held 300.000
    assert portfolio(lkmms=[lkmm], at=D(2026, 6, 1))["held"] == 300_000
    assert balance(lkmm, AccountCode.KAS) == -2_400_000 + 1_241_540 + 300_000
    with pytest.raises(ValidationError):
        recovery_record(loan=good, actor=ketua, amount=1, received_on=D(2026, 6, 1))


def test_only_active_loans_are_written_off(book):
    lkmm, good, _bad = book
    with pytest.raises(ValidationError, match="aktif"):
        loan_write_off(loan=good, actor=ketua_of(lkmm), on=D(2026, 5, 1), reason="x")
