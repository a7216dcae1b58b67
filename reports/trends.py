"""Twelve months of a portfolio (one LKMM, a kecamatan, the city: every LKMM the user sees), read from
the stored month-end figures (ledger.MonthFigures: a closed month's row holds what its close reported,
any other is provisional until the month is closed). Months missing are computed once and stored by
risk.selectors.month_figures. Money that moved in each month (loans
disbursed, payments received) is kept with the month's figures (risk.selectors.month_flows). A fixed
number of queries whatever the number of LKMMs."""

import datetime
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from ledger.models import MonthFigures, PeriodClose
from risk.figures import AGGREGATE_KEYS
from risk.selectors import _finish, month_end, month_figures

MONTHS = 12


def months_ending(last, count=MONTHS):
    """The first days of the `count` months ending with `last`'s, oldest first."""
    months = [last.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - datetime.timedelta(days=1)).replace(day=1))
    return months[::-1]


def _by_month(queryset, **sums):
    return {row.pop("month"): row for row in queryset.order_by().values("month").annotate(**sums)}


def summed_figures(*, lkmms, months):
    """{month: the figures of `lkmms` together at the month's end}, summed in the database from the
    stored rows (ledger.MonthFigures: a closed month's row holds what its close reported), with the
    money disbursed and collected in the month kept with them. Ratios come from the summed parts (NPL =
    summed NPL outstanding / summed outstanding, never averaged). Two queries whatever the number of
    LKMMs; a month missing some rows, or their flows, has them computed and stored once, first
    (risk.selectors.month_figures)."""
    ids = [lkmm.pk for lkmm in lkmms]
    keys = [*AGGREGATE_KEYS, "held", "disbursed", "collected"]
    stored = MonthFigures.objects.filter(lkmm__in=ids, month__in=months)

    def every_row():
        sums = {key: Coalesce(Sum(key), 0) for key in keys}
        return _by_month(stored, rows=Count("pk", filter=Q(flows_kept=True)), **sums)

    rows = every_row()
    lacking = [month for month in months if month not in rows or rows[month]["rows"] < len(ids)]
    for month in lacking:
        month_figures(lkmms=lkmms, month=month)
    if lacking:
        rows = every_row()
    closes = PeriodClose.objects.filter(lkmm__in=ids, month__in=months, reopened_at__isnull=True)
    closed = _by_month(closes, closed=Count("pk"))
    result = {}
    for month in months:
        row = rows[month]
        parts = {key: int(row[key]) for key in AGGREGATE_KEYS}
        count = closed.get(month, {}).get("closed", 0)
        result[month] = {
            **_finish(parts, int(row["held"])),
            "disbursed": int(row["disbursed"]),
            "collected": int(row["collected"]),
            "closed": count,
            "provisional": len(ids) - count,
        }
    return result


def trend(*, lkmms, last):
    """One row per month (oldest first) of the twelve ending with `last`: the portfolio of `lkmms`
    together at the month's end (outstanding, NPL, PAR30, reserve coverage and their parts) and the money
    disbursed and collected in the month. The figures are summed in the database from the stored rows
    (sums of the parts, ratios from the sums: one LKMM's are its stored figures)."""
    lkmms = list(lkmms)
    months = months_ending(last)
    totals = summed_figures(lkmms=lkmms, months=months)
    keys = (
        "outstanding", "loans", "disbursed", "collected", "npl", "npl_ratio", "par30", "par30_ratio",
        "required", "held", "coverage", "provisional", "closed",
    )  # fmt: skip
    return [
        {"month": month, "end": month_end(month), **{key: totals[month][key] for key in keys}}
        for month in months
    ]


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
