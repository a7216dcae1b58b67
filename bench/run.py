#!/usr/bin/env python
"""The LKMM benchmarks (issue item 6), each beside its floor from the same run (see bench/README.md).

    /work/main/.venv/bin/python bench/run.py --size small              # about 3 minutes, all included
    /work/main/.venv/bin/python bench/run.py --size province --reuse   # after one run without --reuse

Generates the book (bench/generate.py) unless --reuse finds one of this size, copies it to a scratch
database (<book>_run, so the writes of (e) and (g) never touch the book), then measures:

  (a) the arrears report of the largest LKMM vs bench/floors/arrears.sql
  (b) the manager home and collection sheet of the largest LKMM, the Dinas home and the city trend,
      in-process (Django test Client)
  (c) month-end close of every LKMM for the last complete month (rolled back) vs bench/floors/month_end.sql
  (d) portfolio_by_lkmm of every LKMM today and 90 days ago vs bench/floors/portfolio_by_lkmm.sql
  (e) recording the 300th payment of a loan vs the first payment of a new one, and their loan pages
  (f) pages over HTTP (wrk, 16 connections; the Dinas home also at 4; gunicorn with 3 workers) vs the
      login page
  (g) payments through the real form at 16 concurrent clients vs bench/floors/repayment.pgbench

and prints a table (median, spread, floor, ratio) and writes the figures to bench/results/<size>.json.
"""

import argparse
import datetime
import http.client
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FLOORS = BENCH / "floors"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import generate as gen  # noqa: E402

# Per size: timed runs per measurement (after one warm-up), runs of the month-end close, seconds of
# each wrk run and of the pgbench floor, and rounds of (g) over its loans.
PROFILES = {
    "small": {"repeat": 5, "close_repeat": 3, "wrk_seconds": 10, "pgbench_seconds": 10, "pay_rounds": 1},
    "province": {"repeat": 3, "close_repeat": 1, "wrk_seconds": 20, "pgbench_seconds": 20, "pay_rounds": 2},
}
CLIENTS = 16  # concurrent connections in (f) and clients in (g)
PAY_LKMMS = 16  # (g) pays in this many LKMMs ...
PAY_LOANS = 208  # ... over this many loans (13 per LKMM)
PAY_AMOUNT = 10_000
# The pgbench floor pays less per payment, so that at its far higher rate the same loans are not paid
# off within its run (the writes are the same whatever the amount).
FLOOR_AMOUNT = 1_000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=gen.SIZES, default="small")
    p.add_argument("--lkmms", type=int, help="override the size's number of LKMMs")
    p.add_argument("--loans", type=int, help="override the size's number of loans")
    p.add_argument("--database-url", help="the book's database (default: from --size)")
    p.add_argument("--reuse", action="store_true", help="keep the book if it already has this size")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, help="timed runs per in-process measurement")
    p.add_argument("--close-repeat", type=int, help="timed runs of the month-end close")
    p.add_argument("--wrk-seconds", type=int, help="seconds per wrk run (f)")
    p.add_argument("--pgbench-seconds", type=int, help="seconds of the pgbench floor (g)")
    p.add_argument("--pay-rounds", type=int, help="rounds of (g) over its loans")
    p.add_argument("--gunicorn-timeout", type=int, default=30, help="gunicorn worker timeout (default 30)")
    p.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    p.add_argument("--only", default="abcdefg", help="run only these measurements, e.g. --only ad")
    p.add_argument("--json", type=Path, help="where to write the figures (default bench/results/<size>.json)")
    p.add_argument("--markdown", type=Path, metavar="JSON", help="print a results file as Markdown and stop")
    args = p.parse_args()
    if args.markdown:
        return args
    lkmms, loans, name = gen.SIZES[args.size]
    args.lkmms = args.lkmms or lkmms
    args.loans = args.loans or loans
    args.database_url = args.database_url or gen.database_url(name)
    for key, value in PROFILES[args.size].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.json = args.json or BENCH / "results" / f"{args.size}.json"
    return args


# --- the book and its scratch copy -----------------------------------------------------------------


def prepare_book(args):
    """Generate (or reuse) the book in a separate process, then copy it to <name>_run."""
    command = [sys.executable, str(BENCH / "generate.py"), "--size", args.size, "--seed", str(args.seed)]
    command += ["--lkmms", str(args.lkmms), "--loans", str(args.loans), "--database-url", args.database_url]
    if args.reuse:
        command.append("--reuse")
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    generated = time.perf_counter() - started
    name = urllib.parse.urlparse(args.database_url).path.lstrip("/")
    scratch = f"{name}_run"
    if "bench" not in scratch:
        raise SystemExit("the scratch database's name must contain 'bench'")
    started = time.perf_counter()
    admin = _admin_connection(args.database_url)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        cur.execute(f'CREATE DATABASE "{scratch}" TEMPLATE "{name}"')
    admin.close()
    copied = time.perf_counter() - started
    print(f"copied {name} to {scratch} in {copied:.1f} s")
    return gen.with_database(args.database_url, scratch), scratch, {"generate_s": generated, "copy_s": copied}


def _admin_connection(url):
    import psycopg2

    parts = urllib.parse.urlparse(url)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1", port=parts.port or 5432, user=parts.username or "postgres"
    )
    conn.autocommit = True
    return conn


def server_env(url, allowed_hosts):
    """The production-like settings: DEBUG off, a generated SECRET_KEY, cookies not secure (plain HTTP)."""
    return {
        "DJANGO_SETTINGS_MODULE": "lkmm.settings",
        "DATABASE_URL": url,
        "DEBUG": "off",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": allowed_hosts,
        "SECURE_COOKIES": "off",
        "SECURE_SSL_REDIRECT": "off",  # plain HTTP on the bench's own port
        "LOG_LEVEL": "WARNING",
    }


def setup_django(url):
    os.environ.update(server_env(url, "testserver,127.0.0.1"))
    os.environ["CONN_MAX_AGE"] = "0"
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=dict(os.environ),
        check=True,
    )
    import django

    django.setup()
    # The test Client runs requests in this process: keep its connection (and our transactions) open.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)


# --- measuring --------------------------------------------------------------------------------------


def timed(function, repeat, warmup=1):
    for _ in range(warmup):
        function()
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return times, result


def timed_pair(app, floor, repeat, warmup=1):
    """The app and its floor run alternately (after `warmup` untimed runs of each), so both see the same
    load on the machine: (app times, app's last result, floor times, floor's last result)."""
    for _ in range(warmup):
        app()
        floor()
    app_times, floor_times, app_result, floor_result = [], [], None, None
    for _ in range(repeat):
        started = time.perf_counter()
        app_result = app()
        app_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        floor_result = floor()
        floor_times.append(time.perf_counter() - started)
    return app_times, app_result, floor_times, floor_result


def summary(times):
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "runs": len(times)}


def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def floor_sql(name):
    """A committed floor (psql variables :'at', :lkmm) as a psycopg2 query (%(at)s, %(lkmm)s)."""
    text = (FLOORS / name).read_text().replace("%", "%%")
    text = re.sub(r"(?<![:\w]):'(\w+)'", r"%(\1)s", text)
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text)


def run_floor(name, **params):
    from django.db import connection

    sql = floor_sql(name)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


class Results:
    def __init__(self):
        self.rows = []

    def add(self, key, what, **fields):
        row = {"key": key, "what": what, **fields}
        self.rows.append(row)
        print(f"  {key:<4} {what}: {describe(row)}", flush=True)
        return row


def ms(seconds):
    if seconds is None:
        return "-"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def describe(row):
    kind = row.get("kind", "time")
    if kind == "time":
        app, floor = row["app"], row.get("floor")
        text = f"median {ms(app['median'])} ({ms(app['min'])}-{ms(app['max'])})"
        if floor:
            text += f"; floor {ms(floor['median'])}; ratio {row['ratio']:.1f}"
    elif kind == "http":
        text = f"{row['rps']:.1f} req/s, p50 {ms(row['p50'])}, p99 {ms(row['p99'])}"
        if row.get("ratio") is not None:
            text += f"; ratio {row['ratio']:.1f}"
    else:
        text = f"{row['pps']:.1f} payments/s, p95 {ms(row['p95'])}"
    if row.get("notes"):
        text += f"  [{row['notes']}]"
    return text


def ratio(app, floor):
    return app["median"] / floor["median"] if floor and floor["median"] else None


# --- in-process measurements (a)-(e) ----------------------------------------------------------------


class Book:
    """What the measurements need to know about the book."""

    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.db.models import Count
        from django.utils import timezone

        from institutions.models import Lkmm

        self.today = timezone.localdate()
        self.lkmms = list(Lkmm.objects.select_related("quality_policy").order_by("pk"))
        self.largest = gen.largest_lkmm()
        self.by_size = list(
            Lkmm.objects.annotate(n=Count("loans")).order_by("-n", "pk").values_list("pk", "code", "n")
        )
        User = get_user_model()
        staff = User.objects.filter(staff__isnull=False).select_related("staff")
        self.pengelola = {u.staff.lkmm_id: u for u in staff if u.staff.role == "pengelola"}
        self.ketua = {u.staff.lkmm_id: u for u in staff if u.staff.role == "ketua"}
        self.dinas = User.objects.get(username=gen.DINAS_USERNAME)


def client_for(user):
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
        if needs_second_factor(user):
            # As the code page would: the session verified with the user's authenticator.
            from django_otp import DEVICE_ID_SESSION_KEY

            session = client.session
            session[DEVICE_ID_SESSION_KEY] = bench_device(user).persistent_id
            session.save()
    return client


def needs_second_factor(user):
    from institutions.security import needs_second_factor as needs

    return needs(user)


def bench_device(user):
    """The confirmed authenticator of a Dinas or admin login the bench signs in with."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _created = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
    return device


def totp_code(device):
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def get_page(client, path):
    """(seconds, status, queries) of one GET through the test Client."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    return seconds, response.status_code, len(queries.captured_queries)


def time_pages(app, floor, repeat):
    """GETs of two pages, alternately: app = (client, path), floor = (client, path). Returns for each
    (times, (status, query count) of its last GET)."""
    page = {}

    def getter(which, client, path):
        def get():
            seconds, status, queries = get_page(client, path)
            page[which] = (status, queries)
            return seconds

        return get

    app_times, _, floor_times, _ = timed_pair(getter("app", *app), getter("floor", *floor), repeat)
    return app_times, page["app"], floor_times, page["floor"]


def measure_a(book, results, repeat):
    from reports.report_views import arrears_list

    lkmm = book.largest
    times, (loans, _totals, _classes), ftimes, rows = timed_pair(
        lambda: arrears_list(lkmm=lkmm, at=book.today),
        lambda: run_floor("arrears.sql", at=book.today, lkmm=lkmm.pk),
        repeat,
    )
    app_figures = {
        loan.pk: (
            loan.days_past_due,
            loan.overdue_amount,
            loan.overdue_fees,
            loan.outstanding,
            loan.quality_class_id,
        )
        for loan in loans
    }
    floor_figures = {
        r["id"]: (
            r["days_past_due"],
            r["overdue_amount"],
            r["overdue_fees"],
            r["outstanding"],
            r["quality_class_id"],
        )
        for r in rows
    }
    same = app_figures == floor_figures
    app, floor = summary(times), summary(ftimes)
    results.add(
        "a",
        f"arrears report, {lkmm.code} ({lkmm.n:,} loans), today: arrears_list",
        app=app,
        floor=floor,
        ratio=ratio(app, floor),
        agrees=same,
        notes=f"{len(loans)} loans past due; floor agrees: {'yes' if same else 'NO'}",
    )


def open_savings(lkmm):
    """The generated book predates savings: the largest LKMM's members get their savings accounts (as
    savings migration 0002 gives existing members), so its collection sheet has a wajib column to fill."""
    from members.models import Member
    from savings.services import accounts_open, products_ensure

    products_ensure(lkmm=lkmm)
    for member in Member.objects.filter(lkmm=lkmm):
        accounts_open(member=member)


GROUP_SIZE = 25  # the largest pokmas the scale issue names (an LKMM allows 3 to 10 by default)


def open_group(book):
    """The generated book has no groups: on the scratch copy, the largest LKMM gets one pokmas of its
    GROUP_SIZE active borrowers with the most active loans, whose meeting sheet b5 and f8 read (the
    sheet a collector prints and fills in at a meeting)."""
    from django.db.models import Count, Q

    from members.models import Member
    from members.services import group_create

    lkmm = book.largest
    lkmm.group_max_size = max(lkmm.group_max_size, GROUP_SIZE)
    lkmm.save(update_fields=["group_max_size"])
    members = list(
        Member.objects.filter(lkmm=lkmm, status="aktif")
        .annotate(active=Count("loans", filter=Q(loans__status="aktif")))
        .filter(active__gt=0)
        .order_by("-active", "pk")[:GROUP_SIZE]
    )
    book.group = group_create(
        lkmm=lkmm,
        actor=book.ketua[lkmm.pk],
        name="Pokmas Bench",
        meeting_day=book.today.weekday(),
        meeting_place="Balai RW 01",
        joint_liability=True,
        members=members,
        leader=members[0],
    )
    book.group_size = len(members)


def measure_b(book, results, repeat):
    """Each page alternately with the login page; b0 is every login GET of both."""
    login = (client_for(None), "/akun/masuk/")
    pages = [
        ("b1", f"manager home /, {book.largest.code}", book.pengelola[book.largest.pk], "/"),
        (
            "b4",
            f"collection sheet with savings /pinjaman/tagihan/, {book.largest.code}",
            book.pengelola[book.largest.pk],
            "/pinjaman/tagihan/",
        ),
        (
            "b5",
            f"a group's meeting sheet, {book.group_size} members, {book.largest.code}",
            book.pengelola[book.largest.pk],
            f"/pinjaman/tagihan/kelompok/{book.group.pk}/",
        ),
        ("b2", f"Dinas home /, {len(book.lkmms):,} LKMMs", book.dinas, "/"),
        ("b3", f"city trend /tren/, 12 months of {len(book.lkmms):,} LKMMs", book.dinas, "/tren/"),
    ]
    rows, logins = [], []
    for key, what, user, url in pages:
        times, (status, queries), floor_times, (login_status, login_queries) = time_pages(
            (client_for(user), url), login, repeat
        )
        logins += floor_times
        app, floor = summary(times), summary(floor_times)
        rows.append(
            {
                "key": key,
                "what": what,
                "app": app,
                "floor": floor,
                "ratio": ratio(app, floor),
                "status": status,
                "queries": queries,
                "notes": f"HTTP {status}, {queries} queries",
            }
        )
    results.add(
        "b0",
        "login page, in-process (floor of b1-b5)",
        app=summary(logins),
        status=login_status,
        queries=login_queries,
        notes=f"HTTP {login_status}, {login_queries} queries",
    )
    for row in rows:
        results.add(**row)


def measure_c(book, results, repeat):
    """month_close of every LKMM, in one transaction rolled back after each run (the rollback is not
    timed); the last run's stored figures are compared with the floor's, loan by loan."""
    from django.db import transaction

    from risk.models import ClosedLoanFigure
    from risk.services import month_close, month_end

    month = (book.today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    last = month_end(month)
    times, summaries, stored, ftimes, rows = [], {}, {}, [], []
    if repeat > 1:
        run_floor("month_end.sql", at=last)  # warm-up of the floor; the app's first run is timed
    for _run in range(repeat):
        with transaction.atomic():
            started = time.perf_counter()
            for lkmm in book.lkmms:
                close = month_close(lkmm=lkmm, actor=book.ketua[lkmm.pk], month=month)
                summaries[lkmm.pk] = close.summary
            times.append(time.perf_counter() - started)
            fields = (
                "outstanding",
                "overdue",
                "late_fees",
                "days_past_due",
                "quality_class_id",
                "required_reserve",
            )
            stored = {row[0]: row[1:] for row in ClosedLoanFigure.objects.values_list("loan_id", *fields)}
            transaction.set_rollback(True)
        started = time.perf_counter()
        rows = run_floor("month_end.sql", at=last)
        ftimes.append(time.perf_counter() - started)
    floor_lkmms = {r["lkmm_id"]: r for r in rows if r["loan_id"] is None}
    floor_loans = {
        r["loan_id"]: (
            r["outstanding"],
            r["overdue"],
            r["late_fees"],
            r["days_past_due"],
            r["quality_class_id"],
            r["required"],
        )
        for r in rows
        if r["loan_id"] is not None
    }
    keys = ("loans", "outstanding", "overdue", "past_due_loans", "npl", "par30", "required", "held")
    bad = [
        pk
        for pk, figures in summaries.items()
        if any(int(figures[k] or 0) != int(floor_lkmms.get(pk, {}).get(k) or 0) for k in keys)
    ]
    loans_agree = stored == floor_loans
    app, floor = summary(times), summary(ftimes)
    agrees = not bad and loans_agree
    results.add(
        "c",
        f"month-end close of {len(book.lkmms):,} LKMMs for {month:%m/%Y} (rolled back)",
        app=app,
        floor=floor,
        ratio=ratio(app, floor),
        agrees=agrees,
        notes=f"{len(stored):,} loan figures; floor agrees: "
        + ("yes" if agrees else f"NO ({len(bad)} LKMM summaries differ, loan figures agree: {loans_agree})"),
    )


def measure_d(book, results, repeat):
    from risk.selectors import portfolio_by_lkmm

    keys = ("loans", "outstanding", "overdue", "past_due_loans", "npl", "par1", "par30", "par90")
    keys += ("required", "ksp_problem", "held", "members")
    for key, at, when in (
        ("d1", book.today, "today"),
        ("d2", book.today - datetime.timedelta(days=90), "today-90"),
    ):
        times, figures, ftimes, rows = timed_pair(
            lambda at=at: portfolio_by_lkmm(lkmms=book.lkmms, at=at),
            lambda at=at: run_floor("portfolio_by_lkmm.sql", at=at),
            repeat,
        )
        floor_by = {r["lkmm_id"]: r for r in rows}
        bad = [
            pk for pk, f in figures.items() if any(int(f[k] or 0) != int(floor_by[pk][k] or 0) for k in keys)
        ]
        app, floor = summary(times), summary(ftimes)
        results.add(
            key,
            f"portfolio_by_lkmm, {len(book.lkmms):,} LKMMs, {when} ({at})",
            app=app,
            floor=floor,
            ratio=ratio(app, floor),
            agrees=not bad,
            notes=f"floor agrees: {'yes' if not bad else f'NO ({len(bad)} LKMMs differ)'}",
        )


def measure_e(book, results, repeat):
    """A loan with 299 payments (recorded through the service) and a new loan, in one transaction that is
    rolled back at the end; each timed payment is rolled back too (a savepoint)."""
    from decimal import Decimal

    from django.db import transaction

    from loans import services
    from loans.models import Repayment
    from members.models import Member

    lkmm = book.largest
    pengelola, ketua = book.pengelola[lkmm.pk], book.ketua[lkmm.pk]
    today = book.today
    with transaction.atomic():
        product = services.product_create(
            lkmm=lkmm,
            actor=ketua,
            name="Bench mingguan 120x",
            interest_method="flat",
            frequency="weekly",
            rate_per_month=Decimal("2.00"),
            installment_count=120,
            rounding_unit=500,
            min_amount=1_000_000,
            max_amount=10_000_000,
            late_fee=0,
        )
        member = Member.objects.filter(lkmm=lkmm, status="aktif").order_by("pk").first()

        def new_loan(disbursed_on):
            loan = services.loan_apply(
                member=member,
                product=product,
                principal=10_000_000,
                purpose="modal usaha",
                applied_on=disbursed_on - datetime.timedelta(days=3),
                actor=pengelola,
            )
            services.loan_approve(loan=loan, actor=ketua, on=disbursed_on - datetime.timedelta(days=2))
            return services.loan_disburse(loan=loan, disbursed_on=disbursed_on, actor=pengelola)

        started = time.perf_counter()
        old = new_loan(today - datetime.timedelta(days=300))
        for day in range(1, 300):
            services.repayment_record(
                loan=old,
                amount=20_000,
                paid_on=old.disbursed_on + datetime.timedelta(days=day),
                actor=pengelola,
            )
        setup = time.perf_counter() - started
        fresh = new_loan(today - datetime.timedelta(days=7))
        assert Repayment.objects.filter(loan=old).count() == 299
        assert not Repayment.objects.filter(loan=fresh).exists()

        def pay(loan):
            with transaction.atomic():
                services.repayment_record(loan=loan, amount=20_000, paid_on=today, actor=pengelola)
                transaction.set_rollback(True)

        last_times, _, first_times, _ = timed_pair(lambda: pay(old), lambda: pay(fresh), repeat)
        first, last = summary(first_times), summary(last_times)
        results.add(
            "e1",
            "repayment_record: 300th payment of a loan vs 1st of a new one",
            app=last,
            floor=first,
            ratio=ratio(last, first),
            notes=f"setting up 299 payments took {setup:.1f} s",
        )
        client = client_for(pengelola)
        old_times, (status_old, queries_old), new_times, (status_new, queries_new) = time_pages(
            (client, f"/pinjaman/{old.pk}/"), (client, f"/pinjaman/{fresh.pk}/"), repeat
        )
        old_page, new_page = summary(old_times), summary(new_times)
        results.add(
            "e2",
            "loan page /pinjaman/<id>/: loan with 299 payments vs new loan",
            app=old_page,
            floor=new_page,
            ratio=ratio(old_page, new_page),
            status=status_old,
            queries=queries_old,
            notes=f"HTTP {status_old}/{status_new}, {queries_old} vs {queries_new} queries",
        )
        transaction.set_rollback(True)


def check_sample(codes, label):
    """manage.py check_books --lkmm CODE for each code (in this process): {code: output}; all clean?"""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    outputs, clean = {}, True
    for code in codes:
        out = io.StringIO()
        try:
            call_command("check_books", lkmm=code, stdout=out)
            outputs[code] = out.getvalue().strip()
        except CommandError as exc:
            clean = False
            outputs[code] = (out.getvalue() + str(exc)).strip()
    print(f"  check_books {label}: {'clean' if clean else 'PROBLEMS'} ({', '.join(codes)})")
    if not clean:
        for code, text in outputs.items():
            print(f"    {code}: {text[:2000]}")
    return {"lkmms": codes, "clean": clean, "outputs": outputs}


# --- HTTP (f) and (g) -------------------------------------------------------------------------------


class Session:
    """A tiny HTTP client with cookies, on http.client (gunicorn's sync workers close each connection)."""

    def __init__(self, port):
        self.port, self.cookies = port, {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method, path, form=None):
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            # A GET is retried once on a fresh connection; a POST never (it might have been recorded).
            self.conn.close()
            if method != "GET":
                raise
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, response.getheader("Location", ""), text

    def login(self, username):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username=username)
        device = bench_device(user) if needs_second_factor(user) else None
        status, _, page = self.request("GET", "/akun/masuk/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"username": username, "password": gen.PASSWORD, "csrfmiddlewaretoken": token}
        status, location, _ = self.request("POST", "/akun/masuk/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login of {username} failed: HTTP {status} {location}")
        if device is not None:  # the second step: the authenticator's code
            status, _, page = self.request("GET", "/akun/masuk/kode/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            form = {"code": totp_code(device), "csrfmiddlewaretoken": token}
            status, location, _ = self.request("POST", "/akun/masuk/kode/", form)
            if status != 302 or "kode" in location:
                raise RuntimeError(f"second factor of {username} failed: HTTP {status} {location}")
        return self

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items() if k in ("sessionid", "csrftoken"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    def __init__(self, url, port, timeout, log):
        self.port, self.log = port, log
        gunicorn = Path(sys.executable).with_name("gunicorn")
        env = {**os.environ, **server_env(url, "127.0.0.1"), "CONN_MAX_AGE": "60"}
        command = [
            str(gunicorn),
            "lkmm.wsgi",
            "-w",
            "3",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            str(timeout),
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                status, _, _ = Session(port).request("GET", "/akun/masuk/")
                if status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {log.name}")
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def wrk(port, path, cookie, seconds, clients=None):
    clients = clients or CLIENTS
    command = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, flags=re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = re.search(r"(\d+) requests in", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _seconds(latency["50"]) if "50" in latency else None,
        "p99": _seconds(latency["99"]) if "99" in latency else None,
        "requests": int(requests.group(1)) if requests else 0,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(map(int, errors.groups())) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "output": output,
    }


def measure_f(book, results, port, seconds):
    from loans.models import Loan

    lkmm = book.largest
    manager = Session(port).login(book.pengelola[lkmm.pk].username)
    dinas = Session(port).login(book.dinas.username)
    # A typical active loan of the largest LKMM: the one with the most payments.
    from django.db.models import Count

    loan = (
        Loan.objects.filter(lkmm=lkmm, status="aktif")
        .annotate(n=Count("repayments"))
        .order_by("-n", "pk")
        .first()
    )
    pages = [
        ("f0", "login page (floor of f)", "/akun/masuk/", None),
        ("f1", f"manager home, {lkmm.code}", "/", manager),
        ("f2", "member list", "/anggota/", manager),
        ("f3", f"loan page {loan.code} ({loan.n} payments)", f"/pinjaman/{loan.pk}/", manager),
        ("f4", f"Dinas home, {len(book.lkmms):,} LKMMs", "/", dinas),
        ("f5", f"arrears report, {lkmm.code}", f"/laporan/{lkmm.code}/tunggakan/", manager),
        # The scale issue's Dinas target is set at 4 connections.
        ("f6", f"Dinas home, {len(book.lkmms):,} LKMMs, 4 connections", "/", dinas, 4),
        ("f7", f"collection sheet with savings, {lkmm.code}", "/pinjaman/tagihan/", manager),
        (
            "f8",
            f"a group's meeting sheet, {book.group_size} members, {lkmm.code}",
            f"/pinjaman/tagihan/kelompok/{book.group.pk}/",
            manager,
        ),
    ]
    measured = []
    for key, what, path, session, *clients in pages:
        started = time.perf_counter()
        status, location, _ = (session or Session(port)).request("GET", path)
        first = time.perf_counter() - started
        notes = [f"first GET HTTP {status} in {ms(first)}"]
        if status != 200:
            notes.append(f"NOT 200 ({location})")
        figures = wrk(port, path, session.cookie_header() if session else None, seconds, *clients)
        if figures["non_2xx_3xx"] or figures["socket_errors"]:
            notes.append(f"{figures['non_2xx_3xx']} non-2xx/3xx, {figures['socket_errors']} socket errors")
        output = figures.pop("output")
        if status != 200 or figures["non_2xx_3xx"] or figures["socket_errors"]:
            print(output)
        measured.append((key, what, path, status, figures, notes))
    # The login page again at the end: the floor is the mean of both runs, as the load may change.
    again = wrk(port, "/akun/masuk/", None, seconds)
    again.pop("output")
    floor_rps = (measured[0][4]["rps"] + again["rps"]) / 2
    for key, what, path, status, figures, notes in measured:
        if key == "f0":
            notes.append(f"{figures['rps']:.1f} req/s before the pages, {again['rps']:.1f} after")
            figures = {**figures, "rps_after": again["rps"]}
        results.add(
            key,
            f"HTTP {what} {path}",
            kind="http",
            **figures,
            status=status,
            floor_rps=floor_rps,
            ratio=floor_rps / figures["rps"] if key != "f0" and figures["rps"] else None,
            notes="; ".join(notes),
        )


def pick_payment_loans(book):
    """PAY_LOANS active loans without late fees, PAY_LOANS / PAY_LKMMS in each of the PAY_LKMMS largest
    LKMMs: {lkmm id: [loan ids]}."""
    from loans.models import Loan

    per = -(-PAY_LOANS // PAY_LKMMS)
    chosen = {}
    for pk, _code, _n in book.by_size:
        ids = list(
            Loan.objects.filter(
                lkmm_id=pk, status="aktif", late_fee=0, principal_outstanding_derived__gte=200_000
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:per]
        )
        if len(ids) == per:
            chosen[pk] = ids
        if len(chosen) == PAY_LKMMS:
            return chosen
    raise SystemExit(f"(g) needs {PAY_LKMMS} LKMMs with {per} active loans without late fees")


def measure_g(book, results, port, rounds, pgbench_seconds, scratch):
    from loans.models import Repayment

    chosen = pick_payment_loans(book)
    codes = {pk: code for pk, code, _n in book.by_size}
    before = Repayment.objects.count()
    posts, gets, failures, receipts = [], [], [], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(chosen) + 1)

    def client(lkmm_id, loan_ids):
        try:
            session = Session(port).login(book.pengelola[lkmm_id].username)
        except Exception as exc:  # noqa: BLE001 - reported as a failure
            with lock:
                failures.append(f"login {codes[lkmm_id]}: {exc}")
            barrier.wait()
            return
        barrier.wait()
        for _round in range(rounds):
            for loan_id in loan_ids:
                try:
                    started = time.perf_counter()
                    status, _, page = session.request("GET", f"/pinjaman/{loan_id}/bayar/")
                    got = time.perf_counter() - started
                    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
                    token = re.search(r'name="token" value="([^"]+)"', page)
                    if status != 200 or not csrf or not token:
                        raise RuntimeError(f"form GET HTTP {status}")
                    form = {
                        "csrfmiddlewaretoken": csrf.group(1),
                        "token": token.group(1),
                        "amount": str(PAY_AMOUNT),
                        "paid_on": book.today.isoformat(),
                        "note": "",
                    }
                    started = time.perf_counter()
                    status, location, page = session.request("POST", f"/pinjaman/{loan_id}/bayar/", form)
                    posted = time.perf_counter() - started
                    ok = status == 302 and re.fullmatch(r"/pinjaman/kuitansi/\d+/", location or "")
                    with lock:
                        gets.append(got)
                        posts.append(posted)
                        if ok:
                            receipts.append(location)
                        else:
                            errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', page)[:2]
                            failures.append(f"loan {loan_id}: HTTP {status} {location} {errors}")
                except Exception as exc:  # noqa: BLE001 - reported as a failure
                    with lock:
                        failures.append(f"loan {loan_id}: {exc}")

    threads = [threading.Thread(target=client, args=item) for item in chosen.items()]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    new = Repayment.objects.count() - before
    check = check_sample([codes[pk] for pk in chosen], "after (g), the LKMMs paid in")
    floor = pgbench_floor(book, chosen, pgbench_seconds, scratch)
    pps = len(receipts) / wall
    notes = [
        f"{len(receipts)} of {len(receipts) + len(failures)} posts 302 to a receipt",
        f"{len(set(receipts))} distinct receipts",
        f"{new} new payments in the database",
        f"{sum(len(v) for v in chosen.values())} loans in {len(chosen)} LKMMs",
        f"check_books {'clean' if check['clean'] else 'NOT CLEAN'}",
        f"floor: pgbench {floor['tps']:.1f} tps, p95 {ms(floor['p95'])}, {floor['failed']} failed"
        + (f", ABORTED (exit {floor['returncode']})" if floor["returncode"] else ""),
    ]
    results.add(
        "g",
        f"payments through the form, {len(chosen)} clients (GET form + POST)",
        kind="payments",
        pps=pps,
        p95=percentile(posts, 95),
        p50=percentile(posts, 50),
        get_p95=percentile(gets, 95),
        wall=wall,
        successes=len(receipts),
        failures=len(failures),
        failure_samples=failures[:10],
        new_payments=new,
        counts_agree=new == len(receipts) == len(set(receipts)),
        check_books=check,
        floor=floor,
        ratio=floor["tps"] / pps if pps else None,
        notes="; ".join(notes),
    )


def pgbench_floor(book, chosen, seconds, scratch):
    """bench/floors/repayment.pgbench at 16 clients, client c paying in the c-th LKMM of (g)."""
    from django.db import connection

    per = len(next(iter(chosen.values())))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_floor_loans")
        cur.execute(
            "CREATE TABLE bench_floor_loans (client int, k int, loan_id bigint, lkmm_id bigint, user_id int, "
            "PRIMARY KEY (client, k))"
        )
        for client, (lkmm_id, loan_ids) in enumerate(chosen.items()):
            for k, loan_id in enumerate(loan_ids):
                cur.execute(
                    "INSERT INTO bench_floor_loans VALUES (%s, %s, %s, %s, %s)",
                    [client, k, loan_id, lkmm_id, book.pengelola[lkmm_id].pk],
                )
        cur.execute("ANALYZE bench_floor_loans")
    logs = Path(tempfile.mkdtemp(prefix="bench-pgbench-"))
    command = ["pgbench", "-n", "-h", "127.0.0.1", "-U", "postgres", "-c", str(len(chosen)), "-j", "2"]
    command += ["-T", str(seconds), "-D", f"per_client={per}", "-D", f"amount={FLOOR_AMOUNT}"]
    command += ["-f", str(FLOORS / "repayment.pgbench"), "--log", f"--log-prefix={logs}/log", scratch]
    done = subprocess.run(command, capture_output=True, text=True)
    output = done.stdout + done.stderr
    latencies = []
    for path in logs.glob("log*"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1e6)
    shutil.rmtree(logs, ignore_errors=True)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if done.returncode or not tps:
        print(output)
    return {
        "tps": float(tps.group(1)) if tps else 0.0,
        "p95": percentile(latencies, 95),
        "p50": percentile(latencies, 50),
        "transactions": len(latencies),
        "failed": int(failed.group(1)) if failed else (0 if done.returncode == 0 else -1),
        "returncode": done.returncode,
    }


# --- report -----------------------------------------------------------------------------------------


def table(rows):
    lines = [
        f"{'':<4} {'what':<66} {'median':>11} {'spread':>25} {'floor':>11} {'ratio':>7}  notes",
    ]
    for row in rows:
        kind = row.get("kind", "time")
        if kind == "time":
            app, floor = row["app"], row.get("floor")
            median, spread = ms(app["median"]), f"{ms(app['min'])}-{ms(app['max'])}"
            floor_text = ms(floor["median"]) if floor else "-"
        elif kind == "http":
            median = f"{row['rps']:.1f}/s"
            spread = f"p50 {ms(row['p50'])} p99 {ms(row['p99'])}"
            floor_text = f"{row['floor_rps']:.1f}/s" if row["key"] != "f0" else "-"
        else:
            median = f"{row['pps']:.1f}/s"
            spread = f"p50 {ms(row['p50'])} p95 {ms(row['p95'])}"
            floor_text = f"{row['floor']['tps']:.1f}/s"
        ratio_text = f"{row['ratio']:.1f}" if row.get("ratio") is not None else "-"
        what = row["what"] if len(row["what"]) <= 66 else row["what"][:63] + "..."
        lines.append(
            f"{row['key']:<4} {what:<66} {median:>11} {spread:>25} {floor_text:>11} {ratio_text:>7}  "
            f"{row.get('notes', '')}"
        )
    return "\n".join(lines)


def markdown(report):
    """A results file as the Markdown table of bench/README.md."""
    lines = [
        "| | what | median | spread | floor | ratio | notes |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in report["results"]:
        kind = row.get("kind", "time")
        if kind == "time":
            app, floor = row["app"], row.get("floor")
            cells = [
                ms(app["median"]),
                f"{ms(app['min'])} – {ms(app['max'])}",
                ms(floor["median"]) if floor else "–",
            ]
        elif kind == "http":
            cells = [f"{row['rps']:.1f} req/s", f"p50 {ms(row['p50'])}, p99 {ms(row['p99'])}"]
            cells.append(f"{row['floor_rps']:.1f} req/s" if row["key"] != "f0" else "–")
        else:
            cells = [f"{row['pps']:.1f} payments/s", f"p50 {ms(row['p50'])}, p95 {ms(row['p95'])}"]
            cells.append(f"{row['floor']['tps']:.1f} tps, p95 {ms(row['floor']['p95'])}")
        ratio_text = f"{row['ratio']:.1f}" if row.get("ratio") is not None else "–"
        what = row["what"].replace("|", "\\|")
        lines.append(
            f"| {row['key']} | {what} | " + " | ".join(cells) + f" | {ratio_text} | {row.get('notes', '')} |"
        )
    return "\n".join(lines)


def environment(book, scratch):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
        cur.execute("SHOW jit")
        jit = cur.fetchone()[0]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "today": book.today.isoformat(),
        "database": scratch,
        "postgresql": version,
        "jit (app connection)": jit,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "commit": commit.stdout.strip(),
        "largest_lkmm": {"code": book.largest.code, "loans": book.largest.n},
    }


def main():
    args = parse_args()
    if args.markdown:
        print(markdown(json.loads(args.markdown.read_text())))
        return
    started = time.perf_counter()
    load_before = os.getloadavg()
    url, scratch, timings = prepare_book(args)
    setup_django(url)
    book = Book()
    open_savings(book.largest)  # on the scratch copy, for the collection sheet's lines (b4, f7)
    open_group(book)  # and a pokmas, for a meeting's sheet (b5, f8)
    counts = gen.row_counts()
    print(f"book: {counts}")
    results = Results()
    checks = {"sample": check_sample(gen.sample_lkmms(5, args.seed), "on 5 LKMMs")}
    # As in production, the daily job has stored every LKMM's figures for the last month that ended
    # (the Dinas home reads them); timed here, not counted in any line.
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("store_month_figures", stdout=io.StringIO())
    timings["store_month_figures_s"] = time.perf_counter() - started
    print(f"store_month_figures (the daily job) took {timings['store_month_figures_s']:.1f} s")
    measures = {"a": measure_a, "b": measure_b, "c": measure_c, "d": measure_d, "e": measure_e}
    for key, function in measures.items():
        if key in args.only:
            function(book, results, args.close_repeat if key == "c" else args.repeat)
    if "f" in args.only or "g" in args.only:
        port = args.port or free_port()
        log = open(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1], "w")  # noqa: SIM115
        server = Gunicorn(url, port, args.gunicorn_timeout, log)
        try:
            if "f" in args.only:
                measure_f(book, results, port, args.wrk_seconds)
            if "g" in args.only:
                measure_g(book, results, port, args.pay_rounds, args.pgbench_seconds, scratch)
        finally:
            server.stop()
            log.close()
        print(f"gunicorn log: {log.name}")
    order = {k: i for i, k in enumerate("abcdefg")}
    rows = sorted(results.rows, key=lambda r: (order[r["key"][0]], r["key"]))
    total = time.perf_counter() - started
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{args.size}: {args.lkmms:,} LKMMs, {args.loans:,} loans; today {book.today}; {total:.0f} s")
    print(f"load average at the start {', '.join(f'{x:.1f}' for x in load_before)}, at the end {load}\n")
    print(table(rows))
    report = {
        "size": args.size,
        "lkmms": args.lkmms,
        "loans": args.loans,
        "environment": environment(book, scratch),
        "book": counts,
        "timings": {**timings, "total_s": total},
        # Other work on the machine shares its cores: the 1, 5 and 15 minute load averages.
        "load_average": {"start": load_before, "end": os.getloadavg()},
        "check_books": checks,
        "results": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nfigures written to {args.json}")


if __name__ == "__main__":
    main()
