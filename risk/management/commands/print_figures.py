"""Print every LKMM's portfolio figures, its loan-quality classes and each disbursed loan's figures at
every month end since its first disbursement and at today, as plain text.

The regression oracle of the arrears and reserve arithmetic: the figures are always computed (never read
from stored month-close summaries) and printed in a fixed order and format, so two versions of the
engine, or two databases, can be compared with diff:

    python manage.py print_figures --today 2026-06-15 > before.txt
"""

import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from institutions.models import Lkmm
from loans.models import DISBURSED_STATUSES, Loan
from risk.selectors import by_class, loans_at, portfolio


def month_ends(first, today):
    """The last day of every month from `first`'s month up to the last month complete before `today`."""
    ends, month = [], first.replace(day=1)
    while month < today.replace(day=1):
        following = (month + datetime.timedelta(days=31)).replace(day=1)
        ends.append(following - datetime.timedelta(days=1))
        month = following
    return ends


def percent(value):
    return "-" if value is None else f"{Decimal(value):.2f}"


def figure(key, value):
    """Ratios as percent with two decimals, every other figure as a whole number."""
    if key.endswith("ratio") or key.endswith("coverage"):
        return percent(value)
    return "-" if value is None else str(int(value))


class Command(BaseCommand):
    help = (
        "Print the portfolio, class and per-loan figures of every LKMM at each month end and at today, "
        "always computed: the arithmetic engine's regression oracle."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lkmm", help="only the LKMM with this code")
        parser.add_argument(
            "--today", type=datetime.date.fromisoformat, help="the date taken as today (YYYY-MM-DD)"
        )

    def handle(self, *args, **options):
        today = options["today"] or timezone.localdate()
        lkmms = Lkmm.objects.order_by("code")
        if options["lkmm"]:
            lkmms = lkmms.filter(code=options["lkmm"])
            if not lkmms.exists():
                raise CommandError(f"No LKMM with code {options['lkmm']!r}")
        for lkmm in lkmms:
            disbursed = Loan.objects.filter(lkmm=lkmm, status__in=DISBURSED_STATUSES)
            first = disbursed.aggregate(first=Min("disbursed_on"))["first"]
            dates = [*month_ends(first, today), today] if first else [today]
            self.stdout.write(f"# LKMM {lkmm.code} {lkmm.name} policy={lkmm.quality_policy.code}")
            for at in dates:
                self.print_date(lkmm, disbursed, at, "month-end" if at != today else "today")

    def print_date(self, lkmm, disbursed, at, label):
        write = self.stdout.write
        write(f"## {lkmm.code} {at.isoformat()} {label}")
        figures = portfolio(lkmms=[lkmm], at=at)
        for key in sorted(figures):
            write(f"portfolio {key} {figure(key, figures[key])}")
        for row in by_class(lkmms=[lkmm], at=at):
            code = row["quality_class"].code if row["quality_class"] else "-"
            write(
                f"class {code} loans={row['loans']} outstanding={int(row['outstanding'])} "
                f"required={int(row['required'])}"
            )
        # Loans out of the portfolio at `at` (nothing outstanding) have no class and no reserve.
        quality = {
            loan.pk: (loan.quality_class_id, loan.reserve_rate, loan.required_reserve)
            for loan in loans_at(at, lkmms=[lkmm])
        }
        codes = dict(lkmm.quality_policy.classes.values_list("pk", "code"))
        for loan in disbursed.filter(disbursed_on__lte=at).with_standing(at).order_by("number"):
            class_id, rate, reserve = quality.get(loan.pk, (None, None, 0))
            write(
                f"loan {loan.code} status={loan.status} outstanding={int(loan.outstanding)} "
                f"overdue_amount={int(loan.overdue_amount)} overdue_fees={int(loan.overdue_fees)} "
                f"dpd={loan.days_past_due} class={codes.get(class_id, '-')} rate={percent(rate)} "
                f"reserve={int(reserve)}"
            )
