"""Store every LKMM's portfolio figures at the end of each month that has ended (ledger.MonthFigures).

Run it daily, shortly after midnight (Asia/Jakarta), from cron or a systemd timer; it only computes what
is missing, so a run on a day with nothing new costs a few queries:

    15 0 * * *  cd /srv/lkmm && venv/bin/python manage.py store_month_figures

Figures dropped because a back-dated event changed a stored month are computed again here (or on the
first page that needs them).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from institutions.models import Lkmm
from risk.selectors import month_figures


def month_arg(value):
    try:
        return datetime.date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(f"Not a month (YYYY-MM): {value!r}") from None


class Command(BaseCommand):
    help = "Store the month-end portfolio figures of every LKMM for the months that have ended."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            type=month_arg,
            help="first month to fill, YYYY-MM (default: the last month that ended)",
        )

    def handle(self, *args, **options):
        this_month = timezone.localdate().replace(day=1)
        month = options["since"] or (this_month - datetime.timedelta(days=1)).replace(day=1)
        if month >= this_month:
            raise CommandError("Only months that have ended have month-end figures.")
        lkmms = list(Lkmm.objects.filter(is_active=True))
        while month < this_month:
            figures = month_figures(lkmms=lkmms, month=month)
            self.stdout.write(f"{month:%Y-%m}: {len(figures)} LKMM(s)")
            month = (month + datetime.timedelta(days=32)).replace(day=1)
