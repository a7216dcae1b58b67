"""Invariants of the loan engine over random histories, and concurrent repayments on PostgreSQL."""

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import AccountCode, JournalEntry, JournalLine
from loans.models import Allocation, Loan, Repayment
from loans.services import repayment_record, repayment_reverse
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, make_active_loan

D = datetime.date

events = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "pay", "reverse"]),
        st.integers(min_value=1, max_value=400_000),
        st.integers(min_value=0, max_value=90),
    ),
    min_size=1,
    max_size=12,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=events, late_fee=st.sampled_from([0, 2_500]))
def test_books_and_allocations_agree_after_any_history(history, late_fee):
    product = LoanProductFactory(late_fee=late_fee)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm))
    ketua = ketua_of(loan.lkmm)
    last_reversal = D(2026, 1, 1)
    for action, amount, day in history:
        on = D(2026, 1, 1) + datetime.timedelta(days=day)
        try:
            if action == "pay":
                repayment_record(loan=loan, amount=amount, paid_on=on, actor=None)
            else:
                target = Repayment.objects.filter(
                    loan=loan, reversed_on__isnull=True, paid_on__lte=on
                ).first()
                if target is not None and on >= last_reversal:
                    repayment_reverse(repayment=target, actor=ketua, on=on, reason="uji")
                    last_reversal = on
        except ValidationError:
            pass  # refused events (over-payment, closed loan) must leave nothing behind
    loan.refresh_from_db()
    current = Allocation.objects.counting_at(D(2999, 1, 1)).filter(installment__loan=loan)
    # No installment receives more than it asks.
    for installment in loan.installments.all():
        got = current.filter(installment=installment).aggregate(p=Sum("principal"), i=Sum("interest"))
        assert (got["p"] or 0) <= installment.principal
        assert (got["i"] or 0) <= installment.interest
    # Each counting payment is exactly its allocations.
    for repayment in Repayment.objects.filter(loan=loan, reversed_on__isnull=True):
        parts = current.filter(repayment=repayment).aggregate(
            f=Sum("late_fee"), i=Sum("interest"), p=Sum("principal")
        )
        assert sum(v or 0 for v in parts.values()) == repayment.amount
    # The books balance and the receivable equals the schedule's outstanding principal.
    for entry in JournalEntry.objects.filter(loan=loan).prefetch_related("lines"):
        assert sum(x.debit for x in entry.lines.all()) == sum(x.credit for x in entry.lines.all())
    receivable = JournalLine.objects.filter(entry__loan=loan, account__code=AccountCode.PIUTANG).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    outstanding = Loan.objects.with_standing(D(2999, 1, 1)).get(pk=loan.pk).outstanding
    assert receivable["d"] - receivable["c"] == outstanding
    # Cash in the books is exactly the payments that still count.
    counted = (
        Repayment.objects.filter(loan=loan, reversed_on__isnull=True).aggregate(s=Sum("amount"))["s"] or 0
    )
    cash = JournalLine.objects.filter(entry__loan=loan, account__code=AccountCode.KAS).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    assert (cash["d"] or 0) - (cash["c"] or 0) == -1_200_000 + counted


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_repayments_never_overpay():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers); CI runs this on PostgreSQL")
    loan = make_active_loan()
    results, barrier = [], threading.Barrier(20)

    def worker():
        try:
            barrier.wait()
            repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The loan's payoff is exactly 10 installments of Rp124.154.
    assert results.count("ok") == 10
    assert results.count("refused") == 10
    accepted = Repayment.objects.filter(loan=loan).aggregate(s=Sum("amount"))["s"]
    assert accepted == 1_241_540
    assert sorted(Repayment.objects.filter(lkmm=loan.lkmm).values_list("receipt_no", flat=True)) == list(
        range(1, 11)
    )
    totals = JournalLine.objects.filter(entry__lkmm=loan.lkmm).aggregate(d=Sum("debit"), c=Sum("credit"))
    assert totals["d"] == totals["c"]
    assert Loan.objects.with_standing(D(2026, 1, 8)).get(pk=loan.pk).outstanding == 0
