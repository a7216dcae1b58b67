from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('risk', '0004_closed_figure_required_reserve'),
    ]

    operations = [
        migrations.AlterField(
            model_name='closedloanfigure',
            name='required_reserve',
            field=models.PositiveBigIntegerField(verbose_name='PPAP wajib'),
        ),
    ]
