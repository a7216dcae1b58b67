from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from institutions import backup


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup` (FILE.dump and the FILE.media.tar beside it) into "
        "an empty PostgreSQL database and an empty MEDIA_ROOT. Refuses a database that holds any table."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .dump file, e.g. backups/lkmm-20260301-020000.dump")
        parser.add_argument(
            "--without-photos", action="store_true", help="restore the database only, not MEDIA_ROOT"
        )
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, **options):
        try:
            dump, media = backup.restore(
                options["file"], alias=options["database"], with_media=not options["without_photos"]
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        target = backup.describe(backup.postgres_settings(options["database"]))
        self.stdout.write(f"database: {dump} -> {target}")
        if media is not None:
            self.stdout.write(f"photos:   {media} -> {settings.MEDIA_ROOT}")
        self.stdout.write(
            self.style.SUCCESS(
                "Restore complete. Next: `manage.py migrate` (if the code is newer than the backup), "
                "then `manage.py check_books`."
            )
        )
