"""The member status machine: every pair of statuses, legal or not, with and without a reason."""

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from institutions.models import Role
from members.models import MEMBER_TRANSITIONS, MembershipApplication, MemberStatus, MemberStatusChange
from members.services import member_apply, member_transition
from tests.factories import LkmmFactory, MemberFactory, StaffFactory, make_active_loan, make_approver

pytestmark = pytest.mark.django_db

STATUSES = list(MemberStatus)


@pytest.fixture
def people(db):
    lkmm = LkmmFactory()
    return {
        "lkmm": lkmm,
        "ketua": StaffFactory(lkmm=lkmm, role=Role.KETUA).user,
        "pengelola": StaffFactory(lkmm=lkmm, role=Role.PENGELOLA).user,
        "referee": MemberFactory(lkmm=lkmm, status=MemberStatus.AKTIF),
    }


def member_in(status, people):
    """A member whose current status is `status`, with a pending application when pendaftar."""
    member = MemberFactory(lkmm=people["lkmm"], status=status)
    if status == MemberStatus.PENDAFTAR:
        MembershipApplication.objects.create(
            member=member,
            referee_member=people["referee"],
            business_plan="Warung",
            requested_amount=500_000,
            submitted_by=people["pengelola"],
        )
    return member


def application(people):
    return {"referee_member": people["referee"], "business_plan": "Jual sayur", "requested_amount": 300_000}


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair_of_statuses(people, frm, to):
    member = member_in(frm, people)
    before = MemberStatusChange.objects.filter(member=member).count()
    kwargs = {"application": application(people)} if to == MemberStatus.PENDAFTAR else {}
    legal = (frm, to) in MEMBER_TRANSITIONS
    needs_reason = MEMBER_TRANSITIONS.get((frm, to), False)
    if not legal:
        with pytest.raises(ValidationError, match="tidak dapat diubah"):
            member_transition(member=member, to=to, actor=people["ketua"], reason="alasan", **kwargs)
    else:
        if needs_reason:
            with pytest.raises(ValidationError) as excinfo:
                member_transition(member=member, to=to, actor=people["ketua"], reason="  ", **kwargs)
            assert excinfo.value.message_dict["reason"] == ["Tulis alasannya."]
            member.refresh_from_db()
            assert member.status == frm
        member_transition(member=member, to=to, actor=people["ketua"], reason="alasan", **kwargs)
    member.refresh_from_db()
    assert member.status == (to if legal else frm)
    changes = MemberStatusChange.objects.filter(member=member)
    assert changes.count() == before + (1 if legal else 0)
    if legal:
        last = changes.last()
        assert (last.from_status, last.to_status, last.by) == (frm, to, people["ketua"])


def test_leaving_with_a_loan_outstanding_is_refused(people):
    loan = make_active_loan(member=member_in(MemberStatus.AKTIF, people))
    with pytest.raises(ValidationError, match="pinjaman"):
        member_transition(member=loan.member, to=MemberStatus.KELUAR, actor=people["ketua"], reason="pindah")
    loan.member.refresh_from_db()
    assert loan.member.status == MemberStatus.AKTIF


def test_only_the_ketua_decides_applications_and_unblocks(people):
    applicant = member_in(MemberStatus.PENDAFTAR, people)
    with pytest.raises(PermissionDenied):
        member_transition(member=applicant, to=MemberStatus.AKTIF, actor=people["pengelola"])
    blocked = member_in(MemberStatus.DIBLOKIR, people)
    with pytest.raises(PermissionDenied):
        member_transition(
            member=blocked, to=MemberStatus.AKTIF, actor=people["pengelola"], reason="sudah baik"
        )
    assert MemberStatusChange.objects.filter(member__in=[applicant, blocked]).count() == 0


def test_four_eyes_needs_a_second_person(people):
    lkmm = people["lkmm"]
    lkmm.four_eyes = True
    lkmm.save()
    applicant = member_apply(
        lkmm=lkmm,
        actor=people["ketua"],
        application=application(people),
        nik="3509104501800123",
        full_name="Siti",
        gender="P",
        birth_date="1980-01-05",
        desa="Semenggu",
        business="Warung",
        joined_on="2026-01-05",
    )
    with pytest.raises(ValidationError, match="empat mata"):
        member_transition(member=applicant, to=MemberStatus.AKTIF, actor=people["ketua"])
    other_ketua = StaffFactory(lkmm=lkmm, role=Role.KETUA).user
    member_transition(member=applicant, to=MemberStatus.AKTIF, actor=other_ketua)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.AKTIF
    decided = applicant.applications.get()
    assert (decided.decision, decided.decided_by) == ("approved", other_ketua)


def test_application_needs_exactly_one_valid_referee(people):
    fields = {
        "nik": "3509104501800124",
        "full_name": "Sri",
        "gender": "P",
        "birth_date": "1980-01-05",
        "desa": "Semenggu",
        "business": "Warung",
        "joined_on": "2026-01-05",
    }
    stranger = MemberFactory(status=MemberStatus.AKTIF)  # another LKMM
    for bad in [{}, {"referee_member": stranger}]:
        with pytest.raises(ValidationError) as excinfo:
            member_apply(
                lkmm=people["lkmm"],
                actor=people["pengelola"],
                application={**bad, "business_plan": "x", "requested_amount": 1},
                **fields,
            )
        assert "referee" in excinfo.value.message_dict
    assert not MembershipApplication.objects.filter(member__nik=fields["nik"]).exists()


def test_with_four_eyes_the_pengelola_still_cannot_decide_and_a_named_approver_can(people):
    """Four eyes adds a second person; it never lets a pengelola decide (DOMAIN.md)."""
    lkmm = people["lkmm"]
    applicant = member_in(MemberStatus.PENDAFTAR, people)
    MembershipApplication.objects.filter(member=applicant).update(submitted_by=people["ketua"])
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save()
    applicant.lkmm.refresh_from_db()
    with pytest.raises(PermissionDenied):
        member_transition(member=applicant, to=MemberStatus.AKTIF, actor=people["pengelola"])
    with pytest.raises(ValidationError, match="empat mata"):
        member_transition(member=applicant, to=MemberStatus.AKTIF, actor=people["ketua"])
    member_transition(member=applicant, to=MemberStatus.AKTIF, actor=approver)
    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.AKTIF
    assert applicant.applications.get().decided_by == approver
