from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations, models


def backfill(apps, schema_editor):
    """Each stored loan figure's own reserve, rounded half up per loan (DOMAIN.md)."""
    ClosedLoanFigure = apps.get_model("risk", "ClosedLoanFigure")
    figures = list(ClosedLoanFigure.objects.filter(required_reserve__isnull=True))
    for figure in figures:
        exact = Decimal(figure.outstanding) * figure.reserve_rate / 100  # at most 4 decimals: exact
        figure.required_reserve = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    ClosedLoanFigure.objects.bulk_update(figures, ["required_reserve"], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ('risk', '0003_closed_loan_figures'),
    ]

    operations = [
        migrations.AddField(
            model_name='closedloanfigure',
            name='required_reserve',
            field=models.PositiveBigIntegerField(null=True, verbose_name='PPAP wajib'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
