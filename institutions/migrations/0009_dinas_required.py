import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("institutions", "0008_dinas_backfill")]

    operations = [
        migrations.AlterField(
            model_name="lkmm",
            name="dinas",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lkmms",
                to="institutions.dinas",
                verbose_name="Dinas pembina",
            ),
        ),
        migrations.RemoveConstraint(model_name="staff", name="institutions_staff_role_matches_lkmm"),
        migrations.AddConstraint(
            model_name="staff",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('role', 'dinas'), ('lkmm__isnull', True), ('dinas__isnull', False)), models.Q(('role__in', ['pengelola', 'ketua']), ('lkmm__isnull', False), ('dinas__isnull', True)), _connector='OR'), name='institutions_staff_role_matches_lkmm', violation_error_message='Staf LKMM harus punya LKMM dan tanpa Dinas; peninjau Dinas punya Dinas dan tanpa LKMM.'),
        ),
    ]
