from django.db import migrations

# The accounts the SHU's sharing posts to (shu.services): dana sosial, dana pengurus, members' shares not
# yet paid, and a closed year's SHU waiting for the rapat anggota. New LKMMs get them from
# ledger.services.STANDARD_CHART; existing ones here. Copied, not imported: a migration must not change
# when the chart does.
NEW_ACCOUNTS = [
    ("2301", "Dana sosial", "liability"),
    ("2302", "Dana pengurus", "liability"),
    ("2303", "SHU anggota belum dibayarkan", "liability"),
    ("3203", "SHU tahun lalu belum dibagi", "equity"),
]


def add_accounts(apps, schema_editor):
    Lkmm = apps.get_model("institutions", "Lkmm")
    Account = apps.get_model("ledger", "Account")
    existing = set(
        Account.objects.filter(code__in=[c for c, _, _ in NEW_ACCOUNTS]).values_list("lkmm_id", "code")
    )
    Account.objects.bulk_create(
        Account(lkmm_id=lkmm_id, code=code, name=name, kind=kind)
        for lkmm_id in Lkmm.objects.values_list("pk", flat=True)
        for code, name, kind in NEW_ACCOUNTS
        if (lkmm_id, code) not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0013_alter_journalentry_kind")]

    operations = [migrations.RunPython(add_accounts, migrations.RunPython.noop)]
