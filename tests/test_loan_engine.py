"""The loan engine with worked numbers: approval, fees, late fees, early payoff, reversal with
re-allocation, tanggung renteng; after each step the loan, the schedule and the ledger are checked.

The weekly loan used throughout: Rp1.200.000 at 1,5% flat, 10 installments of Rp124.154 (Rp120.000 +
Rp4.154), disbursed 01/01/2026, due 08/01, 15/01, ..., 12/03/2026.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum

from institutions.models import Role
from ledger.models import AccountCode, JournalEntry, JournalLine
from loans.models import Allocation, Loan, LoanStatus, Waiver
from loans.services import (
    late_fees_waive,
    loan_approve,
    loan_cancel,
    loan_position,
    loan_reject,
    repayment_record,
    repayment_reverse,
)
from members.models import GroupMembership
from members.services import group_create
from tests.factories import (
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    ketua_of,
    login,
    make_active_loan,
    make_loan,
)

D = datetime.date
pytestmark = pytest.mark.django_db


def pay(loan, amount, on, **kwargs):
    return repayment_record(loan=loan, amount=amount, paid_on=on, actor=None, **kwargs)


def standing(loan, at):
    return Loan.objects.with_standing(at).get(pk=loan.pk)


def books(loan, code):
    """Debit minus credit of an account over the loan's own entries."""
    t = JournalLine.objects.filter(entry__loan=loan, account__code=code).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return (t["d"] or 0) - (t["c"] or 0)


def assert_books_match(loan):
    for entry in JournalEntry.objects.filter(lkmm=loan.lkmm).prefetch_related("lines"):
        assert sum(x.debit for x in entry.lines.all()) == sum(x.credit for x in entry.lines.all())
    assert books(loan, AccountCode.PIUTANG) == standing(loan, D(2999, 1, 1)).outstanding


def product_with(**terms):
    return LoanProductFactory(**terms)


# --- lifecycle -------------------------------------------------------------------------------------


def test_only_a_ketua_approves_and_with_four_eyes_not_the_recorder():
    loan = make_loan()
    pengelola = StaffFactory(lkmm=loan.lkmm).user
    with pytest.raises(PermissionDenied):
        loan_approve(loan=loan, actor=pengelola)
    ketua = ketua_of(loan.lkmm)
    loan.lkmm.four_eyes = True
    loan.lkmm.save()
    Loan.objects.filter(pk=loan.pk).update(created_by=ketua)
    with pytest.raises(ValidationError, match="empat mata"):
        loan_approve(loan=loan, actor=ketua)
    second = StaffFactory(lkmm=loan.lkmm, role=Role.KETUA).user
    loan_approve(loan=loan, actor=second)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.DISETUJUI
    assert loan.status_changes.get().by == second


def test_rejection_and_cancellation_need_reasons():
    loan = make_loan()
    ketua = ketua_of(loan.lkmm)
    with pytest.raises(ValidationError):
        loan_reject(loan=loan, actor=ketua, reason=" ")
    loan_reject(loan=loan, actor=ketua, reason="Usaha belum jalan")
    loan.refresh_from_db()
    assert (loan.status, loan.status_changes.get().reason) == (LoanStatus.DITOLAK, "Usaha belum jalan")
    approved = make_loan(member=loan.member, product=loan.product)
    loan_approve(loan=approved, actor=ketua)
    loan_cancel(loan=approved, actor=ketua, reason="Anggota mundur")
    approved.refresh_from_db()
    assert approved.status == LoanStatus.DIBATALKAN


def test_a_group_product_refuses_members_without_a_group():
    product = product_with(requires_group=True)
    loner = MemberFactory(lkmm=product.lkmm)
    with pytest.raises(ValidationError) as excinfo:
        make_loan(member=loner, product=product)
    assert "kelompok" in excinfo.value.message_dict["product"][0]


# --- fees ------------------------------------------------------------------------------------------


def test_deducted_admin_fee_reduces_the_cash_paid_out():
    product = product_with(admin_fee_percent=Decimal("2"), admin_fee_mode="deducted")
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    assert loan.admin_fee == 24_000
    assert books(loan, AccountCode.PIUTANG) == 1_200_000
    assert books(loan, AccountCode.KAS) == -1_176_000
    assert books(loan, AccountCode.PENDAPATAN_ADMINISTRASI) == -24_000


def test_cash_admin_fee_is_its_own_entry():
    product = product_with(admin_fee_percent=Decimal("1.5"), admin_fee_mode="cash")
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    assert loan.admin_fee == 18_000
    assert books(loan, AccountCode.KAS) == -1_200_000 + 18_000
    assert list(JournalEntry.objects.filter(loan=loan).values_list("kind", flat=True)) == [
        "disbursement",
        "fee",
    ]


@pytest.mark.parametrize(
    ("at", "fees_owed"),
    [(D(2026, 1, 8), 0), (D(2026, 1, 9), 5_000), (D(2026, 1, 15), 5_000), (D(2026, 1, 16), 10_000)],
)
def test_late_fees_owed_follow_the_dates_alone(at, fees_owed):
    product = product_with(late_fee=5_000)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    assert standing(loan, at).late_fees_owed == fees_owed
    assert standing(loan, at).late_fees_owed == fees_owed  # reading twice changes nothing


def test_a_late_payment_pays_its_late_fee_first():
    product = product_with(late_fee=5_000)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    payment = pay(loan, 124_154, D(2026, 1, 10))
    assert list(payment.allocations.values_list("installment__seq", "late_fee", "interest", "principal")) == [
        (1, 5_000, 4_154, 115_000)
    ]
    assert books(loan, AccountCode.PENDAPATAN_DENDA) == -5_000
    loan_at = standing(loan, D(2026, 1, 10))
    assert (loan_at.overdue_fees, loan_at.days_past_due, loan_at.outstanding) == (0, 2, 1_085_000)
    assert_books_match(loan)


def test_paid_on_the_due_date_owes_no_late_fee():
    product = product_with(late_fee=5_000)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    pay(loan, 124_154, D(2026, 1, 8))
    assert standing(loan, D(2026, 1, 14)).late_fees_owed == 0


def test_a_ketua_waives_late_fees_with_a_reason():
    product = product_with(late_fee=5_000)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    with pytest.raises(PermissionDenied):
        late_fees_waive(loan=loan, actor=StaffFactory(lkmm=loan.lkmm).user, on=D(2026, 1, 20), reason="sakit")
    assert late_fees_waive(loan=loan, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), reason="sakit") == 10_000
    assert standing(loan, D(2026, 1, 19)).late_fees_owed == 10_000  # before the waiver
    assert standing(loan, D(2026, 1, 20)).overdue_fees == 0
    assert Waiver.objects.filter(loan=loan).aggregate(s=Sum("late_fee"))["s"] == 10_000


# --- payoff ----------------------------------------------------------------------------------------


def test_early_payoff_waives_the_interest_not_yet_due_when_the_product_says_so():
    product = product_with(waive_interest_on_payoff=True)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    pay(loan, 124_154, D(2026, 1, 8))
    position = loan_position(loan=loan, at=D(2026, 1, 10))
    # 9 installments left: principal 1.080.000; none is due yet, so all 9 interests are waived.
    assert (position["payoff"], position["early_payoff"]) == (1_117_386, 1_080_000)
    with pytest.raises(ValidationError) as excinfo:
        pay(loan, 1_080_001, D(2026, 1, 10))
    assert "Rp1.080.000" in excinfo.value.message_dict["amount"][0]
    pay(loan, 1_080_000, D(2026, 1, 10))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.LUNAS
    assert Waiver.objects.filter(loan=loan).aggregate(s=Sum("interest"))["s"] == 9 * 4_154
    assert books(loan, AccountCode.PENDAPATAN_BUNGA) == -4_154
    assert_books_match(loan)


# --- reversal --------------------------------------------------------------------------------------


def test_reversal_reallocates_later_payments_from_its_date_only():
    loan = make_active_loan()
    first = pay(loan, 124_154, D(2026, 1, 8))
    second = pay(loan, 124_154, D(2026, 1, 15))
    ketua = ketua_of(loan.lkmm)
    repayment_reverse(repayment=first, actor=ketua, on=D(2026, 1, 20), reason="uang palsu")
    # Before the reversal date both payments count, as already reported.
    before = standing(loan, D(2026, 1, 19))
    assert (before.days_past_due, before.outstanding) == (0, 960_000)
    # From it on, the second payment pays installment 1 and installment 2 is overdue.
    after = standing(loan, D(2026, 1, 20))
    assert (after.days_past_due, after.outstanding, after.overdue_amount) == (5, 1_080_000, 124_154)
    assert list(
        Allocation.objects.counting_at(D(2026, 1, 20)).values_list("repayment", "installment__seq")
    ) == [(second.pk, 1)]
    # The books carry the payment and its reversal.
    kinds = list(JournalEntry.objects.filter(loan=loan).values_list("kind", flat=True))
    assert kinds == ["disbursement", "repayment", "repayment", "reversal"]
    assert books(loan, AccountCode.KAS) == -1_200_000 + 124_154
    assert books(loan, AccountCode.PENDAPATAN_BUNGA) == -4_154
    assert_books_match(loan)
    first.refresh_from_db()
    assert (first.reversed_on, first.reversed_by, first.reversal_reason) == (
        D(2026, 1, 20),
        ketua,
        "uang palsu",
    )


def test_reversal_rules():
    loan = make_active_loan()
    payment = pay(loan, 50_000, D(2026, 1, 8))
    ketua = ketua_of(loan.lkmm)
    with pytest.raises(PermissionDenied):
        repayment_reverse(
            repayment=payment, actor=StaffFactory(lkmm=loan.lkmm).user, on=D(2026, 1, 9), reason="x"
        )
    with pytest.raises(ValidationError):
        repayment_reverse(repayment=payment, actor=ketua, on=D(2026, 1, 9), reason="  ")
    with pytest.raises(ValidationError):
        repayment_reverse(repayment=payment, actor=ketua, on=D(2026, 1, 7), reason="x")
    repayment_reverse(repayment=payment, actor=ketua, on=D(2026, 1, 9), reason="x")
    with pytest.raises(ValidationError, match="sudah dibatalkan"):
        repayment_reverse(repayment=payment, actor=ketua, on=D(2026, 1, 10), reason="x")


def test_reversing_the_payoff_reopens_the_loan():
    loan = make_active_loan()
    payoff = pay(loan, 1_241_540, D(2026, 1, 5))
    loan.refresh_from_db()
    assert loan.status == LoanStatus.LUNAS
    repayment_reverse(repayment=payoff, actor=ketua_of(loan.lkmm), on=D(2026, 1, 6), reason="cek kosong")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.AKTIF
    assert standing(loan, D(2026, 1, 6)).outstanding == 1_200_000
    assert_books_match(loan)


# --- tanggung renteng ------------------------------------------------------------------------------


def test_a_group_member_pays_for_another():
    loan = make_active_loan()
    members = [loan.member, *[MemberFactory(lkmm=loan.lkmm) for _ in range(2)]]
    group_create(
        lkmm=loan.lkmm,
        actor=None,
        name="Mawar",
        meeting_day=0,
        meeting_place="Rumah",
        joint_liability=True,
        members=members,
        leader=members[0],
        on=D(2026, 1, 1),
    )
    outsider = MemberFactory(lkmm=loan.lkmm)
    with pytest.raises(ValidationError) as excinfo:
        pay(loan, 50_000, D(2026, 1, 8), paid_by=outsider)
    assert "kelompok" in excinfo.value.message_dict["paid_by"][0]
    payment = pay(loan, 50_000, D(2026, 1, 8), paid_by=members[1])
    assert payment.paid_by == members[1]
    assert GroupMembership.objects.filter(member=members[1], left_on__isnull=True).exists()


# --- restructure -----------------------------------------------------------------------------------


def test_restructure_moves_the_outstanding_principal_to_new_terms():
    from loans.services import loan_restructure

    product = product_with(late_fee=5_000)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    pay(loan, 124_154, D(2026, 1, 8))  # installment 1 on time
    # Installments 2 (15/01) and 3 (22/01) unpaid: at 25/01 two late fees and two interests are owed.
    monthly = product_with(
        lkmm=loan.lkmm, frequency="monthly", installment_count=6, rate_per_month=Decimal("1")
    )
    ketua = ketua_of(loan.lkmm)
    with pytest.raises(PermissionDenied):
        loan_restructure(
            loan=loan,
            actor=StaffFactory(lkmm=loan.lkmm).user,
            on=D(2026, 1, 25),
            product=monthly,
            reason="sakit",
        )
    new = loan_restructure(
        loan=loan, actor=ketua, on=D(2026, 1, 25), product=monthly, reason="usaha terbakar"
    )
    loan.refresh_from_db()
    assert (loan.status, loan.transferred_principal, loan.transferred_on) == (
        "direstrukturisasi",
        1_080_000,
        D(2026, 1, 25),
    )
    assert new.restructured_from == loan and new.is_restructured
    assert (new.principal, new.status, new.installments.count()) == (1_080_000, "aktif", 6)
    assert new.installments.get(seq=1).due_date == D(2026, 2, 25)
    waived = Waiver.objects.filter(loan=loan).aggregate(i=Sum("interest"), f=Sum("late_fee"))
    assert (waived["i"], waived["f"]) == (2 * 4_154, 10_000)
    # Before the restructure the old loan was 9 days late; from it on it owes nothing.
    assert standing(loan, D(2026, 1, 24)).days_past_due == 9
    after = standing(loan, D(2026, 1, 25))
    assert (after.outstanding, after.days_past_due, after.overdue_fees) == (0, 0, 0)
    assert standing(new, D(2026, 1, 25)).outstanding == 1_080_000
    # The receivable moved from one loan to the other; the clearing account nets to zero.
    assert books(loan, AccountCode.PIUTANG) == 0
    assert books(new, AccountCode.PIUTANG) == 1_080_000
    assert JournalLine.objects.filter(account__code="1208").aggregate(d=Sum("debit"))["d"] == 1_080_000
    assert_books_match(new)


def test_restructure_page_shows_what_moves_before_confirming(client):

    loan = make_active_loan()
    ketua = ketua_of(loan.lkmm)
    monthly = product_with(lkmm=loan.lkmm, frequency="monthly", installment_count=6)
    url = f"/pinjaman/{loan.pk}/restrukturisasi/"
    pengelola = StaffFactory(lkmm=loan.lkmm).user
    login(client, pengelola)
    assert client.get(url).status_code == 403
    login(client, ketua)
    assert client.get(url).status_code == 200
    data = {"on": "2026-01-20", "product": monthly.pk, "reason": "gagal panen"}
    checked = client.post(url, data)
    assert checked.status_code == 200
    assert "Rp 1.200.000" in checked.content.decode()  # principal that would move
    assert Loan.objects.filter(restructured_from=loan).count() == 0
    done = client.post(url, {**data, "confirm": "1"})
    new = Loan.objects.get(restructured_from=loan)
    assert done.status_code == 302 and done["Location"] == f"/pinjaman/{new.pk}/"
    page = client.get(f"/pinjaman/{loan.pk}/").content.decode()
    assert new.code in page and "Direstrukturisasi" in page


def test_an_lkmm_may_refuse_new_loans_to_members_in_arrears():
    late = make_active_loan(disbursed_on=datetime.date(2026, 1, 1))  # nothing paid: long overdue
    late.lkmm.refuse_if_in_arrears = True
    late.lkmm.save()
    with pytest.raises(ValidationError) as excinfo:
        make_loan(member=late.member, product=late.product)
    assert late.code in excinfo.value.message_dict["member"][0]
    late.lkmm.refuse_if_in_arrears = False
    late.lkmm.save()
    late.member.refresh_from_db()
    assert make_loan(member=late.member, product=late.product).status == "diajukan"
