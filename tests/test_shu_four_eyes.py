"""SHU decisions under four eyes (the sharing, a held share paid out, fund spending and their reversals)
and the reversal of a recorded distribution (DOMAIN.md "Authority and four eyes"; history corrected by
reversal, never edited): balances restored exactly, check_books clean, refused whole when impossible."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from institutions.decisions import request_create, request_decide
from institutions.models import AuditLog, DecisionRequest, RequestKind, RequestStatus
from ledger.models import Account, AccountCode, JournalEntry
from members.models import MemberStatus, MemberStatusChange
from savings.models import SavingsAccount, SavingsKind, SavingsMovement
from savings.services import savings_return_all, savings_withdraw
from shu import selectors, services
from shu.models import FundSpending, Settlement, ShuReversal, ShuShare
from tests.factories import StaffFactory, login, make_approver
from tests.test_shu import YEAR_, _problems, build

DECIDED = datetime.date(YEAR_ + 1, 2, 1)
REVERSED = datetime.date(YEAR_ + 1, 3, 1)


def _balances(lkmm):
    return dict(Account.objects.filter(lkmm=lkmm).values_list("code", "balance_derived"))


def _sukarela(lkmm):
    """Each member's sukarela balance (an account the sharing opened counts as the zero it was)."""
    return {
        member: balance
        for member, balance in SavingsAccount.objects.filter(
            lkmm=lkmm, kind=SavingsKind.SUKARELA
        ).values_list("member_id", "balance_derived")
        if balance
    }


def _four_eyes(lkmm):
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save(update_fields=["four_eyes"])
    return approver


def _leave(member, *, by, on=datetime.date(YEAR_ + 1, 1, 5)):
    savings_return_all(member=member, on=on, actor=by)
    type(member).objects.filter(pk=member.pk).update(status=MemberStatus.KELUAR)
    MemberStatusChange.objects.create(member=member, from_status="aktif", to_status="keluar", by=by)


def _distribute(shu_year, actor, decision="sukarela", **kwargs):
    return services.shu_distribute(
        shu_year=shu_year, actor=actor, decided_on=DECIDED, decision=decision, minutes_no="BA-1", **kwargs
    )


@pytest.mark.django_db
def test_the_sharing_under_four_eyes_is_a_request_another_approver_decides(client):
    lkmm, ketua, people = build(members={"A": 600_000, "B": 300_000}, interest={"A": 60_000})
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    approver = _four_eyes(lkmm)
    pengelola = StaffFactory(lkmm=lkmm).user
    entries = JournalEntry.objects.count()
    # Nobody shares at once under four eyes.
    with pytest.raises(ValidationError, match="empat mata"):
        _distribute(shu_year, ketua)
    # The ketua proposes it on the page; it waits, nothing is posted.
    login(client, ketua)
    page = client.get(reverse("shu:distribute", args=[lkmm.code, YEAR_])).content.decode()
    assert "Ajukan pembagian" in page and approver.get_username() in page
    response = client.post(
        reverse("shu:distribute", args=[lkmm.code, YEAR_]),
        {"decided_on": "01/02/2026", "decision": "sukarela", "minutes_no": "BA-1/RAT"},
    )
    assert response.status_code == 302
    request = DecisionRequest.objects.get(kind=RequestKind.SHU_DISTRIBUTION)
    assert request.target == f"shu_year:{shu_year.pk}" and request.requested_by == ketua
    assert request.payload["decision"] == "sukarela" and request.payload["minutes_no"] == "BA-1/RAT"
    shu_year.refresh_from_db()
    assert not shu_year.distributed and JournalEntry.objects.count() == entries
    # It waits in the inbox with a link; the year's page links to it and offers no second proposal.
    login(client, approver)
    inbox = client.get(reverse("requests:list")).content.decode()
    assert reverse("requests:detail", args=[request.pk]) in inbox and "Pembagian SHU" in inbox
    detail = client.get(reverse("requests:detail", args=[request.pk])).content.decode()
    assert "Ditambahkan ke simpanan sukarela" in detail and "BA-1/RAT" in detail
    assert reverse("shu:year", args=[lkmm.code, YEAR_]) in detail
    year_page = client.get(reverse("shu:year", args=[lkmm.code, YEAR_])).content.decode()
    assert reverse("requests:detail", args=[request.pk]) in year_page
    assert reverse("shu:distribute", args=[lkmm.code, YEAR_]) not in year_page
    # The requester sees who may decide, and cannot decide it; a pengelola never can.
    login(client, ketua)
    detail = client.get(reverse("requests:detail", args=[request.pk])).content.decode()
    assert "Yang dapat memutuskan" in detail and approver.get_username() in detail
    with pytest.raises(ValidationError, match="empat mata"):
        request_decide(request=request, actor=ketua, approve=True)
    with pytest.raises(PermissionDenied):
        request_decide(request=request, actor=pengelola, approve=True)
    response = client.post(reverse("requests:detail", args=[request.pk]), {"action": "approve"})
    assert response.status_code == 200 and "Pilih salah satu tombol" in response.content.decode()
    login(client, pengelola)
    response = client.post(reverse("requests:detail", args=[request.pk]), {"action": "approve"})
    assert response.status_code == 403
    shu_year.refresh_from_db()
    assert not shu_year.distributed and JournalEntry.objects.count() == entries
    assert not ShuShare.objects.exists()
    # Another approver decides: the sharing is carried out, with the approver as actor.
    request_decide(request=request, actor=approver, approve=True)
    shu_year.refresh_from_db()
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert shu_year.distributed and shu_year.distributed_by == approver and shu_year.minutes_no == "BA-1/RAT"
    assert JournalEntry.objects.count() > entries
    assert ShuShare.objects.filter(shu_year=shu_year).count() == 2
    log = AuditLog.objects.get(action="shu.distribute", object_id=shu_year.pk)
    assert log.actor == approver and log.data["requested_by"] == ketua.pk
    assert AuditLog.objects.filter(action="request.approve", object_id=request.pk, actor=approver).exists()
    assert _balances(lkmm)[AccountCode.SHU_BELUM_DIBAGI] == 0
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_a_pengelola_never_decides_shu_matters(client):
    lkmm, ketua, people = build(members={"A": 600_000, "B": 300_000}, interest={})
    pengelola = StaffFactory(lkmm=lkmm).user
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    # Without four eyes: the pages refuse, the services refuse.
    login(client, pengelola)
    assert client.get(reverse("shu:distribute", args=[lkmm.code, YEAR_])).status_code == 403
    with pytest.raises(PermissionDenied):
        _distribute(shu_year, pengelola)
    with pytest.raises(PermissionDenied):
        services.sosial_spend(
            lkmm=lkmm, actor=pengelola, on=DECIDED, purpose="paud", description="x", amount=1_000
        )
    _distribute(shu_year, ketua)
    assert client.get(reverse("shu:reverse", args=[lkmm.code, YEAR_])).status_code == 403
    with pytest.raises(PermissionDenied):
        services.shu_reverse(shu_year=shu_year, actor=pengelola, on=REVERSED, reason="Salah")
    # With four eyes the pengelola may propose, never decide (not even what the ketua proposed).
    approver = _four_eyes(lkmm)
    assert client.get(reverse("shu:reverse", args=[lkmm.code, YEAR_])).status_code == 200
    response = client.post(
        reverse("shu:reverse", args=[lkmm.code, YEAR_]), {"on": "01/03/2026", "reason": "Salah catat"}
    )
    assert response.status_code == 302
    mine = DecisionRequest.objects.get(kind=RequestKind.SHU_REVERSAL)
    spend = request_create(
        kind=RequestKind.FUND_SPEND,
        lkmm=lkmm,
        actor=ketua,
        target="fund:uji",
        summary="PAUD",
        fund="sosial",
        on=REVERSED,
        purpose="paud",
        description="Buku PAUD",
        amount=100_000,
    )
    for request in (mine, spend):
        with pytest.raises((PermissionDenied, ValidationError)):
            request_decide(request=request, actor=pengelola, approve=True)
    shu_year.refresh_from_db()
    assert shu_year.distributed and not FundSpending.objects.exists()
    # Another approver decides: the spending is recorded; the reversal of the sharing is then refused
    # (it would take back dana sosial already spent), and nothing of it is saved.
    request_decide(request=spend, actor=approver, approve=True)
    spending = FundSpending.objects.get()
    assert spending.recorded_by == approver and spending.requested_by == ketua
    with pytest.raises(ValidationError, match="sudah dipakai"):
        request_decide(request=mine, actor=approver, approve=True)
    mine.refresh_from_db()
    assert mine.status == RequestStatus.WAITING
    shu_year.refresh_from_db()
    assert shu_year.distributed and not ShuReversal.objects.exists()
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_reversing_a_sukarela_sharing_restores_every_balance_exactly():
    lkmm, ketua, people = build()
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    before, savings_before = _balances(lkmm), _sukarela(lkmm)
    _distribute(shu_year, ketua)
    shares = list(ShuShare.objects.filter(shu_year=shu_year).select_related("movement"))
    assert _sukarela(lkmm) != savings_before
    entries = JournalEntry.objects.count()
    reversal = services.shu_reverse(shu_year=shu_year, actor=ketua, on=REVERSED, reason="Berita acara keliru")
    # Every account and every member's sukarela is back where it was before the sharing.
    assert _balances(lkmm) == before
    assert _sukarela(lkmm) == savings_before
    assert before[AccountCode.SHU_BELUM_DIBAGI] == -10_000_000
    assert _balances(lkmm)[AccountCode.UTANG_SHU] == 0
    # One entry reversing the sharing and one per credited share, all on the reversal's own date.
    credited = [s for s in shares if s.movement_id]
    assert JournalEntry.objects.count() == entries + 1 + len(credited)
    assert reversal.entry.date == REVERSED and reversal.cash_entry is None
    assert reversal.minutes_no == "BA-1" and reversal.decided_on == DECIDED and reversal.reversed_by == ketua
    for share in credited:
        share.movement.refresh_from_db()
        assert share.movement.reversed_on == REVERSED and share.movement.reversal_reason
    # The history stays: the shares point to their reversal; the year waits for a new decision.
    shu_year.refresh_from_db()
    assert not shu_year.distributed and shu_year.decided_on is None and shu_year.minutes_no == ""
    assert ShuShare.objects.filter(reversal=reversal).count() == len(shares) == 5
    assert AuditLog.objects.filter(action="shu.distribution_reverse", object_id=shu_year.pk).exists()
    assert AuditLog.objects.filter(action="savings.credit_reverse").count() == len(credited)
    assert _problems(lkmm) == []
    preview = selectors.preview(lkmm=lkmm, year=YEAR_)
    assert not preview.distributed and preview.members_total == sum(s.total for s in shares)
    with pytest.raises(ValidationError, match="belum dibagikan"):
        services.shu_reverse(shu_year=shu_year, actor=ketua, on=REVERSED, reason="lagi")
    # The corrected decision is recorded again and the books stay right.
    services.shu_distribute(
        shu_year=shu_year, actor=ketua, decided_on=REVERSED, decision="tunai", minutes_no="BA-2"
    )
    shu_year.refresh_from_db()
    assert shu_year.distributed and shu_year.minutes_no == "BA-2"
    assert ShuShare.objects.filter(shu_year=shu_year, reversal__isnull=True).count() == 5
    assert _sukarela(lkmm) == savings_before
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_reversing_a_cash_sharing_with_a_held_share_restores_kas_and_the_payable():
    lkmm, ketua, people = build(members={"A": 1_000_000, "B": 1_000_000}, interest={})
    _leave(people["B"], by=ketua)
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    before = _balances(lkmm)
    _distribute(shu_year, ketua, decision="tunai")
    assert _balances(lkmm)[AccountCode.UTANG_SHU] == -900_000
    assert _balances(lkmm)[AccountCode.KAS] == before[AccountCode.KAS] - 900_000
    reversal = services.shu_reverse(shu_year=shu_year, actor=ketua, on=REVERSED, reason="Rapat diulang")
    assert _balances(lkmm) == before
    assert reversal.cash_entry.lines.get(account__code=AccountCode.KAS).debit == 900_000
    held = ShuShare.objects.get(member=people["B"])
    assert held.settlement == Settlement.UTANG and not held.waiting and held.reversal == reversal
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_reversal_refused_when_a_held_share_was_paid_out_and_nothing_is_saved():
    lkmm, ketua, people = build(members={"A": 1_000_000, "B": 1_000_000}, interest={})
    _leave(people["B"], by=ketua)
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    _distribute(shu_year, ketua)
    held = ShuShare.objects.get(member=people["B"])
    services.share_collect(share=held, actor=ketua, on=datetime.date(YEAR_ + 1, 2, 15))
    balances, savings, entries = _balances(lkmm), _sukarela(lkmm), JournalEntry.objects.count()
    with pytest.raises(ValidationError, match="sudah diambil") as refused:
        services.shu_reverse(shu_year=shu_year, actor=ketua, on=REVERSED, reason="Salah")
    assert people["B"].full_name in refused.value.messages[0]
    shu_year.refresh_from_db()
    assert shu_year.distributed and not ShuReversal.objects.exists()
    assert _balances(lkmm) == balances and _sukarela(lkmm) == savings
    assert JournalEntry.objects.count() == entries
    assert not SavingsMovement.objects.filter(reversed_on__isnull=False).exists()
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_reversal_refused_when_a_credited_share_was_withdrawn_and_nothing_is_half_saved(client):
    lkmm, ketua, people = build(members={"A": 1_000_000, "B": 1_000_000}, interest={})
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    _distribute(shu_year, ketua)
    # B takes out all her sukarela, her SHU among it; A's credit (reversed first) could be undone.
    account = SavingsAccount.objects.get(member=people["B"], kind=SavingsKind.SUKARELA)
    savings_withdraw(
        account=account, amount=account.balance_derived, on=datetime.date(YEAR_ + 1, 2, 20), actor=ketua
    )
    balances, savings, entries = _balances(lkmm), _sukarela(lkmm), JournalEntry.objects.count()
    with pytest.raises(ValidationError, match=people["B"].full_name):
        services.shu_reverse(shu_year=shu_year, actor=ketua, on=REVERSED, reason="Salah")
    shu_year.refresh_from_db()
    assert shu_year.distributed and not ShuReversal.objects.exists()
    assert _balances(lkmm) == balances and _sukarela(lkmm) == savings
    assert JournalEntry.objects.count() == entries
    assert not ShuShare.objects.filter(movement__reversed_on__isnull=False).exists()
    # The page shows the refusal in Indonesian, no 500.
    login(client, ketua)
    response = client.post(
        reverse("shu:reverse", args=[lkmm.code, YEAR_]), {"on": "01/03/2026", "reason": "Salah"}
    )
    assert response.status_code == 200 and "sudah ditarik" in response.content.decode()
    # A date before the meeting goes next to the date field.
    response = client.post(
        reverse("shu:reverse", args=[lkmm.code, YEAR_]), {"on": "01/01/2026", "reason": "Salah"}
    )
    assert response.status_code == 200 and "on" in response.context["form"].errors
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_reversal_under_four_eyes_excludes_its_proposer_and_the_sharings_recorder():
    lkmm, ketua, people = build(members={"A": 600_000, "B": 300_000}, interest={})
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    before, savings_before = _balances(lkmm), _sukarela(lkmm)
    _distribute(shu_year, ketua)
    approver = _four_eyes(lkmm)
    third = make_approver(lkmm, role="sekretaris")
    with pytest.raises(ValidationError, match="empat mata"):
        services.shu_reverse(shu_year=shu_year, actor=approver, on=REVERSED, reason="Salah")
    request = request_create(
        kind=RequestKind.SHU_REVERSAL,
        lkmm=lkmm,
        actor=approver,
        target=f"shu_year:{shu_year.pk}",
        summary="Pembatalan",
        recorded_by=shu_year.distributed_by,
        shu_year=shu_year,
        on=REVERSED,
        reason="Salah catat",
    )
    entries = JournalEntry.objects.count()
    for who in (approver, ketua):  # its proposer; whoever recorded the sharing
        with pytest.raises(ValidationError, match="empat mata"):
            request_decide(request=request, actor=who, approve=True)
    assert JournalEntry.objects.count() == entries
    request_decide(request=request, actor=third, approve=True)
    reversal = ShuReversal.objects.get()
    assert reversal.reversed_by == third and reversal.requested_by == approver
    assert _balances(lkmm) == before and _sukarela(lkmm) == savings_before
    assert AuditLog.objects.filter(action="shu.distribution_reverse", actor=third).exists()
    assert _problems(lkmm) == []


@pytest.mark.django_db
def test_fund_spending_collection_and_their_reversal_under_four_eyes(client):
    lkmm, ketua, people = build(members={"A": 1_000_000, "B": 1_000_000}, interest={})
    _leave(people["B"], by=ketua)
    shu_year = services.year_close(lkmm=lkmm, year=YEAR_, actor=ketua)
    _distribute(shu_year, ketua)
    approver = _four_eyes(lkmm)
    pengelola = StaffFactory(lkmm=lkmm).user
    fund, kas = selectors.fund_balance(lkmm=lkmm), _balances(lkmm)[AccountCode.KAS]
    # The pengelola proposes a spending on the page; the page says who decides.
    login(client, pengelola)
    page = client.get(reverse("shu:sosial", args=[lkmm.code])).content.decode()
    assert "empat mata" in page and "Ajukan" in page
    response = client.post(
        reverse("shu:sosial", args=[lkmm.code]),
        {
            "fund": "sosial",
            "on": "01/03/2026",
            "purpose": "posyandu",
            "description": "PMT balita",
            "amount": "150.000",
        },
    )
    assert response.status_code == 302 and not FundSpending.objects.exists()
    spend = DecisionRequest.objects.get(kind=RequestKind.FUND_SPEND)
    # A proposal above the fund is refused at once, next to the amount.
    response = client.post(
        reverse("shu:sosial", args=[lkmm.code]),
        {"fund": "sosial", "on": "01/03/2026", "purpose": "paud", "description": "x", "amount": fund + 1},
    )
    assert response.status_code == 200 and "amount" in response.context["form"].errors
    request_decide(request=spend, actor=ketua, approve=True)
    spending = FundSpending.objects.get()
    assert spending.recorded_by == ketua and spending.requested_by == pengelola
    assert selectors.fund_balance(lkmm=lkmm) == fund - 150_000
    # Its reversal: proposed by the approver, not decided by the ketua who recorded the spending.
    login(client, approver)
    response = client.post(
        reverse("shu:sosial_reverse", args=[spending.pk]), {"on": "02/03/2026", "reason": "Salah"}
    )
    assert response.status_code == 302
    undo = DecisionRequest.objects.get(kind=RequestKind.FUND_REVERSAL)
    page = client.get(reverse("shu:sosial", args=[lkmm.code])).content.decode()
    assert "Pembatalan menunggu keputusan" in page
    with pytest.raises(ValidationError, match="empat mata"):
        request_decide(request=undo, actor=ketua, approve=True)
    spending.refresh_from_db()
    assert spending.reversed_on is None
    third = make_approver(lkmm, role="sekretaris")
    request_decide(request=undo, actor=third, approve=True)
    spending.refresh_from_db()
    assert spending.reversed_on == datetime.date(2026, 3, 2) and spending.reversed_by == third
    assert selectors.fund_balance(lkmm=lkmm) == fund
    # The held share's payout: proposed by the pengelola, paid on the approver's decision.
    held = ShuShare.objects.get(member=people["B"])
    login(client, pengelola)
    response = client.post(reverse("shu:collect", args=[held.pk]), {"on": "05/03/2026"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.waiting
    collect = DecisionRequest.objects.get(kind=RequestKind.SHU_COLLECT)
    with pytest.raises(PermissionDenied):
        request_decide(request=collect, actor=pengelola, approve=True)
    request_decide(request=collect, actor=approver, approve=True)
    held.refresh_from_db()
    assert held.collected_on == datetime.date(2026, 3, 5) and held.collected_by == approver
    assert _balances(lkmm)[AccountCode.KAS] == kas - 900_000
    assert _balances(lkmm)[AccountCode.UTANG_SHU] == 0
    assert _problems(lkmm) == []
