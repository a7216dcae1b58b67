"""Reads for the SHU: the rule in force, the year's result, and the preview of every member's share.

The preview costs the same few queries whatever the number of members: the members, their leaving dates,
the savings balances at the 12 month ends (one aggregate with a conditional sum per month), the interest
each paid in the year (one aggregate), the year's result (one aggregate) and the rule.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import BigIntegerField, Case, F, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from ledger.models import AccountCode, AccountKind, EntryKind, JournalLine
from shu.division import divide
from shu.models import ShuRule, ShuShare, ShuYear


def month_ends(year):
    ends = []
    for month in range(1, 13):
        following = datetime.date(year + month // 12, month % 12 + 1, 1)
        ends.append(following - datetime.timedelta(days=1))
    return ends


def rule_in_force(*, lkmm, year):
    """The version of the LKMM's percentages in force for `year` (None when it has set none)."""
    return ShuRule.objects.filter(lkmm=lkmm, from_year__lte=year).order_by("-from_year", "-version").first()


def year_result(*, lkmm, year):
    """{code: debit - credit} of the income and expense accounts over the year (the year-end close's own
    entry left out) and the result, income less expense. One query."""
    rows = (
        JournalLine.objects.filter(
            account__lkmm=lkmm,
            account__kind__in=[AccountKind.INCOME, AccountKind.EXPENSE],
            entry__date__gte=datetime.date(year, 1, 1),
            entry__date__lte=datetime.date(year, 12, 31),
        )
        .exclude(entry__kind=EntryKind.YEAR_CLOSE)
        .values("account__code")
        .annotate(net=Sum("debit") - Sum("credit"))
        .order_by("account__code")
    )
    balances = {row["account__code"]: row["net"] or 0 for row in rows}
    return balances, -sum(balances.values())


def _signed():
    from savings.models import MovementKind

    return Case(When(kind=MovementKind.DEPOSIT, then=F("amount")), default=-F("amount"))


def month_end_balances(*, lkmm, year, member_ids=None):
    """{member id: [12 balances]}: each member's pokok + wajib + sukarela at each month end of `year`,
    counting movements by their date and reversals by theirs. One query."""
    from savings.models import SavingsMovement

    ends = month_ends(year)
    movements = SavingsMovement.objects.filter(lkmm=lkmm, on__lte=ends[-1])
    if member_ids is not None:
        movements = movements.filter(account__member_id__in=member_ids)
    sums = {
        f"m{k}": Coalesce(
            Sum(
                _signed(),
                filter=Q(on__lte=end) & (Q(reversed_on__isnull=True) | Q(reversed_on__gt=end)),
                output_field=BigIntegerField(),
            ),
            Value(0),
        )
        for k, end in enumerate(ends)
    }
    rows = movements.values("account__member_id").annotate(**sums).order_by()
    return {row["account__member_id"]: [row[f"m{k}"] for k in range(12)] for row in rows}


def interest_paid(*, lkmm, year):
    """{member id: interest} allocated from the member's payments valued in `year` that count at the
    year's end (a payment reversed in the year does not count), one query."""
    from loans.models import Allocation

    end = datetime.date(year, 12, 31)
    rows = (
        Allocation.objects.counting_at(end)
        .filter(repayment__lkmm=lkmm, repayment__paid_on__gte=datetime.date(year, 1, 1), interest__gt=0)
        .values("repayment__loan__member_id")
        .annotate(total=Sum("interest"))
        .order_by()
    )
    return {row["repayment__loan__member_id"]: row["total"] for row in rows}


@dataclass
class ShareRow:
    member: object
    average_savings: int
    interest_paid: int
    jasa_simpanan: int
    jasa_pinjaman: int
    settlement: str = ""
    share: object = None

    @property
    def total(self):
        return self.jasa_simpanan + self.jasa_pinjaman


@dataclass
class Preview:
    lkmm: object
    year: int
    rule: object
    result: int
    pools: dict
    rows: list = field(default_factory=list)
    reserve_total: int = 0
    shu_year: object = None

    @property
    def surplus(self):
        return self.result > 0

    @property
    def jasa_simpanan_total(self):
        return sum(r.jasa_simpanan for r in self.rows)

    @property
    def jasa_pinjaman_total(self):
        return sum(r.jasa_pinjaman for r in self.rows)

    @property
    def remainder_simpanan(self):
        return self.pools["jasa_simpanan"] - self.jasa_simpanan_total

    @property
    def remainder_pinjaman(self):
        return self.pools["jasa_pinjaman"] - self.jasa_pinjaman_total

    @property
    def members_total(self):
        return sum(r.total for r in self.rows)

    @property
    def distributed(self):
        return self.shu_year is not None and self.shu_year.distributed


def _members(lkmm, year):
    """The members of the year: admitted by its end and not gone before it began, with their leaving
    dates ({member id: date})."""
    from members.models import Member, MemberStatus, MemberStatusChange

    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    left = {
        row["member_id"]: row["at"].date()
        for row in MemberStatusChange.objects.filter(member__lkmm=lkmm, to_status=MemberStatus.KELUAR)
        .values("member_id")
        .annotate(at=Max("at"))
        .order_by()
    }
    members = [
        m
        for m in Member.objects.filter(
            lkmm=lkmm,
            joined_on__lte=end,
            status__in=[MemberStatus.AKTIF, MemberStatus.KELUAR, MemberStatus.DIBLOKIR],
        ).order_by("number")
        if not (m.status == MemberStatus.KELUAR and m.pk in left and left[m.pk] < start)
    ]
    return members, left


def preview(*, lkmm, year):
    """Every member's share of `year`'s SHU. A distributed year reads its stored shares; otherwise they
    are computed now from the year's savings and payments (the pools stored at the close, if closed)."""
    shu_year = ShuYear.objects.filter(lkmm=lkmm, year=year).select_related("rule").first()
    if shu_year is not None and shu_year.distributed:
        shares = (
            ShuShare.objects.filter(shu_year=shu_year, reversal__isnull=True)
            .select_related("member")
            .order_by("member__number")
        )
        rows = [
            ShareRow(
                s.member,
                s.average_savings,
                s.interest_paid,
                s.jasa_simpanan,
                s.jasa_pinjaman,
                s.settlement,
                s,
            )
            for s in shares
        ]
        return Preview(
            lkmm, year, shu_year.rule, shu_year.result, shu_year.pools, rows, shu_year.reserve_total, shu_year
        )
    if shu_year is not None:
        rule, result = shu_year.rule, shu_year.result
    else:
        rule, result = rule_in_force(lkmm=lkmm, year=year), year_result(lkmm=lkmm, year=year)[1]
    members, left = _members(lkmm, year)
    balances = month_end_balances(lkmm=lkmm, year=year)
    paid = interest_paid(lkmm=lkmm, year=year)
    ends = month_ends(year)
    savings = {}
    for member in members:
        months = balances.get(member.pk, [0] * 12)
        leaving = left.get(member.pk) if member.status == "keluar" else None
        # Months before joining or after leaving count as zero (DOMAIN.md).
        savings[member.pk] = sum(
            max(balance, 0)
            for balance, end in zip(months, ends, strict=True)
            if end >= member.joined_on and (leaving is None or end <= leaving)
        )
    interest = {member.pk: paid.get(member.pk, 0) for member in members}
    percents = rule.percents if rule is not None else None
    if result > 0 and percents is not None:
        pools, shares, reserve_total = divide(result, percents, savings, interest)
    else:
        pools, shares, reserve_total = dict.fromkeys(ShuRule.POOLS, 0), {}, 0
    if shu_year is not None and result > 0:
        pools = shu_year.pools
    rows = [
        ShareRow(
            member,
            # The mean of the 12 month-end balances, to the rupiah below (shares use the exact mean).
            savings[member.pk] // 12,
            interest[member.pk],
            *shares.get(member.pk, (0, 0)),
        )
        for member in members
    ]
    return Preview(lkmm, year, rule, result, pools, rows, reserve_total, shu_year)


def fund_lowest_from(*, lkmm, code, on):
    """(date, balance): the lowest end-of-day balance of the credit-normal account `code` (dana sosial)
    on `on` or later: what may still be spent from it on `on`. Two queries."""
    lines = JournalLine.objects.filter(account__lkmm=lkmm, account__code=code)
    balance = lines.filter(entry__date__lte=on).aggregate(
        b=Coalesce(Sum("credit"), 0) - Coalesce(Sum("debit"), 0)
    )["b"]
    lowest = (on, balance)
    moves = (
        lines.filter(entry__date__gt=on)
        .values("entry__date")
        .annotate(net=Sum("credit") - Sum("debit"))
        .order_by("entry__date")
    )
    for move in moves:
        balance += move["net"]
        if balance < lowest[1]:
            lowest = (move["entry__date"], balance)
    return lowest


def fund_balance(*, lkmm, code=AccountCode.DANA_SOSIAL):
    from ledger.models import Account

    account = Account.objects.filter(lkmm=lkmm, code=code).first()
    return -account.balance_derived if account is not None else 0
