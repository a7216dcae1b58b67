from django.db import migrations

# The accounts the statements name (issue 11): a bank loan, cadangan umum and the year's results. New
# LKMMs get them from ledger.services.STANDARD_CHART; existing ones here. Copied, not imported: a
# migration must not change when the chart does.
NEW_ACCOUNTS = [
    ("2201", "Pinjaman bank", "liability"),
    ("3103", "Cadangan umum", "equity"),
    ("3201", "SHU ditahan", "equity"),
    ("3202", "SHU tahun berjalan", "equity"),
]


def add_accounts(apps, schema_editor):
    Lkmm = apps.get_model("institutions", "Lkmm")
    Account = apps.get_model("ledger", "Account")
    existing = set(Account.objects.filter(code__in=[c for c, _, _ in NEW_ACCOUNTS]).values_list("lkmm_id", "code"))
    Account.objects.bulk_create(
        Account(lkmm_id=lkmm_id, code=code, name=name, kind=kind)
        for lkmm_id in Lkmm.objects.values_list("pk", flat=True)
        for code, name, kind in NEW_ACCOUNTS
        if (lkmm_id, code) not in existing
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_capital_sources")]

    operations = [migrations.RunPython(add_accounts, migrations.RunPython.noop)]
