"""Authority and four eyes (DOMAIN.md), table-driven: role x four eyes x who recorded or proposed, for
every decision. The role decides; four eyes adds a second person and never widens who may decide."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from institutions.decisions import request_create, request_decide
from institutions.models import DecisionRequest, RequestKind, RequestStatus, Role
from ledger.models import PeriodClose
from loans import services as loan_services
from loans.models import LoanProduct, LoanStatus
from members.models import MemberStatus
from members.services import member_apply, member_transition
from risk import services as risk_services
from tests.factories import (
    LkmmFactory,
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    make_active_loan,
    make_approver,
    make_loan,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAYS = datetime.timedelta


@pytest.fixture
def people():
    lkmm = LkmmFactory(code="otoritas")
    other = LkmmFactory(code="lain")
    return {
        "lkmm": lkmm,
        "ketua": StaffFactory(lkmm=lkmm, role=Role.KETUA, user__username="ketua.o").user,
        "pengelola": StaffFactory(lkmm=lkmm, user__username="pengelola.o").user,
        "approver": make_approver(lkmm, username="bendahara.o"),
        "dinas": StaffFactory(dinas=True, user__username="dinas.o").user,
        "other_ketua": StaffFactory(lkmm=other, role=Role.KETUA, user__username="ketua.lain").user,
    }


def _active(people, **kwargs):
    return make_active_loan(
        member=MemberFactory(lkmm=people["lkmm"]),
        product=kwargs.pop("product", None) or LoanProductFactory(lkmm=people["lkmm"]),
        disbursed_on=kwargs.pop("disbursed_on", TODAY - DAYS(60)),
        approved_by=people["ketua"],
        **kwargs,
    )


# Each decision: make the item (recorded by `recorder`), its inputs, and whether it took effect.
# Application-type decisions (admission, approval) are items recorded by someone and decided by another;
# the others act at once without four eyes and become a request under it.


def _admission(people, recorder):
    member = member_apply(
        lkmm=people["lkmm"],
        actor=recorder,
        application={
            "referee_member": MemberFactory(lkmm=people["lkmm"]),
            "business_plan": "x",
            "requested_amount": 1,
        },
        nik="3509104501800777",
        full_name="Siti Uji",
        gender="P",
        birth_date="1980-01-05",
        desa="Semenggu",
        business="Warung",
        joined_on=TODAY.isoformat(),
    )
    return {
        "call": lambda actor: member_transition(member=member, to=MemberStatus.AKTIF, actor=actor),
        "done": lambda: member.__class__.objects.get(pk=member.pk).status == MemberStatus.AKTIF,
    }


def _approval(people, recorder):
    loan = make_loan(member=MemberFactory(lkmm=people["lkmm"]), applied_on=TODAY, actor=recorder)
    return {
        "call": lambda actor: loan_services.loan_approve(loan=loan, actor=actor),
        "done": lambda: loan.__class__.objects.get(pk=loan.pk).status == LoanStatus.DISETUJUI,
    }


def _product(people, recorder):
    def call(actor):
        return loan_services.product_create(
            lkmm=people["lkmm"],
            actor=actor,
            name="Uji",
            interest_method="flat",
            frequency="weekly",
            rate_per_month=Decimal("1.5"),
            installment_count=10,
            rounding_unit=100,
            min_amount=100_000,
            max_amount=1_000_000,
        )

    return {"call": call, "done": lambda: LoanProduct.objects.filter(name="Uji").exists()}


def _reversal(people, recorder):
    loan = _active(people)
    payment = loan_services.repayment_record(
        loan=loan, amount=50_000, paid_on=TODAY - DAYS(5), actor=recorder
    )
    return {
        "kind": RequestKind.REVERSAL,
        "target": f"repayment:{payment.pk}",
        "recorded_by": recorder,
        "inputs": {"repayment": payment, "on": TODAY, "reason": "Salah catat"},
        "done": lambda: payment.__class__.objects.get(pk=payment.pk).reversed_on is not None,
    }


def _waiver(people, recorder):
    loan = _active(people, product=LoanProductFactory(lkmm=people["lkmm"], late_fee=5_000))
    return {
        "kind": RequestKind.WAIVER,
        "target": f"loan:{loan.pk}",
        "inputs": {"loan": loan, "on": TODAY, "reason": "Sakit"},
        "done": lambda: loan.waivers.exists(),
    }


def _restructure(people, recorder):
    loan = _active(people)
    product = LoanProductFactory(lkmm=people["lkmm"])
    return {
        "kind": RequestKind.RESTRUCTURE,
        "target": f"loan:{loan.pk}",
        "inputs": {"loan": loan, "on": TODAY, "product": product, "reason": "Usaha sepi"},
        "done": lambda: loan.__class__.objects.get(pk=loan.pk).status == LoanStatus.DIRESTRUKTURISASI,
    }


def _write_off(people, recorder):
    loan = _active(people)
    return {
        "kind": RequestKind.WRITE_OFF,
        "target": f"loan:{loan.pk}",
        "inputs": {"loan": loan, "on": TODAY, "reason": "Macet"},
        "done": lambda: loan.__class__.objects.get(pk=loan.pk).status == LoanStatus.DIHAPUSBUKUKAN,
    }


def _recovery(people, recorder):
    loan = _active(people)
    risk_services.loan_write_off(loan=loan, actor=people["ketua"], on=TODAY, reason="Macet")
    return {
        "kind": RequestKind.RECOVERY,
        "target": f"loan:{loan.pk}",
        "inputs": {"loan": loan, "amount": 10_000, "received_on": TODAY, "note": ""},
        "done": lambda: loan.recoveries.exists(),
    }


def _reserve(people, recorder):
    return {
        "kind": RequestKind.RESERVE,
        "target": f"lkmm:{people['lkmm'].pk}",
        "inputs": {"lkmm": people["lkmm"], "on": TODAY, "amount": 10_000, "note": ""},
        "done": lambda: people["lkmm"].journal_entries.filter(kind="provision").exists(),
    }


def _close(people, recorder):
    month = (TODAY.replace(day=1) - DAYS(1)).replace(day=1)
    return {
        "kind": RequestKind.CLOSE,
        "target": f"month:{month:%Y-%m}",
        "inputs": {"lkmm": people["lkmm"], "month": month},
        "done": lambda: PeriodClose.objects.filter(lkmm=people["lkmm"]).exists(),
    }


def _reopen(people, recorder):
    month = (TODAY.replace(day=1) - DAYS(1)).replace(day=1)
    close = risk_services.month_close(lkmm=people["lkmm"], actor=people["ketua"], month=month)
    return {
        "kind": RequestKind.REOPEN,
        "target": f"month:{month:%Y-%m}",
        "inputs": {"close": close, "reason": "Pembayaran terlewat"},
        "done": lambda: PeriodClose.objects.get(pk=close.pk).reopened_at is not None,
    }


RECORDED = {"admission": _admission, "approval": _approval, "product": _product}
AT_ONCE = {
    "reversal": _reversal,
    "waiver": _waiver,
    "restructure": _restructure,
    "write_off": _write_off,
    "recovery": _recovery,
    "reserve": _reserve,
    "close": _close,
    "reopen": _reopen,
}
SERVICES = {
    RequestKind.REVERSAL: loan_services.repayment_reverse,
    RequestKind.WAIVER: loan_services.late_fees_waive,
    RequestKind.RESTRUCTURE: loan_services.loan_restructure,
    RequestKind.WRITE_OFF: risk_services.loan_write_off,
    RequestKind.RECOVERY: risk_services.recovery_record,
    RequestKind.RESERVE: risk_services.reserve_allocate,
    RequestKind.CLOSE: risk_services.month_close,
    RequestKind.REOPEN: risk_services.month_reopen,
}
ACTORS = ["pengelola", "ketua", "approver", "dinas", "other_ketua"]
DECIDERS = {"ketua", "approver"}


def _set_four_eyes(people, on):
    people["lkmm"].four_eyes = on
    people["lkmm"].save(update_fields=["four_eyes"])


def _outcome(call):
    try:
        call()
    except (PermissionDenied, ValidationError):
        return "refused"
    return "done"


@pytest.mark.parametrize("four_eyes", [False, True], ids=["plain", "four-eyes"])
@pytest.mark.parametrize("recorder", ["pengelola", "ketua"])
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("decision", list(RECORDED))
def test_recorded_items_are_decided_by_the_role_and_under_four_eyes_not_by_their_recorder(
    people, decision, actor, recorder, four_eyes
):
    _set_four_eyes(people, four_eyes)
    item = RECORDED[decision](people, people[recorder])
    # Products are not recorded by anyone: only the role counts.
    expected = actor in DECIDERS and not (four_eyes and actor == recorder and decision != "product")

    outcome = _outcome(lambda: item["call"](people[actor]))

    assert outcome == ("done" if expected else "refused")
    assert item["done"]() is expected


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("decision", list(AT_ONCE))
def test_without_four_eyes_only_a_decider_acts_at_once(people, decision, actor):
    item = AT_ONCE[decision](people, people["pengelola"])
    service = SERVICES[item["kind"]]

    outcome = _outcome(lambda: service(actor=people[actor], **item["inputs"]))

    expected = actor in DECIDERS
    assert outcome == ("done" if expected else "refused")
    assert item["done"]() is expected


@pytest.mark.parametrize("decision", list(AT_ONCE))
def test_under_four_eyes_nobody_acts_at_once(people, decision):
    item = AT_ONCE[decision](people, people["pengelola"])
    _set_four_eyes(people, True)

    for actor in ACTORS:
        assert (
            _outcome(lambda a=actor: SERVICES[item["kind"]](actor=people[a], **item["inputs"])) == "refused"
        )
    assert item["done"]() is False


@pytest.mark.parametrize("proposer", ["pengelola", "ketua", "approver"])
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("decision", list(AT_ONCE))
def test_under_four_eyes_a_request_is_decided_by_another_approver(people, decision, actor, proposer):
    item = AT_ONCE[decision](people, people["pengelola"])
    _set_four_eyes(people, True)
    waiting = request_create(
        kind=item["kind"],
        lkmm=people["lkmm"],
        actor=people[proposer],
        target=item["target"],
        summary="uji",
        recorded_by=item.get("recorded_by"),
        **{k: v for k, v in item["inputs"].items() if k != "lkmm"},
    )
    assert item["done"]() is False  # a request changes nothing by itself

    outcome = _outcome(lambda: request_decide(request=waiting, actor=people[actor], approve=True))

    recorder = "pengelola" if decision == "reversal" else None
    expected = actor in DECIDERS and actor != proposer and actor != recorder
    assert outcome == ("done" if expected else "refused")
    assert item["done"]() is expected
    waiting.refresh_from_db()
    assert waiting.status == (RequestStatus.APPROVED if expected else RequestStatus.WAITING)


def test_a_request_is_checked_when_made_and_a_second_one_for_the_same_item_is_refused(people):
    item = _write_off(people, people["pengelola"])
    _set_four_eyes(people, True)
    inputs = {**item["inputs"], "on": item["inputs"]["loan"].disbursed_on - DAYS(1)}
    with pytest.raises(ValidationError):
        request_create(
            kind=item["kind"],
            lkmm=people["lkmm"],
            actor=people["pengelola"],
            target=item["target"],
            summary="x",
            **inputs,
        )
    assert not DecisionRequest.objects.exists()
    request_create(
        kind=item["kind"],
        lkmm=people["lkmm"],
        actor=people["pengelola"],
        target=item["target"],
        summary="x",
        **item["inputs"],
    )
    with pytest.raises(ValidationError, match="sudah menunggu"):
        request_create(
            kind=item["kind"],
            lkmm=people["lkmm"],
            actor=people["ketua"],
            target=item["target"],
            summary="x",
            **item["inputs"],
        )
    assert DecisionRequest.objects.count() == 1


def test_a_refusal_needs_a_reason_and_changes_nothing(people):
    item = _write_off(people, people["pengelola"])
    _set_four_eyes(people, True)
    waiting = request_create(
        kind=item["kind"],
        lkmm=people["lkmm"],
        actor=people["pengelola"],
        target=item["target"],
        summary="x",
        **item["inputs"],
    )
    with pytest.raises(ValidationError):
        request_decide(request=waiting, actor=people["ketua"], approve=False, note=" ")
    request_decide(request=waiting, actor=people["ketua"], approve=False, note="Masih bisa ditagih")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by, waiting.decision_note) == (
        RequestStatus.REJECTED,
        people["ketua"],
        "Masih bisa ditagih",
    )
    assert item["done"]() is False


def test_four_eyes_cannot_be_switched_on_with_one_decider(people):
    lkmm = LkmmFactory(code="sendiri")
    StaffFactory(lkmm=lkmm, role=Role.KETUA)
    StaffFactory(lkmm=lkmm)  # a pengelola does not decide
    lkmm.four_eyes = True
    with pytest.raises(ValidationError) as refused:
        lkmm.full_clean()
    assert "four_eyes" in refused.value.message_dict
    make_approver(lkmm)
    lkmm.full_clean()  # a named approver in office makes two


def test_an_approver_decides_only_while_in_office(people):
    from institutions.models import BoardMember

    BoardMember.objects.filter(user=people["approver"]).update(term_end=TODAY - DAYS(1))
    people["approver"].staff.__dict__.pop("approves", None)
    item = _approval(people, people["pengelola"])
    assert _outcome(lambda: item["call"](people["approver"])) == "refused"


def test_a_new_board_under_four_eyes_must_name_an_approver(people):
    from institutions.models import BoardRole, ElectionMethod
    from institutions.services import board_elect

    _set_four_eyes(people, True)
    elect = {
        "lkmm": people["lkmm"],
        "actor": people["ketua"],
        "held_on": TODAY,
        "place": "Balai desa",
        "attendees": 50,
        "method": ElectionMethod.MUSYAWARAH,
    }
    ketua_seat = {"name": "Bu Ketua", "role": BoardRole.KETUA, "user": people["ketua"]}
    treasurer = {"name": "Bu Bendahara", "role": BoardRole.BENDAHARA, "user": people["pengelola"]}
    with pytest.raises(ValidationError, match="penyetuju"):
        board_elect(**elect, seats=[ketua_seat, treasurer])
    board_elect(**elect, seats=[ketua_seat, {**treasurer, "decides": True}])
    assert set(people["lkmm"].deciders()) == {people["ketua"], people["pengelola"]}


def test_request_pages_need_a_login_and_another_lkmm_gets_404(people, client):
    from django.urls import reverse

    from tests.factories import login

    item = _write_off(people, people["pengelola"])
    _set_four_eyes(people, True)
    waiting = request_create(
        kind=item["kind"],
        lkmm=people["lkmm"],
        actor=people["pengelola"],
        target=item["target"],
        summary="x",
        **item["inputs"],
    )
    url = reverse("requests:detail", args=[waiting.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    login(client, people["other_ketua"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve"}).status_code == 404
    assert waiting.__class__.objects.get(pk=waiting.pk).status == RequestStatus.WAITING
    login(client, people["dinas"])  # reads, never decides
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "approve"}).status_code == 403
    assert item["done"]() is False
