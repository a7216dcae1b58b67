"""Reads of the books. Balances are always derived from the journal lines, in a fixed number of queries."""

import datetime
from dataclasses import dataclass, field

from django.db.models import OuterRef, Prefetch, Subquery, Sum, Value
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
    end-of-day balances (CashDay) instead of sums over its lines.
    """
    if code == AccountCode.KAS:
        days = CashDay.objects.filter(lkmm=lkmm)
        balance = days.filter(date__lte=on).order_by("-date").values_list("closing", flat=True).first() or 0
        later = days.filter(date__gt=on).order_by("closing", "date").values_list("date", "closing").first()
        return later if later is not None and later[1] < balance else (on, balance)
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
    row it had (counted back at most CASH_LIMIT_LOOKBACK days). Read from the kept end-of-day balances
    (CashDay): two queries, whatever the number of LKMMs or entries."""
    days = CashDay.objects.filter(lkmm=OuterRef("pk"), date__lte=until)
    closing = dict(
        Lkmm.objects.filter(pk__in=lkmm_ids)
        .annotate(kas=Subquery(days.order_by("-date").values("closing")[:1]))
        .filter(kas__gt=limit)
        .values_list("pk", "kas")
    )
    if not closing:
        return {}
    # The run over the limit began on the first day kas moved after the last day it ended at or under
    # the limit (or on its first day, if it never did).
    runs = (
        Lkmm.objects.filter(pk__in=list(closing))
        .annotate(
            last_ok=Subquery(days.filter(closing__lte=limit).order_by("-date").values("date")[:1]),
        )
        .annotate(
            since=Subquery(
                CashDay.objects.filter(
                    lkmm=OuterRef("pk"),
                    date__lte=until,
                    date__gt=Coalesce(OuterRef("last_ok"), Value(datetime.date.min)),
                )
                .order_by("date")
                .values("date")[:1]
            )
        )
        .values_list("pk", "since")
    )
    result = {}
    for pk, since in runs:
        capped = (until - since).days + 1 > CASH_LIMIT_LOOKBACK
        if capped:
            since = until - datetime.timedelta(days=CASH_LIMIT_LOOKBACK - 1)
        result[pk] = CashOverLimit(
            lkmm_id=pk,
            balance=closing[pk],
            excess=closing[pk] - limit,
            days=(until - since).days + 1,
            since=since,
            capped=capped,
        )
    return result
