"""Reads of members' savings. A member has three accounts and their movements: the passbook reads them
all (one query each for accounts and movements), whatever the member's history."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import BigIntegerField, Case, F, Min, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import translation
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah, terbilang
from members.models import MemberStatus
from savings.models import (
    LEDGER_ACCOUNT,
    MovementKind,
    SavingsAccount,
    SavingsKind,
    SavingsMovement,
    SavingsProduct,
    WajibFrequency,
)


@dataclass
class PassbookLine:
    on: object
    movement: SavingsMovement
    reversal: bool
    deposit: int
    withdrawal: int
    balance: int


@dataclass
class Passbook:
    accounts: list = field(default_factory=list)

    @property
    def total(self):
        return sum(a.balance_derived for a in self.accounts)


def _lines(movements):
    """Each movement on its date and, if reversed, its reversal on the reversal date, with the running
    balance: the passbook never hides a mistake, it shows its correction."""
    events = []
    for m in movements:
        events.append((m.on, m.receipt_no, 0, m, False))
        if m.reversed_on is not None:
            events.append((m.reversed_on, m.receipt_no, 1, m, True))
    events.sort(key=lambda e: e[:3])
    balance, lines = 0, []
    for on, _no, _order, m, reversal in events:
        signed = -m.signed if reversal else m.signed
        balance += signed
        lines.append(
            PassbookLine(
                on=on,
                movement=m,
                reversal=reversal,
                deposit=signed if signed > 0 else 0,
                withdrawal=-signed if signed < 0 else 0,
                balance=balance,
            )
        )
    return lines


def passbook(*, member):
    accounts = {a.pk: a for a in SavingsAccount.objects.filter(member=member)}
    movements = SavingsMovement.objects.filter(account__member=member).select_related("recorded_by")
    by_account = {pk: [] for pk in accounts}
    for m in movements:
        by_account[m.account_id].append(m)
    order = {kind: i for i, kind in enumerate(SavingsKind)}
    book = Passbook()
    for pk, account in sorted(accounts.items(), key=lambda item: order[item[1].kind]):
        account.lines = _lines(by_account[pk])
        book.accounts.append(account)
    return book


def balance_at(*, account, movement):
    """The account's balance right after `movement`, as it stood on its date (what its receipt shows)."""
    balance = 0
    for m in account.movements.all():
        counted = m.reversed_on is None or m.reversed_on > movement.on
        if counted and (m.on, m.receipt_no) <= (movement.on, movement.receipt_no):
            balance += m.signed
    return balance


def balances_by_member(*, member_ids):
    """{member id: {kind: balance}} for the member page and lists, one query."""
    result = {}
    for row in SavingsAccount.objects.filter(member_id__in=member_ids).values(
        "member_id", "kind", "balance_derived"
    ):
        result.setdefault(row["member_id"], {})[row["kind"]] = row["balance_derived"]
    return result


def receipt_text(*, movement, balance_after):
    """The savings receipt as a WhatsApp message, in Bahasa Indonesia for the member."""
    account = movement.account
    with translation.override(settings.LANGUAGE_CODE):
        what = _("Setoran") if movement.kind == MovementKind.DEPOSIT else _("Penarikan")
        lines = [
            _("Kuitansi %(number)s - %(lkmm)s")
            % {"number": movement.receipt_code, "lkmm": movement.lkmm.name},
            _("Tanggal: %(date)s") % {"date": movement.on.strftime("%d/%m/%Y")},
            f"{what} {account.get_kind_display().lower()}: {account.member.full_name}",
            _("Jumlah: %(amount)s") % {"amount": format_rupiah(movement.amount)},
            _("Terbilang: %(words)s") % {"words": terbilang(movement.amount)},
            _("Saldo %(kind)s: %(amount)s")
            % {"kind": account.get_kind_display().lower(), "amount": format_rupiah(balance_after)},
            _("Terima kasih."),
        ]
    return "\n".join(lines)


# --- reports ---------------------------------------------------------------------------------------------
#
# A balance at a date is the sum of the movements dated on or before it that were not reversed as of that
# date: a movement reversed later (reversed_on after the date) still counts, as it did that day (the
# passbook's running balance, check_books' comparison with the simpanan accounts).

KINDS = (SavingsKind.POKOK, SavingsKind.WAJIB, SavingsKind.SUKARELA)


def counting_at(at):
    """The movements that make up the balances at the end of `at`."""
    return Q(on__lte=at) & (Q(reversed_on__isnull=True) | Q(reversed_on__gt=at))


def _signed_sum(kind=None, prefix=""):
    """Sum of deposits less withdrawals (of one kind of savings when `kind` is given), zero when none."""
    condition = Q(**{f"{prefix}kind": kind}) if kind else Q()
    return Coalesce(
        Sum(
            Case(
                When(condition & Q(kind=MovementKind.DEPOSIT), then=F("amount")),
                When(condition & Q(kind=MovementKind.WITHDRAWAL), then=-F("amount")),
                default=Value(0),
                output_field=BigIntegerField(),
            )
        ),
        Value(0),
        output_field=BigIntegerField(),
    )


@dataclass
class BalanceRow:
    member_id: int
    code: str
    full_name: str
    nik: str
    pokok: int
    wajib: int
    sukarela: int

    @property
    def total(self):
        return self.pokok + self.wajib + self.sukarela


@dataclass
class BalancesReport:
    at: object
    rows: list
    totals: dict  # kind -> sum of the rows, and "total"
    ledger: dict  # kind -> the simpanan account's balance at `at`, and "total"

    @property
    def matches(self):
        return all(self.totals[k] == self.ledger[k] for k in (*KINDS, "total"))


def balances_report(*, lkmm, at):
    """Every member of the LKMM with a savings movement by `at`: their pokok, wajib and sukarela balances
    at the end of `at`, ordered by member number; the totals (the sums of those rows); and the simpanan
    accounts' balances at `at` from the journal, beside them as a check. Two queries, whatever the
    number of members: one GROUP BY over the movements, one over the journal lines."""
    rows = (
        SavingsMovement.objects.filter(counting_at(at), lkmm=lkmm)
        .order_by()
        .values("account__member_id", "account__member__number", "account__member__full_name")
        .annotate(
            nik=Min("account__member__nik"),
            **{kind.value: _signed_sum(kind, prefix="account__") for kind in KINDS},
        )
        .order_by("account__member__number")
    )
    result = [
        BalanceRow(
            member_id=row["account__member_id"],
            code=f"A-{row['account__member__number']:04d}",
            full_name=row["account__member__full_name"],
            nik=row["nik"],
            **{kind.value: row[kind.value] for kind in KINDS},
        )
        for row in rows
    ]
    totals = {kind.value: sum(getattr(r, kind.value) for r in result) for kind in KINDS}
    totals["total"] = sum(totals.values())
    return BalancesReport(at=at, rows=result, totals=totals, ledger=ledger_balances(lkmm=lkmm, at=at))


def ledger_balances(*, lkmm, at):
    """{kind: balance of its simpanan account (credit - debit) at the end of `at`, "total": their sum}."""
    from ledger.models import JournalLine

    by_code = dict(
        JournalLine.objects.filter(
            account__lkmm=lkmm, account__code__in=list(LEDGER_ACCOUNT.values()), entry__date__lte=at
        )
        .order_by()
        .values("account__code")
        .annotate(balance=Coalesce(Sum("credit"), 0) - Coalesce(Sum("debit"), 0))
        .values_list("account__code", "balance")
    )
    result = {kind.value: by_code.get(LEDGER_ACCOUNT[kind], 0) for kind in KINDS}
    result["total"] = sum(result.values())
    return result


@dataclass
class PeriodLine:
    """A deposit or a withdrawal in the period; `reversal` marks the line of its reversal (dated the
    reversal date). A reversal stays in its movement's column with the amount negative, so that each
    column's total is what was really paid in or out and is the sum of the lines printed."""

    on: object
    movement: SavingsMovement
    reversal: bool

    @property
    def amount(self):
        return -self.movement.amount if self.reversal else self.movement.amount

    @property
    def deposit(self):
        return self.amount if self.movement.kind == MovementKind.DEPOSIT else 0

    @property
    def withdrawal(self):
        return self.amount if self.movement.kind == MovementKind.WITHDRAWAL else 0


@dataclass
class MovementsReport:
    start: object
    end: object
    lines: list
    totals: dict  # kind -> {"deposit", "withdrawal", "net"}, and "total"


def movements_report(*, lkmm, start, end):
    """The LKMM's deposits and withdrawals dated from `start` to `end` and the reversals dated in it, in
    date then kuitansi order, each with its member; and per kind of savings the deposits, withdrawals
    and the net (reversals count against the side they undo). One query, whatever the number of lines."""
    movements = (
        SavingsMovement.objects.filter(lkmm=lkmm)
        .filter(Q(on__range=(start, end)) | Q(reversed_on__range=(start, end)))
        .select_related("account__member")
        .order_by("on", "receipt_no")
    )
    lines = []
    for m in movements:
        if start <= m.on <= end:
            lines.append(PeriodLine(m.on, m, False))
        if m.reversed_on is not None and start <= m.reversed_on <= end:
            lines.append(PeriodLine(m.reversed_on, m, True))
    lines.sort(key=lambda line: (line.on, line.movement.receipt_no, line.reversal))
    totals = {kind.value: {"deposit": 0, "withdrawal": 0} for kind in KINDS}
    for line in lines:
        totals[line.movement.account.kind]["deposit"] += line.deposit
        totals[line.movement.account.kind]["withdrawal"] += line.withdrawal
    for kind in KINDS:
        totals[kind.value]["net"] = totals[kind.value]["deposit"] - totals[kind.value]["withdrawal"]
    totals["total"] = {
        key: sum(totals[kind.value][key] for kind in KINDS) for key in ("deposit", "withdrawal", "net")
    }
    return MovementsReport(start=start, end=end, lines=lines, totals=totals)


def savings_totals(*, lkmm_ids, at):
    """{lkmm id: {"pokok", "wajib", "sukarela", "total", "savers"}} at the end of `at` for the Dinas
    pages: the members' balances summed per LKMM and the number of members with a balance above zero.
    One query whatever the number of LKMMs and members (LKMMs without savings are left out)."""
    per_member = (
        SavingsMovement.objects.filter(counting_at(at), lkmm_id__in=lkmm_ids)
        .order_by()
        .values("lkmm_id", "account__member_id")
        .annotate(**{kind.value: _signed_sum(kind, prefix="account__") for kind in KINDS})
    )
    result = {}
    for row in per_member:
        totals = result.setdefault(row["lkmm_id"], {**{k.value: 0 for k in KINDS}, "total": 0, "savers": 0})
        member_total = 0
        for kind in KINDS:
            totals[kind.value] += row[kind.value]
            member_total += row[kind.value]
        totals["total"] += member_total
        totals["savers"] += member_total > 0
    return result


# --- wajib owed ------------------------------------------------------------------------------------------
#
# A missed simpanan wajib is owed by the member to their own savings (DOMAIN.md), never loan arrears: it is
# shown beside the loans (collection sheet, member page, passbook) and never enters the loans' tunggakan,
# PAR or class.


def wajib_periods(*, frequency, opened_on, through):
    """How many wajib periods have fallen due on an account opened on `opened_on` by the end of `through`
    (0 before `opened_on`).

    Weekly: the week of opening counts, and another falls due on every 7th day after `opened_on`
    (opened 01/01: 1 period from 01/01 to 07/01, 2 from 08/01, 3 from 15/01). Monthly: the calendar
    month of opening counts, and another falls due on the 1st of each later month (opened 20/01: 1 in
    January, 2 from 01/02)."""
    if through < opened_on:
        return 0
    if frequency == WajibFrequency.MONTHLY:
        return (through.year - opened_on.year) * 12 + through.month - opened_on.month + 1
    return (through - opened_on).days // 7 + 1


def wajib_deposited(at):
    """SavingsAccount annotation: the account's deposits dated by `at` and not reversed as of `at`.
    Withdrawals are left out: a wajib paid back (a member leaving) never turns into an arrear."""
    counting = Q(movements__kind=MovementKind.DEPOSIT, movements__on__lte=at) & (
        Q(movements__reversed_on__isnull=True) | Q(movements__reversed_on__gt=at)
    )
    return Coalesce(Sum("movements__amount", filter=counting), Value(0), output_field=BigIntegerField())


@dataclass(frozen=True)
class WajibRule:
    amount: int
    frequency: str

    def periods(self, *, opened_on, through):
        return wajib_periods(frequency=self.frequency, opened_on=opened_on, through=through)

    def owed(self, *, opened_on, deposited, through):
        """What the member still owes on the account at the end of `through`, never below 0."""
        return max(0, self.amount * self.periods(opened_on=opened_on, through=through) - deposited)

    def at_meeting(self, *, opened_on, deposited, on):
        """(owed before the meeting, due at the meeting) on a meeting dated `on`, where `deposited` is
        what counted at the end of the day before. The meeting collects the period it falls in (an
        account opened after it: its first); the periods before it that deposits have not covered are
        owed before the meeting. Deposits cover the oldest periods first, so a member paid ahead owes
        nothing at the meeting; the two add up to everything owed up to the meeting's period."""
        periods = max(1, self.periods(opened_on=opened_on, through=on))
        owed = max(0, self.amount * periods - deposited)
        due = min(self.amount, owed)
        return owed - due, due


def wajib_rule(*, lkmm):
    """The LKMM's wajib amount and frequency (one query; the defaults until its products are set)."""
    from savings.services import DEFAULT_AMOUNTS

    row = (
        SavingsProduct.objects.filter(lkmm=lkmm, kind=SavingsKind.WAJIB).values("amount", "frequency").first()
    )
    if row is None:
        return WajibRule(amount=DEFAULT_AMOUNTS[SavingsKind.WAJIB], frequency=WajibFrequency.WEEKLY)
    return WajibRule(**row)


def wajib_accounts(*, lkmm, opened_by):
    """The LKMM's wajib accounts of active members opened by `opened_by`: a member who left or was
    blocked owes no wajib."""
    return SavingsAccount.objects.filter(
        lkmm=lkmm, kind=SavingsKind.WAJIB, member__status=MemberStatus.AKTIF, opened_on__lte=opened_by
    ).order_by()


def wajib_owed(*, lkmm, at, member_ids=None):
    """{member id: wajib owed at the end of `at`} for the LKMM's active members (of `member_ids` when
    given) who have a wajib account opened by then: the LKMM's current wajib amount x the periods due
    since the account was opened, up to and including `at` (wajib_periods), less the wajib deposits
    that count at `at` (reversed ones do not, withdrawals are not subtracted), never below 0.

    The current amount applies to every period, also those before the ketua last changed it: the
    simplest rule a member can check with a pencil; a change of amount is rare and announced at the
    members' meeting. One query whatever the number of members: the accounts with their deposits
    summed and the LKMM's wajib product beside them."""
    from savings.services import DEFAULT_AMOUNTS

    product = SavingsProduct.objects.filter(lkmm=OuterRef("lkmm"), kind=SavingsKind.WAJIB)
    accounts = wajib_accounts(lkmm=lkmm, opened_by=at).annotate(
        deposited=wajib_deposited(at),
        wajib_amount=Subquery(product.values("amount")[:1]),
        wajib_frequency=Subquery(product.values("frequency")[:1]),
    )
    if member_ids is not None:
        accounts = accounts.filter(member_id__in=member_ids)
    result = {}
    for row in accounts.values("member_id", "opened_on", "deposited", "wajib_amount", "wajib_frequency"):
        rule = WajibRule(
            amount=DEFAULT_AMOUNTS[SavingsKind.WAJIB] if row["wajib_amount"] is None else row["wajib_amount"],
            frequency=row["wajib_frequency"] or WajibFrequency.WEEKLY,
        )
        owed = rule.owed(opened_on=row["opened_on"], deposited=row["deposited"], through=at)
        result[row["member_id"]] = owed
    return result
