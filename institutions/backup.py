"""Backup and restore of a PostgreSQL installation: the database (pg_dump's custom format) and the
member photos in MEDIA_ROOT (a tar beside it). `manage.py backup` and `manage.py restore` call these;
README.md ("Backups") says when to run them and how long to keep what they write.

The database is the one Django uses (DATABASE_URL, from the environment or .env, as the app reads
it). Its connection goes to pg_dump and pg_restore as libpq environment variables, so the password
never appears on a command line that `ps` shows. Backups hold personal data: they are written readable
by their owner only.
"""

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connections
from django.utils import timezone

DUMP_SUFFIX = ".dump"
MEDIA_SUFFIX = ".media.tar"

# Connection settings that django-environ puts in OPTIONS (from DATABASE_URL's query string) and that
# libpq also reads from the environment. "options" (jit, statement timeouts) is left out on purpose:
# pg_dump and pg_restore set their own timeouts to 0.
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def postgres_settings(alias="default"):
    """The Django connection settings of `alias`, refusing any database but PostgreSQL."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise BackupError(
            f"Backups need PostgreSQL; database '{alias}' is {connection.vendor} "
            f"({connection.settings_dict['NAME']}). Set DATABASE_URL to the PostgreSQL database."
        )
    return connection.settings_dict


def libpq_env(settings_dict):
    """os.environ plus the PG* variables that point libpq at the database of `settings_dict`. Fields
    left empty keep libpq's defaults (and any PG* variable already set), as psycopg2 does for Django."""
    env = dict(os.environ)
    for key, var in (
        ("NAME", "PGDATABASE"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
    ):
        if settings_dict.get(key):
            env[var] = str(settings_dict[key])
    for option, var in _LIBPQ_OPTIONS.items():
        if settings_dict.get("OPTIONS", {}).get(option):
            env[var] = str(settings_dict["OPTIONS"][option])
    return env


def describe(settings_dict):
    """'NAME on HOST:PORT', for messages (never the password)."""
    host = settings_dict.get("HOST") or "the local socket"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"database '{settings_dict['NAME']}' on {host}{port}"


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise BackupError(
            f"{name} not found. Install PostgreSQL's client programs (Debian: apt-get install "
            f"postgresql-client), of the server's major version or newer."
        )
    return path


def _run(args, env):
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed (exit {result.returncode}):\n{result.stderr.strip()}")
    return result


def media_archive_for(dump):
    """The photos archive written beside `dump`: lkmm-...-HHMMSS.dump -> lkmm-...-HHMMSS.media.tar."""
    dump = Path(dump)
    return dump.with_name(dump.name.removesuffix(DUMP_SUFFIX) + MEDIA_SUFFIX)


def backup(directory, *, alias="default"):
    """Write `directory`/lkmm-YYYYmmdd-HHMMSS.dump and its .media.tar; return both paths.

    Each file is written under a temporary name and renamed when complete, so an interrupted backup
    never looks like a finished one. The dump is read back with `pg_restore --list` before it counts.
    """
    settings_dict = postgres_settings(alias)
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    env = libpq_env(settings_dict)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    directory = Path(directory)
    dump = directory / f"lkmm-{stamp}{DUMP_SUFFIX}"
    media = media_archive_for(dump)
    if dump.exists() or media.exists():
        raise BackupError(f"{dump} already exists: one backup a second at most.")
    umask = os.umask(0o077)  # personal data: readable by the owner only
    try:
        directory.mkdir(parents=True, exist_ok=True)
        partial_dump = dump.with_name(dump.name + ".partial")
        partial_media = media.with_name(media.name + ".partial")
        try:
            _run([pg_dump, "--format=custom", f"--file={partial_dump}"], env)
            _run([pg_restore, "--list", str(partial_dump)], env)
            with tarfile.open(partial_media, "w") as tar:
                media_root = Path(settings.MEDIA_ROOT)
                if media_root.is_dir():
                    for entry in sorted(media_root.iterdir()):
                        tar.add(entry, arcname=entry.name)
            # The dump last: restore starts from it, so once it is there, so are the photos.
            partial_media.rename(media)
            partial_dump.rename(dump)
        finally:
            partial_dump.unlink(missing_ok=True)
            partial_media.unlink(missing_ok=True)
    finally:
        os.umask(umask)
    return dump, media


def relations_in(alias="default"):
    """How many tables, views and sequences the database of `alias` holds outside the system schemas."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'"
        )
        return cursor.fetchone()[0]


def restore(dump, *, alias="default", with_media=True):
    """Restore `dump` (and, with_media, the photos archive beside it) into an empty database and an
    empty MEDIA_ROOT. Refuses anything else: a restore never mixes a backup into live data.

    The database is restored in one transaction (pg_restore --single-transaction): on any error
    nothing is left behind and the restore can be run again. Objects are owned by the restoring user
    (--no-owner) and the source's grants are not replayed (--no-privileges), so a backup restores on
    a server whose role names differ. Returns (dump, media archive or None).
    """
    settings_dict = postgres_settings(alias)
    pg_restore = _tool("pg_restore")
    env = libpq_env(settings_dict)
    dump = Path(dump)
    if not dump.is_file():
        raise BackupError(f"{dump}: no such backup file.")
    _run([pg_restore, "--list", str(dump)], env)

    try:
        relations = relations_in(alias)
    except DatabaseError as exc:
        raise BackupError(
            f"Cannot connect to {describe(settings_dict)}: {str(exc).strip()}\n"
            f"Create it first, empty and owned by the app's user: "
            f"createdb --owner {settings_dict.get('USER') or '<user>'} {settings_dict['NAME']}"
        ) from exc
    finally:
        connections[alias].close()  # pg_restore works alone on the database
    if relations:
        raise BackupError(
            f"Refusing to restore: {describe(settings_dict)} is not empty ({relations} tables, views or "
            "sequences). Restore only into a new, empty database: createdb a new one and point "
            "DATABASE_URL at it, or drop this one first if you are sure it may go."
        )

    media = media_archive_for(dump) if with_media else None
    media_root = Path(settings.MEDIA_ROOT)
    if media is not None:
        if not media.is_file():
            raise BackupError(
                f"{media}: the photos archive of this backup is missing. Put it beside the .dump, or "
                "restore the database alone with --without-photos."
            )
        if media_root.is_dir() and any(media_root.iterdir()):
            raise BackupError(
                f"MEDIA_ROOT {media_root} is not empty. Restore photos only into an empty folder: move "
                "its contents away or point MEDIA_ROOT at a new folder."
            )
        with tarfile.open(media) as tar:  # read through once, so a damaged archive stops us here
            tar.getmembers()

    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={settings_dict['NAME']}",
            str(dump),
        ],
        env,
    )
    if media is not None:
        media_root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(media) as tar:
            # The "data" filter refuses absolute paths, "..", links out of the folder and device files.
            tar.extractall(media_root, filter="data")
    return dump, media


def format_size(path):
    size = Path(path).stat().st_size
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
