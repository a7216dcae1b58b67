from django.core.management.base import BaseCommand, CommandError

from institutions.models import Lkmm
from ledger.checks import CHECKS
from ledger.models import JournalEntry


class Command(BaseCommand):
    help = (
        "Check the books: every entry balances, each loan's receivable matches its schedule, each "
        "payment matches its allocations, receipt and journal numbers have no gaps. Prints each "
        "discrepancy and exits with status 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument("--lkmm", metavar="CODE", help="check one LKMM only (default: all)")

    def handle(self, *args, **options):
        lkmms = Lkmm.objects.all()
        if options["lkmm"]:
            lkmms = lkmms.filter(code=options["lkmm"])
            if not lkmms.exists():
                raise CommandError(f"Unknown LKMM: {options['lkmm']}")
        problems = 0
        for check in CHECKS:
            for problem in check(lkmms):
                problems += 1
                self.stdout.write(problem)
        if problems:
            raise CommandError(f"{problems} discrepancies in the books.", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(
                f"OK: {lkmms.count()} LKMM(s), {JournalEntry.objects.filter(lkmm__in=lkmms).count()} "
                "journal entries checked, no discrepancies."
            )
        )
