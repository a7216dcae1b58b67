"""Member pages: list (filters, search, scoping, query count), detail, registration of an applicant
(validation next to the field, roles). Admission decisions, status changes, photos and the other
member pages are in test_member_admission.py."""

import datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from institutions.models import AuditLog, BoardRole, ElectionMethod
from institutions.services import board_elect
from members import services
from members.models import (
    BusinessType,
    Member,
    MembershipApplication,
    MemberStatus,
    MemberStatusChange,
    Weekday,
)
from tests.factories import MemberFactory, StaffFactory, login, make_active_loan, make_loan

LIST_URL = reverse("members:list")
CREATE_URL = reverse("members:create")

# A woman born 05/01/1980 in Jember (day 05 + 40 = 45); kecamatan 11, outside the factory's NIK range.
VALID = {
    "full_name": "Siti Aminah",
    "nik": "3509114501800001",
    "kk_number": "3509110101080003",
    "gender": "P",
    "birth_place": "Jember",
    "birth_date": "1980-01-05",
    "phone": "0812 3456 7890",
    "household_size": "4",
    "provinsi": "Jawa Timur",
    "kabupaten": "Jember",
    "kecamatan": "Sumbersari",
    "desa": "Semenggu",
    "dusun": "Krajan",
    "rt": "004",
    "rw": "002",
    "address": "Jl. Mawar 3",
    "dtsen_listed": "on",
    "dtsen_decile": "2",
    "dtsen_verified_on": "2025-12-01",
    "business": "Warung kelontong di depan rumah",
    "business_started": "2019-06-01",
    "business_location": "Dusun Krajan",
    "turnover_at_admission": "3.000.000",
    "net_income_at_admission": "600.000",
    "business_plan": "Menambah stok beras dan minyak goreng.",
    "requested_amount": "1.000.000",
    "joined_on": "2026-01-05",
}
NOTHING_REQUIRED = "Bidang ini tidak boleh kosong."


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


def error_next_to(html, field, message):
    """True when `message` is rendered inside the wrapper of `field` (before the next field starts)."""
    start = html.index(f'name="{field}"')
    end = html.find('<div class="field', start)
    chunk = html[start:] if end == -1 else html[start:end]
    return f'<p class="error" role="alert">{escape(message)}</p>' in chunk


def names_on_page(response):
    return sorted(m.full_name for m in response.context["page"].object_list)


@pytest.fixture
def referee(lkmm):
    """An active member who vouches for the applicant; number 1, so the applicant is A-0002."""
    return MemberFactory(lkmm=lkmm, number=1, full_name="Sri Penjamin")


@pytest.fixture
def warung(db):
    # Seeded by the migration members/0003.
    return BusinessType.objects.get(name="Warung")


@pytest.fixture
def data(referee, warung):
    return {**VALID, "business_type": str(warung.pk), "referee": f"m:{referee.pk}"}


def changed(data, **changes):
    """`data` with `changes`; a change to None leaves the field out (an unticked checkbox)."""
    result = {**data, **changes}
    return {key: value for key, value in result.items() if value is not None}


def applicant_saved():
    return Member.objects.filter(nik=VALID["nik"]).exists()


# --- registration: happy path --------------------------------------------------------------------


def test_pengelola_registers_an_applicant(pengelola_client, pengelola, lkmm, referee, warung, data):
    response = pengelola_client.post(CREATE_URL, data)

    member = Member.objects.get(lkmm=lkmm, nik=VALID["nik"])
    assert response.status_code == 302
    assert response["Location"] == reverse("members:detail", args=[member.pk])
    assert member.status == MemberStatus.PENDAFTAR
    assert (member.number, member.code) == (2, "A-0002")
    assert member.phone == "+6281234567890"
    assert member.kk_number == "3509110101080003"
    assert member.birth_date == datetime.date(1980, 1, 5)
    assert member.joined_on == datetime.date(2026, 1, 5)
    assert member.household_size == 4
    assert (member.dtsen_listed, member.dtsen_decile) == (True, 2)
    assert member.dtsen_verified_on == datetime.date(2025, 12, 1)
    assert member.business_type == warung
    assert member.business_started == datetime.date(2019, 6, 1)
    assert (member.turnover_at_admission, member.net_income_at_admission) == (3_000_000, 600_000)
    assert (member.rt, member.rw, member.dusun) == ("004", "002", "Krajan")
    assert not member.photo
    assert member.created_by == pengelola.user

    application = MembershipApplication.objects.get(member=member)
    assert application.referee_member == referee
    assert application.referee_board is None
    assert application.business_plan == "Menambah stok beras dan minyak goreng."
    assert application.requested_amount == 1_000_000
    assert application.submitted_by == pengelola.user
    assert (application.decision, application.decided_by) == ("", None)

    change = MemberStatusChange.objects.get(member=member)
    assert (change.from_status, change.to_status, change.by) == ("", "pendaftar", pengelola.user)

    audit = AuditLog.objects.get(action="member.apply")
    assert (audit.object_type, audit.object_id, audit.lkmm, audit.actor) == (
        "members.member",
        member.pk,
        lkmm,
        pengelola.user,
    )


def test_success_message_names_the_code_and_the_page_shows_the_pending_status(pengelola_client, data):
    response = pengelola_client.post(CREATE_URL, data, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Siti Aminah terdaftar sebagai pendaftar A-0002; menunggu keputusan ketua." in html
    assert '<span class="badge">Pendaftar</span>' in html
    assert '<p class="note">Menunggu keputusan. </p>' in html  # no ketua login yet to name
    assert "decision_form" not in response.context  # the pengelola does not decide
    assert reverse("loans:create", args=[response.context["member"].pk]) not in html  # no loan yet


def test_a_board_member_in_office_may_vouch(pengelola_client, lkmm, data):
    meeting = board_elect(
        lkmm=lkmm,
        actor=None,
        held_on=datetime.date(2025, 3, 1),
        place="Balai Desa",
        attendees=40,
        method=ElectionMethod.MUSYAWARAH,
        seats=[{"name": "Pak Harto", "role": BoardRole.KETUA}],
    )
    seat = meeting.board_members.get()

    form = pengelola_client.get(CREATE_URL).content.decode()
    response = pengelola_client.post(CREATE_URL, {**data, "referee": f"b:{seat.pk}"})

    assert f'value="b:{seat.pk}"' in form and "Pak Harto (Ketua)" in form
    assert response.status_code == 302
    application = MembershipApplication.objects.get(member__nik=VALID["nik"])
    assert (application.referee_board, application.referee_member) == (seat, None)


def test_ketua_may_register_too_and_numbers_follow_on_per_lkmm(ketua_client, lkmm, other_lkmm, data):
    MemberFactory(lkmm=lkmm, number=7)
    MemberFactory(lkmm=other_lkmm, number=40)

    response = ketua_client.post(CREATE_URL, data)

    assert response.status_code == 302
    assert Member.objects.get(lkmm=lkmm, nik=VALID["nik"]).number == 8


def test_registration_form_is_prefilled_and_offers_only_own_active_referees(
    pengelola_client, lkmm, other_lkmm, referee
):
    applicant = MemberFactory(lkmm=lkmm, status=MemberStatus.PENDAFTAR, full_name="Masih Pendaftar")
    stranger = MemberFactory(lkmm=other_lkmm, full_name="Ani Wonosari")

    response = pengelola_client.get(CREATE_URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form["joined_on"].value() == timezone.localdate()
    assert (form["desa"].value(), form["kecamatan"].value()) == ("Semenggu", "Sumbersari")
    assert "confirm_elsewhere" not in form.fields
    html = response.content.decode()
    assert f'value="m:{referee.pk}"' in html
    assert f'value="m:{applicant.pk}"' not in html
    assert f'value="m:{stranger.pk}"' not in html
    assert list(form.fields["business_type"].queryset) == list(BusinessType.objects.filter(is_active=True))


# --- registration: bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"nik": "350911450180001"}, "nik", "NIK harus 16 angka."),
        ({"nik": "35091145018000a1"}, "nik", "NIK harus 16 angka."),
        ({"nik": "9909114501800001"}, "nik", "Kode provinsi 99 pada NIK tidak dikenal."),
        (
            {"birth_date": "1980-01-06"},
            "birth_date",
            "Tanggal lahir tidak sesuai dengan NIK (NIK menunjukkan 05/01/..80).",
        ),
        ({"gender": "L"}, "gender", "Menurut NIK (tanggal lahir + 40) pemiliknya perempuan."),
        ({"kk_number": "35091101010800"}, "kk_number", "Nomor KK harus 16 angka."),
        ({"kk_number": "350911010108000x"}, "kk_number", "Nomor KK harus 16 angka."),
        (
            {"dtsen_listed": None},
            "dtsen_listed",
            "Centang bila terdaftar di DTSEN, atau kosongkan desil dan tanggalnya.",
        ),
        ({"dtsen_decile": ""}, "dtsen_decile", "Isi desil DTSEN (1-10)."),
        ({"dtsen_decile": "11"}, "dtsen_decile", "Pastikan nilai ini lebih kecil dari atau sama dengan 10."),
        (
            {"phone": "0812-ABC"},
            "phone",
            "Nomor telepon hanya boleh berisi angka, spasi, titik, tanda hubung dan +.",
        ),
        ({"phone": "12345"}, "phone", "Nomor telepon tidak dikenal; tulis seperti 0812 3456 7890."),
        ({"rt": "4"}, "rt", "Tulis 3 angka, misalnya 004."),
        ({"full_name": ""}, "full_name", NOTHING_REQUIRED),
        ({"business_type": ""}, "business_type", NOTHING_REQUIRED),
        ({"referee": ""}, "referee", NOTHING_REQUIRED),
        ({"business_plan": ""}, "business_plan", NOTHING_REQUIRED),
        (
            {"requested_amount": "satu juta"},
            "requested_amount",
            "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000.",
        ),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    pengelola_client, lkmm, data, changes, field, message
):
    response = pengelola_client.post(CREATE_URL, changed(data, **changes))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    if field != "gender":  # the radio group nests its own <div>s; the form error check above covers it
        assert error_next_to(response.content.decode(), field, message)
    assert not applicant_saved()
    assert not MembershipApplication.objects.exists()
    assert not MemberStatusChange.objects.exists()
    assert not AuditLog.objects.filter(action="member.apply").exists()


@pytest.mark.parametrize("whose", ["other_lkmm", "pendaftar", "made_up"])
def test_a_referee_who_may_not_vouch_is_refused(pengelola_client, lkmm, other_lkmm, data, whose):
    if whose == "other_lkmm":
        value = f"m:{MemberFactory(lkmm=other_lkmm).pk}"
    elif whose == "pendaftar":
        value = f"m:{MemberFactory(lkmm=lkmm, status=MemberStatus.PENDAFTAR).pk}"
    else:
        value = "x:1"

    response = pengelola_client.post(CREATE_URL, {**data, "referee": value})

    assert response.status_code == 200
    (error,) = response.context["form"].errors["referee"]
    assert value in error
    assert error_next_to(response.content.decode(), "referee", error)
    assert not applicant_saved()


def test_same_nik_twice_in_one_lkmm_is_refused(pengelola_client, lkmm, data):
    MemberFactory(lkmm=lkmm, nik=VALID["nik"])

    response = pengelola_client.post(CREATE_URL, {**data, "nik": "3509 1145 0180 0001"})

    assert response.status_code == 200
    message = "NIK ini sudah terdaftar sebagai anggota LKMM ini."
    assert response.context["form"].errors["nik"] == [message]
    assert error_next_to(response.content.decode(), "nik", message)
    assert Member.objects.filter(lkmm=lkmm, nik=VALID["nik"]).count() == 1
    assert not MembershipApplication.objects.exists()


@pytest.mark.parametrize("typed", ["3509 1145 0180 0001", " 3509114501800001 ", "3509-1145-0180-0001"])
def test_nik_typed_in_groups_of_four_is_stored_as_16_digits(pengelola_client, lkmm, data, typed):
    response = pengelola_client.post(CREATE_URL, {**data, "nik": typed})

    assert response.status_code == 302
    assert Member.objects.get(lkmm=lkmm, status=MemberStatus.PENDAFTAR).nik == "3509114501800001"


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_dinas_may_not_register(dinas_client, lkmm, data, method):
    response = getattr(dinas_client, method)(CREATE_URL, data if method == "post" else None)

    assert response.status_code == 403
    assert not applicant_saved()


@pytest.mark.parametrize("name", ["list", "create", "detail", "applications", "duplicates"])
def test_anonymous_is_sent_to_the_login_page(client, lkmm, name):
    member = MemberFactory(lkmm=lkmm)
    url = reverse(f"members:{name}", args=[member.pk] if name == "detail" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == login_url(url)


def test_anonymous_post_records_nothing(client, lkmm, data):
    response = client.post(CREATE_URL, data)

    assert response.status_code == 302
    assert response["Location"] == login_url(CREATE_URL)
    assert not applicant_saved()


def test_another_lkmms_member_is_not_found(pengelola_client, other_lkmm):
    member = MemberFactory(lkmm=other_lkmm)

    response = pengelola_client.get(reverse("members:detail", args=[member.pk]))

    assert response.status_code == 404


def test_list_shows_only_the_own_lkmm(pengelola_client, lkmm, other_lkmm):
    MemberFactory(lkmm=lkmm, full_name="Siti Semenggu")
    MemberFactory(lkmm=other_lkmm, full_name="Ani Wonosari")

    response = pengelola_client.get(LIST_URL)

    assert response.status_code == 200
    assert names_on_page(response) == ["Siti Semenggu"]
    assert "Ani Wonosari" not in response.content.decode()


def test_dinas_reads_every_lkmms_members(dinas_client, lkmm, other_lkmm):
    mine = MemberFactory(lkmm=lkmm, full_name="Siti Semenggu")
    theirs = MemberFactory(lkmm=other_lkmm, full_name="Ani Wonosari")

    listing = dinas_client.get(LIST_URL)

    html = listing.content.decode()
    assert listing.status_code == 200
    assert names_on_page(listing) == ["Ani Wonosari", "Siti Semenggu"]
    assert "LKMM Wonosari" in html  # dinas gets the LKMM column
    assert CREATE_URL not in html  # and no register button
    assert reverse("members:duplicates") in html
    for member in (mine, theirs):
        detail = dinas_client.get(reverse("members:detail", args=[member.pk]))
        assert detail.status_code == 200
        assert detail.context["member"] == member
        assert "status_form" not in detail.context


def test_pengelola_sees_the_register_button_but_not_the_dinas_list(pengelola_client, lkmm):
    html = pengelola_client.get(LIST_URL).content.decode()

    assert f'href="{CREATE_URL}"' in html
    assert reverse("members:duplicates") not in html


# --- list filters --------------------------------------------------------------------------------


def make_group(lkmm, members, name):
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


def test_arrears_filter_shows_only_members_with_a_past_due_loan(pengelola_client, lkmm):
    today = timezone.localdate()
    late = MemberFactory(lkmm=lkmm, full_name="Ani Menunggak")
    current = MemberFactory(lkmm=lkmm, full_name="Budi Lancar")
    MemberFactory(lkmm=lkmm, full_name="Citra Tanpa Pinjaman")
    make_active_loan(member=late, disbursed_on=today - datetime.timedelta(days=30))
    make_active_loan(member=current, disbursed_on=today)

    everyone = pengelola_client.get(LIST_URL)
    filtered = pengelola_client.get(LIST_URL, {"arrears": "on"})

    assert names_on_page(everyone) == ["Ani Menunggak", "Budi Lancar", "Citra Tanpa Pinjaman"]
    assert {m.full_name: m.in_arrears for m in everyone.context["page"]} == {
        "Ani Menunggak": True,
        "Budi Lancar": False,
        "Citra Tanpa Pinjaman": False,
    }
    assert names_on_page(filtered) == ["Ani Menunggak"]
    assert "1 anggota" in filtered.content.decode()


def test_a_loan_due_today_is_not_yet_in_arrears(pengelola_client, lkmm):
    today = timezone.localdate()
    member = MemberFactory(lkmm=lkmm)
    make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=7))  # 1st due today

    response = pengelola_client.get(LIST_URL, {"arrears": "on"})

    assert names_on_page(response) == []


@pytest.fixture
def searchable(lkmm):
    """Siti (in group Mawar), Budi (phone 0813..., desa Sumbersari), Citra and Dewi (group Melati)."""
    siti = MemberFactory(lkmm=lkmm, full_name="Siti Aminah", nik="3509104501800001", phone="+6281234567890")
    budi = MemberFactory(
        lkmm=lkmm,
        full_name="Budi Santoso",
        nik="3509101203850002",
        gender="L",
        birth_date=datetime.date(1985, 3, 12),
        phone="+6281399887766",
        desa="Sumbersari",
    )
    citra = MemberFactory(lkmm=lkmm, full_name="Citra Lestari", nik="3512015507900003")
    dewi = MemberFactory(lkmm=lkmm, full_name="Dewi Sartika", nik="3512016008910004")
    rina = MemberFactory(lkmm=lkmm, full_name="Rina Wati", nik="3512016109920005")
    mawar = make_group(lkmm, [siti, citra, rina], "Mawar")
    eka = MemberFactory(lkmm=lkmm, full_name="Eka Putri", nik="3512014101930006")
    melati = make_group(lkmm, [dewi, budi, eka], "Melati")
    return {"mawar": mawar, "melati": melati}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("siti", ["Siti Aminah"]),
        ("SANTOSO", ["Budi Santoso"]),
        ("35091012", ["Budi Santoso"]),  # NIK prefix
        ("3509", ["Budi Santoso", "Siti Aminah"]),
        ("45018000", []),  # the middle of a NIK is not a prefix
        ("0812 3456", ["Siti Aminah"]),  # phone as people write it; stored as +62812...
        ("0813-9988", ["Budi Santoso"]),
        ("+62812", ["Siti Aminah"]),
        ("mawar", ["Citra Lestari", "Rina Wati", "Siti Aminah"]),  # group name
        ("Melati", ["Budi Santoso", "Dewi Sartika", "Eka Putri"]),
        ("sumbersari", ["Budi Santoso"]),  # desa
        ("", ["Budi Santoso", "Citra Lestari", "Dewi Sartika", "Eka Putri", "Rina Wati", "Siti Aminah"]),
    ],
)
def test_search_by_name_nik_prefix_phone_group_and_desa(pengelola_client, searchable, q, expected):
    response = pengelola_client.get(LIST_URL, {"q": q})

    assert response.status_code == 200
    assert names_on_page(response) == expected


def test_search_by_group_name_ignores_a_group_the_member_left(pengelola_client, lkmm, searchable):
    mawar = searchable["mawar"]
    MemberFactory(lkmm=lkmm, full_name="Fitri Baru")
    fitri = Member.objects.get(full_name="Fitri Baru")
    services.group_add_member(group=mawar, member=fitri, actor=None)
    rina = Member.objects.get(full_name="Rina Wati")
    services.group_remove_member(group=mawar, member=rina, actor=None, reason="Pindah kelompok")

    response = pengelola_client.get(LIST_URL, {"q": "mawar"})

    assert names_on_page(response) == ["Citra Lestari", "Fitri Baru", "Siti Aminah"]


def test_group_filter_and_group_column(pengelola_client, lkmm, other_lkmm, searchable):
    mawar = searchable["mawar"]
    theirs = make_group(other_lkmm, MemberFactory.create_batch(3, lkmm=other_lkmm), "Kenanga")

    response = pengelola_client.get(LIST_URL, {"group": mawar.pk})

    assert names_on_page(response) == ["Citra Lestari", "Rina Wati", "Siti Aminah"]
    assert {m.current_group_name for m in response.context["page"]} == {"Mawar"}
    html = response.content.decode()
    assert f'<a href="{reverse("members:group_detail", args=[mawar.pk])}">Mawar</a>' in html
    assert f'<option value="{mawar.pk}" selected>Mawar</option>' in html
    assert "Kenanga" not in html  # another LKMM's group is not offered
    assert theirs not in response.context["form"].fields["group"].queryset


def test_group_filter_combines_with_search_and_arrears(pengelola_client, lkmm, searchable):
    today = timezone.localdate()
    citra = Member.objects.get(full_name="Citra Lestari")
    make_active_loan(member=citra, disbursed_on=today - datetime.timedelta(days=30))
    make_active_loan(
        member=Member.objects.get(full_name="Dewi Sartika"), disbursed_on=today - datetime.timedelta(days=30)
    )

    response = pengelola_client.get(LIST_URL, {"group": searchable["mawar"].pk, "arrears": "on"})
    searched = pengelola_client.get(LIST_URL, {"group": searchable["mawar"].pk, "q": "siti"})

    assert names_on_page(response) == ["Citra Lestari"]
    assert names_on_page(searched) == ["Siti Aminah"]


@pytest.mark.parametrize("bad", [{"group": "999999"}, {"group": "abc"}, {"status": "bogus"}])
def test_an_invalid_filter_is_ignored_but_the_others_still_apply(pengelola_client, searchable, bad):
    response = pengelola_client.get(LIST_URL, {"q": "siti", **bad})

    assert response.status_code == 200
    assert names_on_page(response) == ["Siti Aminah"]


def test_dinas_group_filter_names_the_lkmm_of_each_group(dinas_client, lkmm, other_lkmm):
    make_group(lkmm, MemberFactory.create_batch(3, lkmm=lkmm), "Mawar")
    theirs = make_group(other_lkmm, MemberFactory.create_batch(3, lkmm=other_lkmm), "Mawar")

    response = dinas_client.get(LIST_URL, {"group": theirs.pk})

    html = response.content.decode()
    assert "Mawar · LKMM Semenggu</option>" in html
    assert f'<option value="{theirs.pk}" selected>Mawar · LKMM Wonosari</option>' in html
    assert response.context["page"].paginator.count == 3
    assert {m.lkmm for m in response.context["page"]} == {other_lkmm}


def test_status_filter(pengelola_client, lkmm):
    MemberFactory(lkmm=lkmm, full_name="Aktif Satu")
    MemberFactory(lkmm=lkmm, full_name="Keluar Dua", status="keluar")
    MemberFactory(lkmm=lkmm, full_name="Pendaftar Tiga", status="pendaftar")

    keluar = pengelola_client.get(LIST_URL, {"status": "keluar"})
    pendaftar = pengelola_client.get(LIST_URL, {"status": "pendaftar"})

    assert names_on_page(keluar) == ["Keluar Dua"]
    assert names_on_page(pendaftar) == ["Pendaftar Tiga"]


def test_list_paginates_by_25_and_keeps_the_filter_in_page_links(pengelola_client, lkmm):
    MemberFactory.create_batch(26, lkmm=lkmm)

    first = pengelola_client.get(LIST_URL, {"q": "Siti"})
    second = pengelola_client.get(LIST_URL, {"q": "Siti", "page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 1
    assert 'href="?q=Siti&amp;page=2"' in first.content.decode()


def test_a_member_in_a_group_is_listed_once_when_searching_by_group(pengelola_client, lkmm):
    members = MemberFactory.create_batch(3, lkmm=lkmm, full_name="Mawar Sejati")
    make_group(lkmm, members, "Mawar")

    response = pengelola_client.get(LIST_URL, {"q": "mawar"})

    assert response.context["page"].paginator.count == 3


# --- detail --------------------------------------------------------------------------------------


def test_member_page_shows_dates_as_dd_mm_yyyy_and_the_loans(pengelola_client, lkmm):
    member = MemberFactory(
        lkmm=lkmm,
        full_name="Siti Aminah",
        joined_on=datetime.date(2026, 1, 5),
        birth_date=datetime.date(1980, 1, 5),
        birth_place="Jember",
        business_started=datetime.date(2019, 6, 1),
        phone="+6281234567890",
    )
    loan = make_loan(member=member, applied_on=datetime.date(2026, 1, 5))

    response = pengelola_client.get(reverse("members:detail", args=[member.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<dd>05/01/2026</dd>" in html  # joined_on
    assert "<dd>Jember, 05/01/1980</dd>" in html  # birth date
    assert "<dd>01/06/2019</dd>" in html  # business started
    assert "+6281234567890" in html
    assert list(response.context["loans"]) == [loan]
    assert reverse("loans:detail", args=[loan.pk]) in html
    assert "Rp 1.200.000" in html
    assert reverse("loans:create", args=[member.pk]) in html  # pengelola may apply for a loan


def test_member_page_writes_the_address_without_empty_parts(pengelola_client, lkmm):
    bare = MemberFactory(lkmm=lkmm)
    full = MemberFactory(
        lkmm=lkmm,
        address="Jl. Mawar 3",
        rt="004",
        rw="002",
        dusun="Krajan",
        kecamatan="Sumbersari",
    )
    only_rw = MemberFactory(lkmm=lkmm, rw="002", kecamatan="Sumbersari")

    def address(member):
        html = pengelola_client.get(reverse("members:detail", args=[member.pk])).content.decode()
        return html.split("<dt>Alamat</dt><dd>")[1].split("</dd>")[0].strip()

    assert address(bare) == "Semenggu, Jember, Jawa Timur"
    assert (
        address(full) == "Jl. Mawar 3 RT 004/RW 002, Dusun Krajan, Semenggu, Sumbersari, Jember, Jawa Timur"
    )
    assert address(only_rw) == "RW 002, Semenggu, Sumbersari, Jember, Jawa Timur"


def test_member_page_shows_the_application_and_history_dates_as_dd_mm_yyyy(
    pengelola_client, pengelola, lkmm, referee, warung
):
    member = services.member_apply(
        lkmm=lkmm,
        actor=pengelola.user,
        application={"referee_member": referee, "business_plan": "Tambah stok", "requested_amount": 750_000},
        nik=VALID["nik"],
        full_name="Siti Aminah",
        gender="P",
        birth_date=datetime.date(1980, 1, 5),
        desa="Semenggu",
        business="Warung",
        business_type=warung,
        joined_on=datetime.date(2026, 1, 5),
    )
    today = timezone.localdate().strftime("%d/%m/%Y")

    response = pengelola_client.get(reverse("members:detail", args=[member.pk]))

    html = response.content.decode()
    assert f"<dd>{today} · pengelola.test</dd>" in html  # application submitted
    assert f'<a href="{reverse("members:detail", args=[referee.pk])}">Sri Penjamin</a>' in html
    assert "Rp 750.000" in html
    assert "menunggu" in html
    (change,) = response.context["status_changes"]
    assert f"{timezone.localtime(change.at):%d/%m/%Y %H:%M}: – → <strong>Pendaftar</strong>" in html


def test_member_page_shows_days_past_due(pengelola_client, lkmm):
    today = timezone.localdate()
    member = MemberFactory(lkmm=lkmm)
    make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=30))  # 1st due 23 days ago

    response = pengelola_client.get(reverse("members:detail", args=[member.pk]))

    (loan,) = response.context["loans"]
    assert loan.days_past_due == 23
    assert '<span class="badge bad">23</span>' in response.content.decode()


# --- query counts --------------------------------------------------------------------------------


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx), response


def _members_in_groups_with_loans(lkmm, n):
    """n members (a multiple of 3) in groups of three; every other one has a loan in arrears."""
    today = timezone.localdate()
    members = MemberFactory.create_batch(n, lkmm=lkmm)
    for start in range(0, n, 3):
        make_group(lkmm, members[start : start + 3], f"Kelompok {members[start].pk}")
    for member in members[1::2]:
        make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=30))
    return members


@pytest.mark.parametrize("params", [{}, {"arrears": "on", "q": "Siti"}, {"status": "aktif", "q": "kelompok"}])
def test_member_list_query_count_does_not_grow_with_members(
    pengelola_client, lkmm, django_assert_max_num_queries, params
):
    _members_in_groups_with_loans(lkmm, 3)
    baseline, _ = _queries(pengelola_client, LIST_URL, **params)
    _members_in_groups_with_loans(lkmm, 18)

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(LIST_URL, params)

    assert baseline <= 8
    expected = 21 if "arrears" not in params else 10  # 1 of the first 3, 9 of the next 18 are late
    assert response.context["page"].paginator.count == expected
    assert all(m.current_group_name for m in response.context["page"])


def test_dinas_member_list_query_count_does_not_grow(
    dinas_client, lkmm, other_lkmm, django_assert_max_num_queries
):
    _members_in_groups_with_loans(lkmm, 3)
    _members_in_groups_with_loans(other_lkmm, 3)
    baseline, _ = _queries(dinas_client, LIST_URL)
    _members_in_groups_with_loans(lkmm, 9)
    _members_in_groups_with_loans(other_lkmm, 9)

    with django_assert_max_num_queries(baseline):
        response = dinas_client.get(LIST_URL)

    assert baseline <= 8
    assert response.context["page"].paginator.count == 24


def test_member_detail_query_count_does_not_grow_with_rows(
    pengelola_client, pengelola, lkmm, referee, django_assert_max_num_queries
):
    today = timezone.localdate()
    member = MemberFactory(lkmm=lkmm, status=MemberStatus.PENDAFTAR, net_income_at_admission=500_000)
    MembershipApplication.objects.create(
        member=member,
        referee_member=referee,
        business_plan="Warung",
        requested_amount=500_000,
        submitted_by=pengelola.user,
    )
    ketua = StaffFactory(lkmm=lkmm, ketua=True).user
    member = services.member_transition(member=member, to=MemberStatus.AKTIF, actor=ketua)
    make_group(lkmm, [member, *MemberFactory.create_batch(2, lkmm=lkmm)], "Mawar")
    make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=30))
    services.income_record(
        member=member, actor=pengelola.user, recorded_on=today, turnover=2_000_000, net_income=600_000
    )
    url = reverse("members:detail", args=[member.pk])
    baseline, _ = _queries(pengelola_client, url)

    for _ in range(3):
        make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=10))
    make_loan(member=member, applied_on=today)
    for net in (650_000, 700_000):
        services.income_record(
            member=member, actor=ketua, recorded_on=today, turnover=2_000_000, net_income=net
        )
    services.member_transition(member=member, to=MemberStatus.DIBLOKIR, actor=ketua, reason="Menunggak")
    services.member_transition(member=member, to=MemberStatus.AKTIF, actor=ketua, reason="Sudah lancar")

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(url)

    # 11 before savings, one for the member's savings accounts and one for the wajib owed.
    assert baseline <= 13
    assert len(response.context["loans"]) == 5
    assert len(response.context["income"]["records"]) == 3
    assert len(response.context["status_changes"]) == 3


def test_two_staff_of_different_lkmms_see_their_own_members(lkmm, other_lkmm):
    mine = MemberFactory(lkmm=lkmm, full_name="Siti Semenggu")
    theirs = MemberFactory(lkmm=other_lkmm, full_name="Ani Wonosari")
    wonosari_staff = StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm)
    client = Client()
    login(client, wonosari_staff)

    assert names_on_page(client.get(LIST_URL)) == ["Ani Wonosari"]
    assert client.get(reverse("members:detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("members:detail", args=[mine.pk])).status_code == 404
