import django.db.models.deletion
from django.db import migrations, models

import institutions.models


def codes_to_rows(apps, schema_editor):
    Lkmm = apps.get_model("institutions", "Lkmm")
    QualityPolicy = apps.get_model("risk", "QualityPolicy")
    policies = {p.code: p for p in QualityPolicy.objects.all()}
    for lkmm in Lkmm.objects.all():
        lkmm.quality_policy = policies.get(lkmm.quality_policy_code) or policies["lkm-2015"]
        lkmm.save(update_fields=["quality_policy"])


class Migration(migrations.Migration):
    dependencies = [
        ("institutions", "0003_refuse_if_in_arrears"),
        ("risk", "0001_initial"),
    ]

    operations = [
        migrations.RenameField("lkmm", "quality_policy", "quality_policy_code"),
        migrations.AddField(
            model_name="lkmm",
            name="quality_policy",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="lkmms", to="risk.qualitypolicy",
                verbose_name="kebijakan kualitas pinjaman",
            ),
        ),
        migrations.RunPython(codes_to_rows, migrations.RunPython.noop),
        migrations.RemoveField("lkmm", "quality_policy_code"),
        migrations.AlterField(
            model_name="lkmm",
            name="quality_policy",
            field=models.ForeignKey(
                default=institutions.models.default_quality_policy, on_delete=django.db.models.deletion.PROTECT,
                related_name="lkmms", to="risk.qualitypolicy", verbose_name="kebijakan kualitas pinjaman",
            ),
        ),
    ]
