from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from books import formats
from books.importer import validate
from books.recorder import ApplyError, apply
from institutions.models import Lkmm


class Command(BaseCommand):
    help = (
        "Import a book (an .xlsx workbook or a folder of CSV files) into an LKMM, all or nothing. Prints "
        "the counts created; problems as sheet:row:column: message on stderr (exit status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--lkmm", required=True, metavar="CODE")
        parser.add_argument("--dry-run", action="store_true", help="validate only; save nothing")
        parser.add_argument("--user", metavar="USERNAME", help="whom the audit rows name")

    def handle(self, *args, **options):
        lkmm = Lkmm.objects.filter(code=options["lkmm"]).first()
        if lkmm is None:
            raise CommandError(f"Unknown LKMM: {options['lkmm']}", returncode=1)
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"Unknown user: {options['user']}", returncode=1)
        plan = validate(formats.read_book(options["path"]), lkmm=lkmm)
        for problem in plan.warnings:
            self.stderr.write(f"{problem} (peringatan)")
        if not plan.ok:
            for problem in plan.errors:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(plan.errors)} problem(s); nothing imported.", returncode=1)
        if not options["dry_run"]:
            try:
                apply(plan, actor=actor)
            except ApplyError as exc:
                self.stderr.write(str(exc.problem))
                raise CommandError("1 problem; nothing imported.", returncode=1) from None
        summary = plan.summary()
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"{verb} {summary['members']} members, {summary['loans']} loans, {summary['repayments']} "
            f"repayments, {summary['events']} events, {summary['openings']} opening balances, "
            f"{summary['savings']} savings movements."
        )
        if plan.modal_awal:
            on, amount = plan.modal_awal
            self.stdout.write(f"Opening capital (modal awal) {amount} on {on.isoformat()} covers kas.")
