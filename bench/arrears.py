#!/usr/bin/env python
"""Arrears and portfolio benchmark at province scale (see bench/README.md).

Generates the book with bench/generate.py (PostgreSQL COPY; the services would take hours), then
times the arrears engine (LoanQuerySet.with_standing / past_due) and the portfolio measures
(risk.selectors) for one LKMM and for the whole book, today and 90 days ago.

    /work/main/.venv/bin/python bench/arrears.py                 # generate (about 3-4 min) and measure
    /work/main/.venv/bin/python bench/arrears.py --reuse         # measure the book already there

The data follows the engine's rules, so every figure is what the application would show (see
bench/generate.py).
"""

import argparse
import datetime
import statistics
import sys
import time
from decimal import Decimal
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import DEFAULT_URL, book_size, ensure_database, generate, row_counts, setup_django  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=DEFAULT_URL)
    p.add_argument("--lkmms", type=int, default=2000)
    p.add_argument("--loans", type=int, default=300_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reuse", action="store_true", help="skip generation if a book of this size is there")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (best and median shown)")
    p.add_argument("--skip-whole-book", action="store_true", help="measure one LKMM only")
    p.add_argument("--explain", action="store_true", help="print the whole-book EXPLAIN ANALYZE plan")
    p.add_argument(
        "--prototypes", action="store_true", help="also time two faster prototype queries (README, Findings)"
    )
    p.add_argument("--generate-only", action="store_true", help="generate the book and stop")
    p.add_argument(
        "--jit",
        choices=["server", "off", "both"],
        default="both",
        help="measure with the server's jit setting, with SET jit = off, or both (default)",
    )
    p.add_argument("--today", type=datetime.date.fromisoformat, help="date the book ends on (default today)")
    return p.parse_args()


# --- prototypes (not application code) ------------------------------------------------------------
# Two ways to get the same figures faster, for comparison only (see README "Findings"). Both return
# (loans, outstanding, past-due loans, NPL amount, PAR30 amount, reserve required) like portfolio().

CLASS_JOIN = """
FROM s JOIN institutions_lkmm k ON k.id = s.lkmm_id
LEFT JOIN LATERAL (
  SELECT qc.non_performing, qc.reserve_rate FROM risk_qualityclass qc
  WHERE qc.policy_id = k.quality_policy_id
    AND (s.oldest_overdue_on IS NULL
         OR (CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily WHEN 'weekly' THEN qc.max_dpd_weekly
             ELSE qc.max_dpd_monthly END) IS NULL
         OR s.oldest_overdue_on >= %(at)s::date - (CASE s.frequency WHEN 'daily' THEN qc.max_dpd_daily
             WHEN 'weekly' THEN qc.max_dpd_weekly ELSE qc.max_dpd_monthly END))
  ORDER BY qc.position LIMIT 1) c ON true
"""
FIGURES = """
SELECT count(*), coalesce(sum(s.outstanding), 0), count(*) FILTER (WHERE s.oldest_overdue_on IS NOT NULL),
       coalesce(sum(s.outstanding) FILTER (WHERE c.non_performing), 0),
       coalesce(sum(s.outstanding) FILTER (WHERE s.oldest_overdue_on < %(at)s::date - 30
                                          OR s.restructured_from_id IS NOT NULL), 0),
       coalesce(sum((s.outstanding::bigint * round(coalesce(c.reserve_rate, 0) * 100)::bigint + 5000)
                    / 10000), 0)
"""
SET_BASED = """
WITH waived AS (
  SELECT installment_id, sum(interest) AS interest FROM loans_waiver WHERE "on" <= %(at)s
  GROUP BY installment_id
), inst AS (
  SELECT i.loan_id, i.due_date,
         i.principal + i.interest - coalesce(max(w.interest), 0) AS owed,
         coalesce(sum(a.principal + a.interest), 0) AS paid,
         coalesce(sum(a.principal), 0) AS principal_paid
  FROM loans_loan l
  JOIN loans_installment i ON i.loan_id = l.id
  LEFT JOIN waived w ON w.installment_id = i.id
  LEFT JOIN (loans_allocation a JOIN loans_repayment r ON r.id = a.repayment_id AND r.paid_on <= %(at)s)
         ON a.installment_id = i.id
        AND (a.valid_from IS NULL OR a.valid_from <= %(at)s) AND (a.valid_to IS NULL OR a.valid_to > %(at)s)
  WHERE l.status = ANY(%(statuses)s) AND l.disbursed_on <= %(at)s AND l.lkmm_id = ANY(%(lkmms)s)
  GROUP BY i.id
), per_loan AS (
  SELECT loan_id, sum(principal_paid) AS principal_repaid,
         min(due_date) FILTER (WHERE due_date < %(at)s AND paid < owed) AS oldest
  FROM inst GROUP BY loan_id
), s AS (
  SELECT l.id, l.lkmm_id, l.frequency, l.restructured_from_id,
         CASE WHEN coalesce(l.transferred_on <= %(at)s OR l.written_off_on <= %(at)s, false) THEN NULL
              ELSE p.oldest END AS oldest_overdue_on,
         l.principal - p.principal_repaid
           - CASE WHEN l.written_off_on <= %(at)s THEN l.written_off_principal ELSE 0 END
           - CASE WHEN l.transferred_on <= %(at)s THEN l.transferred_principal ELSE 0 END AS outstanding
  FROM per_loan p JOIN loans_loan l ON l.id = p.loan_id
)
"""


def prototype_materialized(lkmms, at):
    """The application's with_standing() subqueries, evaluated once per loan (MATERIALIZED CTE), and the
    quality class found by a join on risk_qualityclass instead of CASE expressions that repeat them."""
    from django.db import connection

    from loans.models import DISBURSED_STATUSES, Loan

    inner = (
        Loan.objects.filter(status__in=DISBURSED_STATUSES, disbursed_on__lte=at, lkmm__in=lkmms)
        .with_standing(at)
        .filter(outstanding__gt=0)
        .values("id", "lkmm_id", "frequency", "restructured_from_id", "oldest_overdue_on", "outstanding")
    )
    sql, params = inner.query.sql_with_params()
    # The inner SQL uses %s placeholders; name them so the outer part can use %(at)s.
    names = {f"p{i}": value for i, value in enumerate(params)}
    inner_sql = sql.replace("%", "%%").replace("%%s", "%s") % tuple(f"%({n})s" for n in names)
    query = f"WITH s AS MATERIALIZED ({inner_sql})" + FIGURES + CLASS_JOIN
    with connection.cursor() as cur:
        cur.execute(query, {**names, "at": at})
        return cur.fetchone()


def prototype_set_based(lkmms, at):
    """Standing from joins and GROUP BY (hash joins over the whole tables), no correlated subqueries."""
    from django.db import connection

    from loans.models import DISBURSED_STATUSES

    with connection.cursor() as cur:
        cur.execute(
            SET_BASED + FIGURES + CLASS_JOIN + " WHERE s.outstanding > 0",
            {"at": at, "lkmms": [k.pk for k in lkmms], "statuses": [str(x) for x in DISBURSED_STATUSES]},
        )
        return cur.fetchone()


def prototype_text(row):
    loans, outstanding, past_due, npl, par30, required = row
    pct = lambda x: f"{Decimal(x) * 100 / outstanding:.2f}%" if outstanding else "-"  # noqa: E731
    return (
        f"loans {loans:,}, outstanding Rp{outstanding:,}, past due {past_due:,}, NPL {pct(npl)}, "
        f"PAR30 {pct(par30)}, reserve required Rp{int(required):,}"
    )


# --- measurement ----------------------------------------------------------------------------------


def timed(function, repeat):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def figures_text(f):
    def pct(x):
        return "-" if x is None else f"{x}%"

    return (
        f"loans {f['loans']:,}, outstanding Rp{f['outstanding']:,}, past due {f['past_due_loans']:,}, "
        f"NPL {pct(f['npl_ratio'])}, PAR30 {pct(f['par30_ratio'])}, reserve required Rp{f['required']:,}"
    )


def explain(queryset_call, label, show_plan):
    """EXPLAIN (ANALYZE, BUFFERS) the largest query `queryset_call` runs; print its summary lines."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        queryset_call()
    sql = max(queries.captured_queries, key=lambda q: len(q["sql"]))["sql"]
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        plan = [row[0] for row in cur.fetchall()]
    keep = ("Planning Time", "Execution Time", "JIT", "  Timing")
    summary = [line.strip() for line in plan if line.startswith(keep)]
    print(f"EXPLAIN ANALYZE {label}: " + "; ".join(summary))
    print(f"  SQL length {len(sql):,} characters")
    if show_plan:
        print("\n".join(plan))
    return plan


def measure(args, today, jit):
    """Each measurement `args.repeat` times; `jit` is "server" (the server's setting) or "off"."""
    from django.db import connection
    from django.db.models import Count

    from institutions.models import Lkmm
    from loans.models import Loan
    from risk.selectors import portfolio, portfolio_by_lkmm

    with connection.cursor() as cur:
        cur.execute("RESET jit" if jit == "server" else "SET jit = off")
        cur.execute("SHOW jit")
        setting = cur.fetchone()[0]
    every = list(Lkmm.objects.select_related("quality_policy"))
    biggest = Lkmm.objects.annotate(n=Count("loans")).order_by("-n", "pk").first()
    print(f"\n==== jit = {setting} ({'server setting' if jit == 'server' else 'SET jit = off'}) ====")
    print(f"one LKMM: {biggest.code}, {biggest.n:,} loans (the largest); whole book: {len(every):,} LKMMs")

    results = []

    def run(label, function, describe):
        label = f"{label} [jit {setting}]"
        times, value = timed(function, args.repeat)
        best, median = min(times), statistics.median(times)
        results.append((label, best, median, max(times)))
        print(f"{label:<62} best {best:8.3f} s  median {median:8.3f} s   {describe(value)}")
        return value

    def overdue_list(at):
        return list(Loan.objects.past_due(at).filter(lkmm=biggest))

    def agrees(one, by_lkmm):
        mine = by_lkmm[biggest.pk]
        same = mine["outstanding"] == one["outstanding"] and mine["npl"] == one["npl"]
        return f"{len(by_lkmm):,} LKMMs; the largest agrees with (a): {'yes' if same else 'NO'}"

    for at in (today, today - datetime.timedelta(days=90)):
        when = "today" if at == today else "today-90"
        print(f"-- at {at} ({when}) --")
        one = run(
            f"(a) portfolio, one LKMM, {when}", partial(portfolio, lkmms=[biggest], at=at), figures_text
        )
        run(
            f"(d) overdue list (past_due), one LKMM, {when}",
            partial(overdue_list, at),
            lambda v: f"{len(v):,} loans past due",
        )
        if not args.skip_whole_book:
            run(f"(b) portfolio, whole book, {when}", partial(portfolio, lkmms=every, at=at), figures_text)
            run(
                f"(c) portfolio_by_lkmm, whole book, {when}",
                partial(portfolio_by_lkmm, lkmms=every, at=at),
                partial(agrees, one),
            )
        if args.prototypes:
            scopes = [("one LKMM", [biggest])] + ([] if args.skip_whole_book else [("whole book", every)])
            for scope, lkmms in scopes:
                for name, prototype in (
                    ("materialized", prototype_materialized),
                    ("set-based", prototype_set_based),
                ):
                    run(
                        f"(p) prototype {name}, {scope}, {when}",
                        partial(prototype, lkmms, at),
                        prototype_text,
                    )

    explain(partial(portfolio, lkmms=[biggest], at=today), f"portfolio one LKMM today, jit {setting}", False)
    if not args.skip_whole_book:
        label = f"portfolio whole book today, jit {setting}"
        explain(partial(portfolio, lkmms=every, at=today), label, args.explain)
    return results


def main():
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.utils import timezone

    today = args.today or timezone.localdate()
    lkmms, loans = book_size()
    if args.reuse and (lkmms, loans) == (args.lkmms, args.loans):
        print(f"reusing the book: {lkmms:,} LKMMs, {loans:,} loans")
    else:
        if (lkmms or loans) and "bench" not in args.database_url.rsplit("/", 1)[-1]:
            raise SystemExit("refusing to replace data in a database whose name has no 'bench' in it")
        generate(args, today)
    for table, n in row_counts().items():
        print(f"  {table:<24} {n:,}" if isinstance(n, int) else f"  {table:<24} {n}")
    if args.generate_only:
        return
    modes = ["server", "off"] if args.jit == "both" else [args.jit]
    results = [row for mode in modes for row in measure(args, today, mode)]
    print("\nsummary (seconds)")
    print(f"{'measurement':<62} {'best':>8} {'median':>8} {'worst':>8}")
    for label, best, median, worst in results:
        print(f"{label:<62} {best:8.3f} {median:8.3f} {worst:8.3f}")


if __name__ == "__main__":
    main()
