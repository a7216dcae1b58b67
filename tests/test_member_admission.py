"""Admission on trust through the pages: the NIK warning across LKMMs, the application queue, the
ketua's decision (four eyes), status changes, a new application, income follow-ups, photos, the
Dinas list of people in several LKMMs, and who may post to each recording view."""

import datetime
import io
import re
from itertools import count

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from institutions.models import AuditLog
from members import services
from members.models import (
    BusinessType,
    IncomeRecord,
    Member,
    MembershipApplication,
    MemberStatus,
    MemberStatusChange,
)
from tests.factories import MemberFactory, StaffFactory, login, make_active_loan, make_loan

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("members:create")
QUEUE_URL = reverse("members:applications")
DUPLICATES_URL = reverse("members:duplicates")
NIK = "3509114501800001"  # a woman born 05/01/1980; outside the factory's NIK range
_serial = count(2)


def url(name, member):
    return reverse(f"members:{name}", args=[member.pk])


def client_for(staff):
    client = Client()
    login(client, staff)
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def error_next_to(html, field, message):
    start = html.index(f'name="{field}"')
    end = html.find('<div class="field', start)
    chunk = html[start:] if end == -1 else html[start:end]
    return f'<p class="error" role="alert">{escape(message)}</p>' in chunk


@pytest.fixture
def referee(lkmm):
    return MemberFactory(lkmm=lkmm, number=1, full_name="Sri Penjamin")


def apply(lkmm, actor, referee, *, name="Siti Pendaftar", nik=None, **fields):
    """An applicant recorded through the service, as the registration page does."""
    return services.member_apply(
        lkmm=lkmm,
        actor=actor,
        application={"referee_member": referee, "business_plan": "Tambah stok", "requested_amount": 500_000},
        nik=nik or f"350911450180{next(_serial):04d}",
        full_name=name,
        gender="P",
        birth_date=datetime.date(1980, 1, 5),
        desa="Semenggu",
        business="Warung",
        business_type=BusinessType.objects.get(name="Warung"),
        joined_on=datetime.date(2026, 1, 5),
        **fields,
    )


def form_data(referee, **changes):
    data = {
        "full_name": "Siti Aminah",
        "nik": NIK,
        "gender": "P",
        "birth_date": "1980-01-05",
        "phone": "0812 3456 7890",
        "provinsi": "Jawa Timur",
        "kabupaten": "Jember",
        "kecamatan": "Sumbersari",
        "desa": "Semenggu",
        "business_type": str(BusinessType.objects.get(name="Warung").pk),
        "business": "Warung kelontong",
        "referee": f"m:{referee.pk}",
        "business_plan": "Menambah stok.",
        "requested_amount": "1.000.000",
        "joined_on": "2026-01-05",
    }
    return {**data, **changes}


# --- the NIK in another LKMM ---------------------------------------------------------------------


@pytest.fixture
def elsewhere(other_lkmm):
    """The same person, already a member of LKMM Wonosari."""
    return MemberFactory(lkmm=other_lkmm, nik=NIK, full_name="Siti Wonosari", phone="+6285711112222")


CONFIRM = "Baca peringatan NIK di atas, lalu centang untuk melanjutkan."


@pytest.mark.parametrize("typed", [NIK, "3509 1145 0180 0001"])
def test_a_nik_in_another_lkmm_in_arrears_is_warned_and_needs_the_checkbox(
    pengelola_client, lkmm, referee, elsewhere, typed
):
    make_active_loan(member=elsewhere, disbursed_on=timezone.localdate() - datetime.timedelta(days=30))

    response = pengelola_client.post(CREATE_URL, form_data(referee, nik=typed))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Perhatian: NIK ini sudah menjadi anggota LKMM lain." in html
    assert '<li>LKMM Wonosari: <strong class="bad">sedang menunggak</strong></li>' in html
    assert response.context["form"].errors["confirm_elsewhere"] == [CONFIRM]
    assert error_next_to(html, "confirm_elsewhere", CONFIRM)
    # Only what trust needs: not the other LKMM's member data.
    assert "Siti Wonosari" not in html and "2222" not in html
    assert not Member.objects.filter(lkmm=lkmm, nik=NIK).exists()
    assert not MembershipApplication.objects.exists()
    assert not AuditLog.objects.filter(action="member.apply").exists()


def test_with_the_checkbox_the_applicant_is_saved(pengelola_client, lkmm, referee, elsewhere):
    response = pengelola_client.post(CREATE_URL, form_data(referee, confirm_elsewhere="on"))

    assert response.status_code == 302
    member = Member.objects.get(lkmm=lkmm, nik=NIK)
    assert member.status == MemberStatus.PENDAFTAR
    assert Member.objects.filter(nik=NIK).count() == 2
    assert MembershipApplication.objects.get().member == member


def test_a_nik_in_another_lkmm_not_in_arrears_says_so(pengelola_client, referee, elsewhere):
    make_active_loan(member=elsewhere, disbursed_on=timezone.localdate())  # first installment not yet due

    response = pengelola_client.post(CREATE_URL, form_data(referee))

    html = response.content.decode()
    assert "<li>LKMM Wonosari: tidak menunggak</li>" in html
    assert "sedang menunggak" not in html
    assert "confirm_elsewhere" in response.context["form"].fields


def test_no_warning_when_the_nik_is_nowhere_else(pengelola_client, referee, other_lkmm):
    MemberFactory(lkmm=other_lkmm)

    response = pengelola_client.post(CREATE_URL, form_data(referee, full_name=""))

    assert response.status_code == 200
    assert "LKMM lain" not in response.content.decode()
    assert "confirm_elsewhere" not in response.context["form"].fields


def test_the_other_lkmm_sees_the_warning_too(client, lkmm, other_lkmm):
    """A second LKMM's manager registering a NIK that is already a member here."""
    MemberFactory(lkmm=lkmm, nik=NIK, full_name="Siti Semenggu")
    wonosari = StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm)
    their_referee = MemberFactory(lkmm=other_lkmm, number=1)
    client = client_for(wonosari)

    refused = client.post(CREATE_URL, form_data(their_referee, desa="Wonosari"))
    saved = client.post(CREATE_URL, form_data(their_referee, desa="Wonosari", confirm_elsewhere="on"))

    assert "<li>LKMM Semenggu: tidak menunggak</li>" in refused.content.decode()
    assert saved.status_code == 302
    assert set(Member.objects.filter(nik=NIK).values_list("lkmm__name", flat=True)) == {
        "LKMM Semenggu",
        "LKMM Wonosari",
    }


def test_same_nik_twice_in_one_lkmm_is_refused_by_the_form_and_by_the_database(
    pengelola_client, lkmm, referee
):
    existing = MemberFactory(lkmm=lkmm, nik=NIK)

    response = pengelola_client.post(CREATE_URL, form_data(referee))

    assert response.context["form"].errors["nik"] == ["NIK ini sudah terdaftar sebagai anggota LKMM ini."]
    assert "LKMM lain" not in response.content.decode()  # the own LKMM is not "another LKMM"
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(
            lkmm=lkmm,
            number=existing.number + 1,
            nik=NIK,
            full_name="Siti Kembar",
            gender="P",
            birth_date=datetime.date(1980, 1, 5),
            desa="Semenggu",
            business="Warung",
            joined_on=datetime.date(2026, 1, 5),
        )
    assert Member.objects.filter(lkmm=lkmm, nik=NIK).count() == 1


# --- the application queue -----------------------------------------------------------------------


@pytest.fixture
def queue(lkmm, other_lkmm, pengelola, referee):
    """Two pending applicants here, one already decided; one pending applicant in Wonosari."""
    first = apply(lkmm, pengelola.user, referee, name="Ani Pendaftar")
    second = apply(lkmm, pengelola.user, referee, name="Budi Pendaftar")
    decided = apply(lkmm, pengelola.user, referee, name="Citra Diterima")
    ketua = StaffFactory(lkmm=lkmm, ketua=True).user
    services.member_transition(member=decided, to=MemberStatus.AKTIF, actor=ketua)
    wonosari = StaffFactory(lkmm=other_lkmm).user
    theirs = apply(other_lkmm, wonosari, MemberFactory(lkmm=other_lkmm), name="Wati Wonosari")
    return {"first": first, "second": second, "decided": decided, "theirs": theirs}


def queue_names(response):
    return [a.member.full_name for a in response.context["applications"]]


def test_queue_shows_only_pending_applications_of_the_own_lkmm(pengelola_client, queue):
    response = pengelola_client.get(QUEUE_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert queue_names(response) == ["Ani Pendaftar", "Budi Pendaftar"]
    assert "Citra Diterima" not in html and "Wati Wonosari" not in html
    assert "Sri Penjamin (anggota)" in html
    assert "Rp 500.000" in html and "Tambah stok" in html
    assert url("decide", queue["first"]) not in html  # the pengelola does not decide


def test_ketua_sees_a_decision_form_for_each_application(ketua_client, queue):
    html = ketua_client.get(QUEUE_URL).content.decode()

    for applicant in (queue["first"], queue["second"]):
        assert f'action="{url("decide", applicant)}"' in html
    assert html.count('name="decision"') == 4  # setujui and tolak, twice
    # Each card's labels point at its own radios: no id twice on the page.
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert f'id="id_{queue["second"].applications.get().pk}_decision_0"' in html
    assert url("decide", queue["theirs"]) not in html


def test_dinas_sees_every_lkmms_queue_without_decision_forms(dinas_client, queue):
    response = dinas_client.get(QUEUE_URL)

    html = response.content.decode()
    assert queue_names(response) == ["Ani Pendaftar", "Budi Pendaftar", "Wati Wonosari"]
    assert "LKMM Wonosari" in html and "LKMM Semenggu" in html
    assert 'name="decision"' not in html
    assert CREATE_URL not in html


def test_empty_queue_says_so(pengelola_client, lkmm):
    response = pengelola_client.get(QUEUE_URL)

    assert "Tidak ada permohonan yang menunggu keputusan." in response.content.decode()


def test_queue_query_count_does_not_grow(
    ketua_client, lkmm, pengelola, referee, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    apply(lkmm, pengelola.user, referee)
    with CaptureQueriesContext(connection) as ctx:
        ketua_client.get(QUEUE_URL)
    for _ in range(5):
        apply(lkmm, pengelola.user, referee)

    with django_assert_max_num_queries(len(ctx)):
        response = ketua_client.get(QUEUE_URL)

    assert len(response.context["applications"]) == 6


# --- the ketua's decision ------------------------------------------------------------------------


@pytest.fixture
def applicant(lkmm, pengelola, referee):
    return apply(lkmm, pengelola.user, referee, name="Siti Pendaftar")


def test_ketua_approves_on_the_member_page(ketua_client, ketua, applicant):
    page = ketua_client.get(url("detail", applicant))
    assert "decision_form" in page.context

    response = ketua_client.post(url("decide", applicant), {"decision": "aktif"}, follow=True)

    assert response.redirect_chain == [(url("detail", applicant), 302)]
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.AKTIF
    application = applicant.applications.get()
    assert (application.decision, application.decided_by) == ("approved", ketua.user)
    assert application.decided_at is not None
    change = MemberStatusChange.objects.filter(member=applicant).last()
    assert (change.from_status, change.to_status, change.by) == ("pendaftar", "aktif", ketua.user)
    assert AuditLog.objects.filter(action="member.aktif", object_id=applicant.pk).exists()
    html = response.content.decode()
    assert "Siti Pendaftar diterima sebagai anggota." in messages_of(response)
    assert "Pendaftar → <strong>Aktif</strong> (ketua.test)" in html
    assert "<strong>Disetujui</strong>" in html
    assert "decision_form" not in response.context
    assert reverse("loans:create", args=[applicant.pk]) in html  # now a loan may be applied for


def test_ketua_rejects_from_the_queue_with_a_reason(ketua_client, ketua, applicant):
    response = ketua_client.post(
        url("decide", applicant),
        {"decision": "ditolak", "reason": "Usaha belum berjalan.", "next": "queue"},
        follow=True,
    )

    assert response.redirect_chain == [(QUEUE_URL, 302)]
    assert "Permohonan Siti Pendaftar ditolak." in messages_of(response)
    assert queue_names(response) == []
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.DITOLAK
    application = applicant.applications.get()
    assert (application.decision, application.decided_by) == ("rejected", ketua.user)
    assert application.decision_reason == "Usaha belum berjalan."
    html = ketua_client.get(url("detail", applicant)).content.decode()
    assert "Pendaftar → <strong>Ditolak</strong> (ketua.test): Usaha belum berjalan." in html
    assert "<strong>Ditolak</strong>" in html


@pytest.mark.parametrize("data", [{"decision": "ditolak", "reason": "  "}, {"decision": "ditolak"}])
def test_reject_without_a_reason_is_refused_and_changes_nothing(ketua_client, applicant, data):
    response = ketua_client.post(url("decide", applicant), data, follow=True)

    assert "Tulis alasannya." in messages_of(response)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR
    assert applicant.applications.get().decision == ""
    assert MemberStatusChange.objects.filter(member=applicant).count() == 1
    assert not AuditLog.objects.filter(action="member.ditolak").exists()


def test_decision_without_a_choice_is_refused(ketua_client, applicant):
    response = ketua_client.post(url("decide", applicant), {"reason": "?"}, follow=True)

    assert "Pilih setujui atau tolak." in messages_of(response)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR


def test_a_decided_application_cannot_be_decided_again(ketua_client, applicant):
    ketua_client.post(url("decide", applicant), {"decision": "aktif"})

    response = ketua_client.post(
        url("decide", applicant), {"decision": "ditolak", "reason": "x"}, follow=True
    )

    assert "Status anggota tidak dapat diubah dari Aktif menjadi Ditolak." in messages_of(response)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.AKTIF


def test_pengelola_may_not_decide(pengelola_client, applicant):
    response = pengelola_client.post(url("decide", applicant), {"decision": "aktif"})

    assert response.status_code == 403
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR


def test_pengelola_may_not_approve_through_the_status_page(pengelola_client, applicant):
    response = pengelola_client.post(url("status", applicant), {"to": "aktif", "reason": "langsung"})

    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR
    assert "status_form" not in pengelola_client.get(url("detail", applicant)).context


def test_another_lkmms_ketua_gets_404(lkmm, other_lkmm, applicant):
    their_ketua = client_for(StaffFactory(user__username="ketua.wonosari", lkmm=other_lkmm, ketua=True))

    response = their_ketua.post(url("decide", applicant), {"decision": "aktif"})

    assert response.status_code == 404
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR


def test_four_eyes_the_ketua_who_recorded_it_cannot_approve_it(ketua_client, ketua, lkmm, referee):
    lkmm.four_eyes = True
    lkmm.save()
    own = apply(lkmm, ketua.user, referee, name="Dicatat Ketua")
    other = apply(lkmm, StaffFactory(lkmm=lkmm).user, referee, name="Dicatat Pengelola")
    note = (
        "LKMM ini memakai prinsip empat mata: Anda mencatat permohonan ini, jadi penyetuju lain yang "
        "memutuskannya."
    )

    # The pages do not offer the decision to the ketua who recorded it, only the other one.
    page = ketua_client.get(url("detail", own))
    assert "decision_form" not in page.context
    assert page.context["deciders"] == []  # nobody else may decide yet: no second approver
    queue_page = ketua_client.get(QUEUE_URL).content.decode()
    assert f'action="{url("decide", own)}"' not in queue_page
    assert f'action="{url("decide", other)}"' in queue_page
    assert queue_page.count(note) == 1

    # Posting anyway is refused by the service.
    response = ketua_client.post(url("decide", own), {"decision": "aktif", "next": "queue"}, follow=True)

    assert (
        "LKMM ini memakai prinsip empat mata: permohonan anggota diputuskan oleh penyetuju lain daripada "
        "yang mencatat atau mengajukannya." in messages_of(response)
    )
    assert queue_names(response) == ["Dicatat Ketua", "Dicatat Pengelola"]
    own.refresh_from_db()
    assert own.status == MemberStatus.PENDAFTAR
    assert own.applications.get().decision == ""

    second_ketua = client_for(StaffFactory(user__username="ketua.kedua", lkmm=lkmm, ketua=True))
    assert "decision_form" in second_ketua.get(url("detail", own)).context
    second_ketua.post(url("decide", own), {"decision": "aktif"})
    own.refresh_from_db()
    assert own.status == MemberStatus.AKTIF
    assert own.applications.get().decided_by.username == "ketua.kedua"


def test_without_four_eyes_the_recording_ketua_may_approve(ketua_client, ketua, lkmm, referee):
    own = apply(lkmm, ketua.user, referee)

    ketua_client.post(url("decide", own), {"decision": "aktif"})

    own.refresh_from_db()
    assert own.status == MemberStatus.AKTIF


# --- status changes ------------------------------------------------------------------------------


@pytest.fixture
def member(lkmm):
    return MemberFactory(lkmm=lkmm, full_name="Siti Anggota")


def test_leaving_with_an_active_loan_is_refused_with_the_reason(pengelola_client, member):
    make_active_loan(member=member)

    response = pengelola_client.post(url("status", member), {"to": "keluar", "reason": "Pindah"}, follow=True)

    assert response.redirect_chain == [(url("detail", member), 302)]
    assert (
        "Anggota masih punya pinjaman yang berjalan atau diajukan; lunasi atau batalkan dulu."
        in messages_of(response)
    )
    member.refresh_from_db()
    assert member.status == MemberStatus.AKTIF
    assert not MemberStatusChange.objects.filter(member=member).exists()


def test_leaving_with_an_applied_loan_is_refused_too(pengelola_client, member):
    make_loan(member=member)

    pengelola_client.post(url("status", member), {"to": "keluar", "reason": "Pindah"})

    member.refresh_from_db()
    assert member.status == MemberStatus.AKTIF


def test_leaving_without_loans_is_recorded(pengelola_client, pengelola, member):
    response = pengelola_client.post(
        url("status", member), {"to": "keluar", "reason": "Pindah desa"}, follow=True
    )

    assert "Status Siti Anggota diubah." in messages_of(response)
    member.refresh_from_db()
    assert member.status == MemberStatus.KELUAR
    change = MemberStatusChange.objects.get(member=member)
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        "aktif",
        "keluar",
        "Pindah desa",
        pengelola.user,
    )
    assert "Aktif → <strong>Keluar</strong> (pengelola.test): Pindah desa" in response.content.decode()


def test_blocking_needs_a_reason_and_ends_the_group_membership(pengelola_client, lkmm, member):
    others = MemberFactory.create_batch(3, lkmm=lkmm)
    group = services.group_create(
        lkmm=lkmm,
        actor=None,
        name="Mawar",
        meeting_day=0,
        meeting_place="Balai",
        joint_liability=True,
        members=[*others, member],
        leader=others[0],
    )

    refused = pengelola_client.post(url("status", member), {"to": "diblokir", "reason": ""}, follow=True)
    member.refresh_from_db()
    assert member.status == MemberStatus.AKTIF
    assert "Bidang ini tidak boleh kosong." in messages_of(refused)

    pengelola_client.post(url("status", member), {"to": "diblokir", "reason": "Tidak hadir 3 bulan"})

    member.refresh_from_db()
    assert member.status == MemberStatus.DIBLOKIR
    assert MemberStatusChange.objects.get(member=member).reason == "Tidak hadir 3 bulan"
    assert not group.memberships.filter(member=member, left_on__isnull=True).exists()


def test_unblocking_is_for_the_ketua(pengelola_client, ketua, lkmm):
    blocked = MemberFactory(lkmm=lkmm, status=MemberStatus.DIBLOKIR, full_name="Siti Diblokir")

    refused = pengelola_client.post(
        url("status", blocked), {"to": "aktif", "reason": "Sudah baik"}, follow=True
    )

    assert (
        "Hanya ketua atau penyetuju LKMM ini yang dapat memutuskan pembukaan blokir anggota."
        in messages_of(refused)
    )
    blocked.refresh_from_db()
    assert blocked.status == MemberStatus.DIBLOKIR

    ketua_client = client_for(ketua)
    page = ketua_client.get(url("detail", blocked))
    assert page.context["status_form"].fields["to"].choices == [("aktif", "Aktif")]
    ketua_client.post(url("status", blocked), {"to": "aktif", "reason": "Sudah baik"})

    blocked.refresh_from_db()
    assert blocked.status == MemberStatus.AKTIF
    assert MemberStatusChange.objects.get(member=blocked).by == ketua.user


def test_a_status_the_machine_does_not_allow_is_refused(pengelola_client, lkmm):
    refused = MemberFactory(lkmm=lkmm, status=MemberStatus.DITOLAK)

    response = pengelola_client.post(url("status", refused), {"to": "keluar", "reason": "x"}, follow=True)

    assert any("keluar" in message for message in messages_of(response))
    refused.refresh_from_db()
    assert refused.status == MemberStatus.DITOLAK


# --- a new application ---------------------------------------------------------------------------


def test_reapply_after_a_rejection(pengelola_client, pengelola, ketua, lkmm, referee, applicant):
    services.member_transition(
        member=applicant, to=MemberStatus.DITOLAK, actor=ketua.user, reason="Belum siap"
    )
    page = pengelola_client.get(url("detail", applicant))
    assert url("reapply", applicant) in page.content.decode()
    form = pengelola_client.get(url("reapply", applicant))
    assert f'value="m:{applicant.pk}"' not in form.content.decode()  # nobody vouches for themselves

    response = pengelola_client.post(
        url("reapply", applicant),
        {
            "referee": f"m:{referee.pk}",
            "business_plan": "Usaha sudah jalan 6 bulan.",
            "requested_amount": "750.000",
        },
        follow=True,
    )

    assert response.redirect_chain == [(url("detail", applicant), 302)]
    assert "Permohonan baru Siti Pendaftar dicatat." in messages_of(response)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.PENDAFTAR
    old, new = applicant.applications.order_by("submitted_at", "id")
    assert (old.decision, new.decision) == ("rejected", "")
    assert (new.requested_amount, new.submitted_by) == (750_000, pengelola.user)
    assert [a.member for a in MembershipApplication.objects.pending()] == [applicant]
    assert list(
        MemberStatusChange.objects.filter(member=applicant).values_list("from_status", "to_status")
    ) == [("", "pendaftar"), ("pendaftar", "ditolak"), ("ditolak", "pendaftar")]


def test_reapply_needs_a_referee_and_a_plan(pengelola_client, ketua, applicant):
    services.member_transition(member=applicant, to=MemberStatus.DITOLAK, actor=ketua.user, reason="x")

    response = pengelola_client.post(url("reapply", applicant), {"requested_amount": "750.000"})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"referee", "business_plan"}
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.DITOLAK


def test_an_active_member_cannot_reapply(pengelola_client, member):
    response = pengelola_client.get(url("reapply", member), follow=True)

    assert response.redirect_chain == [(url("detail", member), 302)]
    assert (
        "Hanya pendaftar yang ditolak atau anggota yang sudah keluar dapat mendaftar ulang."
        in messages_of(response)
    )


# --- income follow-up ----------------------------------------------------------------------------


@pytest.fixture
def earner(lkmm):
    return MemberFactory(lkmm=lkmm, turnover_at_admission=2_000_000, net_income_at_admission=600_000)


def test_income_follow_up_shows_the_change_since_admission(pengelola_client, pengelola, earner):
    today = timezone.localdate()
    form = pengelola_client.get(url("income", earner))
    assert form.context["form"]["recorded_on"].value() == today
    assert "omzet Rp 2.000.000, bersih Rp 600.000" in form.content.decode()

    response = pengelola_client.post(
        url("income", earner),
        {
            "recorded_on": today.isoformat(),
            "turnover": "2.500.000",
            "net_income": "Rp 750.000",
            "note": "Setelah pinjaman pertama",
        },
        follow=True,
    )

    assert response.redirect_chain == [(url("detail", earner), 302)]
    assert "Catatan pendapatan disimpan." in messages_of(response)
    record = IncomeRecord.objects.get(member=earner)
    assert (record.turnover, record.net_income, record.created_by) == (2_500_000, 750_000, pengelola.user)
    assert AuditLog.objects.filter(action="member.income", object_id=record.pk).exists()
    html = response.content.decode()
    assert '<strong class="good-text">+Rp 150.000 (+25%)</strong>' in html
    assert f"<tr><td>{today:%d/%m/%Y}</td>" in html
    assert "Setelah pinjaman pertama" in html


def test_income_form_shows_admission_figures_that_were_left_out_as_a_dash(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm, net_income_at_admission=400_000)

    html = pengelola_client.get(url("income", member)).content.decode()

    assert "omzet –, bersih Rp 400.000" in html


def test_a_fall_in_income_is_shown_in_red(pengelola_client, pengelola, earner):
    services.income_record(
        member=earner,
        actor=pengelola.user,
        recorded_on=timezone.localdate(),
        turnover=1_500_000,
        net_income=450_000,
    )

    html = pengelola_client.get(url("detail", earner)).content.decode()

    assert '<strong class="bad">-Rp 150.000 (-25%)</strong>' in html


@pytest.mark.parametrize(
    ("recorded_on", "message"),
    [
        (datetime.date.today() + datetime.timedelta(days=2), "Tanggal ini tidak boleh di masa depan."),
        (datetime.date(2024, 1, 7), "Tanggal tidak boleh sebelum anggota masuk (08/01/2024)."),
    ],
)
def test_income_dates_out_of_range_are_refused(pengelola_client, earner, recorded_on, message):
    response = pengelola_client.post(
        url("income", earner),
        {"recorded_on": recorded_on.isoformat(), "turnover": "1.000.000", "net_income": "500.000"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["recorded_on"] == [message]
    assert error_next_to(response.content.decode(), "recorded_on", message)
    assert not IncomeRecord.objects.exists()


# --- photos --------------------------------------------------------------------------------------


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo_content(response):
    # Reading to the end closes the file: the test client then closes the response itself, with the
    # signal that would close the database connection disconnected (closing it here would not be).
    return b"".join(response.streaming_content)


@pytest.fixture
def with_photo(settings, tmp_path, pengelola_client, lkmm, referee):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("foto.png", png_bytes(), content_type="image/png")
    response = pengelola_client.post(CREATE_URL, {**form_data(referee), "photo": photo})
    assert response.status_code == 302
    return Member.objects.get(lkmm=lkmm, nik=NIK)


def test_photo_upload_is_stored_and_shown_on_the_member_page(pengelola_client, with_photo, tmp_path):
    assert with_photo.photo.name.startswith("members/")
    assert (tmp_path / with_photo.photo.name).exists()

    html = pengelola_client.get(url("detail", with_photo)).content.decode()

    assert f'<img class="photo" src="{url("photo", with_photo)}"' in html


def test_photo_is_served_to_the_own_lkmm_and_the_dinas(pengelola_client, dinas, with_photo):
    own = pengelola_client.get(url("photo", with_photo))
    assert own.status_code == 200
    assert "no-store" in own["Cache-Control"] and "private" in own["Cache-Control"]  # personal data
    assert photo_content(own) == png_bytes()

    reviewer = client_for(dinas).get(url("photo", with_photo))
    assert reviewer.status_code == 200
    assert photo_content(reviewer) == png_bytes()


def test_photo_is_not_found_for_another_lkmm(other_lkmm, with_photo):
    stranger = client_for(StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm))

    assert stranger.get(url("photo", with_photo)).status_code == 404
    assert stranger.get(url("detail", with_photo)).status_code == 404


def test_photo_needs_a_login(with_photo):
    response = Client().get(url("photo", with_photo))

    assert response.status_code == 302


def test_no_photo_is_404(pengelola_client, member):
    assert pengelola_client.get(url("photo", member)).status_code == 404
    assert 'class="photo"' not in pengelola_client.get(url("detail", member)).content.decode()


def test_a_photo_missing_from_the_disk_is_404(pengelola_client, with_photo, tmp_path):
    (tmp_path / with_photo.photo.name).unlink()

    assert pengelola_client.get(url("photo", with_photo)).status_code == 404


def test_a_file_that_is_not_an_image_is_refused(settings, tmp_path, pengelola_client, lkmm, referee):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("foto.png", b"not a picture", content_type="image/png")

    response = pengelola_client.post(CREATE_URL, {**form_data(referee), "photo": fake})

    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert not Member.objects.filter(nik=NIK).exists()
    assert not any(tmp_path.iterdir())


# --- people in several LKMMs (Dinas) -------------------------------------------------------------


def test_dinas_sees_people_in_several_lkmms_with_both_lkmm_names(dinas_client, lkmm, other_lkmm):
    here = MemberFactory(lkmm=lkmm, nik=NIK, full_name="Siti Semenggu")
    there = MemberFactory(lkmm=other_lkmm, nik=NIK, full_name="Siti Wonosari")
    make_active_loan(member=there, disbursed_on=timezone.localdate() - datetime.timedelta(days=30))
    MemberFactory(lkmm=lkmm, full_name="Hanya Di Semenggu")

    response = dinas_client.get(DUPLICATES_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert [m.pk for m in response.context["page"]] == [here.pk, there.pk]
    assert html.count(NIK) == 2
    assert "<td>LKMM Semenggu</td>" in html and "<td>LKMM Wonosari</td>" in html
    assert "Hanya Di Semenggu" not in html
    assert {m.full_name: m.in_arrears for m in response.context["page"]} == {
        "Siti Semenggu": False,
        "Siti Wonosari": True,
    }


def test_duplicates_page_is_empty_without_shared_niks(dinas_client, lkmm, other_lkmm):
    MemberFactory(lkmm=lkmm)
    MemberFactory(lkmm=other_lkmm)

    html = dinas_client.get(DUPLICATES_URL).content.decode()

    assert "Tidak ada orang yang menjadi anggota di lebih dari satu LKMM." in html


@pytest.mark.parametrize("who", ["pengelola_client", "ketua_client"])
def test_lkmm_staff_may_not_see_the_duplicates_page(request, lkmm, who):
    assert request.getfixturevalue(who).get(DUPLICATES_URL).status_code == 403


# --- who may post ------------------------------------------------------------------------------


RECORDING_VIEWS = ["create", "decide", "status", "reapply", "income"]


@pytest.mark.parametrize("name", ["decide", "status"])
def test_post_only_views_refuse_get(ketua_client, applicant, name):
    assert ketua_client.get(url(name, applicant)).status_code == 405


@pytest.mark.parametrize("name", RECORDING_VIEWS)
def test_dinas_may_not_post_to_any_recording_view(dinas_client, lkmm, referee, applicant, ketua, name):
    target = applicant
    if name == "reapply":
        target = services.member_transition(
            member=applicant, to=MemberStatus.DITOLAK, actor=ketua.user, reason="x"
        )
    before = (Member.objects.count(), MemberStatusChange.objects.count(), IncomeRecord.objects.count())
    address = CREATE_URL if name == "create" else url(name, target)
    data = {
        "create": form_data(referee),
        "decide": {"decision": "aktif"},
        "status": {"to": "keluar", "reason": "x"},
        "reapply": {"referee": f"m:{referee.pk}", "business_plan": "x", "requested_amount": "1"},
        "income": {"recorded_on": "2026-02-01", "turnover": "1", "net_income": "1"},
    }[name]

    assert dinas_client.post(address, data).status_code == 403
    if name != "create":
        assert dinas_client.get(address).status_code in (403, 405)
    assert (
        Member.objects.count(),
        MemberStatusChange.objects.count(),
        IncomeRecord.objects.count(),
    ) == before


@pytest.mark.parametrize("name", ["detail", "photo", "status", "decide", "reapply", "income"])
def test_another_lkmms_member_is_404_on_every_member_page(request, lkmm, other_lkmm, name):
    theirs = MemberFactory(lkmm=other_lkmm, status=MemberStatus.DITOLAK)
    client = request.getfixturevalue("ketua_client" if name == "decide" else "pengelola_client")

    if name in ("status", "decide"):
        response = client.post(url(name, theirs), {"decision": "aktif", "to": "pendaftar", "reason": "x"})
    else:
        response = client.get(url(name, theirs))

    assert response.status_code == 404
