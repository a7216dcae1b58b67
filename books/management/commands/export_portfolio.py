import datetime

from django.core.management.base import BaseCommand, CommandError

from books.exporter import portfolio_csv
from institutions.models import Lkmm


class Command(BaseCommand):
    help = (
        "The portfolio at the end of a date as CSV (comma separated, UTF-8 without BOM): one row per loan "
        "with principal outstanding, or with --summary one row per LKMM."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--lkmm", metavar="CODE", help="one LKMM (default: every LKMM)")
        parser.add_argument("--summary", action="store_true")
        parser.add_argument("--output", metavar="PATH")

    def handle(self, *args, **options):
        try:
            at = datetime.date.fromisoformat(options["as_of"])
        except ValueError:
            raise CommandError(f"Not a date (YYYY-MM-DD): {options['as_of']}", returncode=1) from None
        lkmms = Lkmm.objects.all()
        if options["lkmm"]:
            lkmms = lkmms.filter(code=options["lkmm"])
            if not lkmms.exists():
                raise CommandError(f"Unknown LKMM: {options['lkmm']}", returncode=1)
        text = portfolio_csv(at, list(lkmms), summary=options["summary"])
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
        else:
            self.stdout.write(text, ending="")
