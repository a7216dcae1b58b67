import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from institutions.models import Lkmm, Role
from institutions.services import dinas_for, staff_create


class Command(BaseCommand):
    help = "Create a login for LKMM staff (pengelola, ketua) or a Dinas reviewer (dinas)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--lkmm", help="LKMM code; required for pengelola and ketua")
        parser.add_argument(
            "--dinas", help="Dinas code, for a Dinas reviewer; may be left out while there is only one"
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", help="omit to be prompted (recommended)")

    def handle(self, *args, **options):
        role = options["role"]
        lkmm = dinas = None
        if role == Role.DINAS:
            if options["lkmm"]:
                raise CommandError("A Dinas reviewer belongs to a Dinas (--dinas), not to an LKMM")
            try:
                dinas = dinas_for(options["dinas"])
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        else:
            if options["dinas"]:
                raise CommandError("--dinas is for Dinas reviewers only")
            if not options["lkmm"]:
                raise CommandError("--lkmm is required for pengelola and ketua")
            lkmm = Lkmm.objects.filter(code=options["lkmm"]).first()
            if lkmm is None:
                raise CommandError(f"No LKMM with code {options['lkmm']!r}")
        if get_user_model().objects.filter(username=options["username"]).exists():
            raise CommandError(f"User {options['username']!r} already exists")
        password = options["password"]
        while not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                self.stderr.write("Passwords differ.")
                password = None
        try:
            validate_password(password)
            staff = staff_create(
                username=options["username"],
                password=password,
                role=role,
                lkmm=lkmm,
                dinas=dinas,
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Created {staff}"))
