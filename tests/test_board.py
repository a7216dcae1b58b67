"""The board (pengurus): the pages, electing a board in a musyawarah, and the admin."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import AuditLog, BoardMember, BoardRole, CommunityMeeting, ElectionMethod
from institutions.services import board_elect
from members.models import MemberStatus
from tests.factories import MemberFactory, login

pytestmark = pytest.mark.django_db

D = datetime.date
ROWS = [BoardRole.KETUA, BoardRole.SEKRETARIS, BoardRole.BENDAHARA, BoardRole.PENGAWAS, BoardRole.PENGAWAS]


def elect(lkmm, held_on, names, actor=None):
    """A board chosen on `held_on`: the first name is ketua, then sekretaris, bendahara, pengawas."""
    return board_elect(
        lkmm=lkmm, actor=actor, held_on=held_on, place="Balai Desa", attendees=60,
        method=ElectionMethod.MUSYAWARAH,
        seats=[{"name": name, "role": role} for name, role in zip(names, ROWS, strict=False)],
    )  # fmt: skip


def elect_data(seats, **meeting):
    """The elect form as a browser posts it: every row keeps its preset role, filled or not."""
    data = {
        "held_on": "2026-03-10",
        "place": "Balai Desa Semenggu",
        "attendees": "71",
        "method": ElectionMethod.MUSYAWARAH,
        "notes": "Dipilih warga.",
        "seats-TOTAL_FORMS": str(len(ROWS)),
        "seats-INITIAL_FORMS": "0",
        "seats-MIN_NUM_FORMS": "0",
        "seats-MAX_NUM_FORMS": "1000",
        **meeting,
    }
    for index, role in enumerate(ROWS):
        data[f"seats-{index}-role"] = role
        for key, value in (seats[index] if index < len(seats) else {}).items():
            data[f"seats-{index}-{key}"] = value
    return data


def assert_login_redirect(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# The board home -------------------------------------------------------------------------------


def test_board_home_sends_lkmm_staff_to_their_own_board(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("board:home"))
    assert response.status_code == 302
    assert response.url == reverse("board:detail", args=[lkmm.code])


def test_board_home_lists_every_lkmm_for_dinas(dinas_client, lkmm, other_lkmm):
    elect(lkmm, D(2024, 3, 10), ["Bu Ketua Semenggu"])
    response = dinas_client.get(reverse("board:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("board:detail", args=[lkmm.code]) in body
    assert reverse("board:detail", args=[other_lkmm.code]) in body
    assert "Bu Ketua Semenggu" in body and "10/03/2024" in body
    assert "belum ada" in body  # Wonosari has no board yet


def test_board_home_needs_login(client):
    assert_login_redirect(client.get(reverse("board:home")))


# The board page -------------------------------------------------------------------------------


def test_board_page_shows_the_current_board_and_the_musyawarah_that_chose_it(pengelola_client, lkmm, ketua):
    member = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF, full_name="Pak Pengawas Anggota")
    board_elect(
        lkmm=lkmm, actor=ketua.user, held_on=D(2025, 3, 10), place="Balai Desa Semenggu", attendees=71,
        method=ElectionMethod.VOTING, notes="Rapat warga tahunan.",
        seats=[
            {"name": "Bu Ketua", "role": BoardRole.KETUA, "user": ketua.user},
            {"name": "Pak Pengawas Anggota", "role": BoardRole.PENGAWAS, "member": member},
            {"name": "Bu Bendahara", "role": BoardRole.BENDAHARA, "term_end": D(2029, 3, 9)},
        ],
    )  # fmt: skip
    response = pengelola_client.get(reverse("board:detail", args=[lkmm.code]))
    assert response.status_code == 200
    assert [seat.role for seat in response.context["current"]] == ["ketua", "bendahara", "pengawas"]
    body = response.content.decode()
    for text in ["Bu Ketua", "ketua.test", member.code, "Bu Bendahara", "09/03/2029", "10/03/2025",
                 "Balai Desa Semenggu", "71 orang", "Pemungutan suara", "Rapat warga tahunan."]:  # fmt: skip
        assert text in body, text
    assert reverse("members:detail", args=[member.pk]) in body
    assert "Catat musyawarah pemilihan" not in body  # only the ketua records


def test_board_page_shows_current_and_past_boards_after_a_new_election(ketua_client, lkmm):
    first = elect(lkmm, D(2022, 3, 10), ["Bu Lama", "Pak Sekretaris Lama"])
    second = elect(lkmm, D(2025, 3, 10), ["Bu Baru", "Pak Sekretaris Baru"])
    # The previous board's terms end the day before the new board starts.
    assert set(BoardMember.objects.filter(meeting=first).values_list("term_end", flat=True)) == {
        D(2025, 3, 9)
    }
    assert set(BoardMember.objects.filter(meeting=second).values_list("term_end", flat=True)) == {None}
    response = ketua_client.get(reverse("board:detail", args=[lkmm.code]))
    assert [seat.name for seat in response.context["current"]] == ["Bu Baru", "Pak Sekretaris Baru"]
    assert response.context["chosen_by"] == [second]
    assert response.context["past"] == [first]
    body = response.content.decode()
    assert "Bu Lama" in body and "09/03/2025" in body and "Riwayat pengurus" in body
    assert "Catat musyawarah pemilihan" in body


def test_board_page_without_a_board(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("board:detail", args=[lkmm.code]))
    assert response.status_code == 200
    assert "Belum ada pengurus yang menjabat" in response.content.decode()


def test_dinas_reads_every_board(dinas_client, lkmm, other_lkmm):
    elect(other_lkmm, D(2024, 5, 1), ["Bu Ketua Wonosari"])
    response = dinas_client.get(reverse("board:detail", args=[other_lkmm.code]))
    assert response.status_code == 200
    assert "Bu Ketua Wonosari" in response.content.decode()
    assert "Catat musyawarah pemilihan" not in response.content.decode()


def test_board_of_another_lkmm_is_404(pengelola_client, other_lkmm):
    assert pengelola_client.get(reverse("board:detail", args=[other_lkmm.code])).status_code == 404


def test_board_page_needs_login(client, lkmm):
    assert_login_redirect(client.get(reverse("board:detail", args=[lkmm.code])))


def test_board_page_query_count_does_not_grow_with_boards(pengelola_client, lkmm):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert pengelola_client.get(reverse("board:detail", args=[lkmm.code])).status_code == 200
        return len(ctx.captured_queries)

    elect(lkmm, D(2020, 3, 10), ["A", "B"])
    elect(lkmm, D(2021, 3, 10), ["C", "D"])
    few = count()
    for year in range(2022, 2026):
        elect(lkmm, D(year, 3, 10), ["E", "F", "G", "H", "I"])
    assert count() == few


# Electing a board -----------------------------------------------------------------------------


def test_ketua_records_the_musyawarah_and_its_board(ketua_client, ketua, lkmm):
    old = elect(lkmm, D(2023, 3, 10), ["Bu Lama"])
    member = MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF, full_name="Pak Anggota Pengawas")
    data = elect_data(
        [
            {"name": "Bu Ketua Baru", "user": ketua.user.pk},
            {"name": "Pak Sekretaris"},
            {},
            {"member": member.pk, "term_end": "2028-03-09"},
        ]
    )
    response = ketua_client.post(reverse("board:elect", args=[lkmm.code]), data)
    assert response.status_code == 302
    assert response.url == reverse("board:detail", args=[lkmm.code])
    meeting = CommunityMeeting.objects.get(lkmm=lkmm, held_on=D(2026, 3, 10))
    assert (meeting.place, meeting.attendees, meeting.method) == ("Balai Desa Semenggu", 71, "musyawarah")
    assert (meeting.notes, meeting.created_by) == ("Dipilih warga.", ketua.user)
    seats = {seat.role: seat for seat in meeting.board_members.all()}
    assert set(seats) == {"ketua", "sekretaris", "pengawas"}  # the untouched rows are skipped
    assert (seats["ketua"].name, seats["ketua"].user) == ("Bu Ketua Baru", ketua.user)
    assert (seats["pengawas"].name, seats["pengawas"].member) == ("Pak Anggota Pengawas", member)
    assert seats["pengawas"].term_end == D(2028, 3, 9)
    assert all(seat.term_start == D(2026, 3, 10) and seat.lkmm == lkmm for seat in seats.values())
    assert list(BoardMember.objects.filter(meeting=old).values_list("term_end", flat=True)) == [D(2026, 3, 9)]
    assert AuditLog.objects.filter(action="board.elect", object_id=meeting.pk, actor=ketua.user).exists()


def test_elect_form_shows_preset_roles(ketua_client, lkmm):
    response = ketua_client.get(reverse("board:elect", args=[lkmm.code]))
    assert response.status_code == 200
    formset = response.context["formset"]
    assert [form["role"].value() for form in formset] == ROWS
    assert response.context["form"]["held_on"].value() == timezone.localdate()


def test_a_board_needs_a_ketua(ketua_client, lkmm):
    data = elect_data([{"name": "Bu Sekretaris", "role": BoardRole.SEKRETARIS}])
    response = ketua_client.post(reverse("board:elect", args=[lkmm.code]), data)
    assert response.status_code == 200
    assert "Pengurus harus punya seorang ketua." in response.content.decode()
    assert not CommunityMeeting.objects.exists()


def test_a_seat_needs_a_name(ketua_client, lkmm):
    data = elect_data([{"name": "Bu Ketua"}, {"term_end": "2030-01-01"}])
    response = ketua_client.post(reverse("board:elect", args=[lkmm.code]), data)
    assert response.status_code == 200
    assert response.context["formset"].forms[1].errors["name"] == [
        "Tulis nama pengurus, atau pilih anggota atau akun staf."
    ]
    assert not CommunityMeeting.objects.exists()


def test_an_untouched_form_elects_nobody(ketua_client, lkmm):
    response = ketua_client.post(reverse("board:elect", args=[lkmm.code]), elect_data([]))
    assert response.status_code == 200
    assert "Pengurus harus punya seorang ketua." in response.content.decode()
    assert not CommunityMeeting.objects.exists()


def test_a_musyawarah_needs_attendees_and_a_past_date(ketua_client, lkmm):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = ketua_client.post(
        reverse("board:elect", args=[lkmm.code]),
        elect_data([{"name": "Bu Ketua"}], attendees="0", held_on=tomorrow.isoformat()),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "tidak boleh di masa depan" in errors["held_on"][0]
    response = ketua_client.post(
        reverse("board:elect", args=[lkmm.code]), elect_data([{"name": "Bu Ketua"}], attendees="0")
    )
    assert response.context["form"].errors["attendees"] == ["Musyawarah harus dihadiri warga."]
    assert not CommunityMeeting.objects.exists()


def test_seats_link_only_to_members_and_staff_of_the_lkmm(ketua_client, lkmm, other_lkmm):
    stranger = MemberFactory(lkmm=other_lkmm, status=MemberStatus.AKTIF)
    outsider_user = get_user_model().objects.create_user("luar", password="x-123-yz")
    data = elect_data(
        [{"name": "Bu Ketua", "member": stranger.pk}, {"name": "Pak S", "user": outsider_user.pk}]
    )
    response = ketua_client.post(reverse("board:elect", args=[lkmm.code]), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert "member" in formset.forms[0].errors and "user" in formset.forms[1].errors
    assert not CommunityMeeting.objects.exists()


def test_pengelola_may_not_elect(pengelola_client, lkmm):
    assert pengelola_client.get(reverse("board:elect", args=[lkmm.code])).status_code == 403
    response = pengelola_client.post(reverse("board:elect", args=[lkmm.code]), elect_data([{"name": "X"}]))
    assert response.status_code == 403
    assert not CommunityMeeting.objects.exists()


def test_dinas_may_not_elect(dinas_client, lkmm):
    response = dinas_client.post(reverse("board:elect", args=[lkmm.code]), elect_data([{"name": "X"}]))
    assert response.status_code == 403
    assert not CommunityMeeting.objects.exists()


def test_ketua_may_not_elect_another_lkmm_board(ketua_client, other_lkmm):
    response = ketua_client.post(reverse("board:elect", args=[other_lkmm.code]), elect_data([{"name": "X"}]))
    assert response.status_code == 404
    assert not CommunityMeeting.objects.exists()


def test_elect_needs_login(client, lkmm):
    assert_login_redirect(client.get(reverse("board:elect", args=[lkmm.code])))


# Admin ----------------------------------------------------------------------------------------


def test_admin_shows_meetings_with_their_seats(client, lkmm):
    meeting = elect(lkmm, D(2024, 3, 10), ["Bu Ketua Admin", "Pak Sekretaris Admin"])
    seat = BoardMember.objects.filter(meeting=meeting).first()
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    for url in [
        reverse("admin:institutions_communitymeeting_changelist"),
        reverse("admin:institutions_boardmember_changelist") + "?q=Ketua",
        reverse("admin:institutions_boardmember_change", args=[seat.pk]),
    ]:
        assert client.get(url).status_code == 200, url
    response = client.get(reverse("admin:institutions_communitymeeting_change", args=[meeting.pk]))
    assert response.status_code == 200
    assert (
        "Bu Ketua Admin" in response.content.decode() and "Pak Sekretaris Admin" in response.content.decode()
    )


def test_admin_seat_added_inline_takes_the_meeting_lkmm(client, lkmm):
    meeting = elect(lkmm, D(2024, 3, 10), ["Bu Ketua"])
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    seat = meeting.board_members.get()
    prefix = "board_members"
    data = {
        "lkmm": lkmm.pk, "held_on": "2024-03-10", "place": "Balai Desa", "attendees": "60",
        "method": "musyawarah", "notes": "",
        f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-id": seat.pk, f"{prefix}-0-meeting": meeting.pk, f"{prefix}-0-name": "Bu Ketua",
        f"{prefix}-0-role": "ketua", f"{prefix}-0-term_start": "2024-03-10",
        f"{prefix}-1-meeting": meeting.pk, f"{prefix}-1-name": "Pak Pengawas Susulan",
        f"{prefix}-1-role": "pengawas", f"{prefix}-1-term_start": "2024-04-01",
    }  # fmt: skip
    response = client.post(reverse("admin:institutions_communitymeeting_change", args=[meeting.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = BoardMember.objects.get(name="Pak Pengawas Susulan")
    assert (added.lkmm, added.meeting, added.term_start) == (lkmm, meeting, D(2024, 4, 1))
