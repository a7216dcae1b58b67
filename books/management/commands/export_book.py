from django.core.management.base import BaseCommand, CommandError

from books.exporter import book_tables, write_book
from institutions.models import Lkmm


class Command(BaseCommand):
    help = (
        "Export an LKMM's members, loans, repayments (with reversals), events and opening balances in the "
        "import format: PATH ending in .xlsx gives a workbook, otherwise a folder of CSV files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lkmm", required=True, metavar="CODE")
        parser.add_argument("path")

    def handle(self, *args, **options):
        lkmm = Lkmm.objects.filter(code=options["lkmm"]).first()
        if lkmm is None:
            raise CommandError(f"Unknown LKMM: {options['lkmm']}", returncode=1)
        tables, skipped = book_tables(lkmm)
        write_book(tables, options["path"])
        for entry in skipped:
            self.stderr.write(f"Not in the book format (left out): {entry}")
        counts = ", ".join(f"{len(rows)} {sheet}" for sheet, (_h, rows) in tables.items())
        self.stdout.write(f"Exported {counts}.")
