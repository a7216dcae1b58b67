"""PostgreSQL itself keeps the books append-only and balanced (ledger migration 0004).

These tests commit (transaction=True), because the balance check is a constraint trigger deferred to
commit. Django's flush between them uses TRUNCATE, which fires no row triggers.
"""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from ledger.models import Account, JournalEntry, JournalLine
from ledger.services import entry_post, voucher_post
from tests.factories import LkmmFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the append-only and balance triggers exist on PostgreSQL only (CI runs these on PostgreSQL)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def posted():
    """A committed voucher: J-00001, Dr kas / Cr modal hibah Rp 1.000.000."""
    lkmm = LkmmFactory(code="semenggu")
    entry = voucher_post(
        lkmm=lkmm,
        actor=None,
        kind="cash_in",
        date=datetime.date(2026, 3, 2),
        amount=1_000_000,
        memo="Hibah",
        account_code="3101",
    )
    return entry


def run_sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def as_stored(entry):
    return (
        JournalEntry.objects.filter(pk=entry.pk).values_list("memo", "date").get(),
        sorted(JournalLine.objects.filter(entry=entry).values_list("account__code", "debit", "credit")),
    )


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_journalline SET debit = debit + 1 WHERE entry_id = %s AND debit > 0",
        "UPDATE ledger_journalline SET account_id = account_id WHERE entry_id = %s",
        "DELETE FROM ledger_journalline WHERE entry_id = %s",
        "UPDATE ledger_journalentry SET memo = 'diubah' WHERE id = %s",
        "UPDATE ledger_journalentry SET date = date - 1 WHERE id = %s",
        "DELETE FROM ledger_journalentry WHERE id = %s",
    ],
)
def test_posted_rows_cannot_be_changed_or_deleted(posted, sql):
    before = as_stored(posted)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        run_sql(sql, [posted.pk])

    assert as_stored(posted) == before


def test_orm_updates_and_deletes_fail_too(posted):
    before = as_stored(posted)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=posted.pk).update(memo="diubah")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        JournalLine.objects.filter(entry=posted).delete()
    with pytest.raises(ProtectedError):  # Django's own PROTECT stops this one before the database
        JournalEntry.objects.filter(pk=posted.pk).delete()

    assert as_stored(posted) == before


def _raw_entry(lkmm_id, number, lines):
    (entry_id,) = run_sql(
        "INSERT INTO ledger_journalentry (lkmm_id, number, date, memo, kind, source_type, created_at) "
        "VALUES (%s, %s, %s, 'mentah', 'cash_in', '', now()) RETURNING id",
        [lkmm_id, number, datetime.date(2026, 3, 3)],
    )[0]
    for account_id, debit, credit in lines:
        run_sql(
            "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, %s, %s)",
            [entry_id, account_id, debit, credit],
        )
    return entry_id


def _accounts(lkmm):
    return dict(Account.objects.filter(lkmm=lkmm).values_list("code", "pk"))


@pytest.mark.parametrize(
    "lines, message",
    [
        ([("1101", 500, 0)], "1 lines, debit 500, credit 0"),
        ([("1101", 500, 0), ("3101", 0, 499)], "2 lines, debit 500, credit 499"),
        ([], "0 lines, debit 0, credit 0"),
    ],
)
def test_an_unbalanced_entry_fails_at_commit(posted, lines, message):
    accounts = _accounts(posted.lkmm)

    with pytest.raises(IntegrityError, match=f"does not balance: {message}"), transaction.atomic():
        _raw_entry(posted.lkmm_id, 2, [(accounts[code], d, c) for code, d, c in lines])
        # Inside the transaction the rows are there: the check waits for the commit.
        assert JournalEntry.objects.filter(lkmm=posted.lkmm).count() == 2

    assert JournalEntry.objects.filter(lkmm=posted.lkmm).count() == 1
    assert JournalLine.objects.filter(entry__lkmm=posted.lkmm).count() == 2


def test_a_line_added_later_to_a_posted_entry_fails_at_commit(posted):
    accounts = _accounts(posted.lkmm)

    with pytest.raises(IntegrityError, match="does not balance: 3 lines"), transaction.atomic():
        run_sql(
            "INSERT INTO ledger_journalline (entry_id, account_id, debit, credit) VALUES (%s, %s, 1, 0)",
            [posted.pk, accounts["5201"]],
        )

    assert JournalLine.objects.filter(entry=posted).count() == 2


def test_a_balanced_raw_entry_commits(posted):
    accounts = _accounts(posted.lkmm)

    with transaction.atomic():
        _raw_entry(
            posted.lkmm_id,
            2,
            [(accounts["5201"], 300, 0), (accounts["1101"], 0, 200), (accounts["1102"], 0, 100)],
        )

    assert JournalEntry.objects.filter(lkmm=posted.lkmm).count() == 2


def test_the_services_post_in_one_commit(posted):
    # entry_post inserts the entry, then its lines: the deferred check sees them all.
    entry = entry_post(
        lkmm=posted.lkmm,
        date=datetime.date(2026, 3, 4),
        memo="Setor ke bank",
        kind="transfer",
        lines=[("1102", 400_000, 0), ("1101", 0, 400_000)],
    )

    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_the_triggers_are_installed():
    names = {
        row[0]
        for row in run_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN "
            "('ledger_journalentry'::regclass, 'ledger_journalline'::regclass) AND NOT tgisinternal"
            # The audit trail's history triggers (audit/models.py) are checked in tests/test_audit.py.
            " AND tgname NOT LIKE 'pgtrigger_%%'"
        )
    }

    assert names == {
        "ledger_journalentry_append_only",
        "ledger_journalline_append_only",
        "ledger_journalentry_balanced",
        "ledger_journalline_balanced",
    }
