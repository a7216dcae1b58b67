#!/usr/bin/env python
"""Arrears and portfolio benchmark at province scale (see bench/README.md).

Generates a book of LKMMs, members, loan products, loans, installments, repayments and allocations
directly with PostgreSQL COPY (the services would take hours), then times the arrears engine
(LoanQuerySet.with_standing / past_due) and the portfolio measures (risk.selectors) for one LKMM and
for the whole book, today and 90 days ago.

    /work/main/.venv/bin/python bench/arrears.py                 # generate (about 3-4 min) and measure
    /work/main/.venv/bin/python bench/arrears.py --reuse         # measure the book already there

The data follows the engine's rules, so every figure is what the application would show: each
repayment pays exactly one installment (its late fee if any, its interest, its principal), oldest
first; allocations are unversioned (valid_from/valid_to NULL: no reversals).
"""

import argparse
import datetime
import io
import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/lkmm_bench"
PRINCIPALS = [500_000, 750_000, 1_000_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 5_000_000]
PRINCIPAL_WEIGHTS = [10, 8, 20, 15, 18, 10, 12, 7]
FIRST_NAMES = [
    "Siti",
    "Nur",
    "Sri",
    "Dewi",
    "Rina",
    "Wati",
    "Yuli",
    "Endang",
    "Lilik",
    "Umi",
    "Ani",
    "Sumarni",
    "Tutik",
    "Ernawati",
    "Ahmad",
    "Budi",
    "Slamet",
    "Agus",
    "Joko",
    "Hadi",
    "Imam",
    "Rudi",
    "Eko",
    "Bambang",
    "Mohammad",
    "Suparman",
    "Heru",
    "Samsul",
    "Fatimah",
    "Khoirul",
]
LAST_NAMES = [
    "Rahayu",
    "Wahyuni",
    "Lestari",
    "Handayani",
    "Kusuma",
    "Susanti",
    "Hidayat",
    "Santoso",
    "Prasetyo",
    "Wibowo",
    "Setiawan",
    "Saputra",
    "Hasanah",
    "Maulida",
    "Rohmah",
    "Fauzi",
    "Syahputra",
    "Nugroho",
    "Yulianti",
    "Purnomo",
]
KECAMATAN = [
    "Sumbersari",
    "Patrang",
    "Kaliwates",
    "Ajung",
    "Arjasa",
    "Jelbuk",
    "Pakusari",
    "Mayang",
    "Kalisat",
    "Ledokombo",
    "Sukowono",
    "Sumberjambe",
    "Silo",
    "Mumbulsari",
    "Jenggawah",
    "Rambipuji",
    "Balung",
    "Puger",
    "Wuluhan",
    "Ambulu",
    "Tempurejo",
    "Panti",
    "Sukorambi",
    "Bangsalsari",
    "Tanggul",
    "Sumberbaru",
    "Umbulsari",
    "Semboro",
    "Jombang",
    "Kencong",
    "Gumukmas",
]
KABUPATEN = [
    "Jember",
    "Banyuwangi",
    "Bondowoso",
    "Situbondo",
    "Lumajang",
    "Probolinggo",
    "Pasuruan",
    "Malang",
    "Blitar",
    "Kediri",
    "Tulungagung",
    "Trenggalek",
    "Ponorogo",
    "Pacitan",
    "Madiun",
    "Magetan",
    "Ngawi",
    "Bojonegoro",
    "Tuban",
    "Lamongan",
    "Gresik",
    "Mojokerto",
    "Jombang",
    "Nganjuk",
    "Sidoarjo",
    "Bangkalan",
    "Sampang",
    "Pamekasan",
    "Sumenep",
]
BUSINESSES = ["warung kelontong", "jual sayur keliling", "jahit", "gorengan", "ternak ayam", "tambal ban"]


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


# --- database -------------------------------------------------------------------------------------


def ensure_database(url):
    import psycopg2
    from psycopg2 import sql

    parts = urlparse(url)
    name = unquote(parts.path.lstrip("/"))
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=unquote(parts.username or "postgres"),
        password=unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    conn.close()
    return name


def setup_django(url):
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "lkmm.settings"
    os.environ.setdefault("CONN_MAX_AGE", "0")
    import django

    django.setup()
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrate: {time.perf_counter() - started:.1f} s")


# --- COPY -----------------------------------------------------------------------------------------


def _copy_text(value):
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


class CopyTable:
    """Rows for one model's table: the given columns per row, every other column its model default
    (computed once; auto_now_add fields get `now`). Flushed with COPY every `batch` rows."""

    def __init__(self, cursor, model, columns, now, batch=250_000):
        self.cursor, self.model, self.batch = cursor, model, batch
        self.table = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise SystemExit(f"{self.table}: no such fields {unknown}")
        rest, tail = [], []
        for name, field in fields.items():
            if name in columns or field.primary_key:
                continue
            if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
                value = now
            else:
                value = field.get_default()
                if value is None and not field.null:
                    raise SystemExit(f"{self.table}.{field.column}: not null and no default; give it")
            rest.append(field.column)
            tail.append(_copy_text(value))
        self.columns = [fields[c].column for c in columns] + rest
        self.tail = ("\t" + "\t".join(tail) if tail else "") + "\n"
        self.buffer, self.pending, self.count = io.StringIO(), 0, 0

    def add(self, *values):
        """Values already in COPY text form (str), in the order of `columns`."""
        self.buffer.write("\t".join(values) + self.tail)
        self.pending += 1
        if self.pending >= self.batch:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        self.buffer.seek(0)
        self.cursor.copy_expert(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buffer)
        self.count += self.pending
        self.buffer, self.pending = io.StringIO(), 0


# --- generation -----------------------------------------------------------------------------------

BOOK_TABLES = [
    "loans_allocation",
    "loans_waiver",
    "loans_repayment",
    "loans_installment",
    "loans_loanstatuschange",
    "loans_loan",
    "loans_loanproduct",
    "members_member",
    "institutions_lkmm",
]


def book_size():
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM institutions_lkmm), (SELECT count(*) FROM loans_loan)")
        return cur.fetchone()


def split(total, parts, rng):
    """`total` split into `parts` uneven whole shares (lognormal sizes, as LKMMs differ)."""
    weights = [rng.lognormvariate(0, 0.5) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [int(w * scale) for w in weights]
    for i in sorted(range(parts), key=lambda i: -(weights[i] * scale - shares[i]))[: total - sum(shares)]:
        shares[i] += 1
    return shares


def generate(args, today):
    from django.db import connection, transaction
    from django.utils import timezone

    from institutions.models import Lkmm
    from loans import schedule
    from loans.models import Allocation, Installment, Loan, LoanProduct, Repayment
    from members.models import Member
    from risk.models import QualityPolicy

    rng = random.Random(args.seed)
    now = timezone.now()
    policies = dict(QualityPolicy.objects.values_list("code", "pk"))
    iso = {}

    def d(date):
        text = iso.get(date)
        if text is None:
            text = iso[date] = date.isoformat()
        return text

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(BOOK_TABLES)} RESTART IDENTITY CASCADE")
        # The generated rows are consistent by construction: skip the FK triggers while loading.
        cur.execute("SET LOCAL session_replication_role = replica")
        lkmms = CopyTable(
            cur,
            Lkmm,
            ["id", "code", "name", "desa", "kecamatan", "kabupaten", "founded_on", "quality_policy_id"],
            now,
        )
        members = CopyTable(
            cur,
            Member,
            [
                "id",
                "lkmm_id",
                "number",
                "nik",
                "full_name",
                "gender",
                "birth_date",
                "desa",
                "business",
                "joined_on",
                "status",
            ],
            now,
        )
        products = CopyTable(
            cur,
            LoanProduct,
            [
                "id",
                "lkmm_id",
                "name",
                "interest_method",
                "frequency",
                "rate_per_month",
                "installment_count",
                "rounding_unit",
                "max_amount",
                "admin_fee_percent",
                "late_fee",
            ],
            now,
        )
        loans = CopyTable(
            cur,
            Loan,
            [
                "id",
                "lkmm_id",
                "number",
                "member_id",
                "product_id",
                "principal",
                "interest_method",
                "frequency",
                "rate_per_month",
                "installment_count",
                "rounding_unit",
                "admin_fee",
                "late_fee",
                "purpose",
                "applied_on",
                "disbursed_on",
                "status",
            ],
            now,
        )
        installments = CopyTable(
            cur, Installment, ["id", "loan_id", "seq", "due_date", "principal", "interest"], now
        )
        repayments = CopyTable(
            cur, Repayment, ["id", "lkmm_id", "loan_id", "receipt_no", "amount", "paid_on", "token"], now
        )
        allocations = CopyTable(
            cur,
            Allocation,
            ["id", "repayment_id", "installment_id", "late_fee", "interest", "principal"],
            now,
        )

        # Two products per LKMM, the same terms everywhere: weekly flat and monthly annuity.
        kinds = {
            "weekly": {
                "name": "Mingguan 10x",
                "method": "flat",
                "frequency": "weekly",
                "rate": Decimal("2.00"),
                "count": 10,
                "unit": 500,
                "late_fee": 0,
            },
            "monthly": {
                "name": "Bulanan 6x",
                "method": "annuity",
                "frequency": "monthly",
                "rate": Decimal("2.50"),
                "count": 6,
                "unit": 1000,
                "late_fee": 5_000,
            },
        }
        parts_cache = {}

        def parts(principal, kind):
            key = (principal, kind)
            if key not in parts_cache:
                k = kinds[kind]
                lines = schedule.build_schedule(
                    principal=principal,
                    rate_per_month=k["rate"],
                    count=k["count"],
                    frequency=k["frequency"],
                    method=k["method"],
                    rounding_unit=k["unit"],
                    first_due=today,
                )
                parts_cache[key] = [
                    (str(x.principal), str(x.interest), x.principal + x.interest) for x in lines
                ]
            return parts_cache[key]

        loan_counts = split(args.loans, args.lkmms, rng)
        member_id = product_id = loan_id = inst_id = rep_id = 0
        behaviour = {"on time": 0, "late": 0, "defaulted": 0}
        for lkmm_id, n_loans in enumerate(loan_counts, start=1):
            kab = KABUPATEN[lkmm_id % len(KABUPATEN)]
            kec = KECAMATAN[(lkmm_id // len(KABUPATEN)) % len(KECAMATAN)]
            desa = f"Desa {lkmm_id:04d}"
            # One LKMM in ten follows the five-class bank policy, so both policies are in the CASEs.
            policy = policies["bank-5"] if lkmm_id % 10 == 0 else policies["lkm-2015"]
            founded = today - datetime.timedelta(days=rng.randint(400, 4000))
            lkmms.add(
                str(lkmm_id), f"lkmm-{lkmm_id:04d}", f"LKMM {desa}", desa, kec, kab, d(founded), str(policy)
            )

            n_members = max(1, round(n_loans / 1.2))
            first_member = member_id + 1
            for number in range(1, n_members + 1):
                member_id += 1
                female = rng.random() < 0.8
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                birth = datetime.date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
                members.add(
                    str(member_id),
                    str(lkmm_id),
                    str(number),
                    f"35{lkmm_id:04d}{number:010d}",
                    name,
                    "P" if female else "L",
                    d(birth),
                    desa,
                    rng.choice(BUSINESSES),
                    d(founded),
                    "aktif",
                )
            product_ids = {}
            for kind, k in kinds.items():
                product_id += 1
                product_ids[kind] = str(product_id)
                products.add(
                    str(product_id),
                    str(lkmm_id),
                    k["name"],
                    k["method"],
                    k["frequency"],
                    str(k["rate"]),
                    str(k["count"]),
                    str(k["unit"]),
                    "5000000",
                    "1.00",
                    str(k["late_fee"]),
                )

            payments = []  # (paid_on, loan_id, seq, amount, installment_id, late_fee, interest, principal)
            for number in range(1, n_loans + 1):
                loan_id += 1
                kind = "weekly" if rng.random() < 0.7 else "monthly"
                k = kinds[kind]
                principal = rng.choices(PRINCIPALS, PRINCIPAL_WEIGHTS)[0]
                disbursed = today - datetime.timedelta(days=rng.randint(1, 365))
                applied = disbursed - datetime.timedelta(days=rng.randint(0, 7))
                lines = parts(principal, kind)
                dates = schedule.due_dates(
                    first_due=schedule.first_due_after(disbursed, k["frequency"]),
                    frequency=k["frequency"],
                    count=k["count"],
                )
                r = rng.random()
                if r < 0.80:
                    who, delay, stop = "on time", 0, k["count"]
                elif r < 0.92:
                    who, stop = "late", k["count"]
                    delay = rng.randint(1, 20) if kind == "weekly" else rng.randint(1, 45)
                else:
                    who, delay, stop = "defaulted", 0, rng.randint(0, k["count"] - 1)
                behaviour[who] += 1
                paid_all = stop == k["count"]
                for seq, (due, (p, i, total)) in enumerate(zip(dates, lines, strict=True), start=1):
                    inst_id += 1
                    installments.add(str(inst_id), str(loan_id), str(seq), d(due), p, i)
                    paid_on = due + datetime.timedelta(days=delay)
                    if seq > stop or paid_on > today:
                        paid_all = False
                        continue
                    fee = k["late_fee"] if delay else 0
                    payments.append((paid_on, loan_id, seq, total + fee, inst_id, str(fee), i, p))
                loans.add(
                    str(loan_id),
                    str(lkmm_id),
                    str(number),
                    str(rng.randint(first_member, member_id)),
                    product_ids[kind],
                    str(principal),
                    k["method"],
                    k["frequency"],
                    str(k["rate"]),
                    str(k["count"]),
                    str(k["unit"]),
                    str(principal // 100),
                    str(k["late_fee"]),
                    "modal usaha",
                    d(applied),
                    d(disbursed),
                    "lunas" if paid_all else "aktif",
                )
            # Receipts are numbered per LKMM in value order.
            payments.sort()
            for receipt_no, (paid_on, lid, _seq, amount, iid, fee, i, p) in enumerate(payments, start=1):
                rep_id += 1
                token = uuid.UUID(int=(args.seed << 64) | rep_id, version=4)
                repayments.add(
                    str(rep_id), str(lkmm_id), str(lid), str(receipt_no), str(amount), d(paid_on), str(token)
                )
                allocations.add(str(rep_id), str(rep_id), str(iid), fee, i, p)

        tables = [lkmms, members, products, loans, installments, repayments, allocations]
        for table in tables:
            table.flush()
        cur.execute("SET LOCAL session_replication_role = origin")
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.table}), false)"
            )
    generated = time.perf_counter() - started
    print(f"generated in {generated:.1f} s (COPY, FK triggers off, one transaction)")
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE: {time.perf_counter() - started:.1f} s")
    print("behaviour: " + ", ".join(f"{k} {v:,}" for k, v in behaviour.items()))
    return {t.table: t.count for t in tables}, generated


def row_counts():
    from django.db import connection

    counts = {}
    with connection.cursor() as cur:
        for table in reversed(BOOK_TABLES):
            cur.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT status, count(*) FROM loans_loan GROUP BY status ORDER BY status")
        counts["loans by status"] = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts["database size"] = cur.fetchone()[0]
    return counts


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
