"""The deployment had one Dinas (Jember) before Dinas became a model: it now owns every LKMM and every
Dinas reviewer. A new, empty database gets no Dinas (create_dinas or the admin make one)."""

from django.db import migrations


def forward(apps, schema_editor):
    Dinas = apps.get_model("institutions", "Dinas")
    Lkmm = apps.get_model("institutions", "Lkmm")
    Staff = apps.get_model("institutions", "Staff")
    if not Lkmm.objects.exists() and not Staff.objects.filter(role="dinas").exists():
        return
    jember, _created = Dinas.objects.get_or_create(
        code="jember",
        defaults={
            "name": "Dinas Koperasi dan UMKM Kabupaten Jember",
            "kabupaten": "Jember",
            "provinsi": "Jawa Timur",
        },
    )
    Lkmm.objects.filter(dinas__isnull=True).update(dinas=jember)
    Lkmm.objects.filter(kabupaten="").update(kabupaten="Jember")
    Staff.objects.filter(role="dinas", dinas__isnull=True).update(dinas=jember)


class Migration(migrations.Migration):
    dependencies = [("institutions", "0007_dinas")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
