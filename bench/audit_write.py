#!/usr/bin/env python
"""What the audit trail's triggers cost one repayment (PostgreSQL): repayment_record timed with the
history triggers disabled, then enabled under a request's history context (user, IP, path), as the
payment form runs it. Writes into the database it is pointed at: use a scratch copy.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<scratch> python bench/audit_write.py [--rounds 200]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lkmm.settings")

import django  # noqa: E402

django.setup()

import pghistory  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit.models import TRACKED  # noqa: E402
from loans.models import Loan, LoanStatus  # noqa: E402
from loans.services import repayment_record  # noqa: E402


def _set_triggers(enabled):
    verb = "ENABLE" if enabled else "DISABLE"
    with connection.cursor() as cursor:
        for proxy in TRACKED:
            table = proxy._meta.db_table
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'pgtrigger_%%'",
                [table],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'ALTER TABLE "{table}" {verb} TRIGGER "{name}"')


def _round(loans, actor, *, context):
    times = []
    today = timezone.localdate()
    for loan in loans:
        start = time.perf_counter()
        if context:
            with pghistory.context(user=actor.pk if actor else None, ip="10.0.0.1", url="/pinjaman/bayar/"):
                repayment_record(loan=loan, amount=100, paid_on=today, actor=actor)
        else:
            repayment_record(loan=loan, amount=100, paid_on=today, actor=actor)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "the triggers exist on PostgreSQL only"
    loans = list(Loan.objects.filter(status=LoanStatus.AKTIF, principal_outstanding_derived__gt=10_000))
    loans = (loans * (args.rounds // max(len(loans), 1) + 1))[: args.rounds]
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(staff__isnull=False).first()
    # Off and on alternate in small batches, so a busy machine's drift falls on both alike.
    results = {"off": [], "on": []}
    batch = max(args.rounds // 10, 1)
    try:
        _set_triggers(True)
        _round(loans[:batch], actor, context=True)  # warm-up
        for start in range(0, len(loans), batch):
            for label, enabled in [("off", False), ("on", True)]:
                _set_triggers(enabled)
                results[label] += _round(loans[start : start + batch], actor, context=enabled)
    finally:
        _set_triggers(True)
    for label, times in results.items():
        times.sort()
        print(
            f"history {label:3}: {len(times)} payments, median {statistics.median(times):.2f} ms, "
            f"p90 {times[int(len(times) * 0.9)]:.2f} ms"
        )


if __name__ == "__main__":
    main()
