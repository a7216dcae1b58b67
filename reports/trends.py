"""Twelve months of a portfolio (one LKMM, a kecamatan, the city: every LKMM the user sees), read from
the stored month-end figures: a closed month's own figures (ledger.PeriodClose.summary), else the figures
stored at month end (ledger.MonthFigures, provisional until the month is closed). Months missing from
both are computed once and stored by risk.selectors.month_figures. Money that moved in each month (loans
disbursed, payments received) is summed in SQL per LKMM and month. A fixed number of queries whatever the
number of LKMMs."""

import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from ledger.models import MonthFigures, PeriodClose
from loans.models import DISBURSED_STATUSES, Loan, Repayment
from risk.selectors import _from_json, combine, month_end, month_figures, stored_summary

MONTHS = 12


def months_ending(last, count=MONTHS):
    """The first days of the `count` months ending with `last`'s, oldest first."""
    months = [last.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - datetime.timedelta(days=1)).replace(day=1))
    return months[::-1]


def stored_figures(*, lkmms, months):
    """{(lkmm id, month): that LKMM's figures at the month's end}, each marked "provisional" (True unless
    the month is closed). Two queries for every stored one; a month with missing ones asks
    risk.selectors.month_figures once for all of its missing LKMMs, which computes and stores them."""
    ids = [lkmm.pk for lkmm in lkmms]
    result = {}
    closes = PeriodClose.objects.filter(lkmm__in=ids, month__in=months, reopened_at__isnull=True)
    for close in closes:
        result[(close.lkmm_id, close.month)] = {**stored_summary(close), "provisional": False}
    stored = MonthFigures.objects.filter(lkmm__in=ids, month__in=months).values_list(
        "lkmm_id", "month", "figures"
    )
    for lkmm_id, month, figures in stored:
        # Ratios stay as stored (strings) here: trend() reads one LKMM's through _from_json and combines
        # several from their parts, so 2,000 LKMMs x 12 months are not converted for nothing.
        result.setdefault((lkmm_id, month), {**figures, "closed": None, "provisional": True})
    for month in months:
        missing = [lkmm for lkmm in lkmms if (lkmm.pk, month) not in result]
        if missing:
            for lkmm_id, figures in month_figures(lkmms=missing, month=month).items():
                result[(lkmm_id, month)] = figures
    return result


def disbursed_by_month(*, ids, start, end):
    """{(lkmm id, month): (loans, principal)} of new loans disbursed in [start, end]. A restructured
    loan's new loan moves principal that was already out, so it is not a disbursement."""
    rows = (
        Loan.objects.filter(
            lkmm__in=ids,
            status__in=DISBURSED_STATUSES,
            restructured_from__isnull=True,
            disbursed_on__gte=start,
            disbursed_on__lte=end,
        )
        .annotate(month=TruncMonth("disbursed_on"))
        .order_by()
        .values("lkmm", "month")
        .annotate(n=Count("pk"), s=Sum("principal"))
    )
    return {(row["lkmm"], _date(row["month"])): (row["n"], row["s"]) for row in rows}


def collected_by_month(*, ids, start, end):
    """{(lkmm id, month): amount} of payments received in [start, end] as they stood at each month's end
    (DOMAIN.md: a payment reversed in a later month still counts in its own month, which was reported;
    one reversed within its month never counted)."""
    rows = (
        Repayment.objects.filter(lkmm__in=ids, paid_on__gte=start, paid_on__lte=end)
        .annotate(month=TruncMonth("paid_on"), reversed_month=TruncMonth("reversed_on"))
        .filter(Q(reversed_on__isnull=True) | Q(reversed_month__gt=F("month")))
        .order_by()
        .values("lkmm", "month")
        .annotate(s=Sum("amount"))
    )
    return {(row["lkmm"], _date(row["month"])): row["s"] for row in rows}


def _date(value):
    return value.date() if isinstance(value, datetime.datetime) else value


def trend(*, lkmms, last):
    """One row per month (oldest first) of the twelve ending with `last`: the portfolio of `lkmms`
    together at the month's end (outstanding, NPL, PAR30, reserve coverage and their parts) and the money
    disbursed and collected in the month. One LKMM's row holds its stored figures as they are; several
    LKMMs' are combined from theirs (risk.selectors.combine: sums of the parts, ratios from the sums)."""
    lkmms = list(lkmms)
    months = months_ending(last)
    ids = [lkmm.pk for lkmm in lkmms]
    figures = stored_figures(lkmms=lkmms, months=months)
    start, end = months[0], month_end(months[-1])
    disbursed, disbursed_loans, collected = {}, {}, {}
    for (_pk, month), (count, amount) in disbursed_by_month(ids=ids, start=start, end=end).items():
        disbursed[month] = disbursed.get(month, 0) + amount
        disbursed_loans[month] = disbursed_loans.get(month, 0) + count
    for (_pk, month), amount in collected_by_month(ids=ids, start=start, end=end).items():
        collected[month] = collected.get(month, 0) + amount
    rows = []
    for month in months:
        each = [figures[(pk, month)] for pk in ids]
        # One LKMM's stored figures as they are; several combined (sums of parts, ratios from the sums).
        total = _from_json(each[0]) if len(each) == 1 else combine(each or [_empty()])
        provisional = sum(1 for f in each if f["provisional"])
        rows.append(
            {
                "month": month,
                "end": month_end(month),
                "outstanding": total["outstanding"],
                "loans": total["loans"],
                "disbursed": disbursed.get(month, 0),
                "disbursed_loans": disbursed_loans.get(month, 0),
                "collected": collected.get(month, 0),
                "npl": total["npl"],
                "npl_ratio": total["npl_ratio"],
                "par30": total["par30"],
                "par30_ratio": total["par30_ratio"],
                "required": total["required"],
                "held": total["held"],
                "coverage": total["coverage"],
                "provisional": provisional,
                "closed": len(each) - provisional,
            }
        )
    return rows


def _empty():
    from risk.figures import AGGREGATE_KEYS

    return {**dict.fromkeys(AGGREGATE_KEYS, 0), "held": 0}


# --- charts ---------------------------------------------------------------------------------------------
# Drawn as SVG by reports/_chart.html from the geometry below, in a 320 x 170 viewBox that the page
# scales to its width (a 360-px phone draws it at about its own size). Coordinates are strings made
# here, so the template never formats a number in the reader's locale (12,5 is not an SVG number).

WIDTH, HEIGHT = 320, 170
LEFT, RIGHT, TOP, BOTTOM = 46, 6, 10, 22


def _nice_step(top, ticks=4):
    """A step of 1, 2 or 5 times a power of ten that covers `top` in about `ticks` steps."""
    if top <= 0:
        return Decimal(1)
    raw = Decimal(top) / ticks
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.1")
    while power > raw:
        power /= 10
    for factor in (1, 2, 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10  # pragma: no cover - the loop always returns


def _n(value):
    return f"{float(value):.1f}"


def chart(*, title, rows, key, kind, label, threshold=None, threshold_label=""):
    """The geometry of one chart of `rows`' `key`: bars ("bars") or a line with its points ("line");
    `label(value)` writes a value for the axis and the points' titles; `threshold`: a dashed line at
    that value (the Dinas's bar)."""
    values = [row[key] for row in rows]
    known = [Decimal(v) for v in values if v is not None]
    top = max([*known, Decimal(threshold or 0), Decimal(0)])
    step = _nice_step(top)
    ticks_count = max(int((top / step).to_integral_value(rounding="ROUND_CEILING")), 1)
    y_max = step * ticks_count
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = Decimal(plot_w) / len(rows)

    def y(value):
        return Decimal(TOP) + Decimal(plot_h) * (1 - Decimal(value) / y_max)

    ticks = [
        {"y": _n(y(step * i)), "label": label(step * i)} for i in range(ticks_count + 1)
    ]  # from the base up
    points = []
    for i, (row, value) in enumerate(zip(rows, values, strict=True)):
        x = Decimal(LEFT) + slot * i
        point = {
            "x": _n(x + slot / 2),
            "label": row["month"],
            "title": label(value) if value is not None else "–",
        }
        if value is not None:
            point["y"] = _n(y(value))
            point["bar_x"] = _n(x + slot * Decimal("0.15"))
            point["bar_w"] = _n(slot * Decimal("0.7"))
            point["bar_h"] = _n(y(0) - y(value))
        points.append(point)
    line = " ".join(f"{p['x']},{p['y']}" for p in points if "y" in p)
    return {
        "title": title,
        "kind": kind,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "base": _n(y(0)),
        "label_y": HEIGHT - 6,
        "tick_x": LEFT - 4,
        "ticks": ticks,
        "points": points,
        "line": line,
        "threshold": _n(y(threshold)) if threshold is not None else None,
        "threshold_label": threshold_label,
    }
