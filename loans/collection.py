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

from institutions.models import Lkmm
from institutions.services import audit_records
from ledger.services import entries_post, next_receipt_no
from loans import standing
from loans.models import Allocation, Installment, Loan, LoanStatus, Repayment, Waiver
from loans.services import (
    repayment_audit_row,
    repayment_entry,
    repayment_plan,
    repayment_record,
    repayments_save,
)
from members.models import Member, MemberStatus
from savings.models import SavingsKind, SavingsMovement
from savings.selectors import wajib_accounts, wajib_deposited, wajib_rule
from savings.services import (
    deposit_audit_row,
    deposit_entry,
    deposit_plan,
    deposits_accounts,
    deposits_save,
    savings_deposit,
)

# The savings a member deposits on the sheet, in the order of their inputs and of the receipt's lines.
SHEET_SAVINGS = (SavingsKind.WAJIB, SavingsKind.SUKARELA)

# A sheet is for a meeting or a week or two; a month at most keeps the page and its query small.
MAX_PERIOD_DAYS = 31


# What a sheet reads of each loan and its member besides the standing, and of each wajib account's member:
# the loan and member tables are wide, and building every column of both for each row cost a 25-member
# sheet about a tenth of its time.
SAVER_FIELDS = ("member__full_name", "member__status")
SHEET_FIELDS = ("number", "member_id", "waive_interest_on_payoff", *SAVER_FIELDS)


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

    A fixed number of queries whatever the number of loans: the loans with their standing
    (LoanQuerySet.with_standing), then what is unpaid of their installments, summed per loan: from the
    installments' kept columns for a sheet read today or later (one query, unpaid_kept), else from the
    schedule, the payments that count and the waived interest (three, unpaid_history).
    """
    at = sheet_date(end=end)
    # A loan paid out after the period has nothing on this sheet.
    active = loans.filter(status=LoanStatus.AKTIF, disbursed_on__lte=end)
    rows = list(
        active.with_standing(at)
        .select_related("member")
        .only(*SHEET_FIELDS)
        .order_by("member__full_name", "member_id", "number")
    )
    ids = [loan.pk for loan in rows]
    if not ids:
        return []
    # Arrears are what is past due at `at`: for a meeting still ahead, an installment due between today
    # and the meeting is owed at the meeting, not in arrears.
    start = min(start, at)
    if at >= timezone.localdate():
        unpaid_by_loan = unpaid_kept(ids, start=start, end=end, at=at)
    else:
        unpaid_by_loan = unpaid_history(ids, start=start, end=end, at=at)

    lines = []
    for loan in rows:
        unpaid = unpaid_by_loan[loan.pk]
        payoff = unpaid["all"] + loan.overdue_fees
        if loan.waive_interest_on_payoff:
            payoff -= unpaid["future_interest"]
        lines.append(
            Line(
                loan=loan,
                arrears=unpaid["arrears"],
                due_in_period=unpaid["period"],
                late_fees=loan.overdue_fees,
                payoff=payoff,
                first_seq=unpaid["first_seq"],
                last_seq=unpaid["last_seq"],
                first_due=unpaid["first_due"],
            )
        )
    return lines


UNPAID_KEYS = ("arrears", "period", "all", "future_interest")


def _installments_in_period(start, end):
    within = _windows("", start=start, end=end, at=end)[1]
    return {
        "first_seq": Min("seq", filter=within),
        "last_seq": Max("seq", filter=within),
        "first_due": Min("due_date", filter=within),
    }


def _summed(queryset, loan_field, windows, *, amount, interest, **more):
    """Per loan: `amount` of the installments due before the period, in it and all of them, and
    `interest` of those not yet due (the windows of _windows), with `more` aggregates."""
    before, within, future = windows
    return _per_loan(
        queryset,
        loan_field,
        arrears=Sum(amount, filter=before),
        period=Sum(amount, filter=within),
        all=Sum(amount),
        future_interest=Sum(interest, filter=future),
        **more,
    )


def unpaid_kept(ids, *, start, end, at):
    """{loan id: {arrears, period, all, future_interest, first_seq, last_seq, first_due}} from the
    installments' kept columns (what is paid and waived of each), in one query: valid from today on,
    when every event of every loan lies on or before `at` (as LoanQuerySet.with_standing reads them)."""
    unpaid_interest = F("interest") - F("interest_paid_derived") - F("interest_waived_derived")
    found = _summed(
        Installment.objects.filter(loan__in=ids),
        "loan",
        _windows("", start=start, end=end, at=at),
        amount=F("principal") - F("principal_paid_derived") + unpaid_interest,
        interest=unpaid_interest,
        **_installments_in_period(start, end),
    )
    for row in found.values():
        for key in UNPAID_KEYS:
            row[key] = row[key] or 0
    return found


def unpaid_history(ids, *, start, end, at):
    """The same as unpaid_kept at any date: the schedule less the payments that count at `at`
    (AllocationQuerySet.counting_at) and the interest waived by then, each summed per loan (three
    queries)."""
    total = F("principal") + F("interest")
    scheduled = _summed(
        Installment.objects.filter(loan__in=ids),
        "loan",
        _windows("", start=start, end=end, at=at),
        amount=total,
        interest="interest",
        **_installments_in_period(start, end),
    )
    paid = _summed(
        Allocation.objects.counting_at(at).filter(installment__loan__in=ids),
        "installment__loan",
        _windows("installment__", start=start, end=end, at=at),
        amount=total,
        interest="interest",
    )
    waived = _summed(
        Waiver.objects.filter(loan__in=ids, on__lte=at),
        "loan",
        _windows("installment__", start=start, end=end, at=at),
        amount="interest",
        interest="interest",
    )
    for loan_id, row in scheduled.items():
        p, w = paid.get(loan_id, {}), waived.get(loan_id, {})
        for key in UNPAID_KEYS:
            row[key] = (row[key] or 0) - (p.get(key) or 0) - (w.get(key) or 0)
    return scheduled


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
        .only("member_id", "opened_on", *SAVER_FIELDS)
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
    # Refused lines: {loan id or (kind, member id): messages}; collection_record raises them.
    errors: dict = dataclasses.field(default_factory=dict)

    @property
    def total(self):
        return sum(r.amount for r in self.repayments) + sum(m.amount for m in self.movements)

    @property
    def receipts(self):
        return len({r.receipt_no for r in self.repayments} | {m.receipt_no for m in self.movements})


@transaction.atomic
def collection_record(*, lkmm, actor, paid_on, amounts, token, savings=None):
    """Record a meeting's payments and deposits in one transaction; returns a Saved.

    `amounts`: {loan id: amount}; `savings`: {member id: {"wajib": amount, "sukarela": amount}}. All of
    one member's lines share one kuitansi number, taken member by member in the sheet's order (name). If
    any line is refused, nothing is saved: the ValidationError raised maps each refused loan's id, or
    (kind, member id) for a deposit, to its messages. The same sheet token records nothing twice
    (line_token, savings_token).

    The usual lines are recorded in bulk (_record_in_bulk), in a number of queries that does not grow
    with them: payments dated after everything their loan's kept standing holds that leave the loan
    active, and deposits into open accounts. Every other line (a back-dated payment, one that settles
    the loan, early or not, a deposit into an account still to be opened) goes through
    loans.services.repayment_record or savings.services.savings_deposit, in the same transaction, and
    so does a whole sheet submitted again (_record_line_by_line).
    """
    amounts = {loan_id: amount for loan_id, amount in amounts.items() if amount}
    savings = {
        member_id: {kind: amount for kind, amount in kinds.items() if amount}
        for member_id, kinds in (savings or {}).items()
    }
    savings = {member_id: kinds for member_id, kinds in savings.items() if kinds}
    # Lock every loan first, in one order, before the LKMM: a sheet and a single payment form recording
    # at the same time then wait for each other instead of deadlocking.
    loans = {
        loan.pk: loan
        for loan in Loan.objects.select_for_update()
        .filter(lkmm=lkmm, pk__in=amounts)
        .select_related("lkmm", "member")
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
    # Member by member in the sheet's order (name), so the receipt numbers follow the printed sheet; a
    # member's loans in the order given, then the wajib and the sukarela.
    sheet = []
    for member in sorted(members.values(), key=lambda m: (m.full_name, m.pk)):
        lines = [loans[loan_id] for loan_id in amounts if loan_id in loans]
        lines = [loan for loan in lines if loan.member_id == member.pk]
        kinds = [kind for kind in SHEET_SAVINGS if savings.get(member.pk, {}).get(kind)]
        sheet.append((member, lines, kinds))
    record = _record_in_bulk
    if _recorded_before(sheet, token=token):
        record = _record_line_by_line
    saved = record(
        lkmm=lkmm, actor=actor, paid_on=paid_on, amounts=amounts, savings=savings, token=token, sheet=sheet
    )
    errors.update(saved.errors)
    if errors:
        raise ValidationError({key: ValidationError(messages) for key, messages in errors.items()})
    return saved


def _recorded_before(sheet, *, token):
    """Whether a line of this sheet was recorded already (the same sheet submitted again). Two queries."""
    loan_tokens = [line_token(token, loan.pk) for _member, lines, _kinds in sheet for loan in lines]
    savings_tokens = [
        savings_token(token, member.pk, kind) for member, _lines, kinds in sheet for kind in kinds
    ]
    return (bool(loan_tokens) and Repayment.objects.filter(token__in=loan_tokens).exists()) or (
        bool(savings_tokens) and SavingsMovement.objects.filter(token__in=savings_tokens).exists()
    )


def _record_in_bulk(*, lkmm, actor, paid_on, amounts, savings, token, sheet):
    """Plan every line in memory from what is read once for all of them (the LKMM's lock, the savings
    accounts and products, the open installments, the next kuitansi number), then write the usual ones
    together: repayments, allocations and kept standing, movements and balances, journal entries
    numbered in the sheet's order with their lines, account balances and kas day, and the audit rows.
    The lines that are not usual follow through the per-line services, with the kuitansi number their
    member was given. A refused line stops the bulk writes, the other lines are still checked (every
    error shows at once), and collection_record's raising rolls back whatever was written."""
    saved = Saved(repayments=[], movements=[])
    if not any(lines or kinds for _member, lines, kinds in sheet):
        return saved
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    wanted = {(member.pk, kind) for member, _lines, kinds in sheet for kind in kinds}
    accounts, products = deposits_accounts(lkmm=lkmm, actor=actor, wanted=wanted) if wanted else ({}, {})
    forward = [
        loan for _member, lines, _kinds in sheet for loan in lines if standing.is_forward(loan, paid_on)
    ]
    opened = standing.open_positions(forward)
    receipt_no = next_receipt_no(lkmm=lkmm)
    planned, by_hand, results = [], [], {}
    for member, lines, kinds in sheet:
        if not (lines or kinds):
            continue
        for loan in lines:
            try:
                plan = repayment_plan(
                    lkmm=lkmm,
                    loan=loan,
                    amount=amounts[loan.pk],
                    paid_on=paid_on,
                    opened=opened.get(loan.pk),
                    actor=actor,
                    receipt_no=receipt_no,
                    token=line_token(token, loan.pk),
                )
            except ValidationError as exc:
                saved.errors[loan.pk] = exc.messages
                continue
            if plan is None:
                by_hand.append((member, loan, None, receipt_no))
            else:
                planned.append(plan)
                results[loan.pk] = plan.repayment
        for kind in kinds:
            account = accounts.get((member.pk, kind))
            if account is None:
                by_hand.append((member, None, kind, receipt_no))
                continue
            try:
                movement = deposit_plan(
                    lkmm=lkmm,
                    account=account,
                    product=products[kind],
                    amount=savings[member.pk][kind],
                    on=paid_on,
                    actor=actor,
                    receipt_no=receipt_no,
                    token=savings_token(token, member.pk, kind),
                )
            except ValidationError as exc:
                saved.errors[kind, member.pk] = exc.messages
                continue
            planned.append(movement)
            results[kind, member.pk] = movement
        receipt_no += 1
    if not saved.errors:
        repayments_save([item for item in planned if not isinstance(item, SavingsMovement)])
        deposits_save([item for item in planned if isinstance(item, SavingsMovement)])
        entries, rows = [], []
        for item in planned:
            if isinstance(item, SavingsMovement):
                entries.append(deposit_entry(item))
                rows.append(deposit_audit_row(item, actor=actor))
            else:
                entries.append(repayment_entry(item))
                rows.append(repayment_audit_row(item, actor=actor))
        entries_post(lkmm=lkmm, actor=actor, entries=entries)
        audit_records(rows)
    for member, loan, kind, number in by_hand:
        key = loan.pk if loan is not None else (kind, member.pk)
        try:
            results[key] = _record_line(
                member=member,
                loan=loan,
                kind=kind,
                amounts=amounts,
                savings=savings,
                paid_on=paid_on,
                actor=actor,
                token=token,
                receipt_no=number,
            )
        except ValidationError as exc:
            saved.errors[key] = exc.messages
    for member, lines, kinds in sheet:
        saved.repayments += [results[loan.pk] for loan in lines if loan.pk in results]
        saved.movements += [results[kind, member.pk] for kind in kinds if (kind, member.pk) in results]
    return saved


def _record_line(*, member, loan, kind, amounts, savings, paid_on, actor, token, receipt_no):
    """One line through its per-line service: a payment of `loan`, or else a deposit of `kind`. Each
    service is atomic itself: a refused line rolls back to its savepoint only, so the other lines can
    still be checked."""
    if loan is not None:
        return repayment_record(
            loan=loan,
            amount=amounts[loan.pk],
            paid_on=paid_on,
            actor=actor,
            token=line_token(token, loan.pk),
            receipt_no=receipt_no,
        )
    return savings_deposit(
        member=member,
        kind=kind,
        amount=savings[member.pk][kind],
        on=paid_on,
        actor=actor,
        token=savings_token(token, member.pk, kind),
        receipt_no=receipt_no,
    )


def _record_line_by_line(*, lkmm, actor, paid_on, amounts, savings, token, sheet):
    """A sheet submitted again: every line through its per-line service, which returns a line already
    recorded as it was. A member's first line recorded on `paid_on` gives its kuitansi number to the
    member's later lines (the first takes the next of the LKMM's sequence); a line this sheet token
    recorded before on another date keeps its own number alone."""
    saved = Saved(repayments=[], movements=[])
    for member, lines, kinds in sheet:
        receipt_no = None
        for loan, kind in [(loan, None) for loan in lines] + [(None, kind) for kind in kinds]:
            try:
                result = _record_line(
                    member=member,
                    loan=loan,
                    kind=kind,
                    amounts=amounts,
                    savings=savings,
                    paid_on=paid_on,
                    actor=actor,
                    token=token,
                    receipt_no=receipt_no,
                )
            except ValidationError as exc:
                saved.errors[loan.pk if loan is not None else (kind, member.pk)] = exc.messages
                continue
            (saved.repayments if loan is not None else saved.movements).append(result)
            if (result.paid_on if loan is not None else result.on) == paid_on:
                receipt_no = receipt_no or result.receipt_no
    return saved
