"""Member pages: list (filters, scoping, query count), detail, registration (validation, roles)."""

import datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from institutions.models import AuditLog
from members.models import Member
from tests.factories import PASSWORD, MemberFactory, StaffFactory, make_active_loan, make_loan

LIST_URL = reverse("members:list")
CREATE_URL = reverse("members:create")

# A woman born 05/01/1980 in Jember (day 05 + 40 = 45); kecamatan 11, outside the factory's NIK range.
VALID = {
    "full_name": "Siti Aminah",
    "nik": "3509114501800001",
    "gender": "P",
    "birth_place": "Jember",
    "birth_date": "1980-01-05",
    "phone": "0812 3456 7890",
    "business": "Warung kelontong",
    "address": "Jl. Mawar 3",
    "rt": "004",
    "rw": "002",
    "dusun": "Krajan",
    "desa": "Semenggu",
    "joined_on": "2026-01-05",
}


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


# --- registration: happy path --------------------------------------------------------------------


def test_pengelola_registers_a_member(pengelola_client, pengelola, lkmm):
    response = pengelola_client.post(CREATE_URL, VALID)

    member = Member.objects.get(lkmm=lkmm, nik=VALID["nik"])
    assert response.status_code == 302
    assert response["Location"] == reverse("members:detail", args=[member.pk])
    member.refresh_from_db()
    assert member.number == 1
    assert member.code == "A-0001"
    assert member.phone == "+6281234567890"
    assert member.status == "aktif"
    assert member.birth_date == datetime.date(1980, 1, 5)
    assert member.joined_on == datetime.date(2026, 1, 5)
    assert member.created_by == pengelola.user
    audit = AuditLog.objects.get(action="member.register")
    assert (audit.object_type, audit.object_id, audit.lkmm, audit.actor) == (
        "members.member",
        member.pk,
        lkmm,
        pengelola.user,
    )


def test_success_message_names_the_member_code(pengelola_client, lkmm):
    response = pengelola_client.post(CREATE_URL, VALID, follow=True)

    assert response.status_code == 200
    assert "Anggota Siti Aminah terdaftar sebagai A-0001." in response.content.decode()


def test_ketua_may_register_too_and_numbers_follow_on_per_lkmm(ketua_client, lkmm, other_lkmm):
    MemberFactory(lkmm=lkmm, number=7)
    MemberFactory(lkmm=other_lkmm, number=40)

    response = ketua_client.post(CREATE_URL, VALID)

    assert response.status_code == 302
    assert Member.objects.get(lkmm=lkmm, nik=VALID["nik"]).number == 8


def test_same_nik_may_join_another_lkmm(pengelola_client, lkmm, other_lkmm):
    MemberFactory(lkmm=other_lkmm, nik=VALID["nik"])

    response = pengelola_client.post(CREATE_URL, VALID)

    assert response.status_code == 302
    assert Member.objects.filter(nik=VALID["nik"]).count() == 2


def test_registration_form_is_prefilled_with_today_and_the_lkmm_desa(pengelola_client, lkmm):
    response = pengelola_client.get(CREATE_URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form["joined_on"].value() == timezone.localdate()
    assert form["desa"].value() == "Semenggu"


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
        (
            {"phone": "0812-ABC"},
            "phone",
            "Nomor telepon hanya boleh berisi angka, spasi, titik, tanda hubung dan +.",
        ),
        ({"phone": "12345"}, "phone", "Nomor telepon tidak dikenal; tulis seperti 0812 3456 7890."),
        ({"rt": "4"}, "rt", "Tulis 3 angka, misalnya 004."),
        ({"full_name": ""}, "full_name", "Bidang ini tidak boleh kosong."),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    pengelola_client, lkmm, changes, field, message
):
    response = pengelola_client.post(CREATE_URL, {**VALID, **changes})

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    if field != "gender":  # the radio group nests its own <div>s; the form error check above covers it
        assert error_next_to(response.content.decode(), field, message)
    assert Member.objects.count() == 0
    assert not AuditLog.objects.filter(action="member.register").exists()


def test_same_nik_twice_in_one_lkmm_is_refused(pengelola_client, lkmm):
    MemberFactory(lkmm=lkmm, nik=VALID["nik"])

    response = pengelola_client.post(CREATE_URL, {**VALID, "nik": "3509 1145 0180 0001"})

    assert response.status_code == 200
    message = "NIK ini sudah terdaftar sebagai anggota LKMM ini."
    assert response.context["form"].errors["nik"] == [message]
    assert error_next_to(response.content.decode(), "nik", message)
    assert Member.objects.filter(lkmm=lkmm).count() == 1


@pytest.mark.parametrize("typed", ["3509 1145 0180 0001", " 3509114501800001 "])
def test_nik_typed_in_groups_of_four_is_stored_as_16_digits(pengelola_client, lkmm, typed):
    response = pengelola_client.post(CREATE_URL, {**VALID, "nik": typed})

    assert response.status_code == 302
    assert Member.objects.get(lkmm=lkmm).nik == "3509114501800001"


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_dinas_may_not_register(dinas_client, lkmm, method):
    response = getattr(dinas_client, method)(CREATE_URL, VALID if method == "post" else None)

    assert response.status_code == 403
    assert Member.objects.count() == 0


@pytest.mark.parametrize("name", ["list", "create", "detail"])
def test_anonymous_is_sent_to_the_login_page(client, lkmm, name):
    member = MemberFactory(lkmm=lkmm)
    url = reverse(f"members:{name}", args=[member.pk] if name == "detail" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == login_url(url)


def test_anonymous_post_records_nothing(client, lkmm):
    response = client.post(CREATE_URL, VALID)

    assert response.status_code == 302
    assert response["Location"] == login_url(CREATE_URL)
    assert Member.objects.count() == 0


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

    assert listing.status_code == 200
    assert names_on_page(listing) == ["Ani Wonosari", "Siti Semenggu"]
    assert "LKMM Wonosari" in listing.content.decode()  # dinas gets the LKMM column
    assert "Daftarkan anggota" not in listing.content.decode()  # and no register button
    for member in (mine, theirs):
        detail = dinas_client.get(reverse("members:detail", args=[member.pk]))
        assert detail.status_code == 200
        assert detail.context["member"] == member


# --- list filters --------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("siti", ["Siti Aminah"]),
        ("SANTOSO", ["Budi Santoso"]),
        ("35091012", ["Budi Santoso"]),  # NIK prefix
        ("3509", ["Budi Santoso", "Siti Aminah"]),
        ("45018000", []),  # the middle of a NIK is not a prefix
        ("", ["Budi Santoso", "Siti Aminah"]),
    ],
)
def test_search_by_name_and_nik_prefix(pengelola_client, lkmm, q, expected):
    MemberFactory(lkmm=lkmm, full_name="Siti Aminah", nik="3509104501800001")
    MemberFactory(
        lkmm=lkmm,
        full_name="Budi Santoso",
        nik="3509101203850002",
        gender="L",
        birth_date=datetime.date(1985, 3, 12),
    )

    response = pengelola_client.get(LIST_URL, {"q": q})

    assert response.status_code == 200
    assert names_on_page(response) == expected


def test_status_filter(pengelola_client, lkmm):
    MemberFactory(lkmm=lkmm, full_name="Aktif Satu")
    MemberFactory(lkmm=lkmm, full_name="Keluar Dua", status="keluar")

    response = pengelola_client.get(LIST_URL, {"status": "keluar"})

    assert names_on_page(response) == ["Keluar Dua"]


def test_list_paginates_by_25_and_keeps_the_filter_in_page_links(pengelola_client, lkmm):
    MemberFactory.create_batch(26, lkmm=lkmm)

    first = pengelola_client.get(LIST_URL, {"q": "Siti"})
    second = pengelola_client.get(LIST_URL, {"q": "Siti", "page": 2})

    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 1
    assert 'href="?q=Siti&amp;page=2"' in first.content.decode()


# --- detail --------------------------------------------------------------------------------------


def test_member_page_shows_dates_as_dd_mm_yyyy_and_the_loans(pengelola_client, lkmm):
    member = MemberFactory(
        lkmm=lkmm,
        full_name="Siti Aminah",
        joined_on=datetime.date(2026, 1, 5),
        birth_date=datetime.date(1980, 1, 5),
        phone="+6281234567890",
    )
    loan = make_loan(member=member)

    response = pengelola_client.get(reverse("members:detail", args=[member.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<dd>05/01/2026</dd>" in html  # joined_on
    assert "05/01/1980" in html  # birth date
    assert "+6281234567890" in html
    assert list(response.context["loans"]) == [loan]
    assert reverse("loans:detail", args=[loan.pk]) in html
    assert "Rp 1.200.000" in html
    assert reverse("loans:create", args=[member.pk]) in html  # pengelola may apply for a loan


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


def _members_with_loans(lkmm, n):
    today = timezone.localdate()
    for i in range(n):
        member = MemberFactory(lkmm=lkmm)
        if i % 2:
            make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=30))


@pytest.mark.parametrize("params", [{}, {"arrears": "on", "q": "Siti"}])
def test_member_list_query_count_does_not_grow_with_members(
    pengelola_client, lkmm, django_assert_max_num_queries, params
):
    _members_with_loans(lkmm, 3)
    baseline, _ = _queries(pengelola_client, LIST_URL, **params)
    _members_with_loans(lkmm, 12)

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(LIST_URL, params)

    assert baseline <= 6
    expected = 15 if not params else 7  # 7 of the 15 have a loan in arrears
    assert response.context["page"].paginator.count == expected


def test_dinas_member_list_query_count_does_not_grow(
    dinas_client, lkmm, other_lkmm, django_assert_max_num_queries
):
    _members_with_loans(lkmm, 2)
    _members_with_loans(other_lkmm, 2)
    baseline, _ = _queries(dinas_client, LIST_URL)
    _members_with_loans(lkmm, 6)
    _members_with_loans(other_lkmm, 6)

    with django_assert_max_num_queries(baseline):
        response = dinas_client.get(LIST_URL)

    assert baseline <= 6
    assert response.context["page"].paginator.count == 16


def test_member_detail_query_count_does_not_grow_with_loans(
    pengelola_client, lkmm, django_assert_max_num_queries
):
    today = timezone.localdate()
    member = MemberFactory(lkmm=lkmm)
    make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=30))
    url = reverse("members:detail", args=[member.pk])
    baseline, _ = _queries(pengelola_client, url)
    for _ in range(3):
        make_active_loan(member=member, disbursed_on=today - datetime.timedelta(days=10))
    make_loan(member=member, applied_on=today)

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(url)

    assert baseline <= 6
    assert len(response.context["loans"]) == 5


def test_two_staff_of_different_lkmms_see_their_own_members(lkmm, other_lkmm):
    mine = MemberFactory(lkmm=lkmm, full_name="Siti Semenggu")
    theirs = MemberFactory(lkmm=other_lkmm, full_name="Ani Wonosari")
    wonosari_staff = StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm)
    client = Client()
    assert client.login(username=wonosari_staff.user.username, password=PASSWORD)

    assert names_on_page(client.get(LIST_URL)) == ["Ani Wonosari"]
    assert client.get(reverse("members:detail", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("members:detail", args=[mine.pk])).status_code == 404
