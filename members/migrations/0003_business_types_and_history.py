from django.db import migrations

BUSINESS_TYPES = [
    "Warung", "Dagang keliling", "Pertanian", "Peternakan", "Perikanan", "Kerajinan", "Makanan dan minuman",
    "Jasa", "Toko", "Lainnya",
]


def forward(apps, schema_editor):
    BusinessType = apps.get_model("members", "BusinessType")
    for position, name in enumerate(BUSINESS_TYPES):
        BusinessType.objects.get_or_create(name=name, defaults={"position": position})
    # Members registered before the admission workflow were admitted directly: record that start.
    Member = apps.get_model("members", "Member")
    MemberStatusChange = apps.get_model("members", "MemberStatusChange")
    MemberStatusChange.objects.bulk_create(
        MemberStatusChange(member_id=member_id, from_status="", to_status=status, by_id=by_id,
                           reason="Terdaftar sebelum alur pendaftaran")
        for member_id, status, by_id in Member.objects.values_list("id", "status", "created_by_id")
    )
    # Their kecamatan is the LKMM's.
    for member in Member.objects.filter(kecamatan="").select_related("lkmm"):
        member.kecamatan = member.lkmm.kecamatan
        member.save(update_fields=["kecamatan"])


class Migration(migrations.Migration):
    dependencies = [("members", "0002_governance")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
