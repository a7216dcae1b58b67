"""CashDay keeps each day's net kas movement instead of the kas at the end of the day, so a back-dated
entry changes one row instead of every later one. The existing rows are converted in place (net = the
day's closing less the previous row's), and back on reversal (closing = running sum of the nets)."""

from django.db import migrations, models

TO_NET = """
    UPDATE ledger_cashday SET net = moved.net
    FROM (
        SELECT id, closing - LAG(closing, 1, 0) OVER (PARTITION BY lkmm_id ORDER BY date) AS net
        FROM ledger_cashday
    ) moved
    WHERE moved.id = ledger_cashday.id
"""

TO_CLOSING = """
    UPDATE ledger_cashday SET closing = running.closing
    FROM (
        SELECT id, SUM(net) OVER (PARTITION BY lkmm_id ORDER BY date) AS closing FROM ledger_cashday
    ) running
    WHERE running.id = ledger_cashday.id
"""


def to_net(apps, schema_editor):
    schema_editor.execute(TO_NET)


def to_closing(apps, schema_editor):
    schema_editor.execute(TO_CLOSING)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0015_month_figures_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="cashday",
            name="net",
            field=models.BigIntegerField(null=True, verbose_name="mutasi kas bersih"),
        ),
        migrations.AlterField(
            model_name="cashday",
            name="closing",
            field=models.BigIntegerField(null=True, verbose_name="saldo kas akhir hari"),
        ),
        migrations.RunPython(to_net, to_closing),
        migrations.AlterField(
            model_name="cashday",
            name="net",
            field=models.BigIntegerField(verbose_name="mutasi kas bersih"),
        ),
        migrations.RemoveField(
            model_name="cashday",
            name="closing",
        ),
    ]
