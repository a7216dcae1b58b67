"""Members' savings (issue 13, first part): accounts per kind, deposits, withdrawals as decisions,
reversals, the one kuitansi sequence, the passbook and check_books."""

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from institutions.decisions import request_create, request_decide
from institutions.models import AuditLog, DecisionRequest, RequestKind
from ledger import checks
from ledger.models import JournalEntry
from ledger.services import voucher_post
from loans import services as loan_services
from members.services import member_transition
from savings import selectors, services
from savings.models import SavingsAccount, SavingsMovement
from tests.factories import LkmmFactory, MemberFactory, ketua_of, login, make_active_loan, make_approver

D = datetime.date


def today():
    return timezone.localdate()


def lines_of(entry):
    return {line.account.code: (line.debit, line.credit) for line in entry.lines.select_related("account")}


@pytest.fixture
def member(lkmm):
    return MemberFactory(lkmm=lkmm, full_name="Bu Penabung")


@pytest.fixture
def cash(lkmm, pengelola):
    """Rp 1.000.000 in kas from a grant, so withdrawals can be paid."""
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 1, 2),
        amount=1_000_000,
        memo="Hibah",
        account_code="3101",
        cash_account_code="1101",
    )


MARCH_2 = D(2026, 3, 2)


def deposit(member, kind, amount, on=MARCH_2, actor=None, **kwargs):
    actor = actor or ketua_of(member.lkmm)
    return services.savings_deposit(member=member, kind=kind, amount=amount, on=on, actor=actor, **kwargs)


def balances(member):
    return dict(SavingsAccount.objects.filter(member=member).values_list("kind", "balance_derived"))


def test_a_deposit_credits_the_members_account_and_the_kinds_liability_with_its_receipt(member, pengelola):
    movement = deposit(member, "wajib", 5_000, actor=pengelola.user)

    assert balances(member) == {"pokok": 0, "wajib": 5_000, "sukarela": 0}
    entry = JournalEntry.objects.get(source_type="savings.savingsmovement", source_id=movement.pk)
    assert lines_of(entry) == {"1101": (5_000, 0), "2103": (0, 5_000)}
    assert entry.date == D(2026, 3, 2)
    assert movement.receipt_code == "K-000001"
    audit = AuditLog.objects.get(action="savings.deposit", object_id=movement.pk)
    assert audit.actor == pengelola.user and audit.data["amount"] == 5_000


def test_repayments_and_savings_share_one_receipt_sequence(lkmm, member, pengelola):
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=D(2026, 3, 1))
    first = loan_services.repayment_record(
        loan=loan, amount=50_000, paid_on=D(2026, 3, 8), actor=pengelola.user
    )
    second = deposit(member, "sukarela", 20_000, on=D(2026, 3, 8))
    third = loan_services.repayment_record(
        loan=loan, amount=50_000, paid_on=D(2026, 3, 9), actor=pengelola.user
    )

    assert [first.receipt_no, second.receipt_no, third.receipt_no] == [1, 2, 3]
    assert list(checks.receipt_numbers(type(lkmm).objects.all())) == []


def test_a_resubmitted_deposit_form_records_one_deposit(member):
    token = uuid.uuid4()
    one = deposit(member, "sukarela", 20_000, token=token)
    two = deposit(member, "sukarela", 20_000, token=token)
    assert one.pk == two.pk
    assert balances(member)["sukarela"] == 20_000


@pytest.mark.parametrize(
    "kind, amount, on, field, message",
    [
        (
            "pokok",
            15_000,
            D(2026, 3, 2),
            "amount",
            "Simpanan pokok Rp 10.000 dibayar sekali; yang belum dibayar Rp 10.000.",
        ),
        ("wajib", 0, D(2026, 3, 2), "amount", "Jumlah setoran harus lebih dari nol."),
        ("wajib", 5_000, D(2023, 1, 1), "on", "Tanggal tidak boleh sebelum rekening dibuka (08/01/2024)."),
        ("wajib", 5_000, "tomorrow", "on", "Tanggal tidak boleh di masa depan."),
    ],
)
def test_deposit_refusals_name_the_field_and_write_nothing(member, kind, amount, on, field, message):
    on = today() + datetime.timedelta(days=1) if on == "tomorrow" else on
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        deposit(member, kind, amount, on=on)
    assert exc.value.message_dict[field] == [message]
    assert JournalEntry.objects.count() == entries
    assert SavingsMovement.objects.count() == 0


def test_pokok_is_paid_once(member):
    deposit(member, "pokok", 10_000)
    with pytest.raises(ValidationError) as exc:
        deposit(member, "pokok", 1)
    assert "yang belum dibayar Rp 0" in exc.value.messages[0]


def test_a_pengelola_cannot_withdraw_and_the_ketua_can(member, pengelola, cash):
    deposit(member, "sukarela", 100_000)
    account = SavingsAccount.objects.get(member=member, kind="sukarela")
    with pytest.raises(PermissionDenied):
        services.savings_withdraw(account=account, amount=40_000, on=D(2026, 3, 3), actor=pengelola.user)

    movement = services.savings_withdraw(
        account=account, amount=40_000, on=D(2026, 3, 3), actor=ketua_of(member.lkmm)
    )
    assert balances(member)["sukarela"] == 60_000
    entry = JournalEntry.objects.get(source_type="savings.savingsmovement", source_id=movement.pk)
    assert lines_of(entry) == {"2104": (40_000, 0), "1101": (0, 40_000)}


def test_wajib_is_locked_while_a_loan_is_outstanding_and_pokok_until_leaving(lkmm, member, cash):
    deposit(member, "pokok", 10_000)
    deposit(member, "wajib", 5_000)
    make_active_loan(member=member, disbursed_on=D(2026, 3, 1))
    ketua = ketua_of(lkmm)
    for kind, message in (
        ("wajib", "Simpanan wajib terkunci selama anggota masih punya pinjaman berjalan."),
        ("pokok", "Simpanan pokok dikembalikan hanya saat anggota keluar."),
    ):
        account = SavingsAccount.objects.get(member=member, kind=kind)
        with pytest.raises(ValidationError) as exc:
            services.savings_withdraw(account=account, amount=1_000, on=D(2026, 3, 3), actor=ketua)
        assert exc.value.messages == [message]


def test_a_balance_never_goes_below_zero_on_any_day(member, cash):
    deposit(member, "sukarela", 100_000, on=D(2026, 3, 2))
    account = SavingsAccount.objects.get(member=member, kind="sukarela")
    ketua = ketua_of(member.lkmm)
    services.savings_withdraw(account=account, amount=80_000, on=D(2026, 3, 10), actor=ketua)
    # 50.000 on 05/03 would leave 50.000, and then 10/03's withdrawal would take it to -30.000.
    with pytest.raises(ValidationError) as exc:
        services.savings_withdraw(account=account, amount=50_000, on=D(2026, 3, 5), actor=ketua)
    assert exc.value.message_dict["amount"] == [
        "Melebihi saldo yang dapat ditarik per 05/03/2026: Rp 20.000."
    ]


def test_a_withdrawal_needs_the_cash(member):
    deposit(member, "sukarela", 100_000, on=D(2026, 3, 2))
    voucher_post(
        lkmm=member.lkmm,
        actor=ketua_of(member.lkmm),
        kind="cash_out",
        date=D(2026, 3, 3),
        amount=70_000,
        memo="ATK",
        account_code="5201",
        cash_account_code="1101",
    )
    account = SavingsAccount.objects.get(member=member, kind="sukarela")
    with pytest.raises(ValidationError) as exc:
        services.savings_withdraw(
            account=account, amount=50_000, on=D(2026, 3, 4), actor=ketua_of(member.lkmm)
        )
    assert exc.value.message_dict["amount"] == ["Kas tidak cukup: saldo kas 04/03/2026 hanya Rp 30.000."]


def test_under_four_eyes_a_withdrawal_is_a_request_another_approver_decides(lkmm, member, pengelola, cash):
    approver = make_approver(lkmm)
    ketua = ketua_of(lkmm)
    lkmm.four_eyes = True
    lkmm.save()
    deposit(member, "sukarela", 100_000)
    account = SavingsAccount.objects.get(member=member, kind="sukarela")
    with pytest.raises(ValidationError) as exc:
        services.savings_withdraw(account=account, amount=30_000, on=D(2026, 3, 3), actor=ketua)
    assert "diajukan dulu" in exc.value.messages[0]

    waiting = request_create(
        kind=RequestKind.WITHDRAWAL,
        lkmm=lkmm,
        actor=pengelola.user,
        target=f"savings:{account.pk}",
        summary="uji",
        account=account,
        amount=30_000,
        on=D(2026, 3, 3),
        note="",
    )
    assert balances(member)["sukarela"] == 100_000
    with pytest.raises(PermissionDenied):
        request_decide(request=waiting, actor=pengelola.user, approve=True)
    request_decide(request=waiting, actor=approver, approve=True)
    assert balances(member)["sukarela"] == 70_000
    assert DecisionRequest.objects.get(pk=waiting.pk).status == "disetujui"
    assert SavingsMovement.objects.get(kind="tarik").recorded_by == pengelola.user


def test_a_reversed_deposit_stays_in_the_passbook_with_its_correction(member, pengelola):
    wrong = deposit(member, "sukarela", 50_000, on=D(2026, 3, 2), actor=pengelola.user)
    deposit(member, "sukarela", 5_000, on=D(2026, 3, 9), actor=pengelola.user)
    services.savings_reverse(
        movement=wrong, actor=ketua_of(member.lkmm), on=D(2026, 3, 10), reason="Salah ketik"
    )

    assert balances(member)["sukarela"] == 5_000
    assert SavingsMovement.objects.count() == 2
    account = next(a for a in selectors.passbook(member=member).accounts if a.kind == "sukarela")
    assert [
        (line.on, line.deposit, line.withdrawal, line.balance, line.reversal) for line in account.lines
    ] == [
        (D(2026, 3, 2), 50_000, 0, 50_000, False),
        (D(2026, 3, 9), 5_000, 0, 55_000, False),
        (D(2026, 3, 10), 0, 50_000, 5_000, True),
    ]
    reversal = JournalEntry.objects.filter(source_type="savings.savingsmovement", source_id=wrong.pk).latest(
        "number"
    )
    assert reversal.date == D(2026, 3, 10)
    assert lines_of(reversal) == {"2104": (50_000, 0), "1101": (0, 50_000)}
    assert list(checks.savings_match_books(type(member.lkmm).objects.all())) == []


def test_the_recorder_does_not_decide_the_reversal_of_their_own_deposit_under_four_eyes(
    lkmm, member, pengelola
):
    approver = make_approver(lkmm)
    ketua = ketua_of(lkmm)
    movement = deposit(member, "sukarela", 50_000, actor=ketua)
    lkmm.four_eyes = True
    lkmm.save()
    waiting = request_create(
        kind=RequestKind.SAVINGS_REVERSAL,
        lkmm=lkmm,
        actor=pengelola.user,
        target=f"savings_movement:{movement.pk}",
        summary="uji",
        recorded_by=ketua,
        movement=movement,
        on=D(2026, 3, 3),
        reason="Salah anggota",
    )
    with pytest.raises(ValidationError) as exc:
        request_decide(request=waiting, actor=ketua, approve=True)
    assert "penyetuju lain daripada yang mencatat" in exc.value.messages[0]
    assert SavingsMovement.objects.get(pk=movement.pk).reversed_on is None
    request_decide(request=waiting, actor=approver, approve=True)
    assert SavingsMovement.objects.get(pk=movement.pk).reversed_on == D(2026, 3, 3)
    assert balances(member)["sukarela"] == 0


def test_a_deposit_already_withdrawn_cannot_be_reversed(member, cash):
    movement = deposit(member, "sukarela", 50_000, on=D(2026, 3, 2))
    account = SavingsAccount.objects.get(member=member, kind="sukarela")
    ketua = ketua_of(member.lkmm)
    services.savings_withdraw(account=account, amount=50_000, on=D(2026, 3, 3), actor=ketua)
    with pytest.raises(ValidationError) as exc:
        services.savings_reverse(movement=movement, actor=ketua, on=D(2026, 3, 4), reason="x")
    assert exc.value.messages == ["Setoran ini sudah ditarik kembali: batalkan dulu penarikan sesudahnya."]


def test_check_books_finds_a_kept_balance_that_differs_from_the_movements(member):
    deposit(member, "wajib", 5_000)
    SavingsAccount.objects.filter(member=member, kind="wajib").update(balance_derived=6_000)
    problems = list(checks.savings_match_books(type(member.lkmm).objects.all()))
    assert len(problems) == 2  # the account against its movements, and the members against account 2103
    assert "wajib: balance Rp 6.000, movements Rp 5.000" in problems[0]
    assert "members' balances Rp 6.000, account 2103 Rp 5.000" in problems[1]


def test_admission_opens_the_three_accounts(lkmm, pengelola):
    from members.services import member_apply

    referee = MemberFactory(lkmm=lkmm)
    applicant = member_apply(
        lkmm=lkmm,
        actor=pengelola.user,
        application={"referee_member": referee, "business_plan": "Warung", "requested_amount": 500_000},
        nik="3509104501800099",
        full_name="Calon Penabung",
        gender="P",
        birth_date=D(1980, 1, 5),
        desa="Semenggu",
        business="Warung",
        joined_on=D(2026, 3, 1),
    )
    assert SavingsAccount.objects.filter(member=applicant).count() == 0
    member_transition(member=applicant, to="aktif", actor=ketua_of(lkmm))
    assert sorted(SavingsAccount.objects.filter(member=applicant).values_list("kind", flat=True)) == [
        "pokok",
        "sukarela",
        "wajib",
    ]


def test_a_member_with_savings_leaves_only_after_they_are_returned(lkmm, member, cash):
    deposit(member, "pokok", 10_000)
    deposit(member, "wajib", 15_000)
    ketua = ketua_of(lkmm)
    with pytest.raises(ValidationError):
        member_transition(member=member, to="keluar", actor=ketua, reason="Pindah")
    movements = services.savings_return_all(member=member, on=D(2026, 3, 5), actor=ketua)
    assert [(m.account.kind, m.amount) for m in movements] == [("pokok", 10_000), ("wajib", 15_000)]
    assert balances(member) == {"pokok": 0, "wajib": 0, "sukarela": 0}
    member_transition(member=member, to="keluar", actor=ketua, reason="Pindah")


def test_savings_cannot_be_returned_while_a_loan_is_outstanding(lkmm, member, cash):
    deposit(member, "pokok", 10_000)
    make_active_loan(member=member, disbursed_on=D(2026, 3, 1))
    with pytest.raises(ValidationError) as exc:
        services.savings_return_all(member=member, on=D(2026, 3, 5), actor=ketua_of(lkmm))
    assert "lunasi dulu" in exc.value.messages[0]


# --- pages -------------------------------------------------------------------------------------------


def test_deposit_page_records_and_shows_the_original_receipt_then_a_copy(client, member, pengelola):
    login(client, pengelola)
    page = client.get(f"/simpanan/anggota/{member.pk}/setor/")
    assert page.status_code == 200
    token = page.context["form"].initial["token"]
    response = client.post(
        f"/simpanan/anggota/{member.pk}/setor/",
        {"kind": "wajib", "amount": "5.000", "on": "02/03/2026", "note": "", "token": token},
    )
    movement = SavingsMovement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/simpanan/kuitansi/{movement.pk}/"
    first = client.get(response["Location"])
    assert first.context["original"] is True
    assert "Lima ribu rupiah" in first.content.decode()
    assert client.get(response["Location"]).context["original"] is False


def test_bad_deposit_input_is_shown_next_to_the_field_and_nothing_is_saved(client, member, pengelola):
    login(client, pengelola)
    response = client.post(
        f"/simpanan/anggota/{member.pk}/setor/",
        {"kind": "pokok", "amount": "20000", "on": "02/03/2026", "token": str(uuid.uuid4())},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [
        "Simpanan pokok Rp 10.000 dibayar sekali; yang belum dibayar Rp 10.000."
    ]
    assert SavingsMovement.objects.count() == 0


def test_passbook_and_receipt_of_another_lkmm_answer_404(client, member, pengelola):
    movement = deposit(member, "wajib", 5_000)
    other = MemberFactory(lkmm=LkmmFactory())
    login(client, pengelola)
    assert client.get(f"/simpanan/anggota/{other.pk}/").status_code == 404
    assert client.get(f"/simpanan/anggota/{other.pk}/setor/").status_code == 404
    assert client.get(f"/simpanan/anggota/{member.pk}/").status_code == 200
    from tests.factories import StaffFactory

    stranger = StaffFactory(lkmm=LkmmFactory(), role="ketua")
    login(client, stranger)
    assert client.get(f"/simpanan/kuitansi/{movement.pk}/").status_code == 404


def test_a_dinas_reviewer_reads_the_passbook_and_cannot_deposit(dinas_client, member):
    deposit(member, "wajib", 5_000)
    assert dinas_client.get(f"/simpanan/anggota/{member.pk}/").status_code == 200
    response = dinas_client.post(
        f"/simpanan/anggota/{member.pk}/setor/",
        {"kind": "wajib", "amount": "5000", "on": "02/03/2026", "token": str(uuid.uuid4())},
    )
    assert response.status_code == 403
    assert SavingsMovement.objects.count() == 1


def test_the_member_page_shows_savings_beside_loans(client, member, pengelola):
    deposit(member, "wajib", 5_000)
    login(client, pengelola)
    body = client.get(f"/anggota/{member.pk}/").content.decode()
    assert "Simpanan wajib" in body and "Rp 5.000" in body and f"/simpanan/anggota/{member.pk}/" in body


def test_the_ketua_sets_a_products_amount_and_a_pengelola_cannot(client, lkmm, pengelola):
    login(client, pengelola)
    assert client.post("/simpanan/produk/", {"kind": "wajib", "wajib-amount": "7000"}).status_code == 403
    login(client, ketua_of(lkmm))
    response = client.post("/simpanan/produk/", {"kind": "wajib", "wajib-amount": "7.000"})
    assert response.status_code == 302
    assert services.products_ensure(lkmm=lkmm)["wajib"].amount == 7_000
    assert AuditLog.objects.get(action="savings.product").data == {
        "kind": "wajib",
        "before": 5_000,
        "after": 7_000,
    }


@pytest.mark.parametrize("path", ["anggota/{m}/", "anggota/{m}/setor/", "produk/", "kuitansi/{k}/"])
def test_savings_pages_send_an_anonymous_visitor_to_the_login_page(client, member, path):
    movement = deposit(member, "wajib", 5_000)
    response = client.get("/simpanan/" + path.format(m=member.pk, k=movement.pk))
    assert response.status_code == 302 and response["Location"].startswith("/akun/masuk/")


def test_a_pengelola_without_four_eyes_may_not_open_a_withdrawal_or_a_reversal(client, member, pengelola):
    movement = deposit(member, "sukarela", 20_000)
    login(client, pengelola)
    assert client.get(f"/simpanan/rekening/{movement.account_id}/tarik/").status_code == 403
    assert client.get(f"/simpanan/kuitansi/{movement.pk}/batalkan/").status_code == 403
    assert client.get(f"/simpanan/anggota/{member.pk}/kembalikan/").status_code == 403


def test_the_passbook_reads_a_fixed_number_of_queries(
    client, member, pengelola, django_assert_max_num_queries
):
    deposit(member, "wajib", 5_000)
    login(client, pengelola)
    client.get(f"/simpanan/anggota/{member.pk}/")
    with CaptureQueriesContext(connection) as first:
        client.get(f"/simpanan/anggota/{member.pk}/")
    for day in range(3, 20):
        deposit(member, "sukarela", 1_000, on=D(2026, 3, day))
    with django_assert_max_num_queries(len(first)):
        assert client.get(f"/simpanan/anggota/{member.pk}/").status_code == 200
