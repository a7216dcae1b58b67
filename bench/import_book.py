#!/usr/bin/env python
"""Import benchmark (issue 10): generate a book of N loans with their weekly payments (some late, a few
reversed), then time validating it and recording it into an empty LKMM on PostgreSQL. Not run in CI.

    /work/main/.venv/bin/python bench/import_book.py --loans 10000
    /work/main/.venv/bin/python bench/import_book.py --loans 2000      # the in-request target: < 30 s

Prints the time of each phase, the queries of the apply phase and the cost per payment. The LKMM is
committed (as the page and the command do, so the ledger's deferred balance checks run and are timed)
under a new code each run; the database is a scratch one of its own.
"""

import argparse
import datetime
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import SERVER, ensure_database, setup_django  # noqa: E402


def nik(n, rng):
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(60, 99)
    female = n % 2 == 1
    return (
        f"350901{day + 40 if female else day:02d}{month:02d}{year:02d}{(n % 9999) + 1:04d}",
        datetime.date(1900 + year, month, day),
        "P" if female else "L",
    )


def write_book(folder, loans, seed=1):
    """members.csv, loans.csv, repayments.csv of `loans` loans: flat 1.5% weekly over 10-20 weeks,
    disbursed over the last two years, paid on time, late, or stopped early; one payment in fifty
    reversed the next day."""
    rng = random.Random(seed)
    today = datetime.date.today()  # noqa: DTZ011 - a benchmark's book, not the app's clock
    members, loan_rows, payments = [], [], []
    from loans import schedule

    used = set()
    for n in range(loans):
        while True:
            number, birth, gender = nik(rng.randint(0, 10**6), rng)
            if number not in used:
                break
        used.add(number)
        members.append(f"{number},Anggota {n},{gender},{birth.isoformat()},2023-01-02,Kelompok {n // 5}")
        principal = rng.choice([500_000, 1_000_000, 1_500_000, 2_000_000])
        count = rng.choice([10, 12, 20])
        disbursed = today - datetime.timedelta(days=rng.randint(30, 700))
        ref = f"L{n:06d}"
        loan_rows.append(f"{ref},{number},{principal},flat,1.5,weekly,{count},{disbursed.isoformat()}")
        lines = schedule.build_schedule(
            principal=principal,
            rate_per_month=schedule.Decimal("1.5"),
            count=count,
            frequency="weekly",
            method="flat",
            rounding_unit=100,
            first_due=disbursed + datetime.timedelta(days=7),
        )
        kind = rng.random()
        stop = rng.randint(2, count) if kind < 0.1 else None
        delay = 0 if kind < 0.7 else rng.randint(1, 10)
        for line in lines:
            if stop is not None and line.seq > stop:
                break
            paid_on = line.due_date + datetime.timedelta(days=delay)
            if paid_on > today:
                break
            reversed_part = ""
            if rng.random() < 0.02 and line.seq < count and paid_on + datetime.timedelta(days=1) <= today:
                payments.append(f"{ref},{paid_on.isoformat()},{line.principal + line.interest},,")
                reversed_part = f"{(paid_on + datetime.timedelta(days=1)).isoformat()},Salah catat"
                payments.append(f"{ref},{paid_on.isoformat()},5000,{reversed_part}")
                continue
            payments.append(f"{ref},{paid_on.isoformat()},{line.principal + line.interest},,")
    header = {
        "members": "nik,full_name,gender,birth_date,joined_on,group",
        "loans": (
            "loan_ref,nik,principal,interest_method,monthly_rate_pct,frequency,installments,disbursed_on"
        ),
        "repayments": "loan_ref,paid_on,amount,reversed_on,reversal_reason",
    }
    for name, rows in (("members", members), ("loans", loan_rows), ("repayments", payments)):
        (folder / f"{name}.csv").write_text("\n".join([header[name], *rows]) + "\n", encoding="utf-8")
    return len(payments)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--database-url", default=f"{SERVER}/lkmm_bench_import")
    args = parser.parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from books import formats
    from books.importer import validate
    from books.recorder import apply
    from institutions.models import Dinas
    from institutions.services import dinas_create, lkmm_create

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        payments = write_book(folder, args.loans)
        print(
            f"book: {args.loans} loans, {payments} payments, written in {time.perf_counter() - started:.1f} s"
        )
        code = f"imp-{int(time.time())}"
        with transaction.atomic():
            dinas = Dinas.objects.filter(code="bench").first() or dinas_create(
                code="bench", name="Dinas Koperasi (bench)", kabupaten="Jember", provinsi="Jawa Timur"
            )
            lkmm = lkmm_create(
                dinas=dinas,
                code=code,
                name="Bench import",
                desa="Semenggu",
                kecamatan="Sumbersari",
                founded_on=datetime.date(2009, 11, 16),
            )
            started = time.perf_counter()
            book = formats.read_book(folder)
            read = time.perf_counter() - started
            plan = validate(book, lkmm=lkmm)
            validated = time.perf_counter() - started - read
            if not plan.ok:
                for problem in plan.errors[:20]:
                    print(problem)
                raise SystemExit(1)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            apply(plan, actor=None)  # its own transaction, committed
            applied = time.perf_counter() - started
        total = read + validated + applied
        print(f"read {read:.1f} s, validate {validated:.1f} s, apply {applied:.1f} s, total {total:.1f} s")
        print(
            f"apply: {len(queries)} queries, {len(queries) / payments:.2f} per payment, "
            f"{applied / payments * 1000:.2f} ms per payment (all phases: {total / payments * 1000:.2f} ms)"
        )
        in_db = sum(float(q["time"]) for q in queries.captured_queries)
        print(f"apply: {in_db:.1f} s in the database, {applied - in_db:.1f} s in Python")
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:5]
        for q in slowest:
            print(f"  {float(q['time']):6.2f} s  {q['sql'][:90]}")


if __name__ == "__main__":
    main()
