"""The collection sheet (lembar tagihan): what each active loan owes by the end of a period, and the one
transaction that records a whole meeting's payments.

A sheet is read at one date `at` = the end of the period, or today when the period has not ended: the
payments that count are those that count at `at` (DOMAIN.md), the late fees and days past due are
those at `at`. For each loan, "due by the end of the period" is the unpaid principal and interest of
its installments due on or before the end date, split into arrears (due before the period starts) and
the installments due in the period, plus the late fees owed at `at`.

Savings are taken at the same meeting (issue 13): the sheet has one row per member (collection_rows), with
each active loan's due and the wajib due, and one save records every member's installments and deposits
(collection_record). The wajib due is the LKMM's wajib amount for the period the meeting falls in (a
weekly meeting or a month, savings.SavingsProduct), unless deposits already cover it; a wajib missed
before the meeting is shown beside it as "Wajib tertunggak" (savings.selectors.WajibRule.at_meeting). It
is owed to the member's own savings, never loan arrears: it is not added to the loan's "Jumlah tagihan",
its tunggakan, PAR or class. All of one member's lines of one save carry one kuitansi number.
"""

import dataclasses
import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from loans.models import Allocation, Installment, Loan, LoanStatus, Waiver
from loans.services import repayment_record
from members.models import Member, MemberStatus
from savings.models import SavingsKind
from savings.selectors import wajib_accounts, wajib_deposited, wajib_rule
from savings.services import savings_deposit

# The savings a member deposits on the sheet, in the order of their inputs and of the receipt's lines.
SHEET_SAVINGS = (SavingsKind.WAJIB, SavingsKind.SUKARELA)

# A sheet is for a meeting or a week or two; a month at most keeps the page and its query small.
MAX_PERIOD_DAYS = 31


@dataclasses.dataclass
class Line:
    loan: Loan
    arrears: int  # unpaid principal + interest of installments past due (due before the period and today)
    due_in_period: int  # unpaid principal + interest of installments due in the period
    late_fees: int
    payoff: int  # what settles the loan at `at` (the early-payoff amount where the product waives)
    first_seq: int | None  # the installments due in the period, for the "ke-3" label
    last_seq: int | None
    first_due: datetime.date | None

    @property
    def amount_due(self):
        return self.arrears + self.due_in_period + self.late_fees

    @property
    def days_past_due(self):
        return self.loan.days_past_due


@dataclasses.dataclass
class Row:
    """One member on the sheet: their active loans' lines (none for a member who only saves), the
    wajib due at this meeting and the wajib owed from before it (both 0 where the member may not
    deposit: not an active member)."""

    member: Member
    lines: list
    wajib_due: int
    saves: bool  # an active member: the wajib and sukarela inputs are shown
    wajib_owed: int = 0  # wajib tertunggak: earlier periods' wajib not deposited before the meeting

    @property
    def amount_due(self):
        return sum(line.amount_due for line in self.lines)

    @property
    def days_past_due(self):
        return max((line.days_past_due or 0 for line in self.lines), default=0)

    @property
    def has_error(self):
        """Whether an input of the row was refused (the form sets `inputs`, its bound fields)."""
        return any(field.errors for field in getattr(self, "inputs", ()))

    @property
    def total_due(self):
        """The installments and fees due plus this meeting's wajib (the wajib owed from before the meeting
        is shown beside it, wajib_owed)."""
        return self.amount_due + self.wajib_due


def sheet_date(*, end):
    return min(end, timezone.localdate())


def _windows(prefix, *, start, end, at):
    """Installments due before the period, in it, and not yet due at `at` (`prefix` reaches the
    installment from the queried model)."""
    due = f"{prefix}due_date"
    return (
        Q(**{f"{due}__lt": start}),
        Q(**{f"{due}__gte": start, f"{due}__lte": end}),
        Q(**{f"{due}__gt": at}),
    )


def _per_loan(queryset, loan_field, **sums):
    return {row.pop(loan_field): row for row in queryset.values(loan_field).annotate(**sums)}


def collection_lines(*, loans, start, end):
    """One Line per active loan in `loans` (a Loan queryset, already scoped), by member name.

    Four queries whatever the number of loans: the loans with their standing (LoanQuerySet.with_standing),
    then the installments, the payments that count and the waived interest, each summed per loan.
    """
    at = sheet_date(end=end)
    # A loan paid out after the period has nothing on this sheet.
    active = loans.filter(status=LoanStatus.AKTIF, disbursed_on__lte=end)
    rows = list(
        active.with_standing(at).select_related("member").order_by("member__full_name", "member_id", "number")
    )
    ids = [loan.pk for loan in rows]
    if not ids:
        return []
    # Arrears are what is past due at `at`: for a meeting still ahead, an installment due between today
    # and the meeting is owed at the meeting, not in arrears.
    start = min(start, at)
    before, within, future = _windows("", start=start, end=end, at=at)
    total = F("principal") + F("interest")
    scheduled = _per_loan(
        Installment.objects.filter(loan__in=ids),
        "loan",
        arrears=Sum(total, filter=before),
        period=Sum(total, filter=within),
        all=Sum(total),
        future_interest=Sum("interest", filter=future),
        first_seq=Min("seq", filter=within),
        last_seq=Max("seq", filter=within),
        first_due=Min("due_date", filter=within),
    )
    before, within, future = _windows("installment__", start=start, end=end, at=at)
    paid = _per_loan(
        Allocation.objects.counting_at(at).filter(installment__loan__in=ids),
        "installment__loan",
        arrears=Sum(total, filter=before),
        period=Sum(total, filter=within),
        all=Sum(total),
        future_interest=Sum("interest", filter=future),
    )
    waived = _per_loan(
        Waiver.objects.filter(loan__in=ids, on__lte=at),
        "loan",
        arrears=Sum("interest", filter=before),
        period=Sum("interest", filter=within),
        all=Sum("interest"),
        future_interest=Sum("interest", filter=future),
    )

    lines = []
    for loan in rows:
        s, p, w = scheduled[loan.pk], paid.get(loan.pk, {}), waived.get(loan.pk, {})

        def unpaid(key, s=s, p=p, w=w):
            return (s[key] or 0) - (p.get(key) or 0) - (w.get(key) or 0)

        payoff = unpaid("all") + loan.overdue_fees
        if loan.waive_interest_on_payoff:
            payoff -= unpaid("future_interest")
        lines.append(
            Line(
                loan=loan,
                arrears=unpaid("arrears"),
                due_in_period=unpaid("period"),
                late_fees=loan.overdue_fees,
                payoff=payoff,
                first_seq=s["first_seq"],
                last_seq=s["last_seq"],
                first_due=s["first_due"],
            )
        )
    return lines


def collection_rows(*, lkmm, loans, members, start, end):
    """One Row per member of `members` (a Member queryset, already scoped) who has an active loan in
    `loans` or an open wajib account, by name.

    The wajib of the meeting on `start` (WajibRule.at_meeting): the deposits that count at the end of the
    day before it, so the sheet printed before the meeting and the one read after it show the same.
    Six queries whatever the number of members: collection_lines' four, the wajib product and the wajib
    accounts with their members and deposits summed.
    """
    lines = collection_lines(loans=loans, start=start, end=end)
    rule = wajib_rule(lkmm=lkmm)
    accounts = {
        account.member_id: account
        for account in wajib_accounts(lkmm=lkmm, opened_by=end)
        .filter(member__in=members)
        .annotate(deposited_before=wajib_deposited(start - datetime.timedelta(days=1)))
        .select_related("member")
    }
    by_member = {}
    for line in lines:
        by_member.setdefault(line.loan.member_id, (line.loan.member, []))[1].append(line)
    for member_id, account in accounts.items():
        by_member.setdefault(member_id, (account.member, []))
    rows = []
    for member_id, (member, member_lines) in by_member.items():
        account = accounts.get(member_id)
        # A borrower who is an active member saves too (savings_deposit opens a missing account, so
        # this meeting is its first period).
        saves = account is not None or member.status == MemberStatus.AKTIF
        owed, due = 0, 0
        if account is not None:
            owed, due = rule.at_meeting(
                opened_on=account.opened_on, deposited=account.deposited_before, on=start
            )
        elif saves:
            due = rule.amount
        rows.append(Row(member=member, lines=member_lines, wajib_due=due, saves=saves, wajib_owed=owed))
    rows.sort(key=lambda row: (row.member.full_name, row.member.pk))
    return rows


def line_token(sheet_token, loan_id):
    """The token of one loan's payment on a sheet: the same sheet never records a loan's payment twice."""
    return uuid.uuid5(sheet_token, str(loan_id))


def savings_token(sheet_token, member_id, kind):
    """The token of one member's deposit of `kind` on a sheet: never recorded twice either."""
    return uuid.uuid5(sheet_token, f"{kind}:{member_id}")


@dataclasses.dataclass
class Saved:
    """What one sheet save recorded, in the sheet's order."""

    repayments: list
    movements: list

    @property
    def total(self):
        return sum(r.amount for r in self.repayments) + sum(m.amount for m in self.movements)

    @property
    def receipts(self):
        return len({r.receipt_no for r in self.repayments} | {m.receipt_no for m in self.movements})


@transaction.atomic
def collection_record(*, lkmm, actor, paid_on, amounts, token, savings=None):
    """Record a meeting's payments and deposits in one transaction; returns a Saved.

    `amounts`: {loan id: amount}; `savings`: {member id: {"wajib": amount, "sukarela": amount}}. Each
    payment goes through loans.services.repayment_record, each deposit through
    savings.services.savings_deposit; all of one member's lines share one kuitansi number (the first
    line takes the next of the LKMM's sequence). If any line is refused, nothing is saved: the
    ValidationError raised maps each refused loan's id, or (kind, member id) for a deposit, to its
    messages. The same sheet token records nothing twice (line_token, savings_token).
    """
    amounts = {loan_id: amount for loan_id, amount in amounts.items() if amount}
    savings = {
        member_id: {kind: amount for kind, amount in kinds.items() if amount}
        for member_id, kinds in (savings or {}).items()
    }
    savings = {member_id: kinds for member_id, kinds in savings.items() if kinds}
    # Lock every loan first, in one order, before repayment_record locks the LKMM: a sheet and a single
    # payment form recording at the same time then wait for each other instead of deadlocking.
    loans = {
        loan.pk: loan
        for loan in Loan.objects.select_for_update()
        .filter(lkmm=lkmm, pk__in=amounts)
        .select_related("member")
        .order_by("pk")
    }
    members = {loan.member_id: loan.member for loan in loans.values()}
    members.update(Member.objects.filter(lkmm=lkmm, pk__in=set(savings) - set(members)).in_bulk())
    errors = {}
    for loan_id in amounts:
        if loan_id not in loans:
            errors[loan_id] = [_("Pinjaman ini bukan milik LKMM ini.")]
    for member_id, kinds in savings.items():
        if member_id not in members:
            for kind in kinds:
                errors[kind, member_id] = [_("Anggota ini bukan anggota LKMM ini.")]
    saved = Saved(repayments=[], movements=[])
    # Member by member in the sheet's order (name), so the receipt numbers follow the printed sheet; a
    # member's loans in the order given.
    for member in sorted(members.values(), key=lambda m: (m.full_name, m.pk)):
        receipt_no = None
        for loan_id in amounts:
            loan = loans.get(loan_id)
            if loan is None or loan.member_id != member.pk:
                continue
            try:
                # repayment_record is atomic itself: a refused line rolls back to its savepoint only,
                # so the other lines can still be checked and every error shown at once.
                repayment = repayment_record(
                    loan=loan,
                    amount=amounts[loan_id],
                    paid_on=paid_on,
                    actor=actor,
                    token=line_token(token, loan_id),
                    receipt_no=receipt_no,
                )
            except ValidationError as exc:
                errors[loan_id] = exc.messages
            else:
                saved.repayments.append(repayment)
                # A line this sheet token recorded before on another date keeps its own number alone.
                if repayment.paid_on == paid_on:
                    receipt_no = receipt_no or repayment.receipt_no
        for kind in SHEET_SAVINGS:
            amount = savings.get(member.pk, {}).get(kind)
            if not amount:
                continue
            try:
                movement = savings_deposit(
                    member=member,
                    kind=kind,
                    amount=amount,
                    on=paid_on,
                    actor=actor,
                    token=savings_token(token, member.pk, kind),
                    receipt_no=receipt_no,
                )
            except ValidationError as exc:
                errors[kind, member.pk] = exc.messages
            else:
                saved.movements.append(movement)
                if movement.on == paid_on:
                    receipt_no = receipt_no or movement.receipt_no
    if errors:
        raise ValidationError({key: ValidationError(messages) for key, messages in errors.items()})
    return saved
