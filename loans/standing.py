"""A loan's current standing, kept as data beside the facts (STYLE.md "Kept state for fast reads").

The facts are the schedule (Installment), the payments (Repayment, with their reversals), the waivers and
the moves of principal (restructure, write-off). From them the allocation engine (loans.allocation)
derives what each installment has received; this module keeps that result in the *_derived columns of
Installment and Loan and is the only code that writes them, always inside the service transaction of
the money event:

- a payment valued on or after everything already folded in (the usual case) allocates forward from
  the kept state of the open installments: its work does not grow with the loan's history;
- a back-dated payment, a reversal or a waiver re-allocates from its date on: the allocation rows it
  changes are closed (valid_to) and their new version appended, never deleted;
- `expected` recomputes the whole standing from the facts alone; check_books and the tests compare the
  kept columns with it.

Pages read the kept columns (LoanQuerySet.with_standing at today or later); what changes with time
alone (days past due, late fees charged, class) is computed when read.
"""

import dataclasses
import datetime

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from loans import allocation as engine

INSTALLMENT_FIELDS = (
    "principal_paid_derived",
    "interest_paid_derived",
    "late_fee_paid_derived",
    "interest_waived_derived",
    "late_fee_waived_derived",
    "settled_on_derived",
    "open_derived",
)
LOAN_FIELDS = ("principal_outstanding_derived", "oldest_unpaid_due_derived", "standing_as_of_derived")


def _inst(installment):
    return engine.Inst(installment.pk, installment.due_date, installment.principal, installment.interest)


def _pay(repayment):
    return engine.Pay(repayment.pk, repayment.paid_on, repayment.receipt_no, repayment.amount)


def is_moved(loan):
    """The principal left this loan (restructured into another, or written off): nothing is owed on it."""
    return loan.transferred_on is not None or loan.written_off_on is not None


def installment_values(installment, state, *, late_fee, interest_waived, fee_waived, moved):
    """The kept columns of one installment, given the engine's state for it."""
    settled_on = state.completed_on
    fee_charged = late_fee if settled_on is not None and settled_on > installment.due_date else 0
    fee_cleared = state.late_fee + fee_waived >= fee_charged
    return {
        "principal_paid_derived": state.principal,
        "interest_paid_derived": state.interest,
        "late_fee_paid_derived": state.late_fee,
        "interest_waived_derived": interest_waived,
        "late_fee_waived_derived": fee_waived,
        "settled_on_derived": settled_on,
        "open_derived": not moved and not (settled_on is not None and fee_cleared),
    }


def _state(installment):
    return engine.State(
        late_fee=installment.late_fee_paid_derived,
        interest=installment.interest_paid_derived,
        principal=installment.principal_paid_derived,
        completed_on=installment.settled_on_derived,
    )


def _waiver_totals(waivers):
    totals = {}
    for w in waivers:
        interest, fee = totals.get(w.installment_id, (0, 0))
        totals[w.installment_id] = (interest + w.interest, fee + w.late_fee)
    return totals


def _engine_waivers(waivers):
    return [engine.Waiver(w.installment_id, w.on, w.interest, w.late_fee) for w in waivers]


def _as_of(loan, repayments, waivers):
    dates = [loan.disbursed_on, loan.transferred_on, loan.written_off_on]
    dates += [r.paid_on for r in repayments] + [r.reversed_on for r in repayments]
    dates += [w.on for w in waivers]
    return max(d for d in dates if d is not None)


def expected(loan, *, installments, repayments, waivers):
    """The standing recomputed from scratch from the facts: ({installment id: columns}, loan columns).

    Every event is dated on or before today, so the payments that count now are those not reversed,
    and every waiver counts.
    """
    counting = [_pay(r) for r in repayments if r.reversed_on is None]
    states = engine.allocate(
        [_inst(i) for i in installments], counting, late_fee=loan.late_fee, waivers=_engine_waivers(waivers)
    ).states
    waived = _waiver_totals(waivers)
    moved = is_moved(loan)
    columns = {
        i.pk: installment_values(
            i,
            states[i.pk],
            late_fee=loan.late_fee,
            interest_waived=waived.get(i.pk, (0, 0))[0],
            fee_waived=waived.get(i.pk, (0, 0))[1],
            moved=moved,
        )
        for i in installments
    }
    unpaid = [i.due_date for i in installments if columns[i.pk]["settled_on_derived"] is None]
    loan_columns = {
        "principal_outstanding_derived": loan.principal
        - sum(c["principal_paid_derived"] for c in columns.values())
        - loan.written_off_principal
        - loan.transferred_principal,
        "oldest_unpaid_due_derived": None if moved or not unpaid else min(unpaid),
        "standing_as_of_derived": _as_of(loan, repayments, waivers),
    }
    return columns, loan_columns


def _write(loan, installments, columns, loan_columns):
    """Store new kept columns: the installments whose values changed, then the loan."""
    from loans.models import Installment

    changed = []
    for installment in installments:
        values = columns[installment.pk]
        if any(getattr(installment, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(installment, name, value)
            changed.append(installment)
    if changed:
        Installment.objects.bulk_update(changed, INSTALLMENT_FIELDS)
    for name, value in loan_columns.items():
        setattr(loan, name, value)
    loan.save(update_fields=LOAN_FIELDS)


def _facts(loan):
    installments = list(loan.installments.order_by("seq"))
    repayments = list(loan.repayments.order_by("paid_on", "receipt_no"))
    waivers = list(loan.waivers.all())
    return installments, repayments, waivers


def standing_start(*, loan):
    """A loan that has just received its schedule (disbursement, or the new loan of a restructure)."""
    first = loan.installments.order_by("due_date").values_list("due_date", flat=True).first()
    loan.principal_outstanding_derived = loan.principal
    loan.oldest_unpaid_due_derived = first
    loan.standing_as_of_derived = loan.disbursed_on
    loan.save(update_fields=LOAN_FIELDS)


def standing_refresh(*, loan):
    """Recompute the kept columns from the facts without touching allocations: after a move of the
    principal (restructure, write-off), which changes what is owed but not what was paid."""
    installments, repayments, waivers = _facts(loan)
    columns, loan_columns = expected(loan, installments=installments, repayments=repayments, waivers=waivers)
    _write(loan, installments, columns, loan_columns)


def is_forward(loan, on):
    """Whether an event dated `on` comes after everything the kept standing already holds."""
    return loan.standing_as_of_derived is not None and on >= loan.standing_as_of_derived


def kept_inputs(installments):
    """The engine's states and waivers of `installments` from their kept columns. Every waiver is dated
    on or before standing_as_of, so at any later date they all count."""
    states = {i.pk: _state(i) for i in installments}
    waivers = [
        engine.Waiver(i.pk, datetime.date.min, i.interest_waived_derived, i.late_fee_waived_derived)
        for i in installments
        if i.interest_waived_derived or i.late_fee_waived_derived
    ]
    return states, waivers


def open_position(loan):
    """(open installments, their engine states, waivers) from the kept columns: what a forward payment
    needs."""
    installments = list(loan.installments.filter(open_derived=True).order_by("due_date", "seq"))
    return installments, *kept_inputs(installments)


def open_positions(loans):
    """open_position of each of `loans`, {loan id: position}, in one query (the collection sheet)."""
    from loans.models import Installment

    rows = {loan.pk: [] for loan in loans}
    queryset = Installment.objects.filter(loan__in=list(rows), open_derived=True)
    for installment in queryset.order_by("loan", "due_date", "seq"):
        rows[installment.loan_id].append(installment)
    return {loan_id: (installments, *kept_inputs(installments)) for loan_id, installments in rows.items()}


@dataclasses.dataclass
class ForwardPlan:
    """What a forward payment does to its loan (plan_forward), before anything is written."""

    loan: object
    repayment: object
    installments: list
    parts: list  # the engine's Parts
    columns: dict  # {installment id: kept columns}
    loan_columns: dict
    paid: tuple  # (principal, interest, late fee) paid by it
    owing: bool  # whether any installment is still open after it


def plan_forward(*, loan, repayment, opened):
    """Allocate a payment valued on or after loan.standing_as_of_derived (the kept state holds every
    earlier event) over the open installments (`opened`, from open_position), in memory. Refuses money
    beyond everything owed."""
    installments, states, waivers = opened
    result = engine.allocate(
        [_inst(i) for i in installments],
        [_pay(repayment)],
        late_fee=loan.late_fee,
        waivers=waivers,
        states=states,
    )
    if result.excess:
        raise ValidationError({"amount": _("Pembayaran melebihi sisa pinjaman.")})
    columns = {
        i.pk: installment_values(
            i,
            result.states[i.pk],
            late_fee=loan.late_fee,
            interest_waived=i.interest_waived_derived,
            fee_waived=i.late_fee_waived_derived,
            moved=False,
        )
        for i in installments
    }
    paid = tuple(
        sum(getattr(p, part) for p in result.parts) for part in ("principal", "interest", "late_fee")
    )
    unpaid = [i.due_date for i in installments if columns[i.pk]["settled_on_derived"] is None]
    loan_columns = {
        "principal_outstanding_derived": loan.principal_outstanding_derived - paid[0],
        "oldest_unpaid_due_derived": min(unpaid) if unpaid else None,
        "standing_as_of_derived": max(loan.standing_as_of_derived, repayment.paid_on),
    }
    return ForwardPlan(
        loan=loan,
        repayment=repayment,
        installments=installments,
        parts=result.parts,
        columns=columns,
        loan_columns=loan_columns,
        paid=paid,
        owing=any(c["open_derived"] for c in columns.values()),
    )


def write_forward(plans):
    """Store what plan_forward planned, for any number of payments on distinct loans, in a number of
    queries that does not grow with them: the allocation rows, the installments whose kept columns
    changed, the loans. The repayments are saved already."""
    from loans.models import Allocation, Installment, Loan

    Allocation.objects.bulk_create(
        Allocation(
            repayment=plan.repayment,
            installment_id=part.installment_id,
            late_fee=part.late_fee,
            interest=part.interest,
            principal=part.principal,
        )
        for plan in plans
        for part in plan.parts
    )
    changed = []
    for plan in plans:
        for installment in plan.installments:
            values = plan.columns[installment.pk]
            if any(getattr(installment, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(installment, name, value)
                changed.append(installment)
        for name, value in plan.loan_columns.items():
            setattr(plan.loan, name, value)
    if changed:
        Installment.objects.bulk_update(changed, INSTALLMENT_FIELDS)
    if len(plans) == 1:
        plans[0].loan.save(update_fields=LOAN_FIELDS)
    elif plans:
        Loan.objects.bulk_update([plan.loan for plan in plans], LOAN_FIELDS)


def allocate_forward(*, loan, repayment, opened=None):
    """Allocate a forward payment (plan_forward) and store it (write_forward): only the open
    installments are read (`opened`, when the caller has them already) and only the ones it pays are
    written. Returns (principal, interest, late fee) paid by it, and whether any installment is still
    open."""
    plan = plan_forward(loan=loan, repayment=repayment, opened=opened or open_position(loan))
    write_forward([plan])
    return plan.paid, plan.owing


def reallocate(*, loan, since, payments_from=None):
    """Re-allocate after an event dated `since` that changes, from that date on, the allocation of the
    payments valued on or after `payments_from` (default `since`): a back-dated payment (its date), a
    waiver (its date), a reversal (from its date, for the payments valued from the reversed one's date).
    Allocation rows of those payments that count on or after `since` are closed at `since` and their new
    version appended; every other row stays as it is. Returns the totals now paid (principal, interest,
    late fee).

    The allocation is versioned by reversal dates: in the period starting at a reversal date R the
    payments reversed on or before R do not count; before the first reversal every payment counts.
    """
    from loans.models import Allocation

    installments, repayments, waivers = _facts(loan)
    insts, engine_waivers = [_inst(i) for i in installments], _engine_waivers(waivers)
    payments_from = since if payments_from is None else payments_from
    redone = [r for r in repayments if r.paid_on >= payments_from]
    redone_ids = {r.pk for r in redone}
    # Rows of the payments done again stop counting at `since` (a row closed on or before its payment's
    # date never counted: those of payments valued after `since` are simply superseded).
    Allocation.objects.filter(repayment__in=redone_ids).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gt=since)
    ).update(valid_to=Greatest(Coalesce(F("valid_from"), since), since))
    starts = [None, *sorted({r.reversed_on for r in repayments if r.reversed_on})]
    new_rows = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else None
        if end is not None and end <= since:
            continue
        counting = [
            _pay(r)
            for r in repayments
            if r.reversed_on is None or (start is not None and r.reversed_on > start)
        ]
        result = engine.allocate(insts, counting, late_fee=loan.late_fee, waivers=engine_waivers)
        if result.excess:
            raise ValidationError({"amount": _("Pembayaran melebihi sisa pinjaman.")})
        valid_from = since if start is None or start < since else start
        for part in result.parts:
            if part.payment_id not in redone_ids:
                continue
            new_rows.append(
                Allocation(
                    repayment_id=part.payment_id,
                    installment_id=part.installment_id,
                    late_fee=part.late_fee,
                    interest=part.interest,
                    principal=part.principal,
                    valid_from=valid_from,
                    valid_to=end,
                )
            )
    Allocation.objects.bulk_create(_merge(new_rows))
    columns, loan_columns = expected(loan, installments=installments, repayments=repayments, waivers=waivers)
    _write(loan, installments, columns, loan_columns)
    return tuple(
        sum(c[name] for c in columns.values())
        for name in ("principal_paid_derived", "interest_paid_derived", "late_fee_paid_derived")
    )


def _merge(rows):
    """Join rows of neighbouring periods that allocate the same amounts ([a, b) + [b, c) = [a, c))."""
    merged, open_rows = [], {}
    for row in rows:
        key = (row.repayment_id, row.installment_id, row.late_fee, row.interest, row.principal)
        last = open_rows.get(key)
        if last is not None and last.valid_to == row.valid_from:
            last.valid_to = row.valid_to
            continue
        open_rows[key] = row
        merged.append(row)
    return merged


def check(loans):
    """Yield (loan, message) once for every loan whose kept standing differs from `expected` (three queries
    for the facts of all `loans`, then the engine in memory)."""
    from loans.models import Installment, Repayment, Waiver

    loans = list(loans)
    ids = [loan.pk for loan in loans]
    installments, repayments, waivers = {}, {}, {}
    for row in Installment.objects.filter(loan__in=ids).order_by("loan", "seq"):
        installments.setdefault(row.loan_id, []).append(row)
    for row in Repayment.objects.filter(loan__in=ids).order_by("paid_on", "receipt_no"):
        repayments.setdefault(row.loan_id, []).append(row)
    for row in Waiver.objects.filter(loan__in=ids):
        waivers.setdefault(row.loan_id, []).append(row)
    for loan in loans:
        if loan.disbursed_on is None:
            continue
        mine = installments.get(loan.pk, [])
        columns, loan_columns = expected(
            loan, installments=mine, repayments=repayments.get(loan.pk, []), waivers=waivers.get(loan.pk, [])
        )
        problems = [
            f"{name} kept {getattr(loan, name)}, recomputed {value}"
            for name, value in loan_columns.items()
            if getattr(loan, name) != value
        ]
        problems += [
            f"#{installment.seq} {name} kept {getattr(installment, name)}, recomputed {value}"
            for installment in mine
            for name, value in columns[installment.pk].items()
            if getattr(installment, name) != value
        ]
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            yield loan, "; ".join(problems[:3]) + more
