"""The decision inbox (issue 12, point 4) and what a decider sees on a loan application."""

import datetime

import pytest

from institutions.models import DecisionRequest, RequestKind
from loans import services as loan_services
from members.models import Decision, MembershipApplication
from tests.factories import (
    LkmmFactory,
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    ketua_of,
    login,
    make_active_loan,
    make_approved_loan,
    make_approver,
    make_loan,
)

HOME = "/"
INBOX = "/keputusan/"


@pytest.fixture
def waiting(lkmm, pengelola):
    """One item of each kind waiting at `lkmm`, and one at another LKMM that must never show."""
    applicant = MemberFactory(lkmm=lkmm, status="pendaftar", full_name="Calon Anggota")
    product = LoanProductFactory(lkmm=lkmm)
    applied = make_loan(member=MemberFactory(lkmm=lkmm, full_name="Bu Pengaju"), product=product)
    approved = make_approved_loan(member=MemberFactory(lkmm=lkmm, full_name="Bu Disetujui"), product=product)
    active = make_active_loan(member=MemberFactory(lkmm=lkmm, full_name="Bu Aktif"), product=product)
    request = DecisionRequest.objects.create(
        lkmm=lkmm,
        kind=RequestKind.RESTRUCTURE,
        target=f"loan:{active.pk}",
        summary=f"{active.code} Bu Aktif",
        requested_by=pengelola.user,
    )
    elsewhere = LkmmFactory()
    MemberFactory(lkmm=elsewhere, status="pendaftar", full_name="Orang Lain")
    make_loan(member=MemberFactory(lkmm=elsewhere, full_name="Pengaju Lain"))
    return {"applicant": applicant, "applied": applied, "approved": approved, "request": request}


def _box(response):
    box = response.context["inbox"] if "inbox" in response.context else response.context["box"]
    return {
        "members": [m.pk for m in box.members],
        "loans": [loan.pk for loan in box.loans],
        "to_disburse": [loan.pk for loan in box.to_disburse],
        "requests": [r.pk for r in box.requests],
        "total": box.total,
    }


def _expected(waiting):
    return {
        "members": [waiting["applicant"].pk],
        "loans": [waiting["applied"].pk],
        "to_disburse": [waiting["approved"].pk],
        "requests": [waiting["request"].pk],
        "total": 4,
    }


@pytest.mark.parametrize("url", [HOME, INBOX])
def test_the_ketua_sees_every_kind_of_waiting_item_of_their_own_lkmm(client, lkmm, waiting, url):
    login(client, ketua_of(lkmm))
    response = client.get(url)
    assert response.status_code == 200
    assert _box(response) == _expected(waiting)
    body = response.content.decode()
    for name in ("Calon Anggota", "Bu Pengaju", "Bu Disetujui", "Bu Aktif"):
        assert name in body
    assert "Orang Lain" not in body and "Pengaju Lain" not in body


def test_a_named_approver_sees_the_same_inbox(client, lkmm, waiting):
    login(client, make_approver(lkmm))
    assert _box(client.get(INBOX)) == _expected(waiting)


def test_a_pengelola_sees_what_waits_so_they_can_disburse_and_follow_up(client, lkmm, waiting, pengelola):
    login(client, pengelola)
    assert _box(client.get(HOME)) == _expected(waiting)


def test_a_dinas_reviewer_sees_the_four_eyes_requests_of_every_lkmm_and_no_lkmm_inbox(
    dinas_client, lkmm, waiting
):
    response = dinas_client.get(INBOX)
    assert response.status_code == 200
    assert "box" not in response.context
    assert [r.pk for r in response.context["waiting"]] == [waiting["request"].pk]


def test_the_home_page_shows_five_of_each_and_counts_them_all(client, lkmm):
    product = LoanProductFactory(lkmm=lkmm)
    for i in range(7):
        make_loan(member=MemberFactory(lkmm=lkmm, full_name=f"Pengaju {i}"), product=product)
    login(client, ketua_of(lkmm))
    home = client.get(HOME).context["inbox"]
    assert len(home.loans) == 5
    assert home.counts["loans"] == 7
    assert home.total == 7
    assert len(client.get(INBOX).context["box"].loans) == 7


def test_an_empty_inbox_says_so_on_its_page_and_is_absent_from_home(client, lkmm):
    login(client, ketua_of(lkmm))
    assert "Menunggu keputusan (" not in client.get(HOME).content.decode()
    assert "Tidak ada yang menunggu keputusan." in client.get(INBOX).content.decode()


def test_a_decided_item_leaves_the_inbox(client, lkmm, waiting):
    ketua = ketua_of(lkmm)
    loan_services.loan_approve(loan=waiting["applied"], actor=ketua)
    login(client, ketua)
    box = _box(client.get(INBOX))
    assert box["loans"] == []
    assert box["to_disburse"] == sorted([waiting["approved"].pk, waiting["applied"].pk])


def test_the_loan_application_page_shows_the_borrowers_record(client, lkmm):
    """Other loans with their standing, arrears, how installments were paid, and the referee."""
    referee = MemberFactory(lkmm=lkmm, full_name="Bu Penjamin")
    member = MemberFactory(lkmm=lkmm, full_name="Bu Peminjam")
    MembershipApplication.objects.create(
        member=member,
        referee_member=referee,
        business_plan="Warung",
        requested_amount=500_000,
        decision=Decision.APPROVED,
    )
    product = LoanProductFactory(lkmm=lkmm)
    # An earlier loan disbursed on 05/01/2026, weekly: ten installments of 123.000 from 12/01/2026.
    earlier = make_active_loan(member=member, product=product, disbursed_on=datetime.date(2026, 1, 5))
    first, second = earlier.installments.order_by("seq")[:2]
    loan_services.repayment_record(
        loan=earlier, amount=first.total, paid_on=first.due_date, actor=ketua_of(lkmm)
    )
    loan_services.repayment_record(
        loan=earlier,
        amount=second.total,
        paid_on=second.due_date + datetime.timedelta(days=3),
        actor=ketua_of(lkmm),
    )
    product.one_loan_at_a_time = False
    product.save()
    applied = make_loan(member=member, product=product, applied_on=datetime.date(2026, 3, 1))

    login(client, ketua_of(lkmm))
    response = client.get(f"/pinjaman/{applied.pk}/")
    record = response.context["borrower_record"]
    assert [loan.pk for loan in record["loans"]] == [earlier.pk]
    assert record["active"] == 1 and record["paid_off"] == 0 and record["pending"] == 0
    assert record["outstanding"] == earlier.principal - first.principal - second.principal
    # All ten installments fell due before today (December 2026): one on time, one late, eight unpaid.
    assert (record["installments_due"], record["installments_on_time"], record["installments_late"]) == (
        10,
        1,
        1,
    )
    assert record["installments_unpaid"] == 8
    unpaid = sum(i.total for i in earlier.installments.order_by("seq")[2:])
    assert record["arrears"] == unpaid
    assert record["referee_member"] == referee
    body = response.content.decode()
    assert "Rekam jejak peminjam" in body and "Bu Penjamin" in body and earlier.code in body


def test_a_four_eyes_request_about_a_loan_shows_the_borrowers_record(client, lkmm, waiting):
    approver = make_approver(lkmm)
    login(client, approver)
    response = client.get(f"/keputusan/{waiting['request'].pk}/")
    assert response.status_code == 200
    assert response.context["borrower_record"]["loan"].member.full_name == "Bu Aktif"
    assert "Rekam jejak peminjam" in response.content.decode()


def test_another_lkmms_staff_never_see_this_inbox(client, lkmm, waiting):
    other = StaffFactory(lkmm=LkmmFactory(), role="ketua")
    login(client, other)
    assert _box(client.get(INBOX))["total"] == 0


def test_the_box_reads_only_the_lists_with_something_waiting(lkmm, pengelola):
    """One query for the four counts, then one per list that is not empty; the counts stay whole when a
    list is cut to the home's first few."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from institutions.inbox import HOME_SHOWN, inbox

    with CaptureQueriesContext(connection) as queries:
        box = inbox(lkmm=lkmm, limit=HOME_SHOWN)
    assert len(queries) == 1
    assert box.total == 0 and box.members == [] and box.requests == []

    applicants = [MemberFactory(lkmm=lkmm, status="pendaftar") for _ in range(HOME_SHOWN + 2)]
    MemberFactory(lkmm=LkmmFactory(), status="pendaftar")  # another LKMM's: neither counted nor listed
    with CaptureQueriesContext(connection) as queries:
        box = inbox(lkmm=lkmm, limit=HOME_SHOWN)
    assert len(queries) == 2
    assert box.counts == {"members": HOME_SHOWN + 2, "loans": 0, "to_disburse": 0, "requests": 0}
    assert [m.pk for m in box.members] == [m.pk for m in applicants[:HOME_SHOWN]]
    assert len(inbox(lkmm=lkmm).members) == HOME_SHOWN + 2
