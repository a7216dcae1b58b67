"""Twelve months of a portfolio (one LKMM, a kecamatan, the city: every LKMM the user sees), read from
the stored month-end figures: a closed month's own figures (ledger.PeriodClose.summary), else the figures
stored at month end (ledger.MonthFigures, provisional until the month is closed). Months missing from
both are computed once and stored by risk.selectors.month_figures. Money that moved in each month (loans
disbursed, payments received) is kept with the month's figures (risk.selectors.month_flows). A fixed
number of queries whatever the number of LKMMs."""

import datetime
from decimal import Decimal

from ledger.models import MonthFigures, PeriodClose
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
        # Missing, or stored before the month's flows were kept with it (risk.selectors.FLOW_FIGURES):
        # month_figures computes and keeps what lacks, once.
        missing = [
            lkmm
            for lkmm in lkmms
            if (lkmm.pk, month) not in result
            or any(key not in result[(lkmm.pk, month)] for key in ("disbursed", "collected"))
        ]
        if missing:
            for lkmm_id, figures in month_figures(lkmms=missing, month=month).items():
                result[(lkmm_id, month)] = figures
    return result


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
    # The money that moved in each month is kept with its figures (risk.selectors.month_flows).
    disbursed = {month: sum(figures[(pk, month)]["disbursed"] or 0 for pk in ids) for month in months}
    collected = {month: sum(figures[(pk, month)]["collected"] or 0 for pk in ids) for month in months}
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
                "disbursed": disbursed[month],
                "collected": collected[month],
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
