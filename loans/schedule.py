"""Schedule maths, exactly as DOMAIN.md "Money: the rule". Pure functions: no database, no floats.

Amounts are whole rupiah (int); rates are Decimal percent per month. Every amount is computed in exact
fractions and only the result is rounded: a weekly or daily period rate (r * 12 / 52, r * 12 / 365) has
no finite decimal, and any decimal cut of it rounds some x,5 the wrong way (Rp35.651.625 at 2%
declining over 60 weeks: installment 30's interest is 84.907,5, so Rp84.908).
"""

import calendar
import datetime
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from django.utils.translation import gettext as _


class Method:
    FLAT = "flat"
    ANNUITY = "annuity"
    DECLINING = "declining"


class Frequency:
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


PERIODS_PER_YEAR = {Frequency.DAILY: 365, Frequency.WEEKLY: 52, Frequency.MONTHLY: 12}


class ScheduleError(ValueError):
    """Terms that cannot make a valid schedule; the message is for the person entering them."""


@dataclass(frozen=True)
class Line:
    seq: int
    due_date: datetime.date
    principal: int
    interest: int

    @property
    def total(self):
        return self.principal + self.interest


def period_rate(rate_per_month: Decimal, frequency: str) -> Fraction:
    """Monthly i = r; weekly i = r * 12 / 52; daily i = r * 12 / 365, as an exact fraction (not percent)."""
    r = Fraction(rate_per_month) / 100
    if frequency == Frequency.MONTHLY:
        return r
    return r * 12 / PERIODS_PER_YEAR[frequency]


def round_half_up(value: Decimal | Fraction | int) -> int:
    """To the whole rupiah, halves away from zero, exactly (a Decimal or a Fraction)."""
    value = Fraction(value)
    whole = math.floor(abs(value) + Fraction(1, 2))
    return whole if value >= 0 else -whole


def round_up_unit(value: Decimal | Fraction | int, unit: int) -> int:
    """Up to the next multiple of the rounding unit, exactly."""
    return math.ceil(Fraction(value) / unit) * unit


def add_months(start: datetime.date, months: int, day: int) -> datetime.date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_dates(*, first_due: datetime.date, frequency: str, count: int) -> list[datetime.date]:
    """Monthly keeps the first due date's day, clamped to each month's end (31 Jan -> 28 Feb -> 31 Mar)."""
    if frequency == Frequency.MONTHLY:
        return [add_months(first_due, k, first_due.day) for k in range(count)]
    step = datetime.timedelta(days=7 if frequency == Frequency.WEEKLY else 1)
    return [first_due + step * k for k in range(count)]


def first_due_after(disbursed_on: datetime.date, frequency: str) -> datetime.date:
    """By default the first installment falls due one period after disbursement."""
    if frequency == Frequency.MONTHLY:
        return add_months(disbursed_on, 1, disbursed_on.day)
    return disbursed_on + datetime.timedelta(days=7 if frequency == Frequency.WEEKLY else 1)


def build_schedule(
    *,
    principal: int,
    rate_per_month: Decimal,
    count: int,
    frequency: str,
    method: str,
    rounding_unit: int,
    first_due: datetime.date,
) -> list[Line]:
    if principal <= 0:
        raise ScheduleError(_("Jumlah pinjaman harus lebih dari nol."))
    if count < 1:
        raise ScheduleError(_("Jumlah angsuran minimal 1."))
    if Fraction(rate_per_month) < 0:
        raise ScheduleError(_("Bunga tidak boleh negatif."))
    if rounding_unit < 1:
        raise ScheduleError(_("Satuan pembulatan minimal Rp1."))
    i = period_rate(rate_per_month, frequency)
    if method == Method.FLAT:
        parts = _flat(principal, i, count, rounding_unit)
    elif method == Method.ANNUITY:
        parts = _annuity(principal, i, count, rounding_unit)
    elif method == Method.DECLINING:
        parts = _declining(principal, i, count, rounding_unit)
    else:
        raise ScheduleError(_("Metode bunga tidak dikenal."))
    for seq, (principal_part, _interest) in enumerate(parts, start=1):
        if principal_part <= 0:
            raise ScheduleError(
                _(
                    "Dengan syarat ini angsuran ke-%(seq)d tidak mendapat pokok (Rp%(amount)s). "
                    "Perkecil satuan pembulatan atau jumlah angsuran."
                )
                % {"seq": seq, "amount": f"{principal_part:,}".replace(",", ".")}
            )
    dates = due_dates(first_due=first_due, frequency=frequency, count=count)
    return [
        Line(seq, d, p, interest) for seq, (d, (p, interest)) in enumerate(zip(dates, parts, strict=True), 1)
    ]


# [(principal part, interest)] per installment, before any check. P and i are taken as exact fractions
# whatever their type (int, Decimal, Fraction), so no intermediate value is ever rounded.


def _flat(P, i, n, unit):
    P, i = Fraction(P), Fraction(i)
    interest = round_half_up(P * i)
    installment = round_up_unit(P / n + P * i, unit)
    parts = [(installment - interest, interest) for _ in range(n - 1)]
    parts.append((int(P) - sum(p for p, _ in parts), interest))
    return parts


def _annuity(P, i, n, unit):
    P, i = Fraction(P), Fraction(i)
    pmt = P / n if i == 0 else P * i / (1 - (1 + i) ** -n)
    installment = round_up_unit(pmt, unit)
    balance, parts = int(P), []
    for _k in range(n - 1):
        interest = round_half_up(balance * i)
        principal_part = installment - interest
        parts.append((principal_part, interest))
        balance -= principal_part
    parts.append((balance, round_half_up(balance * i)))
    return parts


def _declining(P, i, n, unit):
    P, i = Fraction(P), Fraction(i)
    principal_part = round_up_unit(P / n, unit)
    balance, parts = int(P), []
    for _k in range(n - 1):
        parts.append((principal_part, round_half_up(balance * i)))
        balance -= principal_part
    parts.append((balance, round_half_up(balance * i)))
    return parts


def effective_annual_rate(*, received: int, installments: list[int], frequency: str) -> Decimal:
    """Internal rate of return per period of the cash flows, times periods per year, in percent to one
    decimal (DOMAIN.md "Equivalent effective rate"). Bisection in Decimal: exact enough, no floats."""
    total = sum(installments)
    if received <= 0 or total <= received:
        return Decimal("0.0")

    def npv(rate):
        value, factor = Decimal(-received), Decimal(1)
        for amount in installments:
            factor /= 1 + rate
            value += amount * factor
        return value

    low, high = Decimal(0), Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 30
        for _ in range(80):
            mid = (low + high) / 2
            if npv(mid) > 0:
                low = mid
            else:
                high = mid
        annual = (low + high) / 2 * PERIODS_PER_YEAR[frequency] * 100
    return annual.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
