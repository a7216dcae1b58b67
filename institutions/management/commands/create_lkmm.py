import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from institutions.services import dinas_for, lkmm_create


class Command(BaseCommand):
    help = "Create an LKMM with its standard chart of accounts."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="short code, e.g. semenggu")
        parser.add_argument("--name", required=True)
        parser.add_argument("--desa", required=True)
        parser.add_argument("--kecamatan", required=True)
        parser.add_argument(
            "--dinas", help="code of the Dinas that fosters it; may be left out while there is only one"
        )
        parser.add_argument("--kabupaten", default="", help="default: the Dinas's kabupaten/kota")
        parser.add_argument("--address", default="")
        parser.add_argument("--founded", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--rounding-unit", type=int, default=100, choices=[1, 100, 500, 1000, 5000])
        parser.add_argument(
            "--policy",
            default="lkm-2015",
            metavar="CODE",
            help="loan quality policy, e.g. lkm-2015 or bank-5",
        )

    def handle(self, *args, **options):
        from risk.models import QualityPolicy

        policy = QualityPolicy.objects.filter(code=options["policy"]).first()
        if policy is None:
            codes = ", ".join(QualityPolicy.objects.values_list("code", flat=True))
            raise CommandError(f"Unknown quality policy: {options['policy']} (known: {codes})", returncode=1)
        try:
            lkmm = lkmm_create(
                dinas=dinas_for(options["dinas"]),
                code=options["code"],
                name=options["name"],
                desa=options["desa"],
                kecamatan=options["kecamatan"],
                kabupaten=options["kabupaten"],
                address=options["address"],
                founded_on=options["founded"],
                default_rounding_unit=options["rounding_unit"],
                quality_policy=policy,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Created {lkmm.code}: {lkmm.name}"))
