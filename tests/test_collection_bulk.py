"""The collection sheet saves its usual lines in bulk (loans.collection._record_in_bulk): the save costs
the same number of queries for 3 paid members as for 12, and leaves the database exactly as recording
each line on its own (loans.services.repayment_record, savings.services.savings_deposit) would.

The loan used throughout: Rp1.200.000 at 1,5% flat per month, 10 weekly installments of Rp124.154
disbursed 01/01/2026 with a Rp5.000 late fee (tests/test_collection.py); paid at the meeting of
22/01/2026, when installments 1 and 2 are late and 3 is due.
"""

import datetime
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import AuditLog
from ledger.models import Account, AccountCode, CashDay, JournalEntry
from loans import services as loan_services
from loans.collection import collection_record
from loans.models import Allocation, Installment, Loan, LoanStatusChange, Repayment
from loans.standing import INSTALLMENT_FIELDS, LOAN_FIELDS
from members.services import group_add_member, group_create
from savings import services as savings_services
from savings.models import SavingsAccount, SavingsMovement, SavingsProduct
from tests.factories import LoanProductFactory, MemberFactory, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db

INSTALLMENT = 124_154
WAJIB = 7_500
SUKARELA = 10_000
PAID_ON = D(2026, 1, 22)


@pytest.fixture
def product(lkmm):
    products = savings_services.products_ensure(lkmm=lkmm)
    SavingsProduct.objects.filter(pk=products["wajib"].pk).update(amount=WAJIB)
    SavingsProduct.objects.filter(pk=products["sukarela"].pk).update(amount=1_000)
    return LoanProductFactory(lkmm=lkmm, late_fee=5_000)


def borrower(lkmm, product, name, *, accounts=True):
    member = MemberFactory(lkmm=lkmm, full_name=name)
    if accounts:
        savings_services.accounts_open(member=member)
    return member, make_active_loan(member=member, product=product)


def check_books():
    out = StringIO()
    try:
        call_command("check_books", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def record(lkmm, actor, pairs, **kwargs):
    """Each member pays one installment, the wajib and Rp10.000 sukarela."""
    return collection_record(
        lkmm=lkmm,
        actor=actor,
        paid_on=PAID_ON,
        amounts={loan.pk: INSTALLMENT for _member, loan in pairs},
        savings={member.pk: {"wajib": WAJIB, "sukarela": SUKARELA} for member, _loan in pairs},
        token=uuid.uuid4(),
        **kwargs,
    )


# --- queries -----------------------------------------------------------------------------------------


def test_a_sheet_of_12_paid_members_costs_the_queries_of_3(lkmm, pengelola, product):
    pairs = [borrower(lkmm, product, f"Anggota {i:02d}") for i in range(15)]
    few, many = pairs[:3], pairs[3:]
    with CaptureQueriesContext(connection) as three:
        saved = record(lkmm, pengelola.user, few)
    assert (len(saved.repayments), len(saved.movements), saved.receipts) == (3, 6, 3)
    with CaptureQueriesContext(connection) as twelve:
        saved = record(lkmm, pengelola.user, many)
    assert (len(saved.repayments), len(saved.movements), saved.receipts) == (12, 24, 12)
    # Loans locked; tokens recorded before (repayments, movements); LKMM lock; savings accounts locked;
    # products; open installments; next kuitansi; repayments, allocations, installments, loans,
    # movements, balances; entries_post's 12 (savepoint, lock, closed month, month figures lock and
    # forget, accounts, number, entries, lines, balances, kas day x3, release); audit rows; and the
    # outer savepoint and its release.
    assert len(three) == len(twelve) <= 32, [q["sql"][:80] for q in twelve.captured_queries]
    assert Repayment.objects.count() == 15 and SavingsMovement.objects.count() == 30
    assert sorted(set(Repayment.objects.values_list("receipt_no", flat=True))) == list(range(1, 16))
    status, output = check_books()
    assert status == 0, output


def test_saving_the_sheet_page_costs_the_same_for_3_and_12_members(pengelola_client, lkmm, product):
    pairs = [borrower(lkmm, product, f"Anggota {i:02d}") for i in range(12)]
    group = group_create(
        lkmm=lkmm,
        actor=None,
        name="Mawar",
        meeting_day=3,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=[member for member, _loan in pairs[:3]],
        leader=pairs[0][0],
        on=D(2026, 1, 5),
    )
    address = reverse("loans:collection_group", args=[group.pk]) + "?start=2026-01-22"

    def save(paying):
        data = {"paid_on": "2026-01-22", "token": str(uuid.uuid4())}
        for member, loan in paying:
            data.update({f"amount_{loan.pk}": "124.154", f"wajib_{member.pk}": "7.500"})
            data[f"sukarela_{member.pk}"] = "10.000"
        with CaptureQueriesContext(connection) as captured:
            response = pengelola_client.post(address, data)
        assert response.status_code == 302
        return len(captured)

    few = save(pairs[:3])
    for member, _loan in pairs[3:10]:
        group_add_member(group=group, member=member, actor=None)
    assert save(pairs[3:10]) == few
    assert Repayment.objects.count() == 10 and SavingsMovement.objects.count() == 20


# --- the same database as line by line ----------------------------------------------------------------


def line_by_line(lkmm, actor, amounts, savings):
    """The per-line path: member by member in name order, each member's lines on one kuitansi."""
    loans = Loan.objects.filter(pk__in=amounts).select_related("member")
    members = {loan.member for loan in loans} | set(type(loans[0].member).objects.filter(pk__in=savings))
    for member in sorted(members, key=lambda m: (m.full_name, m.pk)):
        receipt_no = None
        for loan_id, amount in amounts.items():
            loan = next(loan for loan in loans if loan.pk == loan_id)
            if loan.member_id == member.pk:
                repayment = loan_services.repayment_record(
                    loan=loan, amount=amount, paid_on=PAID_ON, actor=actor, receipt_no=receipt_no
                )
                receipt_no = receipt_no or repayment.receipt_no
        for kind in ("wajib", "sukarela"):
            if savings.get(member.pk, {}).get(kind):
                movement = savings_services.savings_deposit(
                    member=member,
                    kind=kind,
                    amount=savings[member.pk][kind],
                    on=PAID_ON,
                    actor=actor,
                    receipt_no=receipt_no,
                )
                receipt_no = receipt_no or movement.receipt_no


def snapshot(*, ordered):
    """The database after a save, by natural keys (ids differ between two runs on PostgreSQL).
    `ordered`: the entries by number and the audit rows by id, else as sets."""
    repayments = {r.pk: (r.loan.number, r.receipt_no) for r in Repayment.objects.select_related("loan")}
    movements = {
        m.pk: (m.account.member.full_name, m.account.kind, m.receipt_no)
        for m in SavingsMovement.objects.select_related("account__member")
    }
    sources = {"loans.repayment": repayments, "savings.savingsmovement": movements}

    def source(source_type, source_id):
        return sources.get(source_type, {}).get(source_id, (source_type, source_id))

    entries = [
        (
            e.number if ordered else None,
            e.date,
            e.kind,
            e.memo,
            e.loan.number if e.loan else None,
            source(e.source_type, e.source_id),
            e.created_by_id,
            sorted((line.account.code, line.debit, line.credit) for line in e.lines.all()),
        )
        for e in JournalEntry.objects.select_related("loan")
        .prefetch_related("lines__account")
        .order_by("number")
    ]
    # An account opened by the save (a deposit into a missing one) has another id each time.
    accounts = {
        pk: (name, kind)
        for pk, name, kind in SavingsAccount.objects.values_list("pk", "member__full_name", "kind")
    }
    audit = [
        (
            a.action,
            a.actor_id,
            a.lkmm_id,
            source(a.object_type, a.object_id),
            a.reason,
            {**a.data, **({"account": accounts[a.data["account"]]} if "account" in a.data else {})},
        )
        for a in AuditLog.objects.order_by("pk")
    ]
    state = {
        "repayments": sorted(
            (r.loan.number, r.receipt_no, r.amount, r.paid_on, r.recorded_by_id, r.note, r.reversed_on)
            for r in Repayment.objects.select_related("loan")
        ),
        "allocations": sorted(
            (
                repayments[a.repayment_id],
                a.installment.seq,
                a.late_fee,
                a.interest,
                a.principal,
                a.valid_from,
                a.valid_to,
            )
            for a in Allocation.objects.select_related("installment")
        ),
        "installments": sorted(
            (i.loan.number, i.seq, *(getattr(i, name) for name in INSTALLMENT_FIELDS))
            for i in Installment.objects.select_related("loan")
        ),
        "loans": sorted(
            (loan.number, loan.status, *(getattr(loan, f) for f in LOAN_FIELDS))
            for loan in Loan.objects.all()
        ),
        "status_changes": sorted(
            LoanStatusChange.objects.values_list("loan__number", "from_status", "to_status", "on")
        ),
        "movements": sorted(
            (
                m.account.member.full_name,
                m.account.kind,
                m.kind,
                m.amount,
                m.on,
                m.receipt_no,
                m.recorded_by_id,
            )
            for m in SavingsMovement.objects.select_related("account__member")
        ),
        "savings": sorted(
            SavingsAccount.objects.values_list("member__full_name", "kind", "balance_derived", "opened_on")
        ),
        "entries": entries if ordered else sorted(entries, key=repr),
        "entry_numbers": sorted(JournalEntry.objects.values_list("number", flat=True)),
        "accounts": sorted(Account.objects.values_list("code", "balance_derived")),
        "cash_days": list(CashDay.objects.order_by("date").values_list("date", "net")),
        "audit": audit if ordered else sorted(audit, key=repr),
    }
    return state


class Undo(Exception):
    pass


def both_ways(lkmm, actor, amounts, savings, *, ordered):
    """The snapshot after the sheet's save and after the same lines recorded one by one, from the same
    start (the first is rolled back)."""
    try:
        with transaction.atomic():
            saved = collection_record(
                lkmm=lkmm, actor=actor, paid_on=PAID_ON, amounts=amounts, savings=savings, token=uuid.uuid4()
            )
            status, output = check_books()
            assert status == 0, output
            in_bulk = snapshot(ordered=ordered)
            raise Undo
    except Undo:
        pass
    assert not Repayment.objects.filter(paid_on=PAID_ON).exists()
    line_by_line(lkmm, actor, amounts, savings)
    status, output = check_books()
    assert status == 0, output
    return saved, in_bulk, snapshot(ordered=ordered)


def test_the_bulk_save_writes_what_line_by_line_writes(lkmm, pengelola, product):
    """Ani and Dewi pay one loan, Budi two; Citra only saves; Dewi paid Rp50.000 the week before (her
    standing is part way into an installment) and saves no sukarela."""
    ani, ani_loan = borrower(lkmm, product, "Ani")
    budi, budi_1 = borrower(lkmm, product, "Budi")
    budi_2 = make_active_loan(member=budi, product=product)
    citra = MemberFactory(lkmm=lkmm, full_name="Citra")
    savings_services.accounts_open(member=citra)
    dewi, dewi_loan = borrower(lkmm, product, "Dewi")
    loan_services.repayment_record(
        loan=dewi_loan, amount=50_000, paid_on=D(2026, 1, 15), actor=pengelola.user
    )
    amounts = {
        ani_loan.pk: INSTALLMENT,
        budi_2.pk: 2 * INSTALLMENT,
        budi_1.pk: INSTALLMENT,
        dewi_loan.pk: 80_000,
    }
    savings = {
        ani.pk: {"wajib": WAJIB, "sukarela": SUKARELA},
        budi.pk: {"wajib": WAJIB},
        citra.pk: {"wajib": WAJIB, "sukarela": 2_000},
        dewi.pk: {"wajib": WAJIB},
    }
    saved, in_bulk, per_line = both_ways(lkmm, pengelola.user, amounts, savings, ordered=True)
    assert (len(saved.repayments), len(saved.movements), saved.receipts) == (4, 6, 4)
    assert in_bulk == per_line
    # The worked numbers: Ani's installment pays the late fees of installments 1 and 2 first.
    assert in_bulk["repayments"][0][:3] == (ani_loan.number, 2, INSTALLMENT)  # Ani is the second number
    assert [row[:3] for row in in_bulk["cash_days"]][-1][0] == PAID_ON
    cash_in = 2 * INSTALLMENT + 2 * INSTALLMENT + 80_000 + 4 * WAJIB + SUKARELA + 2_000
    assert in_bulk["cash_days"][-1][1] == cash_in
    # Simpanan wajib is a liability: four deposits credited to it (debit - credit).
    assert dict(in_bulk["accounts"])[AccountCode.SIMPANAN_WAJIB] == -4 * WAJIB


def test_lines_that_are_not_usual_go_line_by_line_in_the_same_save(lkmm, pengelola, product):
    """Eko settles his loan (its status changes) and Fitri has no savings accounts yet (the deposit opens
    them): both go through the per-line services, the rest in bulk; the database ends the same."""
    ani, ani_loan = borrower(lkmm, product, "Ani")
    eko, eko_loan = borrower(lkmm, product, "Eko")
    fitri, fitri_loan = borrower(lkmm, product, "Fitri", accounts=False)
    position = loan_services.loan_position(loan=eko_loan, at=PAID_ON)
    payoff = position["early_payoff"] if eko_loan.waive_interest_on_payoff else position["payoff"]
    amounts = {ani_loan.pk: INSTALLMENT, eko_loan.pk: payoff, fitri_loan.pk: INSTALLMENT}
    savings = {
        ani.pk: {"wajib": WAJIB, "sukarela": SUKARELA},
        eko.pk: {"wajib": WAJIB},
        fitri.pk: {"wajib": WAJIB, "sukarela": SUKARELA},
    }
    saved, in_bulk, per_line = both_ways(lkmm, pengelola.user, amounts, savings, ordered=False)
    assert (len(saved.repayments), len(saved.movements), saved.receipts) == (3, 5, 3)
    assert in_bulk == per_line
    assert (eko_loan.number, "aktif", "lunas", PAID_ON) in in_bulk["status_changes"]
    assert {row[:2] for row in in_bulk["loans"]} == {
        (ani_loan.number, "aktif"),
        (eko_loan.number, "lunas"),
        (fitri_loan.number, "aktif"),
    }
    assert ("Fitri", "sukarela", SUKARELA) in {row[:3] for row in in_bulk["savings"]}
