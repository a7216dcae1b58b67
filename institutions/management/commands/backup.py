from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from institutions import backup


class Command(BaseCommand):
    help = (
        "Back up the PostgreSQL database (pg_dump, custom format) to DIR/lkmm-YYYYmmdd-HHMMSS.dump and "
        "the member photos in MEDIA_ROOT to the .media.tar beside it. See README.md, Backups."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            default=str(Path(settings.BASE_DIR) / "backups"),
            help="folder for the backup files (default: backups/ beside manage.py)",
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, **options):
        try:
            dump, media = backup.backup(options["dir"], alias=options["database"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"database: {dump} ({backup.format_size(dump)})")
        self.stdout.write(f"photos:   {media} ({backup.format_size(media)})")
        self.stdout.write(self.style.SUCCESS("Backup complete. Keep a copy off this machine."))
