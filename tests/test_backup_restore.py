"""Backups are proven by a restore: `manage.py backup` dumps the test database (with committed books, a
loan, its repayments and a member photo), `manage.py restore` loads it into a scratch database and an
empty MEDIA_ROOT the way an operator would (a separate process, DATABASE_URL pointing at the copy),
and `manage.py check_books` passes on the copy, whose every table has the same row count.

The PostgreSQL tests commit (transaction=True), so pg_dump, a separate session, sees the data.
"""

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from PIL import Image
from psycopg2 import sql

from institutions.backup import media_archive_for
from ledger.services import voucher_post
from loans import services as loan_services
from tests.factories import LkmmFactory, MemberFactory, StaffFactory, make_active_loan

D = datetime.date
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="backups are pg_dump archives (CI runs these on PostgreSQL)"
)


def manage(*args, database_url, media_root, check=False):
    """Run manage.py in its own process against `database_url`, as an operator's shell would."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_REPLICA_URL", "DATABASE_POOLER", "DJANGO_SETTINGS_MODULE")
    }
    env |= {
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "DJANGO_SETTINGS_MODULE": "lkmm.settings",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def database_url(name):
    """A DATABASE_URL for database `name` on the test database's server, as the same user."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{name}"


def server_connection(dbname):
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname, user=s["USER"], password=s["PASSWORD"], host=s["HOST"], port=s["PORT"] or None
    )
    conn.autocommit = True
    return conn


def row_counts(conn):
    """{table: rows} for every table in the public schema."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        tables = [row[0] for row in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def scratch_db():
    """An empty database beside the test database, dropped afterwards whatever happens."""
    name = f"{connection.settings_dict['NAME']}_restore"
    admin = server_connection("postgres")
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        with admin.cursor() as cursor:
            cursor.execute(drop)
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(drop)
        admin.close()


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_restores_into_a_scratch_database_where_check_books_passes(settings, tmp_path, scratch_db):
    settings.MEDIA_ROOT = tmp_path / "media"
    lkmm = LkmmFactory(code="semenggu")
    pengelola = StaffFactory(user__username="pengelola.backup", lkmm=lkmm)
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 2, 1),
        amount=5_000_000,
        memo="Hibah",
        account_code="3101",
    )
    member = MemberFactory(lkmm=lkmm)
    member.photo.save("foto.png", ContentFile(png_bytes()))
    loan = make_active_loan(member=member, disbursed_on=D(2026, 3, 1))
    for paid_on in (D(2026, 3, 8), D(2026, 3, 15)):
        loan_services.repayment_record(loan=loan, amount=124_154, paid_on=paid_on, actor=pengelola.user)

    call_command("backup", dir=str(tmp_path / "backups"), stdout=io.StringIO())
    [dump] = (tmp_path / "backups").glob("lkmm-*.dump")
    assert media_archive_for(dump).is_file()
    assert dump.stat().st_mode & 0o077 == 0  # personal data: the owner's only

    url, restored_media = database_url(scratch_db), tmp_path / "restored-media"
    restored = manage("restore", str(dump), database_url=url, media_root=restored_media)
    assert restored.returncode == 0, restored.stderr
    assert "Restore complete" in restored.stdout

    books = manage("check_books", database_url=url, media_root=restored_media)
    assert books.returncode == 0, books.stdout + books.stderr
    assert "OK: 1 LKMM(s)" in books.stdout and "no discrepancies" in books.stdout

    source = row_counts(connection.connection)
    copy = server_connection(scratch_db)
    try:
        assert row_counts(copy) == source
        assert source["loans_loan"] == 1 and source["loans_repayment"] == 2
        assert source["ledger_journalentry"] == 4  # grant, disbursement, two repayments
        assert (restored_media / member.photo.name).read_bytes() == png_bytes()

        # A second restore into the copy, now not empty, is refused and changes nothing.
        again = manage("restore", str(dump), database_url=url, media_root=tmp_path / "other-media")
        assert again.returncode == 1
        assert "Refusing to restore" in again.stderr and "is not empty" in again.stderr
        assert row_counts(copy) == source
        assert not (tmp_path / "other-media").exists()
    finally:
        copy.close()


@on_postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_restore_refuses_a_non_empty_media_root_before_touching_the_database(tmp_path, scratch_db):
    call_command("backup", dir=str(tmp_path / "backups"), stdout=io.StringIO())
    [dump] = (tmp_path / "backups").glob("lkmm-*.dump")
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "left-over.jpg").write_bytes(b"x")

    url = database_url(scratch_db)
    refused = manage("restore", str(dump), database_url=url, media_root=tmp_path / "media")
    assert refused.returncode == 1
    assert "MEDIA_ROOT" in refused.stderr and "is not empty" in refused.stderr
    copy = server_connection(scratch_db)
    try:
        assert row_counts(copy) == {}
    finally:
        copy.close()

    # Without its photos archive a backup restores only when asked to leave the photos out.
    media_archive_for(dump).unlink()
    missing = manage("restore", str(dump), database_url=url, media_root=tmp_path / "empty")
    assert missing.returncode == 1 and "--without-photos" in missing.stderr
    alone = manage("restore", "--without-photos", str(dump), database_url=url, media_root=tmp_path / "empty")
    assert alone.returncode == 0, alone.stderr


@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="the refusal of a database that is not PostgreSQL"
)
@pytest.mark.django_db
def test_backup_and_restore_refuse_sqlite_with_a_clear_message(tmp_path):
    with pytest.raises(CommandError, match="Backups need PostgreSQL"):
        call_command("backup", dir=str(tmp_path))
    with pytest.raises(CommandError, match="Backups need PostgreSQL"):
        call_command("restore", str(tmp_path / "lkmm-20260301-020000.dump"))
    assert not any(tmp_path.iterdir())


def test_photos_archive_is_named_after_its_dump():
    assert media_archive_for(Path("backups/lkmm-20260301-020000.dump")) == Path(
        "backups/lkmm-20260301-020000.media.tar"
    )
