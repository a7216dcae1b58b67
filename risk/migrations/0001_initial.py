import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models

# DOMAIN.md's two built-in policies, exactly (the regulation's 3 and 9 months taken as 90 and 270 days).
BUILT_IN = {
    "lkm-2015": (
        "LKM 2015 (POJK 62/2015 Lampiran III)",
        [
            # code, name, daily, weekly, monthly, reserve %, non-performing, KSP weight %
            ("L", "Lancar", 4, 28, 90, "0", False, "0"),
            ("D", "Diragukan", 8, 56, 270, "50", True, "75"),
            ("M", "Macet", None, None, None, "100", True, "100"),
        ],
    ),
    "bank-5": (
        "Bank, lima kelas",
        [
            ("L", "Lancar", 0, 0, 0, "1", False, "0"),
            ("DPK", "Dalam Perhatian Khusus", 90, 90, 90, "5", False, "0"),
            ("KL", "Kurang Lancar", 120, 120, 120, "15", True, "50"),
            ("D", "Diragukan", 180, 180, 180, "50", True, "75"),
            ("M", "Macet", None, None, None, "100", True, "100"),
        ],
    ),
}


def create_built_in(apps, schema_editor):
    QualityPolicy = apps.get_model("risk", "QualityPolicy")
    QualityClass = apps.get_model("risk", "QualityClass")
    for code, (name, classes) in BUILT_IN.items():
        policy = QualityPolicy.objects.create(code=code, name=name, built_in=True)
        for position, (c, n, daily, weekly, monthly, rate, npl, weight) in enumerate(classes):
            QualityClass.objects.create(
                policy=policy, position=position, code=c, name=n, max_dpd_daily=daily, max_dpd_weekly=weekly,
                max_dpd_monthly=monthly, reserve_rate=Decimal(rate), non_performing=npl, ksp_weight=Decimal(weight),
            )


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="QualityPolicy",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.SlugField(max_length=30, unique=True, verbose_name="kode")),
                ("name", models.CharField(max_length=120, verbose_name="nama")),
                ("description", models.TextField(blank=True, verbose_name="keterangan")),
                ("built_in", models.BooleanField(default=False, help_text="Kebijakan bawaan tidak diubah; buat salinan untuk menyesuaikan.", verbose_name="bawaan")),
            ],
            options={"verbose_name": "kebijakan kualitas pinjaman", "verbose_name_plural": "kebijakan kualitas pinjaman", "ordering": ["code"]},
        ),
        migrations.CreateModel(
            name="QualityClass",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField(verbose_name="urutan")),
                ("code", models.CharField(max_length=10, verbose_name="kode")),
                ("name", models.CharField(max_length=60, verbose_name="nama")),
                ("max_dpd_daily", models.PositiveIntegerField(blank=True, null=True, verbose_name="hari tunggak maks. (harian)")),
                ("max_dpd_weekly", models.PositiveIntegerField(blank=True, null=True, verbose_name="hari tunggak maks. (mingguan)")),
                ("max_dpd_monthly", models.PositiveIntegerField(blank=True, null=True, verbose_name="hari tunggak maks. (bulanan)")),
                ("reserve_rate", models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name="tarif cadangan (%)")),
                ("non_performing", models.BooleanField(default=False, verbose_name="bermasalah (NPL)")),
                ("ksp_weight", models.DecimalField(decimal_places=2, default=0, max_digits=5, validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(100)], verbose_name="bobot pinjaman bermasalah KSP (%)")),
                ("policy", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="classes", to="risk.qualitypolicy", verbose_name="kebijakan")),
            ],
            options={"verbose_name": "kelas kualitas", "verbose_name_plural": "kelas kualitas", "ordering": ["policy", "position"]},
        ),
        migrations.AddConstraint(
            model_name="qualityclass",
            constraint=models.UniqueConstraint(fields=("policy", "position"), name="risk_class_unique_position"),
        ),
        migrations.AddConstraint(
            model_name="qualityclass",
            constraint=models.UniqueConstraint(fields=("policy", "code"), name="risk_class_unique_code"),
        ),
        migrations.AddConstraint(
            model_name="qualityclass",
            constraint=models.CheckConstraint(condition=models.Q(("reserve_rate__gte", 0), ("reserve_rate__lte", 100)), name="risk_class_rate_percent"),
        ),
        migrations.RunPython(create_built_in, migrations.RunPython.noop),
    ]
