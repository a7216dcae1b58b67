"""Pages of the loan engine: approval, rejection, disbursement after approval, cancellation, tanggung
renteng, back-dated payments, reversal, late-fee waivers, early payoff, the product's new terms, and
who may open each (test_loan_engine.py covers the same rules at the service level).

The default factory product is 10 weekly installments, flat 1,5% per month: on Rp 1.200.000 each
installment is Rp 124.154 (principal 120.000 + interest 4.154) and the payoff is Rp 1.241.540.
"""

import datetime
import uuid
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.services import SECURITY_ACTIONS
from institutions.models import AuditLog, DecisionRequest
from ledger.models import JournalEntry
from loans import services as loan_services
from loans.models import (
    Allocation,
    Installment,
    Loan,
    LoanProduct,
    LoanStatusChange,
    Repayment,
    Waiver,
)
from members.services import group_create
from tests.factories import (
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    login,
    make_active_loan,
    make_approved_loan,
    make_approver,
    make_loan,
)

INSTALLMENT = 124_154
PAYOFF = 1_241_540
FOUR_EYES = (
    "LKMM ini memakai prinsip empat mata: pinjaman diputuskan oleh penyetuju lain daripada yang mencatat "
    "atau mengajukannya."
)


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def dmy(date):
    return date.strftime("%d/%m/%Y")


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


def client_for(staff):
    """A client of its own per person, so two logins can act in one test."""
    client = Client()
    login(client, staff)
    return client


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


def error_next_to(html, field, message):
    """True when `message` is rendered inside the wrapper of `field` (before the next field starts)."""
    start = html.index(f'name="{field}"')
    end = html.find('<div class="field', start)
    chunk = html[start:] if end == -1 else html[start:end]
    return f'<p class="error" role="alert">{escape(message)}</p>' in chunk


def lines_of(entry):
    return {line.account.code: (line.debit, line.credit) for line in entry.lines.select_related("account")}


def snapshot():
    """Everything the engine's views may change."""
    return {
        "loans": sorted(Loan.objects.values_list("pk", "status")),
        "installments": Installment.objects.count(),
        "repayments": sorted(Repayment.objects.values_list("pk", "reversed_on")),
        "allocations": Allocation.objects.count(),
        "waivers": Waiver.objects.count(),
        "entries": JournalEntry.objects.count(),
        "status_changes": LoanStatusChange.objects.count(),
        "audit": AuditLog.objects.exclude(action__in=SECURITY_ACTIONS).count(),
    }


def detail(loan):
    return reverse("loans:detail", args=[loan.pk])


@pytest.fixture
def applied(lkmm, pengelola):
    """A Semenggu application recorded by the pengelola three days ago."""
    return make_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Siti Pemohon"),
        applied_on=today() - days(3),
        actor=pengelola.user,
    )


@pytest.fixture
def approved(lkmm, ketua):
    return make_approved_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Siti Disetujui"),
        applied_on=today() - days(3),
        approved_by=ketua.user,
    )


@pytest.fixture
def active(lkmm, ketua):
    """Disbursed 30 days ago, nothing paid: installments 1-4 (due 23, 16, 9 and 2 days ago) are past due."""
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Ani Peminjam"),
        disbursed_on=today() - days(30),
        approved_by=ketua.user,
    )


@pytest.fixture
def late(lkmm, ketua):
    """Like `active`, on a product with a Rp 5.000 late fee: four fees owed (Rp 20.000)."""
    product = LoanProductFactory(lkmm=lkmm, late_fee=5_000)
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Ani Terlambat"),
        product=product,
        disbursed_on=today() - days(30),
        approved_by=ketua.user,
    )


def four_eyes(lkmm):
    lkmm.four_eyes = True
    lkmm.save(update_fields=["four_eyes"])


def pay(client, loan, amount, paid_on=None, **extra):
    data = {
        "amount": amount,
        "paid_on": (paid_on or today()).isoformat(),
        "token": str(uuid.uuid4()),
        **extra,
    }
    return client.post(reverse("loans:repay", args=[loan.pk]), data)


# --- approval ------------------------------------------------------------------------------------


def test_ketua_approves_an_application(ketua_client, ketua, applied):
    response = ketua_client.post(reverse("loans:approve", args=[applied.pk]), follow=True)

    assert response.redirect_chain == [(detail(applied), 302)]
    assert messages_of(response) == ["Pinjaman P-00001 disetujui."]
    applied.refresh_from_db()
    assert (applied.status, applied.disbursed_on) == ("disetujui", None)
    change = LoanStatusChange.objects.get(loan=applied)
    assert (change.from_status, change.to_status, change.on, change.by, change.reason) == (
        "diajukan",
        "disetujui",
        today(),
        ketua.user,
        "",
    )
    assert AuditLog.objects.get(action="loan.disetujui").object_id == applied.pk
    # Approval moves no money and fixes no schedule: that is the disbursement's job.
    assert not applied.installments.exists()
    assert not JournalEntry.objects.filter(loan=applied).exists()
    html = response.content.decode()
    assert f'action="{reverse("loans:disburse", args=[applied.pk])}"' in html
    assert reverse("loans:approve", args=[applied.pk]) not in html


def test_pengelola_cannot_approve_without_four_eyes(pengelola_client, applied):
    before = snapshot()

    response = pengelola_client.post(reverse("loans:approve", args=[applied.pk]))

    assert response.status_code == 403
    assert "Tidak diizinkan" in response.content.decode()
    assert snapshot() == before


def test_with_four_eyes_the_pengelola_still_cannot_approve_and_another_approver_does(lkmm, ketua, pengelola):
    """Four eyes adds a second person and never widens who decides: not the pengelola, even for what
    the ketua recorded; a named approver (a board officer in office) does."""
    approver = make_approver(lkmm, username="bendahara")
    four_eyes(lkmm)
    loan = make_loan(member=MemberFactory(lkmm=lkmm), applied_on=today(), actor=ketua.user)
    url = reverse("loans:approve", args=[loan.pk])

    page = client_for(pengelola).get(detail(loan)).content.decode()
    assert url not in page
    before = snapshot()
    refused = client_for(pengelola).post(url, follow=True)
    assert (
        messages_of(refused) == ["Hanya ketua atau penyetuju LKMM ini yang dapat memutuskan pinjaman."]
        or refused.status_code == 403
    )
    assert snapshot() == before

    assert url in client_for(approver).get(detail(loan)).content.decode()
    response = client_for(approver).post(url, follow=True)

    assert messages_of(response) == ["Pinjaman P-00001 disetujui."]
    loan.refresh_from_db()
    assert loan.status == "disetujui"
    assert LoanStatusChange.objects.get(loan=loan).by == approver


@pytest.mark.parametrize("recorder", ["ketua", "pengelola"])
def test_with_four_eyes_the_recorder_cannot_approve(request, lkmm, recorder):
    four_eyes(lkmm)
    staff = request.getfixturevalue(recorder)
    loan = make_loan(member=MemberFactory(lkmm=lkmm), applied_on=today(), actor=staff.user)
    client = client_for(staff)

    page = client.get(detail(loan)).content.decode()
    assert "LKMM ini memakai prinsip empat mata: Anda mencatat pengajuan ini" in page
    assert reverse("loans:approve", args=[loan.pk]) not in page
    before = snapshot()
    response = client.post(reverse("loans:approve", args=[loan.pk]), follow=True)

    if recorder == "ketua":
        assert response.redirect_chain == [(detail(loan), 302)]
        assert messages_of(response) == [FOUR_EYES]
    else:  # a pengelola never decides, four eyes or not
        assert response.status_code == 403
    assert snapshot() == before


def test_approving_twice_is_refused(ketua_client, approved):
    before = snapshot()

    response = ketua_client.post(reverse("loans:approve", args=[approved.pk]), follow=True)

    assert messages_of(response) == ["Status pinjaman tidak dapat diubah dari Disetujui menjadi Disetujui."]
    assert snapshot() == before


# --- rejection -----------------------------------------------------------------------------------


def test_ketua_rejects_with_a_reason(ketua_client, ketua, applied):
    response = ketua_client.post(
        reverse("loans:reject", args=[applied.pk]), {"reject-reason": "Usaha belum jalan"}, follow=True
    )

    assert response.redirect_chain == [(detail(applied), 302)]
    assert messages_of(response) == ["Pengajuan P-00001 ditolak."]
    applied.refresh_from_db()
    assert applied.status == "ditolak"
    change = LoanStatusChange.objects.get(loan=applied)
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        "diajukan",
        "ditolak",
        "Usaha belum jalan",
        ketua.user,
    )
    assert AuditLog.objects.get(action="loan.ditolak").reason == "Usaha belum jalan"
    html = response.content.decode()
    assert "Usaha belum jalan" in html  # the status history
    for view in ("approve", "reject", "disburse", "cancel"):
        assert reverse(f"loans:{view}", args=[applied.pk]) not in html


@pytest.mark.parametrize(
    "data", [{}, {"reject-reason": ""}, {"reject-reason": "   "}, {"reason": "no prefix"}]
)
def test_rejection_needs_a_reason(ketua_client, applied, data):
    before = snapshot()

    response = ketua_client.post(reverse("loans:reject", args=[applied.pk]), data, follow=True)

    assert messages_of(response) == ["Tulis alasannya."]
    assert snapshot() == before


def test_pengelola_cannot_reject(pengelola_client, applied):
    before = snapshot()

    response = pengelola_client.post(reverse("loans:reject", args=[applied.pk]), {"reject-reason": "x"})

    assert response.status_code == 403
    assert snapshot() == before


# --- disbursement and cancellation after approval -----------------------------------------------


def test_pengelola_disburses_an_approved_loan_with_a_deducted_admin_fee(
    pengelola_client, pengelola, lkmm, ketua
):
    product = LoanProductFactory(lkmm=lkmm, admin_fee_percent=Decimal("2"), admin_fee_mode="deducted")
    loan = make_approved_loan(
        member=MemberFactory(lkmm=lkmm), product=product, applied_on=today(), approved_by=ketua.user
    )
    page = pengelola_client.get(detail(loan)).content.decode()
    assert "Cairkan Rp 1.176.000" in page  # what the member receives
    assert "Rp 24.000" in page

    response = pengelola_client.post(
        reverse("loans:disburse", args=[loan.pk]), {"disbursed_on": today().isoformat()}, follow=True
    )

    assert messages_of(response) == ["Pinjaman P-00001 dicairkan."]
    loan.refresh_from_db()
    assert (loan.status, loan.disbursed_on, loan.admin_fee) == ("aktif", today(), 24_000)
    assert loan.installments.count() == 10
    entry = JournalEntry.objects.get(loan=loan)
    assert (entry.kind, entry.date, entry.source_type, entry.source_id) == (
        "disbursement",
        today(),
        "loans.loan",
        loan.pk,
    )
    assert lines_of(entry) == {"1201": (1_200_000, 0), "1101": (0, 1_176_000), "4102": (0, 24_000)}
    assert LoanStatusChange.objects.filter(loan=loan).latest("id").by == pengelola.user


def test_a_cash_admin_fee_is_its_own_entry(pengelola_client, lkmm, ketua):
    product = LoanProductFactory(lkmm=lkmm, admin_fee_percent=Decimal("1.5"), admin_fee_mode="cash")
    loan = make_approved_loan(
        member=MemberFactory(lkmm=lkmm), product=product, applied_on=today(), approved_by=ketua.user
    )
    assert "Cairkan Rp 1.200.000" in pengelola_client.get(detail(loan)).content.decode()

    pengelola_client.post(reverse("loans:disburse", args=[loan.pk]), {"disbursed_on": today().isoformat()})

    entries = {e.kind: lines_of(e) for e in JournalEntry.objects.filter(loan=loan)}
    assert entries == {
        "disbursement": {"1201": (1_200_000, 0), "1101": (0, 1_200_000)},
        "fee": {"1101": (18_000, 0), "4102": (0, 18_000)},
    }


def test_pengelola_cancels_an_approved_loan(pengelola_client, pengelola, approved):
    response = pengelola_client.post(
        reverse("loans:cancel", args=[approved.pk]), {"reason": "Anggota mundur"}, follow=True
    )

    assert messages_of(response) == ["Pengajuan P-00001 dibatalkan."]
    approved.refresh_from_db()
    assert approved.status == "dibatalkan"
    change = LoanStatusChange.objects.filter(loan=approved).latest("id")
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        "disetujui",
        "dibatalkan",
        "Anggota mundur",
        pengelola.user,
    )
    assert not JournalEntry.objects.filter(loan=approved).exists()
    assert reverse("loans:disburse", args=[approved.pk]) not in response.content.decode()


def test_a_cancelled_loan_cannot_be_disbursed(pengelola_client, approved):
    loan_services.loan_cancel(loan=approved, actor=None, reason="Anggota mundur")
    before = snapshot()

    response = pengelola_client.post(
        reverse("loans:disburse", args=[approved.pk]), {"disbursed_on": today().isoformat()}, follow=True
    )

    assert messages_of(response) == ["Hanya pinjaman yang sudah disetujui yang dapat dicairkan."]
    assert snapshot() == before


# --- tanggung renteng ----------------------------------------------------------------------------


@pytest.fixture
def group(lkmm, active):
    """The borrower of `active` in a group with two mates."""
    mates = [
        MemberFactory(lkmm=lkmm, full_name="Bu Mawar"),
        MemberFactory(lkmm=lkmm, full_name="Bu Melati"),
    ]
    group_create(
        lkmm=lkmm,
        actor=None,
        name="Kelompok Mawar",
        meeting_day=0,
        meeting_place="Rumah Bu Mawar",
        joint_liability=True,
        members=[active.member, *mates],
        leader=mates[0],
        on=today() - days(60),
    )
    return mates


def test_paid_by_offers_only_the_borrowers_group_mates(pengelola_client, lkmm, active, group):
    MemberFactory(lkmm=lkmm, full_name="Pak Luar")

    response = pengelola_client.get(reverse("loans:repay", args=[active.pk]))

    field = response.context["form"].fields["paid_by"]
    assert sorted(m.full_name for m in field.queryset) == ["Bu Mawar", "Bu Melati"]
    html = response.content.decode()
    assert 'name="paid_by"' in html
    assert "Peminjam sendiri" in html
    assert "Pak Luar" not in html


def test_paid_by_is_not_offered_without_a_group(pengelola_client, active):
    response = pengelola_client.get(reverse("loans:repay", args=[active.pk]))

    assert "paid_by" not in response.context["form"].fields
    assert 'name="paid_by"' not in response.content.decode()


def test_a_group_mate_pays_for_the_borrower(pengelola_client, active, group):
    mate = group[1]

    response = pay(pengelola_client, active, "124.154", paid_by=mate.pk)

    repayment = Repayment.objects.get(loan=active)
    assert response["Location"] == reverse("loans:receipt", args=[repayment.pk])
    assert (repayment.paid_by, repayment.amount) == (mate, INSTALLMENT)
    assert AuditLog.objects.get(action="repayment.record").data["paid_by"] == mate.pk
    receipt = pengelola_client.get(response["Location"]).content.decode()
    assert "Bu Melati (tanggung renteng)" in receipt
    page = pengelola_client.get(detail(active)).content.decode()
    assert "dibayar oleh Bu Melati (tanggung renteng)" in page


def test_an_outsider_cannot_pay_for_the_borrower(pengelola_client, lkmm, active, group):
    outsider = MemberFactory(lkmm=lkmm, full_name="Pak Luar")
    before = snapshot()

    response = pay(pengelola_client, active, "124.154", paid_by=outsider.pk)

    message = "Yang membayar harus anggota kelompok yang sama (tanggung renteng)."
    assert response.status_code == 200
    assert response.context["form"].errors["paid_by"] == [message]
    assert error_next_to(response.content.decode(), "paid_by", message)
    assert snapshot() == before


# --- back-dated payments -------------------------------------------------------------------------


def test_a_back_dated_payment_is_allocated_in_value_order(pengelola_client, active):
    """Recorded second but paid first, it takes installment 1; the payment of today moves to 2."""
    pay(pengelola_client, active, "124.154")
    response = pay(pengelola_client, active, "124.154", paid_on=today() - days(25))

    assert response.status_code == 302
    first, second = Repayment.objects.filter(loan=active).order_by("receipt_no")
    assert (first.paid_on, second.paid_on) == (today(), today() - days(25))
    counting = Allocation.objects.counting_at(today()).filter(repayment__loan=active)
    assert sorted(
        counting.values_list("repayment__receipt_no", "installment__seq", "interest", "principal")
    ) == [
        (1, 2, 4_154, 120_000),
        (2, 1, 4_154, 120_000),
    ]
    # Its receipt shows what it paid on its own date.
    receipt = pengelola_client.get(reverse("loans:receipt", args=[second.pk]))
    assert [a.installment.seq for a in receipt.context["allocations"]] == [1]
    assert dmy(today() - days(25)) in receipt.content.decode()
    # 124.154 in words, as the member can check it.
    assert "Seratus dua puluh empat ribu seratus lima puluh empat rupiah" in receipt.content.decode()
    page = pengelola_client.get(detail(active))
    assert [r.receipt_no for r in page.context["repayments"]] == [1, 2]  # by value date, newest first
    loan = page.context["loan"]
    assert (loan.days_past_due, loan.outstanding) == (9, 960_000)  # installment 3, due 9 days ago
    entries = JournalEntry.objects.filter(loan=active, kind="repayment").order_by("id")
    assert [e.date for e in entries] == [today(), today() - days(25)]


# --- reversal ------------------------------------------------------------------------------------


@pytest.fixture
def payment(active, pengelola):
    return loan_services.repayment_record(
        loan=active, amount=INSTALLMENT, paid_on=today() - days(20), actor=pengelola.user
    )


def test_ketua_opens_the_reversal_form(ketua_client, payment):
    response = ketua_client.get(reverse("loans:reverse", args=[payment.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Batalkan pembayaran K-000001" in html
    assert "Rp 124.154" in html
    form = response.context["form"]
    assert (form["on"].value(), form["reason"].value()) == (today(), None)
    assert 'name="reason"' in html


@pytest.mark.parametrize("who", ["pengelola_client", "dinas_client"])
def test_others_cannot_open_the_reversal_form(request, payment, who):
    client = request.getfixturevalue(who)
    url = reverse("loans:reverse", args=[payment.pk])
    before = snapshot()

    assert client.get(url).status_code == 403
    assert client.post(url, {"on": today().isoformat(), "reason": "x"}).status_code == 403
    assert snapshot() == before


def test_another_lkmms_ketua_does_not_find_the_payment(other_lkmm, payment):
    client = client_for(StaffFactory(lkmm=other_lkmm, ketua=True))
    url = reverse("loans:reverse", args=[payment.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"on": today().isoformat(), "reason": "x"}).status_code == 404
    payment.refresh_from_db()
    assert payment.reversed_on is None


def test_loan_page_links_the_reversal_for_the_ketua_only(ketua_client, pengelola, payment):
    link = reverse("loans:reverse", args=[payment.pk])

    assert link in ketua_client.get(detail(payment.loan)).content.decode()
    assert link not in client_for(pengelola).get(detail(payment.loan)).content.decode()


def test_ketua_reverses_a_payment(ketua_client, ketua, payment):
    on = today() - days(10)

    response = ketua_client.post(
        reverse("loans:reverse", args=[payment.pk]),
        {"on": on.isoformat(), "reason": "Uang palsu"},
        follow=True,
    )

    assert response.redirect_chain == [(detail(payment.loan), 302)]
    assert messages_of(response) == ["Pembayaran K-000001 dibatalkan."]
    payment.refresh_from_db()
    assert (payment.reversed_on, payment.reversed_by, payment.reversal_reason) == (
        on,
        ketua.user,
        "Uang palsu",
    )
    assert payment.reversed_at is not None
    assert payment.amount == INSTALLMENT  # never edited
    entry = JournalEntry.objects.get(kind="reversal")
    assert (entry.date, entry.loan_id, entry.source_type, entry.source_id) == (
        on,
        payment.loan_id,
        "loans.repayment",
        payment.pk,
    )
    assert lines_of(entry) == {"1101": (0, INSTALLMENT), "1201": (120_000, 0), "4101": (4_154, 0)}
    assert AuditLog.objects.get(action="repayment.reverse").reason == "Uang palsu"
    html = response.content.decode()
    assert "<s>Rp 124.154</s>" in html
    assert f"dibatalkan per {dmy(on)}: Uang palsu" in html
    assert reverse("loans:reverse", args=[payment.pk]) not in html
    loan = response.context["loan"]
    assert (loan.outstanding, loan.days_past_due) == (1_200_000, 23)
    # The receipt stays, marked.
    receipt = ketua_client.get(reverse("loans:receipt", args=[payment.pk])).content.decode()
    assert f"Pembayaran ini dibatalkan per {dmy(on)}." in receipt


def test_reversing_twice_is_refused(ketua_client, ketua, payment):
    url = reverse("loans:reverse", args=[payment.pk])
    ketua_client.post(url, {"on": today().isoformat(), "reason": "Uang palsu"})
    before = snapshot()

    response = ketua_client.post(url, {"on": today().isoformat(), "reason": "Lagi"})

    message = f"Pembayaran ini sudah dibatalkan per {dmy(today())}."
    assert response.status_code == 200
    assert response.context["refusal"] == message
    html = response.content.decode()
    assert message in html and "Batalkan pembayaran</button>" not in html
    assert snapshot() == before
    assert JournalEntry.objects.filter(kind="reversal").count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": ""}, "reason", "Tulis alasan pembatalan pembayaran."),
        ({"on": 1}, "on", "Tanggal ini tidak boleh di masa depan."),
        ({"on": -21}, "on", "Tanggal pembatalan tidak boleh sebelum tanggal bayar ({paid})."),
    ],
)
def test_bad_reversal_is_refused_next_to_the_field(ketua_client, payment, data, field, message):
    data = {"on": 0, "reason": "Uang palsu", **data}
    data["on"] = (today() + days(data["on"])).isoformat()
    message = message.format(paid=dmy(payment.paid_on))
    before = snapshot()

    response = ketua_client.post(reverse("loans:reverse", args=[payment.pk]), data)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert error_next_to(response.content.decode(), field, message)
    assert snapshot() == before


def test_with_four_eyes_a_reversal_is_requested_and_decided_by_another_approver(
    lkmm, ketua, pengelola, payment
):
    """The pengelola who recorded the payment proposes its reversal; nothing changes until an approver
    who neither recorded nor proposed it decides; the ketua then reverses it from the proposed date."""
    four_eyes(lkmm)
    url = reverse("loans:reverse", args=[payment.pk])
    assert "Ajukan pembatalan" in client_for(pengelola).get(detail(payment.loan)).content.decode()
    before = snapshot()

    response = client_for(pengelola).post(
        url, {"on": today().isoformat(), "reason": "Salah catat"}, follow=True
    )

    assert messages_of(response) == [
        "Pembatalan pembayaran diajukan; menunggu keputusan penyetuju lain (ketua.test)."
    ]
    payment.refresh_from_db()
    assert payment.reversed_on is None
    # No money row moved: only the request and its audit row were written.
    assert {**snapshot(), "audit": None} == {**before, "audit": None}
    waiting = DecisionRequest.objects.get()
    assert (waiting.kind, waiting.status, waiting.requested_by) == ("reversal", "menunggu", pengelola.user)

    # The proposer cannot decide it; the ketua can.
    proposer_page = client_for(pengelola).get(reverse("requests:detail", args=[waiting.pk]))
    assert proposer_page.context["decides"] is False
    refused = client_for(pengelola).post(reverse("requests:detail", args=[waiting.pk]), {"action": "approve"})
    assert refused.status_code == 200  # she may only withdraw it: the page asks for one of her buttons
    waiting.refresh_from_db()
    assert waiting.status == "menunggu"
    ketua_client = client_for(ketua)
    ketua_client.post(reverse("requests:detail", args=[waiting.pk]), {"action": "approve"})

    payment.refresh_from_db()
    waiting.refresh_from_db()
    assert (payment.reversed_on, payment.reversed_by, payment.reversal_reason) == (
        today(),
        ketua.user,
        "Salah catat",
    )
    assert (waiting.status, waiting.decided_by) == ("disetujui", ketua.user)


def test_with_four_eyes_the_ketua_cannot_act_alone_or_decide_her_own_request(lkmm, ketua, payment):
    four_eyes(lkmm)
    url = reverse("loans:reverse", args=[payment.pk])
    with pytest.raises(ValidationError, match="diajukan dulu"):
        loan_services.repayment_reverse(repayment=payment, actor=ketua.user, on=today(), reason="x")

    client_for(ketua).post(url, {"on": today().isoformat(), "reason": "Salah catat"})
    waiting = DecisionRequest.objects.get()
    page = client_for(ketua).get(reverse("requests:detail", args=[waiting.pk]))
    assert page.context["decides"] is False
    assert "Belum ada penyetuju lain" in page.content.decode()
    approver = make_approver(lkmm)
    client_for(approver).post(reverse("requests:detail", args=[waiting.pk]), {"action": "approve"})

    payment.refresh_from_db()
    assert payment.reversed_by == approver


# --- late fees -----------------------------------------------------------------------------------


def test_ketua_waives_the_late_fees(ketua_client, ketua, late):
    page = ketua_client.get(detail(late))
    assert page.context["fees_owed"] == 20_000
    assert "Bebaskan denda (Rp 20.000)" in page.content.decode()

    response = ketua_client.post(
        reverse("loans:waive", args=[late.pk]), {"on": today().isoformat(), "reason": "Sakit"}, follow=True
    )

    assert response.redirect_chain == [(detail(late), 302)]
    assert messages_of(response) == ["Denda P-00001 dibebaskan."]
    waivers = list(Waiver.objects.filter(loan=late).order_by("installment__seq"))
    assert [(w.installment.seq, w.late_fee, w.interest) for w in waivers] == [
        (k, 5_000, 0) for k in (1, 2, 3, 4)
    ]
    assert {(w.on, w.reason, w.approved_by) for w in waivers} == {(today(), "Sakit", ketua.user)}
    assert AuditLog.objects.get(action="loan.waive_late_fees").data == {"total": 20_000}
    assert response.context["fees_owed"] == 0
    assert response.context["loan"].overdue_fees == 0
    html = response.content.decode()
    assert "Bebaskan denda" not in html
    assert "denda Rp 5.000 — Sakit" in html  # the waivers list


def test_pengelola_cannot_waive_late_fees(pengelola_client, late):
    assert "Bebaskan denda" not in pengelola_client.get(detail(late)).content.decode()
    before = snapshot()

    response = pengelola_client.post(
        reverse("loans:waive", args=[late.pk]), {"on": today().isoformat(), "reason": "Sakit"}
    )

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("loan", "data", "message"),
    [
        ("late", {"reason": ""}, "Tulis alasan pembebasan denda."),
        ("late", {"on": ""}, "Bidang ini tidak boleh kosong."),
        ("late", {"on": 1}, "Tanggal ini tidak boleh di masa depan."),
        ("active", {}, "Tidak ada denda yang terutang."),
    ],
)
def test_bad_waiver_is_refused_with_a_message(request, ketua_client, loan, data, message):
    """An int `on` is days from today."""
    loan = request.getfixturevalue(loan)
    data = {"on": 0, "reason": "Sakit", **data}
    if isinstance(data["on"], int):
        data["on"] = (today() + days(data["on"])).isoformat()
    before = snapshot()

    response = ketua_client.post(reverse("loans:waive", args=[loan.pk]), data, follow=True)

    assert messages_of(response) == [message]
    assert snapshot() == before


# --- early payoff --------------------------------------------------------------------------------


@pytest.fixture
def early(lkmm, ketua):
    """Disbursed today on a product that waives the interest not yet due at early payoff."""
    product = LoanProductFactory(lkmm=lkmm, waive_interest_on_payoff=True)
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm), product=product, disbursed_on=today(), approved_by=ketua.user
    )


def test_repayment_form_names_the_early_payoff_amount(pengelola_client, early):
    response = pengelola_client.get(reverse("loans:repay", args=[early.pk]))

    assert (response.context["payoff"], response.context["early_payoff"]) == (PAYOFF, 1_200_000)
    html = response.content.decode()
    assert (
        'Rp 1.200.000 <small class="muted">(bunga angsuran yang belum jatuh tempo dibebaskan)</small>' in html
    )
    assert "Rp 1.241.540" not in html
    assert response.context["early_payoff"] == pengelola_client.get(detail(early)).context["early_payoff"]


def test_without_the_waiver_the_form_names_the_full_payoff(pengelola_client, active):
    response = pengelola_client.get(reverse("loans:repay", args=[active.pk]))

    assert response.context["early_payoff"] is None
    assert "bunga angsuran yang belum jatuh tempo dibebaskan" not in response.content.decode()


def test_paying_the_early_payoff_amount_closes_the_loan(pengelola_client, early):
    refused = pay(pengelola_client, early, "1.200.001")
    assert refused.context["form"].errors["amount"] == [
        "Melebihi sisa pinjaman. Untuk melunasi, bayar Rp1.200.000."
    ]

    response = pay(pengelola_client, early, "1.200.000")

    assert response.status_code == 302
    early.refresh_from_db()
    assert early.status == "lunas"
    waivers = Waiver.objects.filter(loan=early)
    assert (waivers.count(), sum(w.interest for w in waivers)) == (10, 10 * 4_154)
    assert {w.reason for w in waivers} == {"Pelunasan dipercepat K-000001"}


# --- products ------------------------------------------------------------------------------------

PRODUCT = {
    "name": "Mingguan Kelompok",
    "interest_method": "flat",
    "frequency": "weekly",
    "rate_per_month": "1.5",
    "installment_count": "10",
    "rounding_unit": "1",
    "min_amount": "100.000",
    "max_amount": "5.000.000",
    "admin_fee_percent": "1.5",
    "admin_fee_mode": "cash",
    "late_fee": "Rp 5.000",
    "waive_interest_on_payoff": "on",
    "requires_group": "on",
}


def test_ketua_creates_a_product_with_fees_and_group_terms(ketua_client, lkmm):
    form = ketua_client.get(reverse("loans:product_create")).content.decode()
    for field in (
        "admin_fee_percent",
        "admin_fee_mode",
        "late_fee",
        "waive_interest_on_payoff",
        "requires_group",
    ):
        assert f'name="{field}"' in form

    response = ketua_client.post(reverse("loans:product_create"), PRODUCT)

    assert response.status_code == 302
    product = LoanProduct.objects.get(lkmm=lkmm, name="Mingguan Kelompok")
    assert (product.admin_fee_percent, product.admin_fee_mode, product.late_fee) == (
        Decimal("1.5"),
        "cash",
        5_000,
    )
    assert (product.waive_interest_on_payoff, product.requires_group) == (True, True)
    # The terms travel to the loans made on it.
    member = MemberFactory(lkmm=lkmm)
    with pytest.raises(ValidationError, match="kelompok"):
        make_loan(member=member, product=product)


def test_an_empty_late_fee_means_none(ketua_client, lkmm):
    response = ketua_client.post(reverse("loans:product_create"), {**PRODUCT, "late_fee": ""})

    assert response.status_code == 302
    assert LoanProduct.objects.get(lkmm=lkmm).late_fee == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        # The browser's number input always sends a dot; a comma typed past it is refused, not misread.
        ({"admin_fee_percent": "1,5"}, "admin_fee_percent", "Masukkan sebuah bilangan."),
        ({"admin_fee_percent": "abc"}, "admin_fee_percent", "Masukkan sebuah bilangan."),
        ({"admin_fee_percent": ""}, "admin_fee_percent", "Bidang ini tidak boleh kosong."),
        (
            {"admin_fee_percent": "11"},
            "admin_fee_percent",
            "Pastikan nilai ini lebih kecil dari atau sama dengan 10.",
        ),
        ({"admin_fee_mode": "later"}, "admin_fee_mode", None),
        ({"late_fee": "lima ribu"}, "late_fee", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ({"late_fee": "5,5"}, "late_fee", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ({"late_fee": "-5000"}, "late_fee", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
    ],
)
def test_bad_product_terms_are_refused_next_to_the_field(ketua_client, lkmm, changes, field, message):
    response = ketua_client.post(reverse("loans:product_create"), {**PRODUCT, **changes})

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert len(errors) == 1
    if message is not None:
        assert errors == [message]
        assert error_next_to(response.content.decode(), field, message)
    assert not LoanProduct.objects.exists()


# --- query counts --------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


def test_loan_page_query_count_does_not_grow_with_payments(ketua_client, ketua, lkmm, pengelola):
    """Two loans on a late-fee product, one with 2 payments and one with 10 (a reversed one, a paid-by
    mate and a waiver among them): the same number of queries."""

    def loan_with(payments):
        loan = make_active_loan(
            member=MemberFactory(lkmm=lkmm),
            product=LoanProductFactory(lkmm=lkmm, late_fee=5_000),
            disbursed_on=today() - days(30),
            approved_by=ketua.user,
        )
        mate = MemberFactory(lkmm=lkmm)
        group_create(
            lkmm=lkmm,
            actor=None,
            name=f"Kelompok {loan.pk}",
            meeting_day=0,
            meeting_place="Balai desa",
            joint_liability=True,
            members=[loan.member, mate, MemberFactory(lkmm=lkmm)],
            leader=mate,
            on=today() - days(60),
        )
        made = [
            loan_services.repayment_record(
                loan=loan,
                amount=20_000,
                paid_on=today() - days(29 - k),
                actor=pengelola.user,
                paid_by=mate if k % 2 else None,
            )
            for k in range(payments)
        ]
        loan_services.repayment_reverse(repayment=made[0], actor=ketua.user, on=today(), reason="Salah catat")
        loan_services.late_fees_waive(loan=loan, actor=ketua.user, on=today(), reason="Sakit")
        return loan

    small, large = loan_with(2), loan_with(10)
    count_small, response_small = _queries(ketua_client, detail(small))
    count_large, response_large = _queries(ketua_client, detail(large))

    assert (len(response_small.context["repayments"]), len(response_large.context["repayments"])) == (2, 10)
    assert response_large.context["waivers"]
    # 11: the ten of the page and the ketua's count of waiting decisions in the bottom bar (one query).
    assert count_large == count_small <= 11


# --- methods and login ---------------------------------------------------------------------------


@pytest.mark.parametrize("view", ["approve", "reject", "waive"])
def test_get_on_a_post_only_view_is_405(ketua_client, applied, late, view):
    loan = late if view == "waive" else applied
    before = snapshot()

    response = ketua_client.get(reverse(f"loans:{view}", args=[loan.pk]))

    assert response.status_code == 405
    assert snapshot() == before


@pytest.mark.parametrize("view", ["approve", "reject", "waive"])
def test_dinas_gets_403_on_the_engine_views(dinas_client, applied, late, view):
    loan = late if view == "waive" else applied
    before = snapshot()

    response = dinas_client.post(
        reverse(f"loans:{view}", args=[loan.pk]),
        {"reject-reason": "x", "reason": "x", "on": today().isoformat()},
    )

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("view", ["approve", "reject", "waive"])
def test_another_lkmms_loan_is_not_found(other_lkmm, applied, late, view):
    client = client_for(StaffFactory(lkmm=other_lkmm, ketua=True))
    loan = late if view == "waive" else applied
    before = snapshot()

    response = client.post(
        reverse(f"loans:{view}", args=[loan.pk]),
        {"reject-reason": "x", "reason": "x", "on": today().isoformat()},
    )

    assert response.status_code == 404
    assert snapshot() == before


def test_anonymous_is_sent_to_the_login_page(client, applied, late, payment):
    before = snapshot()
    reverse_url = reverse("loans:reverse", args=[payment.pk])
    response = client.get(reverse_url)
    assert (response.status_code, response["Location"]) == (302, login_url(reverse_url))
    for url in [
        reverse("loans:approve", args=[applied.pk]),
        reverse("loans:reject", args=[applied.pk]),
        reverse("loans:waive", args=[late.pk]),
        reverse_url,
    ]:
        response = client.post(url, {"reject-reason": "x", "reason": "x", "on": today().isoformat()})
        assert (response.status_code, response["Location"]) == (302, login_url(url)), url
    assert snapshot() == before
