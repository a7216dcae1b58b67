"""Correcting a member's details: with a reason, NIK and birth date only by the ketua, the history on
the member's page, and an edit counting as recording a pending application (four eyes)."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from institutions.models import AuditLog
from members.models import BusinessType, Member, MemberStatus
from members.services import member_transition
from tests.factories import MemberFactory, login, make_approver

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(lkmm):
    return MemberFactory(
        lkmm=lkmm,
        full_name="Siti Aminah",
        phone="+6281234567890",
        business_type=BusinessType.objects.first(),
        kabupaten="Jember",
        kecamatan="Sumbersari",
    )


def edit_url(member):
    return reverse("members:edit", args=[member.pk])


def form_data(client, member, **changes):
    """The edit form as the browser would post it back, with `changes`."""
    form = client.get(edit_url(member)).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or name == "photo":
            continue
        data[name] = value.isoformat() if isinstance(value, datetime.date) else value
        if isinstance(value, bool):
            data[name] = "on" if value else ""
    data = {k: v for k, v in data.items() if v != ""}
    return {**data, "reason": "Salah ketik saat pendaftaran", **changes}


def test_a_pengelola_corrects_a_name_and_phone_with_a_reason_and_the_page_shows_the_history(
    pengelola_client, pengelola, member
):
    response = pengelola_client.post(
        edit_url(member),
        form_data(pengelola_client, member, full_name="Siti Aminah Rahayu", phone="0813 1111 2222"),
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.full_name, member.phone) == ("Siti Aminah Rahayu", "+6281311112222")
    row = AuditLog.objects.get(action="member.edit")
    assert (row.actor, row.reason) == (pengelola.user, "Salah ketik saat pendaftaran")
    assert row.data["changes"] == {
        "full_name": ["Siti Aminah", "Siti Aminah Rahayu"],
        "phone": ["+6281234567890", "+6281311112222"],
    }
    page = pengelola_client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "Salah ketik saat pendaftaran" in page
    assert "Siti Aminah → <strong>Siti Aminah Rahayu</strong>" in page


def test_a_reason_is_required_and_nothing_changes_without_it(pengelola_client, member):
    response = pengelola_client.post(
        edit_url(member), form_data(pengelola_client, member, full_name="Lain", reason="")
    )

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    member.refresh_from_db()
    assert member.full_name == "Siti Aminah"
    assert not AuditLog.objects.filter(action="member.edit").exists()


def test_nik_and_birth_date_only_by_the_ketua_with_the_nik_checks_run_again(pengelola, ketua, member):
    pengelola_client, ketua_client = Client(), Client()
    login(pengelola_client, pengelola)
    login(ketua_client, ketua)
    assert "nik" not in pengelola_client.get(edit_url(member)).context["form"].fields
    # A NIK posted anyway by a pengelola is ignored: the field is not hers.
    pengelola_client.post(
        edit_url(member), form_data(pengelola_client, member, nik="3509104501800999", phone="0813 1")
    )
    member.refresh_from_db()
    assert member.nik != "3509104501800999"

    # The ketua may change it, and the NIK must still match the birth date (day 05 + 40 for a woman).
    wrong = ketua_client.post(edit_url(member), form_data(ketua_client, member, nik="3509100501800999"))
    assert wrong.status_code == 200
    assert wrong.context["form"].errors
    right = ketua_client.post(edit_url(member), form_data(ketua_client, member, nik="3509104501800999"))
    assert right.status_code == 302
    member.refresh_from_db()
    assert member.nik == "3509104501800999"


def test_another_lkmms_member_cannot_be_edited(client, other_lkmm, pengelola):
    stranger = MemberFactory(lkmm=other_lkmm)
    login(client, pengelola)
    assert client.get(edit_url(stranger)).status_code == 404
    assert client.post(edit_url(stranger), {"full_name": "X", "reason": "x"}).status_code == 404


def test_an_edit_of_a_pending_applicant_counts_as_recording_under_four_eyes(lkmm, ketua, pengelola, member):
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save(update_fields=["four_eyes"])
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.PENDAFTAR)
    from members.services import _application_create

    _application_create(
        member=member,
        actor=pengelola.user,
        referee_member=MemberFactory(lkmm=lkmm),
        business_plan="Warung",
        requested_amount=500_000,
    )
    ketua_client = Client()
    login(ketua_client, ketua)
    ketua_client.post(edit_url(member), form_data(ketua_client, member, full_name="Siti A."))

    with pytest.raises(Exception, match="empat mata"):
        member_transition(member=member, to=MemberStatus.AKTIF, actor=ketua.user)
    member_transition(member=member, to=MemberStatus.AKTIF, actor=approver)
    member.refresh_from_db()
    assert member.status == MemberStatus.AKTIF
