"""The Dinas home for a chosen month (issue 11): per LKMM of the reviewer's Dinas, the month-end portfolio
(stored: ledger.PeriodClose.summary or ledger.MonthFigures, read through risk.selectors.month_figures), what
happened in the month, a health flag by the Dinas's own thresholds, and kecamatan and city totals.

Every figure comes from a fixed number of queries, each grouped by LKMM, whatever the number of LKMMs.
A printed total is always the sum of the rows under it; a total's percentages are computed from its
summed amounts (NPL = summed NPL outstanding / summed outstanding), never averaged over the rows.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections, router
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from institutions.models import Lkmm
from risk.figures import AGGREGATE_KEYS
from risk.selectors import FLOW_FIGURES, _as_date, _finish, month_end, month_figures

BERMASALAH, PERHATIAN, SEHAT = "bermasalah", "perhatian", "sehat"
FLAG_ORDER = {BERMASALAH: 0, PERHATIAN: 1, SEHAT: 2}
QUIET_DAYS = 30  # no activity for more than this many days: perlu perhatian
CLOSE_BY_DAY = 10  # a month is closed by this day of the next month
# The month's own amounts, summed into kecamatan and city totals beside the portfolio's.
FLOW_KEYS = tuple(key for key in FLOW_FIGURES if key != "last_activity")


def reason_labels():
    """Each reason of health() in words."""
    return {
        "npl": _("NPL di atas batas"),
        "coverage": _("cakupan cadangan di bawah batas"),
        "par30": _("PAR30 di atas batas"),
        "quiet": _("tanpa kegiatan > 30 hari"),
        "close": _("belum tutup buku per tanggal 10"),
    }


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


class _Close:
    """What the page shows of a month's close: when it was made."""

    def __init__(self, closed_at):
        self.closed_at = closed_at


# The month's figures of every LKMM in scope, one row each, from the stored rows' columns
# (ledger.MonthFigures: a closed month's row holds what its close reported), each ratio the page compares
# or sorts by in whole hundredths of a percent, rounded half up as risk.selectors._percent rounds it, and
# the health flag from them as health() decides it (0 bermasalah, 1 perlu perhatian, 2 sehat). Plain SQL
# that SQLite and PostgreSQL both run. `lacking`: no stored row yet, or one without the month's flows.
def _hundredths(part, whole):
    return f"CASE WHEN {whole} > 0 THEN ({part} * 20000 + {whole}) / (2 * {whole}) END"


PORTFOLIO_KEYS = (*AGGREGATE_KEYS, "held")
SUMMED_KEYS = (*PORTFOLIO_KEYS, *FLOW_KEYS)
_BASE_SQL = """
    SELECT l.id AS lkmm_id, l.code, l.name, l.desa, l.kecamatan, l.quality_policy_id, pc.closed_at,
        {figures}, mf.last_activity,
        CASE WHEN mf.flows_kept THEN 0 ELSE 1 END AS lacking
    FROM institutions_lkmm l
    LEFT JOIN ledger_monthfigures mf ON mf.lkmm_id = l.id AND mf.month = %s
    LEFT JOIN ledger_periodclose pc ON pc.lkmm_id = l.id AND pc.month = %s AND pc.reopened_at IS NULL
    WHERE l.id IN ({scope})
""".format(figures=", ".join(f"mf.{key}" for key in SUMMED_KEYS), scope="{scope}")  # nosec B608  # names from code
_RATIOS = {
    "npl": _hundredths("npl", "outstanding"),
    "par30": _hundredths("par30", "outstanding"),
    "coverage": _hundredths("held", "required"),
    "rate": _hundredths("received", "(due + overdue_at_start)"),
}
_RATIOS_SQL = """
    SELECT base.*,
        {npl} AS npl_h, {par30} AS par30_h, {coverage} AS coverage_h, {rate} AS rate_h
    FROM base
""".format(**_RATIOS)  # nosec B608  # names from code
_FLAGGED_SQL = """
    SELECT ratios.*,
        CASE
            WHEN npl_h > %s OR (required > 0 AND COALESCE(coverage_h, 0) < %s) THEN 0
            WHEN par30_h > %s OR last_activity IS NULL OR last_activity < %s
                OR (closed_at IS NULL AND %s) OR closed_at >= %s THEN 1
            ELSE 2
        END AS flag
    FROM ratios
"""
_WITH_SQL = f"WITH base AS ({_BASE_SQL}), ratios AS ({_RATIOS_SQL}), flagged AS ({_FLAGGED_SQL})"
_TOTALS_SQL = (
    _WITH_SQL
    + """
    SELECT kecamatan, flag, SUM(lacking), COUNT(*), SUM(CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END), {sums}
    FROM flagged GROUP BY kecamatan, flag
""".format(sums=", ".join(f"COALESCE(SUM({key}), 0)" for key in SUMMED_KEYS))  # nosec B608  # names from code
)
_ROWS_SQL = _WITH_SQL + "SELECT * FROM flagged {where} ORDER BY {order} {limit}"  # nosec B608  # SORTS, STATUS_WHERE

# ?urut=: each column sorts its worst first (the largest share at risk, the lowest rate, the longest
# quiet); "status", the default, puts flagged LKMMs first. Ties by name.
SORTS = {
    "status": "flag, kecamatan, name",
    "nama": "name",
    "kecamatan": "kecamatan, name",
    "anggota": "COALESCE(members, 0) DESC, name",
    "peminjam": "COALESCE(borrowers, 0) DESC, name",
    "sisa": "COALESCE(outstanding, 0) DESC, name",
    "disalurkan": "COALESCE(disbursed, 0) DESC, name",
    "tertagih": "COALESCE(collected, 0) DESC, name",
    "pengembalian": "CASE WHEN rate_h IS NULL THEN 1 ELSE 0 END, rate_h, name",
    "par30": "COALESCE(par30_h, 0) DESC, name",
    "npl": "COALESCE(npl_h, 0) DESC, name",
    "cakupan": "CASE WHEN coverage_h IS NULL THEN 1 ELSE 0 END, coverage_h, name",
    "simpanan": "COALESCE(savings, 0) DESC, name",
    "aktivitas": "CASE WHEN last_activity IS NULL THEN 0 ELSE 1 END, last_activity, name",
}
# ?status=: "ditandai" is bermasalah and perlu perhatian together.
FLAGGED = "ditandai"
STATUS_WHERE = {
    FLAGGED: "WHERE flag < 2",
    BERMASALAH: "WHERE flag = 0",
    PERHATIAN: "WHERE flag = 1",
    SEHAT: "WHERE flag = 2",
}
FLAGS = (BERMASALAH, PERHATIAN, SEHAT)


def _as_hundredths(percent):
    return int(percent * 100)


class MonthTable:
    """The Dinas home for `month` over the LKMMs of `lkmms` (a queryset): the counts per flag, the
    kecamatan and city totals over every LKMM, and any page of rows filtered and sorted, each computed
    by the database from the stored month-end rows (one statement for the totals, one per page), so
    the work per request does not grow with the number of LKMMs beyond what the database sums.

    Stored rows missing for the month are computed and stored first (risk.selectors.month_figures).
    A page's rows carry the same figures, flag and reasons as health() gives them (tested at every
    threshold's boundary)."""

    def __init__(self, *, lkmms, month, dinas, today=None):
        self.month = month.replace(day=1)
        self.dinas = dinas
        self.today = today or timezone.localdate()
        self.lkmms = lkmms
        scope, scope_params = lkmms.values("pk").query.sql_with_params()
        self._with_params = [
            self.month,
            self.month,
            *scope_params,
            _as_hundredths(dinas.npl_threshold_pct),
            _as_hundredths(dinas.coverage_threshold_pct),
            _as_hundredths(dinas.par30_threshold_pct),
            month_end(self.month) - datetime.timedelta(days=QUIET_DAYS),
            self.today > close_deadline(self.month),
            # Closed after the deadline: at or after the start of the next day in Asia/Jakarta.
            self._connection().ops.adapt_datetimefield_value(
                timezone.make_aware(
                    datetime.datetime.combine(
                        close_deadline(self.month) + datetime.timedelta(days=1), datetime.time()
                    )
                )
            ),
        ]
        self._scope = scope
        self._totals()

    def _store_lacking(self):
        """Store the month's figures of the LKMMs that lack them, or lack the month's flows (stored
        before they were kept): risk.selectors.month_figures computes and keeps them."""
        from ledger.models import MonthFigures

        stored = MonthFigures.objects.filter(month=self.month, flows_kept=True).values("lkmm")
        lacking = self.lkmms.exclude(pk__in=stored).only("pk", "quality_policy_id")
        month_figures(lkmms=lacking, month=self.month)

    @staticmethod
    def _connection():
        """The database the month rows are read from (a replica on the report pages, lkmm.db_routers)."""
        from ledger.models import MonthFigures

        return connections[router.db_for_read(MonthFigures)]

    def _execute(self, sql, params=()):
        with self._connection().cursor() as cursor:
            cursor.execute(sql.replace("{scope}", self._scope), [*self._with_params, *params])
            columns = [col[0] for col in cursor.description]
            return columns, cursor.fetchall()

    def _totals(self):
        _columns, found = self._execute(_TOTALS_SQL)
        if any(lacking for _kecamatan, _flag, lacking, *_rest in found):
            self._store_lacking()  # the first read of a month, once
            _columns, found = self._execute(_TOTALS_SQL)
        self.counts = dict.fromkeys(FLAGS, 0)
        self.provisional = 0
        groups = {}
        for kecamatan, flag, _lacking, count, provisional, *sums in found:
            self.counts[FLAGS[flag]] += count
            self.provisional += provisional
            group = groups.setdefault(kecamatan, {"n": 0, "provisional": 0, "sums": [0] * len(SUMMED_KEYS)})
            group["n"] += count
            group["provisional"] += provisional
            group["sums"] = [a + int(b) for a, b in zip(group["sums"], sums, strict=True)]
        self.kecamatan = [
            (name, group["n"], _summed(group["sums"], group["provisional"]))
            for name, group in sorted(groups.items())
        ]
        city = [sum(group["sums"][i] for group in groups.values()) for i in range(len(SUMMED_KEYS))]
        self.totals = _summed(city, self.provisional)
        self.flagged = self.counts[BERMASALAH] + self.counts[PERHATIAN]

    def count(self, status=""):
        """The number of LKMMs the filter `status` shows."""
        if status == FLAGGED:
            return self.flagged
        return self.counts[status] if status else sum(self.counts.values())

    def rows(self, *, status="", sort="status", offset=0, limit=None):
        """[{lkmm, figures, flag, reasons}] filtered by `status` and sorted by `sort` (STATUS_WHERE,
        SORTS), from `offset`, at most `limit` of them (all by default)."""
        sql = _ROWS_SQL.format(
            where=STATUS_WHERE.get(status, ""),
            order=SORTS[sort],
            limit="" if limit is None else "LIMIT %s OFFSET %s",
            scope="{scope}",
        )
        columns, found = self._execute(sql, [] if limit is None else [limit, offset])
        rows = []
        for values in found:
            row = dict(zip(columns, values, strict=True))
            lkmm = Lkmm(
                pk=row["lkmm_id"],
                code=row["code"],
                name=row["name"],
                desa=row["desa"],
                kecamatan=row["kecamatan"],
                quality_policy_id=row["quality_policy_id"],
            )
            figures = _finish({key: int(row[key] or 0) for key in AGGREGATE_KEYS}, int(row["held"] or 0))
            figures.update({key: int(row[key] or 0) for key in FLOW_KEYS})
            figures["last_activity"] = _as_date(row["last_activity"])
            closed_at = row["closed_at"]
            if isinstance(closed_at, str):
                closed_at = parse_datetime(closed_at)
            if closed_at is not None and timezone.is_naive(closed_at):  # SQLite's, stored in UTC
                closed_at = closed_at.replace(tzinfo=datetime.UTC)
            figures["closed"] = _Close(closed_at) if closed_at is not None else None
            figures["provisional"] = closed_at is None
            with_rates(figures)
            flag, reasons = health(figures, dinas=self.dinas, month=self.month, today=self.today)
            rows.append({"lkmm": lkmm, "figures": figures, "flag": flag, "reasons": reasons})
        return rows


def _summed(sums, provisional):
    """A total's figures from its summed amounts: every percentage from the sums."""
    values = dict(zip(SUMMED_KEYS, (int(value) for value in sums), strict=True))
    figures = _finish({key: values[key] for key in AGGREGATE_KEYS}, values["held"])
    figures.update({key: values[key] for key in FLOW_KEYS})
    figures["provisional"] = bool(provisional)
    return with_rates(figures)


class PagedRows:
    """A MonthTable's filtered and sorted rows as django.core.paginator.Paginator takes them: its count
    from the totals, each page fetched on its own."""

    def __init__(self, table, *, status, sort):
        self.table, self.status, self.sort = table, status, sort

    def count(self):
        return self.table.count(self.status)

    def __len__(self):
        return self.count()

    def __getitem__(self, window):
        return self.table.rows(
            status=self.status, sort=self.sort, offset=window.start, limit=window.stop - window.start
        )
