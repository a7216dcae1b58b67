"""Groups (kelompok): the pages, the size and one-group rules, and the query counts of the pages."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import AuditLog
from loans.models import Loan
from members import services
from members.models import Group, GroupMembership, MemberStatus, Weekday
from tests.factories import LoanProductFactory, MemberFactory, make_active_loan

pytestmark = pytest.mark.django_db


def active_members(lkmm, n):
    return MemberFactory.create_batch(n, lkmm=lkmm, status=MemberStatus.AKTIF)


def make_group(lkmm, n=3, *, name="Mawar", members=None):
    members = members or active_members(lkmm, n)
    return services.group_create(
        lkmm=lkmm,
        actor=None,
        name=name,
        meeting_day=Weekday.SENIN,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=members,
        leader=members[0],
    )


def current_members(group):
    return set(
        GroupMembership.objects.filter(group=group, left_on__isnull=True).values_list("member", flat=True)
    )


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def page_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# The group list -------------------------------------------------------------------------------


def test_group_list_shows_own_groups_with_size_leader_and_warning(pengelola_client, lkmm, other_lkmm):
    full = make_group(lkmm, 4, name="Mawar")
    small = make_group(lkmm, 3, name="Melati")
    # Raising the LKMM's minimum leaves Melati too small.
    lkmm.group_min_size = 4
    lkmm.save()
    make_group(other_lkmm, 3, name="Kenanga")
    response = pengelola_client.get(reverse("members:groups"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mawar" in body and "Melati" in body
    assert "Kenanga" not in body
    assert full.leader.full_name in body and small.leader.full_name in body
    assert "Rumah Bu Siti" in body and "Senin" in body
    # Only the group below the minimum has the warning.
    assert body.count("kurang dari 4") == 1
    groups = {group.name: group for group in response.context["groups"]}
    assert (groups["Mawar"].size, groups["Melati"].size) == (4, 3)


def test_group_list_for_dinas_shows_every_lkmm(dinas_client, lkmm, other_lkmm):
    make_group(lkmm, name="Mawar")
    make_group(other_lkmm, name="Kenanga")
    body = dinas_client.get(reverse("members:groups")).content.decode()
    assert "Mawar" in body and "Kenanga" in body and "LKMM Wonosari" in body
    assert "Bentuk kelompok" not in body


def test_group_list_needs_login(client):
    assert_login_redirect(client.get(reverse("members:groups")))


def test_group_list_query_count_does_not_grow_with_groups(pengelola_client, lkmm):
    make_group(lkmm, name="Kelompok 1")
    url = reverse("members:groups")
    few = page_queries(pengelola_client, url)
    for n in range(2, 7):
        make_group(lkmm, name=f"Kelompok {n}")
    many = page_queries(pengelola_client, url)
    assert few == many
    # session, user, staff (+ its LKMM for the header), the groups with size, leader and LKMM.
    assert many <= 5


# The group page -------------------------------------------------------------------------------


def test_group_page_shows_members_with_their_loan_standing(pengelola_client, lkmm):
    today = timezone.localdate()
    late, on_time, no_loan = active_members(lkmm, 3)
    group = make_group(lkmm, members=[late, on_time, no_loan])
    product = LoanProductFactory(lkmm=lkmm)
    late_loan = make_active_loan(
        member=late, product=product, disbursed_on=today - datetime.timedelta(days=30)
    )
    make_active_loan(member=on_time, product=product, disbursed_on=today - datetime.timedelta(days=2))
    standing = Loan.objects.with_standing(today).get(pk=late_loan.pk)
    assert standing.days_past_due > 0

    response = pengelola_client.get(reverse("members:group_detail", args=[group.pk]))
    assert response.status_code == 200
    rows = {member.pk: member for member in response.context["members"]}
    assert set(rows) == {late.pk, on_time.pk, no_loan.pk}
    assert rows[late.pk].loan_outstanding == standing.outstanding
    assert rows[late.pk].loan_overdue == standing.overdue_amount > 0
    assert rows[late.pk].days_past_due == (today - standing.oldest_overdue_on).days == standing.days_past_due
    assert rows[on_time.pk].days_past_due == 0 and rows[on_time.pk].loan_overdue == 0
    assert rows[no_loan.pk].loan_id is None and rows[no_loan.pk].days_past_due == 0
    body = response.content.decode()
    assert f"{standing.days_past_due} hari" in body
    assert "tanpa pinjaman aktif" in body
    assert response.context["in_arrears"] == 1
    assert "Tambah anggota" in body and "Keluarkan anggota" in body


def test_group_page_of_another_lkmm_is_404(pengelola_client, other_lkmm):
    group = make_group(other_lkmm)
    assert pengelola_client.get(reverse("members:group_detail", args=[group.pk])).status_code == 404


def test_dinas_reads_any_group_page_without_forms(dinas_client, other_lkmm):
    group = make_group(other_lkmm)
    response = dinas_client.get(reverse("members:group_detail", args=[group.pk]))
    assert response.status_code == 200
    assert "add_form" not in response.context
    assert "Ubah kelompok" not in response.content.decode()


def test_group_page_needs_login(client, lkmm):
    group = make_group(lkmm)
    assert_login_redirect(client.get(reverse("members:group_detail", args=[group.pk])))


def test_group_page_query_count_does_not_grow_with_members(pengelola_client, lkmm):
    product = LoanProductFactory(lkmm=lkmm)
    counts = []
    for n, name in [(3, "Kecil"), (9, "Besar")]:
        members = active_members(lkmm, n)
        for member in members:
            make_active_loan(member=member, product=product, disbursed_on=datetime.date(2026, 6, 1))
        group = make_group(lkmm, members=members, name=name)
        counts.append(page_queries(pengelola_client, reverse("members:group_detail", args=[group.pk])))
    assert counts[0] == counts[1]
    # session, user, staff (+ LKMM), the group, its members with standing, the add form's check and
    # choices, the remove form's choices.
    assert counts[1] <= 9


# Create ---------------------------------------------------------------------------------------


def create_data(members, leader, **extra):
    return {
        "name": "Mawar",
        "meeting_day": Weekday.RABU,
        "meeting_place": "Balai RT 3",
        "joint_liability": "on",
        "members": [member.pk for member in members],
        "leader": leader.pk,
        **extra,
    }


def test_create_form_lists_only_active_members_without_a_group(pengelola_client, lkmm, other_lkmm):
    free = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    applicant = MemberFactory(lkmm=lkmm, status=MemberStatus.PENDAFTAR)
    grouped = make_group(lkmm).leader
    elsewhere = MemberFactory(lkmm=other_lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.get(reverse("members:group_create"))
    assert response.status_code == 200
    choices = set(response.context["form"].fields["members"].queryset)
    assert free in choices
    assert not choices & {applicant, grouped, elsewhere}


def test_create_group(pengelola_client, pengelola, lkmm):
    members = active_members(lkmm, 4)
    response = pengelola_client.post(reverse("members:group_create"), create_data(members, members[1]))
    group = Group.objects.get(lkmm=lkmm, name="Mawar")
    assert response.status_code == 302
    assert response.url == reverse("members:group_detail", args=[group.pk])
    assert (group.meeting_day, group.meeting_place, group.joint_liability) == (
        Weekday.RABU,
        "Balai RT 3",
        True,
    )
    assert group.leader == members[1]
    assert current_members(group) == {member.pk for member in members}
    assert AuditLog.objects.filter(action="group.create", object_id=group.pk, actor=pengelola.user).exists()


@pytest.mark.parametrize("n", [2, 11])
def test_create_with_too_few_or_too_many_members_is_refused(pengelola_client, lkmm, n):
    members = active_members(lkmm, n)
    response = pengelola_client.post(reverse("members:group_create"), create_data(members, members[0]))
    assert response.status_code == 200
    assert f"Kelompok di LKMM ini beranggota 3 sampai 10 orang; dipilih {n}." in response.content.decode()
    assert not Group.objects.exists()


def test_create_follows_the_lkmm_own_size_limits(pengelola_client, lkmm):
    lkmm.group_min_size, lkmm.group_max_size = 5, 6
    lkmm.save()
    members = active_members(lkmm, 4)
    response = pengelola_client.post(reverse("members:group_create"), create_data(members, members[0]))
    assert "beranggota 5 sampai 6 orang; dipilih 4." in response.content.decode()
    assert not Group.objects.exists()


def test_create_with_a_leader_outside_the_group_is_refused(pengelola_client, lkmm):
    members = active_members(lkmm, 4)
    outsider = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.post(reverse("members:group_create"), create_data(members, outsider))
    assert response.status_code == 200
    assert response.context["form"].errors["leader"] == ["Ketua kelompok harus salah satu anggota kelompok."]
    assert not Group.objects.exists()


def test_create_with_a_taken_name_is_refused(pengelola_client, lkmm):
    make_group(lkmm, name="Mawar")
    members = active_members(lkmm, 3)
    response = pengelola_client.post(reverse("members:group_create"), create_data(members, members[0]))
    assert response.status_code == 200
    assert "LKMM ini sudah punya kelompok dengan nama ini." in response.content.decode()
    assert Group.objects.count() == 1


def test_create_is_for_recorders_only(dinas_client, lkmm):
    members = active_members(lkmm, 3)
    assert dinas_client.get(reverse("members:group_create")).status_code == 403
    response = dinas_client.post(reverse("members:group_create"), create_data(members, members[0]))
    assert response.status_code == 403
    assert not Group.objects.exists()


def test_create_needs_login(client):
    assert_login_redirect(client.get(reverse("members:group_create")))


# Edit -----------------------------------------------------------------------------------------


def edit_data(group, **changes):
    return {
        "name": group.name,
        "meeting_day": group.meeting_day,
        "meeting_place": group.meeting_place,
        "joint_liability": "on" if group.joint_liability else "",
        "leader": group.leader_id,
        **changes,
    }


def test_edit_group(ketua_client, ketua, lkmm):
    group = make_group(lkmm, 4)
    new_leader = sorted(current_members(group) - {group.leader_id})[0]
    data = edit_data(
        group,
        name="Mawar Merah",
        meeting_day=Weekday.JUMAT,
        meeting_place="Musala",
        joint_liability="",
        leader=new_leader,
    )
    response = ketua_client.post(reverse("members:group_edit", args=[group.pk]), data)
    assert response.status_code == 302
    group.refresh_from_db()
    assert (group.name, group.meeting_day, group.meeting_place) == ("Mawar Merah", Weekday.JUMAT, "Musala")
    assert group.joint_liability is False
    assert group.leader_id == new_leader
    row = AuditLog.objects.get(action="group.update", object_id=group.pk, actor=ketua.user)
    assert row.data["changes"]["name"][1] == "Mawar Merah"
    assert row.data["changes"]["meeting_place"][1] == "Musala"
    page = ketua_client.get(reverse("members:group_detail", args=[group.pk])).content.decode()
    assert "Riwayat perubahan kelompok" in page
    assert "→ <strong>Mawar Merah</strong>" in page
    assert "→ <strong>Musala</strong>" in page


def test_edit_refuses_a_leader_outside_the_group(pengelola_client, lkmm):
    group = make_group(lkmm)
    outsider = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.post(
        reverse("members:group_edit", args=[group.pk]), edit_data(group, leader=outsider.pk)
    )
    assert response.status_code == 200
    assert "leader" in response.context["form"].errors
    group.refresh_from_db()
    assert group.leader_id != outsider.pk


def test_edit_shows_the_form(pengelola_client, lkmm):
    group = make_group(lkmm)
    response = pengelola_client.get(reverse("members:group_edit", args=[group.pk]))
    assert response.status_code == 200
    assert set(response.context["form"].fields["leader"].queryset.values_list("pk", flat=True)) == (
        current_members(group)
    )


def test_edit_of_another_lkmm_group_is_404(pengelola_client, other_lkmm):
    group = make_group(other_lkmm)
    response = pengelola_client.post(
        reverse("members:group_edit", args=[group.pk]), edit_data(group, name="X")
    )
    assert response.status_code == 404
    group.refresh_from_db()
    assert group.name == "Mawar"


def test_edit_is_for_recorders_only(dinas_client, lkmm):
    group = make_group(lkmm)
    response = dinas_client.post(reverse("members:group_edit", args=[group.pk]), edit_data(group, name="X"))
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.name == "Mawar"


def test_edit_needs_login(client, lkmm):
    group = make_group(lkmm)
    assert_login_redirect(client.get(reverse("members:group_edit", args=[group.pk])))


# Add and remove members -----------------------------------------------------------------------


def test_add_member(pengelola_client, pengelola, lkmm):
    group = make_group(lkmm)
    newcomer = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.post(reverse("members:group_add", args=[group.pk]), {"member": newcomer.pk})
    assert response.status_code == 302
    membership = GroupMembership.objects.get(group=group, member=newcomer)
    assert membership.left_on is None and membership.joined_on == timezone.localdate()
    assert AuditLog.objects.filter(
        action="group.add_member", object_id=group.pk, actor=pengelola.user
    ).exists()


def test_add_beyond_the_maximum_is_refused(pengelola_client, lkmm):
    lkmm.group_max_size = 3
    lkmm.save()
    group = make_group(lkmm, 3)
    newcomer = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.post(reverse("members:group_add", args=[group.pk]), {"member": newcomer.pk})
    assert response.status_code == 200
    assert "Kelompok sudah penuh (maksimal 3 orang)." in response.content.decode()
    assert len(current_members(group)) == 3


def test_add_a_member_of_another_group_is_refused(pengelola_client, lkmm):
    group = make_group(lkmm, name="Mawar")
    taken = make_group(lkmm, name="Melati").leader
    response = pengelola_client.post(reverse("members:group_add", args=[group.pk]), {"member": taken.pk})
    assert response.status_code == 200
    assert "member" in response.context["add_form"].errors
    assert taken.pk not in current_members(group)


def test_add_is_post_only(pengelola_client, lkmm):
    group = make_group(lkmm)
    assert pengelola_client.get(reverse("members:group_add", args=[group.pk])).status_code == 405


def test_add_is_for_recorders_only(dinas_client, lkmm):
    group = make_group(lkmm)
    newcomer = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    response = dinas_client.post(reverse("members:group_add", args=[group.pk]), {"member": newcomer.pk})
    assert response.status_code == 403
    assert newcomer.pk not in current_members(group)


def test_add_to_another_lkmm_group_is_404(pengelola_client, other_lkmm):
    group = make_group(other_lkmm)
    newcomer = MemberFactory(lkmm=other_lkmm, status=MemberStatus.AKTIF)
    response = pengelola_client.post(reverse("members:group_add", args=[group.pk]), {"member": newcomer.pk})
    assert response.status_code == 404
    assert newcomer.pk not in current_members(group)


def test_add_needs_login(client, lkmm):
    group = make_group(lkmm)
    assert_login_redirect(client.post(reverse("members:group_add", args=[group.pk]), {}))


def test_remove_member_with_a_reason(pengelola_client, pengelola, lkmm):
    group = make_group(lkmm, 4)
    leaving = sorted(current_members(group) - {group.leader_id})[0]
    response = pengelola_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": leaving, "reason": "Pindah desa."}
    )
    assert response.status_code == 302
    membership = GroupMembership.objects.get(group=group, member_id=leaving)
    assert membership.left_on == timezone.localdate()
    log = AuditLog.objects.get(action="group.remove_member", object_id=group.pk)
    assert (log.actor, log.reason) == (pengelola.user, "Pindah desa.")
    # Having left, the member may join another group.
    services.group_add_member(group=make_group(lkmm, name="Melati"), member=membership.member, actor=None)


def test_remove_needs_a_reason(pengelola_client, lkmm):
    group = make_group(lkmm, 4)
    leaving = sorted(current_members(group) - {group.leader_id})[0]
    response = pengelola_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": leaving, "reason": " "}
    )
    assert response.status_code == 200
    assert "reason" in response.context["remove_form"].errors
    assert leaving in current_members(group)


def test_remove_below_the_minimum_is_refused(pengelola_client, lkmm):
    group = make_group(lkmm, 3)
    leaving = sorted(current_members(group) - {group.leader_id})[0]
    response = pengelola_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": leaving, "reason": "Pindah desa."}
    )
    assert response.status_code == 200
    assert "Kelompok minimal 3 orang; tambah anggota dulu." in response.content.decode()
    assert leaving in current_members(group)


def test_remove_the_leader_is_refused(pengelola_client, lkmm):
    group = make_group(lkmm, 4)
    response = pengelola_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": group.leader_id, "reason": "Sakit."}
    )
    assert response.status_code == 200
    assert "Ganti ketua kelompok dulu sebelum mengeluarkannya." in response.content.decode()
    assert group.leader_id in current_members(group)


def test_remove_is_post_only(pengelola_client, lkmm):
    group = make_group(lkmm)
    assert pengelola_client.get(reverse("members:group_remove", args=[group.pk])).status_code == 405


def test_remove_is_for_recorders_only(dinas_client, lkmm):
    group = make_group(lkmm, 4)
    leaving = sorted(current_members(group) - {group.leader_id})[0]
    response = dinas_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": leaving, "reason": "Pindah."}
    )
    assert response.status_code == 403
    assert leaving in current_members(group)


def test_remove_from_another_lkmm_group_is_404(pengelola_client, other_lkmm):
    group = make_group(other_lkmm, 4)
    leaving = sorted(current_members(group) - {group.leader_id})[0]
    response = pengelola_client.post(
        reverse("members:group_remove", args=[group.pk]), {"member": leaving, "reason": "Pindah."}
    )
    assert response.status_code == 404
    assert leaving in current_members(group)


def test_remove_needs_login(client, lkmm):
    group = make_group(lkmm, 4)
    assert_login_redirect(client.post(reverse("members:group_remove", args=[group.pk]), {}))


# The rules in the services and the database ---------------------------------------------------


def test_a_member_in_an_active_group_cannot_join_another(lkmm):
    first = make_group(lkmm, name="Mawar")
    second = make_group(lkmm, name="Melati")
    with pytest.raises(ValidationError) as excinfo:
        services.group_add_member(group=second, member=first.leader, actor=None)
    assert excinfo.value.message_dict["member"] == [f"{first.leader.full_name} sudah masuk kelompok lain."]
    others = active_members(lkmm, 2)
    with pytest.raises(ValidationError, match="sudah masuk kelompok lain"):
        make_group(lkmm, name="Kenanga", members=[*others, first.leader])
    assert current_members(first) >= {first.leader_id}
    assert first.leader_id not in current_members(second)


def test_database_allows_one_active_group_per_member(lkmm):
    first = make_group(lkmm, name="Mawar")
    second = make_group(lkmm, name="Melati")
    with (
        pytest.raises(IntegrityError, match="members_one_active_group_per_member|UNIQUE"),
        transaction.atomic(),
    ):
        GroupMembership.objects.create(group=second, member=first.leader, joined_on=timezone.localdate())
    # A past membership does not count.
    past = GroupMembership.objects.create(
        group=second,
        member=first.leader,
        joined_on=datetime.date(2026, 1, 5),
        left_on=datetime.date(2026, 2, 1),
    )
    assert past.pk


def test_only_active_members_of_the_lkmm_may_join(lkmm, other_lkmm):
    group = make_group(lkmm)
    for member in [
        MemberFactory(lkmm=lkmm, status=MemberStatus.PENDAFTAR),
        MemberFactory(lkmm=lkmm, status=MemberStatus.KELUAR),
        MemberFactory(lkmm=other_lkmm, status=MemberStatus.AKTIF),
    ]:
        with pytest.raises(ValidationError, match="bukan anggota aktif LKMM ini"):
            services.group_add_member(group=group, member=member, actor=None)


def test_leader_must_be_a_member(lkmm):
    members = active_members(lkmm, 3)
    outsider = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF)
    with pytest.raises(ValidationError) as excinfo:
        services.group_create(
            lkmm=lkmm,
            actor=None,
            name="Mawar",
            meeting_day=Weekday.SENIN,
            meeting_place="Balai",
            joint_liability=True,
            members=members,
            leader=outsider,
        )
    assert excinfo.value.message_dict["leader"] == ["Ketua kelompok harus salah satu anggota kelompok."]
    group = make_group(lkmm, members=members)
    with pytest.raises(ValidationError, match="Ketua kelompok harus salah satu anggota kelompok"):
        services.group_update(
            group=group,
            actor=None,
            name="Mawar",
            meeting_day=Weekday.SENIN,
            meeting_place="Balai",
            joint_liability=True,
            leader=outsider,
        )
    group.refresh_from_db()
    assert group.leader == members[0]
