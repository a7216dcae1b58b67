"""The Dinas home for a chosen month (issue 11): per LKMM of the reviewer's Dinas, the month-end portfolio
(stored: ledger.PeriodClose.summary or ledger.MonthFigures, read through risk.selectors.month_figures), what
happened in the month, a health flag by the Dinas's own thresholds, and kecamatan and city totals.

Every figure comes from a fixed number of queries, each grouped by LKMM, whatever the number of LKMMs.
A printed total is always the sum of the rows under it; a total's percentages are computed from its
summed amounts (NPL = summed NPL outstanding / summed outstanding), never averaged over the rows.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from risk.selectors import FLOW_FIGURES, combine, month_end, month_figures

BERMASALAH, PERHATIAN, SEHAT = "bermasalah", "perhatian", "sehat"
FLAG_ORDER = {BERMASALAH: 0, PERHATIAN: 1, SEHAT: 2}
QUIET_DAYS = 30  # no activity for more than this many days: perlu perhatian
CLOSE_BY_DAY = 10  # a month is closed by this day of the next month
# The month's own amounts, summed into kecamatan and city totals beside the portfolio's.
FLOW_KEYS = tuple(key for key in FLOW_FIGURES if key != "last_activity")


def percent(part, whole):
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def with_rates(figures):
    """The month's repayment rate from its parts (a row's or a total's)."""
    figures["repayment_rate"] = percent(figures["received"], figures["due"] + figures["overdue_at_start"])
    return figures


def close_deadline(month):
    """The last day on which `month` counts as closed in time: the 10th of the next month."""
    return (month_end(month) + datetime.timedelta(days=1)).replace(day=CLOSE_BY_DAY)


def closed_late(close, month, today):
    """Not closed by the 10th of the next month: still open after that day, or closed after it."""
    deadline = close_deadline(month)
    if close is None:
        return today > deadline
    return timezone.localtime(close.closed_at).date() > deadline


def health(figures, *, dinas, month, today):
    """(flag, reasons) of one LKMM for `month` by its Dinas's thresholds:
    bermasalah: NPL above its threshold, or the reserve covering less than its threshold of what is
    required (only when a reserve is required); perlu perhatian: PAR30 above its threshold, no payment,
    disbursement or voucher for more than 30 days before the month's end, or the month not closed by
    the 10th of the next month; otherwise sehat. A bound is not crossed at the bound itself."""
    reasons = []
    if figures["npl_ratio"] is not None and figures["npl_ratio"] > dinas.npl_threshold_pct:
        reasons.append("npl")
    if figures["required"] and (figures["coverage"] or 0) < dinas.coverage_threshold_pct:
        reasons.append("coverage")
    bad = bool(reasons)
    if figures["par30_ratio"] is not None and figures["par30_ratio"] > dinas.par30_threshold_pct:
        reasons.append("par30")
    last = figures.get("last_activity")
    if last is None or (month_end(month) - last).days > QUIET_DAYS:
        reasons.append("quiet")
    if closed_late(figures.get("closed"), month, today):
        reasons.append("close")
    if bad:
        return BERMASALAH, reasons
    return (PERHATIAN if reasons else SEHAT), reasons


def dinas_rows(*, lkmms, month, dinas, today=None):
    """The rows of the Dinas home: [{lkmm, figures, flag, reasons}] in the LKMMs' order, each row's
    figures the stored month-end portfolio with the month's activity kept beside it
    (risk.selectors.month_figures, FLOW_FIGURES) and the repayment rate from its parts."""
    today = today or timezone.localdate()
    lkmms = list(lkmms)
    stored = month_figures(lkmms=lkmms, month=month)
    rows = []
    for lkmm in lkmms:
        figures = with_rates(stored[lkmm.pk])
        flag, reasons = health(figures, dinas=dinas, month=month, today=today)
        rows.append({"lkmm": lkmm, "figures": figures, "flag": flag, "reasons": reasons})
    return rows


def total(figures):
    """The sum of some rows' figures: every amount summed, every percentage from the summed amounts."""
    figures = list(figures)
    result = combine(figures)
    for key in FLOW_KEYS:
        result[key] = sum(f.get(key) or 0 for f in figures)
    result["provisional"] = any(f.get("provisional") for f in figures)
    return with_rates(result)


def by_kecamatan(rows):
    """[(kecamatan, number of LKMMs, totals)] by name."""
    groups = {}
    for row in rows:
        groups.setdefault(row["lkmm"].kecamatan, []).append(row["figures"])
    return [(name, len(group), total(group)) for name, group in sorted(groups.items())]
