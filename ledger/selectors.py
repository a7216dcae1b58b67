"""Reads of the books. Balances are always derived from the journal lines, in a fixed number of queries."""

import datetime
from dataclasses import dataclass, field

from django.db import connections, router
from django.db.models import Prefetch, Sum, Window
from django.db.models.functions import Coalesce

from institutions.models import Lkmm
from ledger.models import Account, AccountCode, CashDay, JournalLine


def trial_balance(*, lkmm, at):
    """The LKMM's chart, each account annotated with debit_total, credit_total and balance (in the
    account's normal sign: a credit-normal account with more credits shows a positive balance) over the
    entries dated on or before `at`. Two queries."""
    totals = {row["account_id"]: row for row in JournalLine.objects.balance_by_account(lkmm=lkmm, at=at)}
    accounts = list(Account.objects.filter(lkmm=lkmm))
    for account in accounts:
        row = totals.get(account.pk, {"debit_total": 0, "credit_total": 0})
        account.debit_total, account.credit_total = row["debit_total"], row["credit_total"]
        signed = account.debit_total - account.credit_total
        account.balance = signed if account.debit_normal else -signed
    return accounts


def _cash_lines(*, lkmm, code):
    return JournalLine.objects.filter(account__lkmm=lkmm, account__code=code)


def cash_balance(*, lkmm, code, at):
    """Balance (debit - credit) of a debit-normal account such as kas or bank at the end of `at`."""
    totals = (
        _cash_lines(lkmm=lkmm, code=code)
        .filter(entry__date__lte=at)
        .aggregate(debit=Coalesce(Sum("debit"), 0), credit=Coalesce(Sum("credit"), 0))
    )
    return totals["debit"] - totals["credit"]


def cash_lowest_from(*, lkmm, code, on):
    """(date, balance): the lowest end-of-day balance of kas or bank `code` on `on` or on any later date.

    That is what may still be paid out on `on`: a back-dated payment must not make a later day's
    balance negative. Two queries, however many entries follow; for kas, two index reads of the kept
    days' net movements (CashDay) instead of sums over its lines.
    """
    if code == AccountCode.KAS:
        days = CashDay.objects.filter(lkmm=lkmm)
        balance = days.filter(date__lte=on).aggregate(kas=Coalesce(Sum("net"), 0))["kas"]
        # The lowest running sum of the later days' movements is where the balance is lowest.
        later = (
            days.filter(date__gt=on)
            .annotate(moved=Window(Sum("net"), order_by="date"))
            .order_by("moved", "date")
            .values_list("date", "moved")
            .first()
        )
        return (later[0], balance + later[1]) if later is not None and later[1] < 0 else (on, balance)
    balance = cash_balance(lkmm=lkmm, code=code, at=on)
    lowest = (on, balance)
    moves = (
        _cash_lines(lkmm=lkmm, code=code)
        .filter(entry__date__gt=on)
        .values("entry__date")
        .annotate(net=Sum("debit") - Sum("credit"))
        .order_by("entry__date")
    )
    for move in moves:
        balance += move["net"]
        if balance < lowest[1]:
            lowest = (move["entry__date"], balance)
    return lowest


@dataclass
class CashBook:
    account: Account
    start: datetime.date
    end: datetime.date
    opening: int
    rows: list = field(default_factory=list)
    debit_total: int = 0
    credit_total: int = 0

    @property
    def closing(self):
        return self.opening + self.debit_total - self.credit_total


def cash_book(*, lkmm, code, start, end):
    """Buku kas (or bank) from `start` to `end`: the opening balance, each line on the account in date
    order with the running balance after it and the entry's other accounts, and the totals.

    Four queries whatever the number of lines: the account, the opening balance, the lines with their
    entries, and the entries' other lines.
    """
    account = Account.objects.get(lkmm=lkmm, code=code)
    book = CashBook(
        account=account,
        start=start,
        end=end,
        opening=cash_balance(lkmm=lkmm, code=code, at=start - datetime.timedelta(days=1)),
    )
    lines = (
        JournalLine.objects.filter(account=account, entry__date__gte=start, entry__date__lte=end)
        .select_related("entry")
        .prefetch_related(
            Prefetch("entry__lines", queryset=JournalLine.objects.select_related("account").order_by("pk"))
        )
        .order_by("entry__date", "entry__number", "pk")
    )
    balance = book.opening
    for line in lines:
        balance += line.debit - line.credit
        line.balance = balance
        line.counter_accounts = [other.account for other in line.entry.lines.all() if other.pk != line.pk]
        book.debit_total += line.debit
        book.credit_total += line.credit
        book.rows.append(line)
    return book


# How far back the consecutive days over the cash limit are counted (the Dinas sees "more than" beyond).
CASH_LIMIT_LOOKBACK = 90


@dataclass
class CashOverLimit:
    lkmm_id: int
    balance: int  # kas at the end of `until`
    excess: int  # what should go to the bank
    days: int  # consecutive days up to `until` whose end-of-day kas exceeded the limit
    since: datetime.date
    capped: bool  # the run is longer than CASH_LIMIT_LOOKBACK days


# Kas at the end of `until` of each LKMM in the scope whose kas then exceeded the limit: the kas account's
# kept balance less the net movements after `until`, summed once for all LKMMs (one range of the
# (date, lkmm, net) index when many LKMMs are asked for, the (lkmm, date) one for a single LKMM) rather
# than probed per LKMM.
CASH_CLOSING_SQL = """
    SELECT a.lkmm_id, a.balance_derived - COALESCE(later.net, 0) AS kas
    FROM ledger_account a
    LEFT JOIN (
        SELECT c.lkmm_id, SUM(c.net) AS net FROM ledger_cashday c
        WHERE c.date > %s AND c.lkmm_id IN ({scope})
        GROUP BY c.lkmm_id
    ) later ON later.lkmm_id = a.lkmm_id
    WHERE a.code = %s AND a.lkmm_id IN ({scope}) AND a.balance_derived - COALESCE(later.net, 0) > %s
"""

# The day each run over the limit began: the latest day in the lookback on which kas went from at most
# the limit to over it (the LKMM is over it at `until`, so no later day ended at or under it). None: over
# the limit for the whole lookback. Per LKMM, its rows are read from `until` backwards with the net
# movement since (a running sum), so the kas at the start of each day is the kas at the end of `until`
# less what moved from that day on; reading stops at the run's first day.
CASH_RUNS_SQL = """
    WITH over (lkmm_id, kas) AS (VALUES {values})
    SELECT over.lkmm_id, (
        SELECT days.date FROM (
            SELECT c.date, c.net, SUM(c.net) OVER (ORDER BY c.date DESC ROWS UNBOUNDED PRECEDING) AS moved
            FROM ledger_cashday c
            WHERE c.lkmm_id = over.lkmm_id AND c.date >= %s AND c.date <= %s
        ) days
        WHERE over.kas - days.moved <= %s AND over.kas - days.moved + days.net > %s
        ORDER BY days.date DESC
        LIMIT 1
    )
    FROM over
"""


def cash_over_limit(*, lkmm_ids, limit, until):
    """{lkmm id: CashOverLimit} for the LKMMs whose kas at the end of `until` (a calendar day in
    Asia/Jakarta, by value date) exceeded `limit` (DOMAIN.md "Cash on hand", at least 0), with how many
    days in a row it had (counted back at most CASH_LIMIT_LOOKBACK days).

    Two queries, whatever the number of LKMMs or entries: kas at the end of `until` is the kas account's
    kept balance less the kept net movements (CashDay) dated after it (CASH_CLOSING_SQL); then, for the
    LKMMs over the limit only, their movements back to the run's first day (CASH_RUNS_SQL)."""
    # Without the LKMMs' default ordering: it sorted 2,000 names twice for nothing.
    scope, scope_params = Lkmm.objects.filter(pk__in=lkmm_ids).order_by().values("pk").query.sql_with_params()
    # The router's read database, as the ORM would pick (a replica on the report pages).
    reader = connections[router.db_for_read(CashDay)]
    with reader.cursor() as cursor:
        cursor.execute(
            CASH_CLOSING_SQL.format(scope=scope),  # nosec B608  # the scope's SQL is Django's, its values params
            [until, *scope_params, AccountCode.KAS, *scope_params, limit],
        )
        closing = dict(cursor.fetchall())
    if not closing:
        return {}
    first = until - datetime.timedelta(days=CASH_LIMIT_LOOKBACK - 1)
    values = ", ".join(["(%s, %s)"] * len(closing))
    params = [value for pair in closing.items() for value in pair]
    with reader.cursor() as cursor:
        cursor.execute(CASH_RUNS_SQL.format(values=values), [*params, first, until, limit, limit])  # nosec B608
        began = dict(cursor.fetchall())
    result = {}
    for pk, balance in closing.items():
        since = began.get(pk)
        if isinstance(since, str):  # SQLite returns the raw SQL's date as text
            since = datetime.date.fromisoformat(since)
        result[pk] = CashOverLimit(
            lkmm_id=pk,
            balance=balance,
            excess=balance - limit,
            days=(until - (since or first)).days + 1,
            since=since or first,
            capped=since is None,
        )
    return result
