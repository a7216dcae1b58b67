"""The books are append-only and every entry balances: enforced by PostgreSQL itself.

- UPDATE or DELETE of a journal entry or line raises (a mistake is corrected by a new entry). TRUNCATE
  fires no row triggers, so Django's test flush still works.
- At commit, every entry that got a line (or was created) in the transaction must have at least two
  lines and equal debit and credit totals: a DEFERRABLE INITIALLY DEFERRED constraint trigger, so the
  entry and its lines can be inserted one after another in the same transaction.

Errors use SQLSTATE class 23 (integrity constraint violation), so Django raises IntegrityError.
On other databases (SQLite in development) this migration does nothing; ledger.services and
`manage.py check_books` remain the checks there.

A later migration that must rewrite ledger rows (it should not) has to drop and recreate these triggers.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the books are append-only: % of a row of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Correct a posted entry with a new entry.';
END;
$$;

CREATE TRIGGER ledger_journalentry_append_only
    BEFORE UPDATE OR DELETE ON ledger_journalentry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TRIGGER ledger_journalline_append_only
    BEFORE UPDATE OR DELETE ON ledger_journalline
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE OR REPLACE FUNCTION ledger_entry_must_balance() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry bigint;
    line_count integer;
    debit_total numeric;
    credit_total numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_journalentry' THEN
        entry := NEW.id;
    ELSE
        entry := NEW.entry_id;
    END IF;
    SELECT count(*), coalesce(sum(debit), 0), coalesce(sum(credit), 0)
        INTO line_count, debit_total, credit_total
        FROM ledger_journalline WHERE entry_id = entry;
    IF line_count < 2 OR debit_total <> credit_total THEN
        RAISE EXCEPTION 'journal entry % does not balance: % lines, debit %, credit %',
            entry, line_count, debit_total, credit_total
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER ledger_journalentry_balanced
    AFTER INSERT ON ledger_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();

CREATE CONSTRAINT TRIGGER ledger_journalline_balanced
    AFTER INSERT ON ledger_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_must_balance();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS ledger_journalline_balanced ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_journalentry_balanced ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_entry_must_balance();
DROP TRIGGER IF EXISTS ledger_journalline_append_only ON ledger_journalline;
DROP TRIGGER IF EXISTS ledger_journalentry_append_only ON ledger_journalentry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # params=None: the SQL holds literal % signs (RAISE formats), not query parameters.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("ledger", "0003_entry_token"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD)),
    ]
