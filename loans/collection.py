"""The collection sheet (lembar tagihan): what each active loan owes by the end of a period, and the one
transaction that records a whole meeting's payments.

A sheet is read at one date `at` = the end of the period, or today when the period has not ended: the
payments that count are those that count at `at` (DOMAIN.md), the late fees and days past due are
those at `at`. For each loan, "due by the end of the period" is the unpaid principal and interest of
its installments due on or before the end date, split into arrears (due before the period starts) and
the installments due in the period, plus the late fees owed at `at`.
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


def line_token(sheet_token, loan_id):
    """The token of one loan's payment on a sheet: the same sheet never records a loan's payment twice."""
    return uuid.uuid5(sheet_token, str(loan_id))


@transaction.atomic
def collection_record(*, lkmm, actor, paid_on, amounts, token):
    """Record a meeting's payments, {loan id: amount}, in one transaction; returns the repayments.

    Each payment goes through loans.services.repayment_record. If any line is refused, nothing is
    saved: the ValidationError raised maps each refused loan's id to its messages.
    """
    amounts = {loan_id: amount for loan_id, amount in amounts.items() if amount}
    # Lock every loan first, in one order, before repayment_record locks the LKMM: a sheet and a single
    # payment form recording at the same time then wait for each other instead of deadlocking.
    loans = {
        loan.pk: loan
        for loan in Loan.objects.select_for_update().filter(lkmm=lkmm, pk__in=amounts).order_by("pk")
    }
    errors, repayments = {}, []
    # In the order given (the sheet's), so the receipt numbers follow the printed sheet.
    for loan_id in amounts:
        loan = loans.get(loan_id)
        if loan is None:
            errors[loan_id] = [_("Pinjaman ini bukan milik LKMM ini.")]
            continue
        try:
            # repayment_record is atomic itself: a refused line rolls back to its savepoint only, so
            # the other lines can still be checked and every error shown at once.
            repayments.append(
                repayment_record(
                    loan=loan,
                    amount=amounts[loan_id],
                    paid_on=paid_on,
                    actor=actor,
                    token=line_token(token, loan_id),
                )
            )
        except ValidationError as exc:
            errors[loan_id] = exc.messages
    if errors:
        raise ValidationError({loan_id: ValidationError(messages) for loan_id, messages in errors.items()})
    return repayments
