"""Reads of the books. Balances are always derived from the journal lines, in a fixed number of queries."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Prefetch, Sum
from django.db.models.functions import Coalesce

from ledger.models import Account, AccountCode, JournalLine


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
    balance negative. Two queries, however many entries follow.
    """
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


def cash_over_limit(*, lkmm_ids, limit, until):
    """{lkmm id: CashOverLimit} for the LKMMs whose kas at the end of `until` (a calendar day in
    Asia/Jakarta, by value date) exceeded `limit` (DOMAIN.md "Cash on hand"), with how many days in a
    row it had. Two queries (three when some are over), whatever the number of LKMMs or entries."""
    lines = JournalLine.objects.filter(account__lkmm__in=lkmm_ids, account__code=AccountCode.KAS)
    # Kas at the end of `until`: the kept balance (every line) less the lines dated after `until`, which
    # are today's (read through the entries' (lkmm, date) index), not the whole history.
    closing = dict(
        Account.objects.filter(lkmm__in=lkmm_ids, code=AccountCode.KAS).values_list("lkmm", "balance_derived")
    )
    for pk, net in (
        lines.filter(entry__date__gt=until)
        .values("account__lkmm")
        .annotate(net=Sum("debit") - Sum("credit"))
        .values_list("account__lkmm", "net")
    ):
        closing[pk] -= net
    over = {pk: balance for pk, balance in closing.items() if balance > limit}
    if not over:
        return {}
    start = until - datetime.timedelta(days=CASH_LIMIT_LOOKBACK)
    moves = {}
    for pk, date, net in (
        lines.filter(account__lkmm__in=list(over), entry__date__gt=start, entry__date__lte=until)
        .values("account__lkmm", "entry__date")
        .annotate(net=Sum("debit") - Sum("credit"))
        .values_list("account__lkmm", "entry__date", "net")
    ):
        moves[pk, date] = net
    result = {}
    for pk, balance in over.items():
        day, end_of_day, days = until, balance, 0
        while end_of_day > limit and day > start:
            days += 1
            end_of_day -= moves.get((pk, day), 0)  # the balance at the end of the day before
            day -= datetime.timedelta(days=1)
        result[pk] = CashOverLimit(
            lkmm_id=pk,
            balance=balance,
            excess=balance - limit,
            days=days,
            since=until - datetime.timedelta(days=days - 1),
            capped=end_of_day > limit,
        )
    return result
