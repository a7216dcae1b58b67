"""Money rules of the first loop with worked numbers: disbursement, allocation, payoff, days past due.

The loan used throughout: Rp1.200.000 at 1,5% flat per month, 10 weekly installments of Rp124.154
(Rp120.000 principal + Rp4.154 interest), disbursed 01/01/2026, due 08/01, 15/01, ... 12/03/2026.
"""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from institutions.models import AuditLog
from ledger.models import AccountCode, JournalEntry, JournalLine
from loans.models import Allocation, Loan, LoanStatus, Repayment
from loans.services import (
    loan_approve,
    loan_cancel,
    loan_disburse,
    loan_position,
    repayment_record,
    repayment_reverse,
)
from tests.factories import (
    LkmmFactory,
    MemberFactory,
    ketua_of,
    make_active_loan,
    make_approved_loan,
    make_loan,
)

D = datetime.date
pytestmark = pytest.mark.django_db


def pay(loan, amount, on, **kwargs):
    return repayment_record(loan=loan, amount=amount, paid_on=on, actor=None, **kwargs)


def standing(loan, at):
    return Loan.objects.with_standing(at).get(pk=loan.pk)


def account_balance(lkmm, code):
    totals = JournalLine.objects.filter(account__lkmm=lkmm, account__code=code).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return (totals["d"] or 0) - (totals["c"] or 0)


def test_disbursement_fixes_schedule_and_posts_receivable_against_cash():
    loan = make_active_loan()
    assert loan.status == LoanStatus.AKTIF
    rows = list(loan.installments.order_by("seq").values_list("due_date", "principal", "interest"))
    assert rows[0] == (D(2026, 1, 8), 120_000, 4_154)
    assert rows[-1] == (D(2026, 3, 12), 120_000, 4_154)
    assert len(rows) == 10
    assert account_balance(loan.lkmm, AccountCode.PIUTANG) == 1_200_000
    assert account_balance(loan.lkmm, AccountCode.KAS) == -1_200_000
    assert list(loan.status_changes.values_list("to_status", flat=True)) == ["disetujui", "aktif"]
    assert AuditLog.objects.filter(action="loan.aktif", object_id=loan.pk).count() == 1


def test_disbursing_twice_or_into_the_future_is_refused():
    loan = make_approved_loan(applied_on=D(2026, 1, 1))
    with pytest.raises(ValidationError, match="masa depan"):
        loan_disburse(loan=loan, disbursed_on=D(2999, 1, 1), actor=None)
    loan_disburse(loan=loan, disbursed_on=D(2026, 1, 2), actor=None)
    with pytest.raises(ValidationError):
        loan_disburse(loan=loan, disbursed_on=D(2026, 1, 3), actor=None)
    assert loan.installments.count() == 10
    assert JournalEntry.objects.filter(lkmm=loan.lkmm).count() == 1


def test_an_application_must_be_approved_before_disbursement():
    loan = make_loan(applied_on=D(2026, 1, 1))
    with pytest.raises(ValidationError, match="disetujui"):
        loan_disburse(loan=loan, disbursed_on=D(2026, 1, 2), actor=None)
    loan_approve(loan=loan, actor=ketua_of(loan.lkmm))
    loan_disburse(loan=loan, disbursed_on=D(2026, 1, 2), actor=None)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.AKTIF


def test_allocation_oldest_first_interest_before_principal():
    loan = make_active_loan()
    first = pay(loan, 100_000, D(2026, 1, 8))
    assert list(first.allocations.values_list("installment__seq", "interest", "principal")) == [
        (1, 4_154, 95_846)
    ]
    second = pay(loan, 200_000, D(2026, 1, 20))
    assert list(
        second.allocations.order_by("installment__seq").values_list(
            "installment__seq", "interest", "principal"
        )
    ) == [
        (1, 0, 24_154),
        (2, 4_154, 120_000),
        (3, 4_154, 47_538),
    ]
    # Books: cash received 300.000 = principal 287.538 + interest 12.462.
    assert account_balance(loan.lkmm, AccountCode.KAS) == -1_200_000 + 300_000
    assert account_balance(loan.lkmm, AccountCode.PIUTANG) == 1_200_000 - 287_538
    assert account_balance(loan.lkmm, AccountCode.PENDAPATAN_BUNGA) == -12_462
    assert standing(loan, D(2026, 1, 20)).outstanding == 1_200_000 - 287_538
    for entry in JournalEntry.objects.filter(lkmm=loan.lkmm).prefetch_related("lines"):
        assert sum(line.debit for line in entry.lines.all()) == sum(line.credit for line in entry.lines.all())


def test_payment_beyond_payoff_is_refused_with_the_payoff_amount():
    loan = make_active_loan()
    pay(loan, 124_154, D(2026, 1, 8))
    assert loan_position(loan=loan, at=D(2026, 1, 8))["payoff"] == 1_241_540 - 124_154
    with pytest.raises(ValidationError) as excinfo:
        pay(loan, 1_117_387, D(2026, 1, 9))
    assert "Rp1.117.386" in excinfo.value.message_dict["amount"][0]
    assert Repayment.objects.filter(loan=loan).count() == 1


def test_paying_the_payoff_amount_closes_the_loan():
    loan = make_active_loan()
    pay(loan, 1_241_540, D(2026, 1, 5))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.LUNAS
    assert standing(loan, D(2026, 1, 5)).outstanding == 0
    assert account_balance(loan.lkmm, AccountCode.PIUTANG) == 0
    assert account_balance(loan.lkmm, AccountCode.PENDAPATAN_BUNGA) == -41_540
    assert list(loan.status_changes.values_list("to_status", flat=True)) == ["disetujui", "aktif", "lunas"]
    with pytest.raises(ValidationError, match="pinjaman aktif"):
        pay(loan, 1, D(2026, 1, 6))


@pytest.mark.parametrize(
    ("at", "dpd", "overdue"),
    [
        (D(2026, 1, 7), 0, 0),
        (D(2026, 1, 8), 0, 0),  # due on D is not overdue on D
        (D(2026, 1, 9), 1, 124_154),
        (D(2026, 1, 15), 7, 124_154),
        (D(2026, 1, 16), 8, 248_308),
        (D(2026, 4, 1), 83, 1_241_540),
    ],
)
def test_days_past_due_without_payments(at, dpd, overdue):
    loan = standing(make_active_loan(), at)
    assert (loan.days_past_due, loan.overdue_amount, loan.outstanding) == (dpd, overdue, 1_200_000)


@pytest.mark.parametrize(
    ("at", "dpd", "outstanding"),
    [
        (D(2026, 1, 9), 1, 1_200_000),  # the payment of 10/01 is not counted yet
        (D(2026, 1, 10), 0, 1_080_000),
        (D(2026, 1, 15), 0, 1_080_000),
        (D(2026, 1, 16), 1, 1_080_000),
    ],
)
def test_days_past_due_values_payments_at_their_date(at, dpd, outstanding):
    loan = make_active_loan()
    pay(loan, 124_154, D(2026, 1, 10))
    loan = standing(loan, at)
    assert (loan.days_past_due, loan.outstanding) == (dpd, outstanding)


def test_partial_payment_leaves_the_installment_overdue():
    loan = make_active_loan()
    pay(loan, 124_153, D(2026, 1, 8))
    loan = standing(loan, D(2026, 1, 9))
    assert (loan.days_past_due, loan.overdue_amount) == (1, 1)


def test_a_reversed_payment_counts_before_its_reversal_date_and_not_from_it():
    loan = make_active_loan()
    payment = pay(loan, 124_154, D(2026, 1, 8))
    repayment_reverse(repayment=payment, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), reason="salah catat")
    assert standing(loan, D(2026, 1, 19)).days_past_due == 4  # installment 2, due 15/01
    assert standing(loan, D(2026, 1, 20)).days_past_due == 12  # installment 1 unpaid again
    assert Allocation.objects.counting_at(D(2026, 1, 19)).count() == 1
    assert Allocation.objects.counting_at(D(2026, 1, 20)).count() == 0


@pytest.mark.parametrize(
    ("paid_on", "field", "message"),
    [
        (D(2025, 12, 31), "paid_on", "sebelum pencairan"),
        (D(2999, 1, 1), "paid_on", "masa depan"),
    ],
)
def test_payment_dates_are_checked(paid_on, field, message):
    loan = make_active_loan()
    with pytest.raises(ValidationError) as excinfo:
        pay(loan, 10_000, paid_on)
    assert message in excinfo.value.message_dict[field][0]


def test_a_back_dated_payment_is_allocated_in_value_order():
    loan = make_active_loan()
    later = pay(loan, 10_000, D(2026, 1, 10))
    earlier = pay(loan, 124_154, D(2026, 1, 8))  # recorded after, valued before
    rows = Allocation.objects.counting_at(D(2026, 12, 31)).order_by("repayment__paid_on")
    assert [(a.repayment_id, a.installment.seq, a.interest, a.principal) for a in rows] == [
        (earlier.pk, 1, 4_154, 120_000),
        (later.pk, 2, 4_154, 5_846),
    ]
    assert standing(loan, D(2026, 1, 9)).days_past_due == 0
    assert account_balance(loan.lkmm, AccountCode.PIUTANG) == 1_200_000 - 125_846
    assert account_balance(loan.lkmm, AccountCode.PENDAPATAN_BUNGA) == -8_308


def test_resubmitted_form_records_one_payment():
    loan = make_active_loan()
    token = uuid.uuid4()
    first = pay(loan, 50_000, D(2026, 1, 8), token=token)
    again = pay(loan, 50_000, D(2026, 1, 8), token=token)
    assert first.pk == again.pk
    assert Repayment.objects.filter(loan=loan).count() == 1
    assert account_balance(loan.lkmm, AccountCode.KAS) == -1_200_000 + 50_000


def test_receipt_numbers_are_sequential_per_lkmm():
    lkmm, other = LkmmFactory(), LkmmFactory()
    a = make_active_loan(member=MemberFactory(lkmm=lkmm))
    b = make_active_loan(member=MemberFactory(lkmm=lkmm))
    c = make_active_loan(member=MemberFactory(lkmm=other))
    numbers = [
        pay(a, 1_000, D(2026, 1, 2)),
        pay(b, 1_000, D(2026, 1, 2)),
        pay(a, 1_000, D(2026, 1, 3)),
        pay(c, 1_000, D(2026, 1, 2)),
    ]
    assert [r.receipt_no for r in numbers] == [1, 2, 3, 1]
    assert numbers[0].receipt_code == "K-000001"


def test_loan_application_checks_amount_member_and_product():
    loan = make_loan(principal=1_000_000)
    product = loan.product
    with pytest.raises(ValidationError) as excinfo:
        make_loan(member=loan.member, product=product, principal=50_000)
    assert "Rp100.000" in excinfo.value.message_dict["principal"][0]
    stranger = MemberFactory()  # in another LKMM
    with pytest.raises(ValidationError) as excinfo:
        make_loan(member=stranger, product=product)
    assert "product" in excinfo.value.message_dict
    blocked = MemberFactory(lkmm=loan.lkmm, status="diblokir")
    with pytest.raises(ValidationError) as excinfo:
        make_loan(member=blocked, product=product)
    assert "member" in excinfo.value.message_dict
    assert Loan.objects.count() == 1


def test_cancel_needs_a_reason_and_only_applies_to_applications():
    loan = make_loan()
    with pytest.raises(ValidationError):
        loan_cancel(loan=loan, actor=None, reason="  ")
    loan_cancel(loan=loan, actor=None, reason="Anggota mundur")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DIBATALKAN
    assert loan.status_changes.get().reason == "Anggota mundur"
    active = make_active_loan()
    with pytest.raises(ValidationError, match="tidak dapat diubah"):
        loan_cancel(loan=active, actor=None, reason="salah")
    active.refresh_from_db()
    assert active.status == LoanStatus.AKTIF


def test_past_due_and_member_arrears_filter():
    late = make_active_loan()
    current = make_active_loan(member=MemberFactory(lkmm=late.lkmm), product=late.product)
    pay(current, 124_154, D(2026, 1, 8))
    at = D(2026, 1, 10)
    assert list(Loan.objects.past_due(at)) == [late]
    from members.models import Member

    assert list(Member.objects.in_arrears(at)) == [late.member]


def test_a_form_token_cannot_be_replayed_on_another_loan():
    first = make_active_loan()
    second = make_active_loan(member=MemberFactory(lkmm=first.lkmm), product=first.product)
    token = uuid.uuid4()
    pay(first, 10_000, D(2026, 1, 2), token=token)
    with pytest.raises(ValidationError, match="pinjaman lain"):
        pay(second, 10_000, D(2026, 1, 2), token=token)
    assert Repayment.objects.filter(loan=second).count() == 0


def test_an_application_dated_in_the_future_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        make_loan(applied_on=D(2999, 1, 1))
    assert "masa depan" in excinfo.value.message_dict["applied_on"][0]
