"""The kept net kas movement per day (ledger.CashDay) over random histories of kas entries, posted in any
date order (so mostly back-dated) one by one or in batches: the rows equal the lines day by day, and the
readers that derive balances from them (cash_lowest_from, cash_over_limit) give, at every date, what the
running sum of the journal lines gives. Runs on SQLite and, with DATABASE_URL, on PostgreSQL."""

import datetime
from itertools import accumulate, count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.checks import cash_days_match_lines
from ledger.models import CashDay, JournalLine
from ledger.selectors import CASH_LIMIT_LOOKBACK, cash_lowest_from, cash_over_limit
from ledger.services import entries_post
from tests.factories import LkmmFactory

D = datetime.date
START = D(2026, 1, 5)
SPAN = 130  # longer than the lookback, so runs over the limit get capped too
LIMITS = (0, 150_000, 400_000)
EXAMPLES = count()

kas_entry = st.tuples(
    st.integers(min_value=-400_000, max_value=500_000).filter(bool),  # kas in (> 0) or out (< 0)
    st.integers(min_value=0, max_value=SPAN),  # day after START
)
histories = st.lists(st.lists(kas_entry, min_size=1, max_size=3), min_size=1, max_size=10)


def lines_for(amount):
    return (
        [("1101", amount, 0), ("3101", 0, amount)]
        if amount > 0
        else [("5201", -amount, 0), ("1101", 0, -amount)]
    )


def expected_closings(lkmm):
    """{date: kas at the end of the day} for every day of the span, from the journal lines alone."""
    moved = {}
    for line in JournalLine.objects.filter(account__lkmm=lkmm, account__code="1101").select_related("entry"):
        moved[line.entry.date] = moved.get(line.entry.date, 0) + line.debit - line.credit
    dates = [START + datetime.timedelta(days=n) for n in range(-1, SPAN + 2)]
    return dict(zip(dates, accumulate(moved.get(day, 0) for day in dates), strict=True))


def expected_run(closings, until, limit):
    """(balance, since, capped) the way DOMAIN.md counts days over the limit, day by day."""
    if closings[until] <= limit:
        return None
    since = until
    while (
        since - datetime.timedelta(days=1) in closings
        and closings[since - datetime.timedelta(days=1)] > limit
    ):
        since -= datetime.timedelta(days=1)
    first = until - datetime.timedelta(days=CASH_LIMIT_LOOKBACK - 1)
    return (closings[until], first, True) if since < first else (closings[until], since, False)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories)
def test_kept_days_give_the_lines_balance_at_every_date_after_back_dated_entries(history):
    # The examples share the test's transaction: each gets an LKMM of its own.
    lkmm = LkmmFactory(code=f"acak{next(EXAMPLES)}", name="LKMM Acak")
    for batch in history:
        entries_post(
            lkmm=lkmm,
            actor=None,
            entries=[
                {
                    "date": START + datetime.timedelta(days=day),
                    "memo": "Acak",
                    "lines": lines_for(amount),
                    "kind": "cash_in" if amount > 0 else "cash_out",
                }
                for amount, day in batch
            ],
        )
    assert list(cash_days_match_lines([lkmm])) == []
    # One row per day at most; their running sum is the kas at the end of every day.
    rows = list(CashDay.objects.filter(lkmm=lkmm).order_by("date").values_list("date", "net"))
    assert len({date for date, _ in rows}) == len(rows)
    closings = expected_closings(lkmm)
    kept = dict(zip([date for date, _ in rows], accumulate(net for _, net in rows), strict=True))
    running = 0
    for day, closing in closings.items():
        running = kept.get(day, running)
        assert running == closing, day
    for day in closings:
        later = {d: c for d, c in closings.items() if d >= day}
        lowest = min(later.values())
        when, balance = cash_lowest_from(lkmm=lkmm, code="1101", on=day)
        assert balance == lowest and (balance == closings[day] or closings[when] == lowest), day
    for limit in LIMITS:
        for until in list(closings)[1:-1]:
            item = cash_over_limit(lkmm_ids=[lkmm.pk], limit=limit, until=until).get(lkmm.pk)
            got = None if item is None else (item.balance, item.since, item.capped)
            assert got == expected_run(closings, until, limit), (limit, until)
            if item is not None:
                assert (item.excess, item.days) == (item.balance - limit, (until - item.since).days + 1)
