"""The kept standing (loans.standing) equals the standing recomputed from the facts, after every step of
any history, and reading it gives the same figures as replaying the versioned allocation."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.checks import kept_standing_matches_facts
from loans import collection, standing
from loans.models import Allocation, Loan, LoanStatus, Repayment
from loans.services import (
    late_fees_waive,
    loan_position,
    loan_restructure,
    repayment_record,
    repayment_reverse,
)
from risk import figures
from risk.services import loan_write_off
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, make_active_loan

D = datetime.date
START = D(2026, 1, 1)
pytestmark = pytest.mark.django_db
FIELDS = ("outstanding", "oldest_overdue_on", "overdue_amount", "overdue_fees", "principal_repaid")

steps = st.lists(
    st.tuples(
        st.sampled_from(["pay", "pay", "pay", "pay", "reverse", "waive", "restructure", "write_off"]),
        st.integers(min_value=1, max_value=400_000),
        st.integers(min_value=0, max_value=120),
    ),
    min_size=1,
    max_size=12,
)


def assert_kept_equals_facts(loan):
    loan = Loan.objects.get(pk=loan.pk)
    assert list(standing.check([loan])) == []
    today = timezone.localdate()
    for at in (today, today + datetime.timedelta(days=45), D(2999, 12, 31)):
        kept = Loan.objects.filter(pk=loan.pk).with_kept_standing(at).values(*FIELDS).get()
        history = Loan.objects.filter(pk=loan.pk).with_history_standing(at).values(*FIELDS).get()
        assert kept == history, at
    # The collection sheet's unpaid sums from the installments' kept columns equal the replay, for the
    # sheets read from today on: a week that began three days ago, this week, next week.
    for start in (today - datetime.timedelta(days=3), today, today + datetime.timedelta(days=7)):
        end = start + datetime.timedelta(days=6)
        at = collection.sheet_date(end=end)
        window = {"start": min(start, at), "end": end, "at": at}
        kept = collection.unpaid_kept([loan.pk], **window)
        assert kept == collection.unpaid_history([loan.pk], **window), start
    # The report statements (risk.figures) agree too, class and reserve included.
    for at in (today, D(2999, 12, 31)):
        kept = figures.loan_figures(at, lkmms=[loan.lkmm_id], source="kept")
        assert kept == figures.loan_figures(at, lkmms=[loan.lkmm_id], source="history")
        # The sums in Python (month-end close) are the sums in SQL (every other report).
        assert figures.summarize(kept.values()) == figures.totals(at, lkmms=[loan.lkmm_id])
    # The position the payment form and the loan page read equals the engine's replay.
    at = loan.standing_as_of_derived
    if at is not None:
        kept = loan_position(loan=loan, at=at)
        loan.standing_as_of_derived = None  # forces the replay
        replay = loan_position(loan=loan, at=at)
        assert (kept["payoff"], kept["owed"]) == (replay["payoff"], replay["owed"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(history=[("waive", 1, 8), ("pay", 154_146, 7)], late_fee=2_500, frequency="daily")
@given(
    history=steps,
    late_fee=st.sampled_from([0, 2_500]),
    frequency=st.sampled_from(["weekly", "daily", "monthly"]),
)
def test_the_kept_standing_equals_the_facts_after_every_step(history, late_fee, frequency):
    product = LoanProductFactory(late_fee=late_fee, frequency=frequency, installment_count=8)
    loan = make_active_loan(product=product, member=MemberFactory(lkmm=product.lkmm), disbursed_on=START)
    loans = [loan]
    ketua = ketua_of(loan.lkmm)
    for action, amount, day in history:
        on = START + datetime.timedelta(days=day)
        loan = Loan.objects.get(pk=loans[-1].pk)
        try:
            if action == "pay":
                repayment_record(loan=loan, amount=amount, paid_on=max(on, loan.disbursed_on), actor=None)
            elif action == "reverse":
                last = max(
                    (r.reversed_on for r in Repayment.objects.filter(loan=loan, reversed_on__isnull=False)),
                    default=START,
                )
                target = (
                    Repayment.objects.filter(loan=loan, reversed_on__isnull=True, paid_on__lte=on)
                    .order_by("?")
                    .first()
                )
                if target is not None and on >= last:
                    repayment_reverse(repayment=target, actor=ketua, on=on, reason="uji")
            elif action == "waive":
                late_fees_waive(loan=loan, actor=ketua, on=on, reason="uji")
            elif action == "restructure":
                new = loan_restructure(
                    loan=loan, actor=ketua, on=on, product=product, reason="usaha sepi", first_due=None
                )
                loans.append(new)
            elif action == "write_off" and loan.status == LoanStatus.AKTIF:
                loan_write_off(loan=loan, actor=ketua, on=on, reason="macet")
        except ValidationError:
            pass  # a refused event leaves nothing behind
        for each in loans:
            assert_kept_equals_facts(each)
    assert list(kept_standing_matches_facts([loan.lkmm])) == []


def test_a_forward_payment_appends_rows_and_touches_only_what_it_pays(django_assert_max_num_queries):
    loan = make_active_loan()  # 1.200.000 flat weekly, 10 x 124.154 from 08/01/2026
    for week in range(3):
        repayment_record(
            loan=loan, amount=124_154, paid_on=D(2026, 1, 8) + datetime.timedelta(weeks=week), actor=None
        )
    rows_before = list(Allocation.objects.filter(repayment__loan=loan).values_list("pk", "valid_to"))
    # 23 queries, two of them (the LKMM's lock, the delete) dropping the stored figures of January:
    # the payment is dated in a month that has ended; one keeps the accounts' balances and one the day's
    # net kas movement (ledger.CashDay). None reads the loan's earlier payments or allocations.
    with django_assert_max_num_queries(23) as captured:
        repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 29), actor=None)
    assert not [q["sql"] for q in captured.captured_queries if 'FROM "loans_allocation"' in q["sql"]]
    rows_after = list(Allocation.objects.filter(repayment__loan=loan).values_list("pk", "valid_to"))
    assert rows_after[: len(rows_before)] == rows_before  # nothing closed, nothing deleted
    assert len(rows_after) == len(rows_before) + 1
    loan.refresh_from_db()
    assert loan.principal_outstanding_derived == 1_200_000 - 4 * 120_000
    assert loan.oldest_unpaid_due_derived == D(2026, 2, 5)
    assert loan.installments.filter(open_derived=True).count() == 6


def test_a_reversal_closes_the_rows_it_changes_and_appends_their_new_version():
    loan = make_active_loan()
    first = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    second = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 15), actor=None)
    repayment_reverse(repayment=first, actor=ketua_of(loan.lkmm), on=D(2026, 1, 20), reason="salah catat")
    rows = list(
        Allocation.objects.filter(repayment=second)
        .order_by(F("valid_from").asc(nulls_first=True))
        .values_list("installment__seq", "valid_from", "valid_to")
    )
    # Before 20/01 the second payment paid installment 2; from then on it pays installment 1.
    assert rows == [(2, None, D(2026, 1, 20)), (1, D(2026, 1, 20), None)]
    assert Allocation.objects.filter(repayment=first, valid_to=D(2026, 1, 20)).count() == 1
    loan.refresh_from_db()
    assert (loan.principal_outstanding_derived, loan.oldest_unpaid_due_derived) == (1_080_000, D(2026, 1, 15))


def test_a_back_dated_payment_re_allocates_the_later_ones():
    loan = make_active_loan()
    later = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 15), actor=None)
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    current = Allocation.objects.counting_at(D(2999, 1, 1)).filter(repayment=later)
    assert list(current.values_list("installment__seq", flat=True)) == [2]
    # The superseded row is kept, closed on the back-dated payment's date: it never counts again.
    assert Allocation.objects.filter(repayment=later, valid_to=D(2026, 1, 8)).count() == 1
    loan.refresh_from_db()
    assert loan.oldest_unpaid_due_derived == D(2026, 1, 22)
