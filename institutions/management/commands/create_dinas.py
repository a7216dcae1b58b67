from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from institutions.services import dinas_create


class Command(BaseCommand):
    help = "Create a Dinas Koperasi (a city's): its LKMMs and reviewers are then created with --dinas CODE."

    def add_arguments(self, parser):
        parser.add_argument("code", help="short code, e.g. bontang")
        parser.add_argument("--name", required=True, help='e.g. "Dinas Koperasi dan UMKM Kota Bontang"')
        parser.add_argument("--kabupaten", required=True, help="kabupaten/kota, e.g. Bontang")
        parser.add_argument("--provinsi", required=True, help="e.g. Kalimantan Timur")

    def handle(self, *args, **options):
        try:
            dinas = dinas_create(
                code=options["code"],
                name=options["name"],
                kabupaten=options["kabupaten"],
                provinsi=options["provinsi"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Created {dinas.code}: {dinas.name}"))
