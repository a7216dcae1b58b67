"""Allocation of payments to a loan's schedule, exactly as DOMAIN.md "Repayments: the rule". Pure.

Payments are taken in value order (date, then receipt number). Each goes installment by installment,
oldest first; within an installment to its late fee, then its interest, then its principal; the next
installment receives money only when the earlier one is fully paid.

A late fee (fixed, per installment) is owed on an installment that was not fully paid (principal and
interest) by the end of its due date, and only by payments made after that date. Whether an
installment was paid by its due date depends only on payments valued on or before it, so the same
inputs always give the same allocation, however often or rarely anything ran.
"""

import datetime
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Inst:
    id: int
    due_date: datetime.date
    principal: int
    interest: int


@dataclass(frozen=True)
class Pay:
    id: int
    paid_on: datetime.date
    receipt_no: int
    amount: int


@dataclass(frozen=True)
class Waiver:
    installment_id: int
    on: datetime.date
    interest: int = 0
    late_fee: int = 0


@dataclass(frozen=True)
class Part:
    payment_id: int
    installment_id: int
    late_fee: int
    interest: int
    principal: int


@dataclass
class State:
    late_fee: int = 0
    interest: int = 0
    principal: int = 0
    completed_on: datetime.date | None = None


@dataclass
class Result:
    parts: list[Part] = field(default_factory=list)
    # Money a payment brought beyond everything owed at its date (the caller refuses such a payment).
    excess: dict[int, int] = field(default_factory=dict)
    # What each installment has received after all payments, and when it was first fully paid.
    states: dict[int, State] = field(default_factory=dict)


def _waived(waivers, installment_id, at):
    interest = sum(w.interest for w in waivers if w.installment_id == installment_id and w.on <= at)
    fee = sum(w.late_fee for w in waivers if w.installment_id == installment_id and w.on <= at)
    return interest, fee


def owed(inst, state, *, at, late_fee, waivers):
    """(late fee, interest, principal) still owed on `inst` by a payment made on `at`."""
    waived_interest, waived_fee = _waived(waivers, inst.id, at)
    late = (
        late_fee
        if late_fee
        and inst.due_date < at
        and (state.completed_on is None or state.completed_on > inst.due_date)
        else 0
    )
    return (
        max(0, late - waived_fee - state.late_fee),
        max(0, inst.interest - waived_interest - state.interest),
        inst.principal - state.principal,
    )


def allocate(installments, payments, *, late_fee=0, waivers=(), states=None):
    """Allocate `payments` in value order. `states` ({installment id: State}) continues from what the
    installments had already received (loans.standing passes the kept state of the open installments);
    without it every installment starts empty."""
    installments = sorted(installments, key=lambda i: i.due_date)
    states = states or {}
    result = Result(states={inst.id: replace(states.get(inst.id, State())) for inst in installments})
    states = result.states
    for pay in sorted(payments, key=lambda p: (p.paid_on, p.receipt_no)):
        remaining = pay.amount
        for inst in installments:
            if remaining <= 0:
                break
            state = states[inst.id]
            fee_due, interest_due, principal_due = owed(
                inst, state, at=pay.paid_on, late_fee=late_fee, waivers=waivers
            )
            fee = min(remaining, fee_due)
            interest = min(remaining - fee, interest_due)
            principal = min(remaining - fee - interest, principal_due)
            remaining -= fee + interest + principal
            if fee or interest or principal:
                state.late_fee += fee
                state.interest += interest
                state.principal += principal
                result.parts.append(Part(pay.id, inst.id, fee, interest, principal))
            waived_interest, _fee = _waived(waivers, inst.id, pay.paid_on)
            if state.completed_on is None and (
                state.principal == inst.principal and state.interest >= inst.interest - waived_interest
            ):
                state.completed_on = pay.paid_on
        if remaining > 0:
            result.excess[pay.id] = remaining
    return result


def payoff(installments, payments, *, at, late_fee=0, waivers=()):
    """Everything a payment on `at` would have to bring to settle the loan, after `payments`."""
    states = allocate(installments, payments, late_fee=late_fee, waivers=waivers).states
    return sum(
        sum(owed(inst, states[inst.id], at=at, late_fee=late_fee, waivers=waivers)) for inst in installments
    )


def future_interest(installments, payments, *, at, late_fee=0, waivers=()):
    """{installment id: unpaid interest} of installments not yet due at `at` (waivable at early payoff)."""
    states = allocate(installments, payments, late_fee=late_fee, waivers=waivers).states
    result = {}
    for inst in installments:
        if inst.due_date > at:
            waived_interest, _fee = _waived(waivers, inst.id, at)
            unpaid = inst.interest - waived_interest - states[inst.id].interest
            if unpaid > 0:
                result[inst.id] = unpaid
    return result
