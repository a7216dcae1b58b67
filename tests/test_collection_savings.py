"""The collection sheet takes savings with installments (issue 13, item 3): one row per member with the
installment and the wajib due, one save for the whole meeting (all rows or none), one kuitansi per member
covering the member's installments and deposits, check_books on the shared numbers, the combined receipt
and the query counts.

The loan used throughout: Rp1.200.000 at 1,5% flat per month, 10 weekly installments of Rp124.154
disbursed 01/01/2026 (tests/test_collection.py); the LKMM's wajib is Rp7.500 a meeting.
"""

import datetime
import re
import uuid
from io import StringIO
from urllib.parse import unquote

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from institutions.models import AuditLog
from ledger.models import JournalEntry
from ledger.services import next_receipt_no, voucher_post
from loans import services as loan_services
from loans.collection import collection_record
from loans.models import Repayment
from members.services import group_create
from savings import services as savings_services
from savings.models import SavingsAccount, SavingsMovement, SavingsProduct
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db

INSTALLMENT = 124_154
WAJIB = 7_500
PAID_ON = D(2026, 1, 22)


def saver(lkmm, name):
    member = MemberFactory(lkmm=lkmm, full_name=name)
    savings_services.accounts_open(member=member)
    return member


def make_group(lkmm, members, name="Mawar"):
    return group_create(
        lkmm=lkmm,
        actor=None,
        name=name,
        meeting_day=3,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=members,
        leader=members[0],
        on=D(2026, 1, 5),
    )


@pytest.fixture
def product(lkmm):
    return LoanProductFactory(lkmm=lkmm, late_fee=5_000)


@pytest.fixture
def meeting(lkmm, product):
    """Group Mawar: Ani with one loan, Budi with two, Citra who only saves. Wajib Rp7.500, sukarela at
    least Rp1.000."""
    products = savings_services.products_ensure(lkmm=lkmm)
    SavingsProduct.objects.filter(pk=products["wajib"].pk).update(amount=WAJIB)
    SavingsProduct.objects.filter(pk=products["sukarela"].pk).update(amount=1_000)
    ani, budi, citra = (saver(lkmm, name) for name in ("Ani", "Budi", "Citra"))
    group = make_group(lkmm, [ani, budi, citra])
    loans = {
        "Ani": make_active_loan(member=ani, product=product),
        "Budi 1": make_active_loan(member=budi, product=product),
        "Budi 2": make_active_loan(member=budi, product=product),
    }
    return group, {"Ani": ani, "Budi": budi, "Citra": citra}, loans


def url(group):
    return reverse("loans:collection_group", args=[group.pk]) + "?start=2026-01-22"


def post(client, group, *, amounts=(), wajib=(), sukarela=(), token=None, paid_on="2026-01-22"):
    data = {"paid_on": paid_on, "token": str(token or uuid.uuid4())}
    data.update({f"amount_{loan.pk}": value for loan, value in dict(amounts).items()})
    data.update({f"wajib_{member.pk}": value for member, value in dict(wajib).items()})
    data.update({f"sukarela_{member.pk}": value for member, value in dict(sukarela).items()})
    return client.post(url(group), data)


def full_meeting(client, group, members, loans, **kwargs):
    return post(
        client,
        group,
        amounts={loans["Ani"]: "124.154", loans["Budi 1"]: "124.154", loans["Budi 2"]: "Rp 124.154"},
        wajib={members["Ani"]: "7.500", members["Budi"]: "7.500", members["Citra"]: "7500"},
        sukarela={members["Ani"]: "10.000", members["Budi"]: "", members["Citra"]: ""},
        **kwargs,
    )


def check_books():
    out = StringIO()
    try:
        call_command("check_books", stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + str(exc)
    return 0, out.getvalue()


def counts():
    return (
        Repayment.objects.count(),
        SavingsMovement.objects.count(),
        JournalEntry.objects.count(),
        AuditLog.objects.filter(action__in=["repayment.record", "savings.deposit"]).count(),
    )


def html_rows(html):
    return re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)


# --- the sheet -------------------------------------------------------------------------------------


def test_one_row_per_member_with_each_loans_due_and_the_wajib_due(pengelola_client, meeting):
    group, members, loans = meeting
    response = pengelola_client.get(url(group))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.member.full_name for row in rows] == ["Ani", "Budi", "Citra"]
    assert [len(row.lines) for row in rows] == [1, 2, 0]
    assert [row.wajib_due for row in rows] == [WAJIB, WAJIB, WAJIB]
    # Week of 22/01: installments 1 and 2 are arrears, installment 3 is due, three late fees by the
    # sheet's end (28/01).
    assert [line.amount_due for line in rows[1].lines] == [3 * INSTALLMENT + 15_000] * 2
    assert rows[1].total_due == 2 * (3 * INSTALLMENT + 15_000) + WAJIB
    # Missed wajib is not loan arrears: the loan's amount due has no savings in it.
    assert rows[0].amount_due == 3 * INSTALLMENT + 15_000
    assert response.context["totals"]["wajib_due"] == 3 * WAJIB
    html = response.content.decode()
    budi = next(row for row in html_rows(html) if "Budi" in row and "amount_" in row)
    for loan in (loans["Budi 1"], loans["Budi 2"]):
        assert f'name="amount_{loan.pk}"' in budi and loan.code in budi
    citra = next(row for row in html_rows(html) if "Citra" in row and "wajib_" in row)
    assert "amount_" not in citra and "hanya simpanan" in citra
    for member in members.values():
        assert f'name="wajib_{member.pk}"' in html and f'name="sukarela_{member.pk}"' in html
    # The printed sheet: the savings columns, a blank to write on in each.
    assert "Setor wajib" in html and "Setor sukarela" in html and "Rp 7.500" in html
    assert 'class="blank"' in citra


def test_a_member_who_left_has_no_savings_row(pengelola_client, lkmm, meeting):
    group, members, _loans = meeting
    from members.models import MemberStatus

    type(members["Citra"]).objects.filter(pk=members["Citra"].pk).update(status=MemberStatus.KELUAR)
    rows = pengelola_client.get(url(group)).context["rows"]
    assert [row.member.full_name for row in rows] == ["Ani", "Budi"]


# --- one save --------------------------------------------------------------------------------------


def test_a_members_installments_and_deposits_share_one_receipt(pengelola_client, pengelola, lkmm, meeting):
    group, members, loans = meeting
    assert next_receipt_no(lkmm=lkmm) == 1
    response = full_meeting(pengelola_client, group, members, loans)
    assert response.status_code == 302
    receipts = {
        "Ani": (
            {r.receipt_no for r in Repayment.objects.filter(loan=loans["Ani"])}
            | set(
                SavingsMovement.objects.filter(account__member=members["Ani"]).values_list(
                    "receipt_no", flat=True
                )
            )
        ),
        "Budi": (
            set(Repayment.objects.filter(loan__member=members["Budi"]).values_list("receipt_no", flat=True))
            | set(
                SavingsMovement.objects.filter(account__member=members["Budi"]).values_list(
                    "receipt_no", flat=True
                )
            )
        ),
        "Citra": set(
            SavingsMovement.objects.filter(account__member=members["Citra"]).values_list(
                "receipt_no", flat=True
            )
        ),
    }
    # One kuitansi per member, in the sheet's order, from the one sequence.
    assert receipts == {"Ani": {1}, "Budi": {2}, "Citra": {3}}
    assert next_receipt_no(lkmm=lkmm) == 4
    assert Repayment.objects.filter(recorded_by=pengelola.user).count() == 3
    assert sorted(
        SavingsMovement.objects.values_list("account__member__full_name", "account__kind", "amount", "on")
    ) == [
        ("Ani", "sukarela", 10_000, PAID_ON),
        ("Ani", "wajib", WAJIB, PAID_ON),
        ("Budi", "wajib", WAJIB, PAID_ON),
        ("Citra", "wajib", WAJIB, PAID_ON),
    ]
    assert SavingsAccount.objects.get(member=members["Ani"], kind="wajib").balance_derived == WAJIB
    # Every line has its journal entry and audit row; the books check clean.
    assert JournalEntry.objects.filter(kind="savings").count() == 4
    assert AuditLog.objects.filter(action="savings.deposit", actor=pengelola.user).count() == 4
    status, output = check_books()
    assert status == 0, output

    summary = pengelola_client.get(response.url)
    assert summary.status_code == 200
    kuitansi = summary.context["kuitansi"]
    assert [
        (k.receipt_code, k.member.full_name, k.installments, k.wajib, k.sukarela, k.amount) for k in kuitansi
    ] == [
        ("K-000001", "Ani", INSTALLMENT, WAJIB, 10_000, INSTALLMENT + WAJIB + 10_000),
        ("K-000002", "Budi", 2 * INSTALLMENT, WAJIB, 0, 2 * INSTALLMENT + WAJIB),
        ("K-000003", "Citra", 0, WAJIB, 0, WAJIB),
    ]
    assert summary.context["total"] == 3 * INSTALLMENT + 3 * WAJIB + 10_000
    html = summary.content.decode()
    citra_movement = SavingsMovement.objects.get(account__member=members["Citra"])
    assert reverse("savings:receipt", args=[citra_movement.pk]) in html
    assert "Rp 404.962" in html  # 3 x 124.154 + 3 x 7.500 + 10.000
    # The group leader's WhatsApp summary: one line per kuitansi with its parts.
    ani = members["Ani"]
    type(ani).objects.filter(pk=ani.pk).update(phone="+6281234567890", whatsapp_consent=True)
    text = unquote(pengelola_client.get(response.url).context["whatsapp"])
    assert "K-000001 Ani: Rp 141.654 (angsuran Rp 124.154, wajib Rp 7.500, sukarela Rp 10.000)" in text
    assert "K-000003 Citra: Rp 7.500\n" in text
    assert "Jumlah 3 kuitansi: Rp 404.962" in text
    messages = [str(m) for m in summary.context["messages"]]
    assert messages == ["3 pembayaran dicatat, 4 setoran simpanan, 3 kuitansi, jumlah Rp 404.962."]


def test_a_sheet_of_savings_only_lists_its_receipts(pengelola_client, meeting):
    group, members, _loans = meeting
    response = post(
        pengelola_client, group, wajib={members["Citra"]: "7.500"}, sukarela={members["Citra"]: "2.000"}
    )
    assert response.status_code == 302
    summary = pengelola_client.get(response.url)
    [receipt] = summary.context["kuitansi"]
    assert (receipt.receipt_code, receipt.wajib, receipt.sukarela, receipt.amount) == (
        "K-000001",
        WAJIB,
        2_000,
        9_500,
    )
    assert receipt.url == reverse("savings:receipt", args=[receipt.movements[0].pk])
    # Both deposits on one kuitansi: its page is the combined one.
    page = pengelola_client.get(receipt.url, {"format": "a4"})
    assert page.templates[0].name == "loans/receipt_combined.html"
    assert "Rp 9.500" in page.content.decode()


def test_a_resubmitted_sheet_records_nothing_twice(pengelola_client, meeting):
    group, members, loans = meeting
    token = uuid.uuid4()
    first = full_meeting(pengelola_client, group, members, loans, token=token)
    before = counts()
    second = full_meeting(pengelola_client, group, members, loans, token=token)
    assert counts() == before
    assert first.url == second.url


def test_a_resubmitted_sheet_with_another_date_does_not_share_a_number_across_dates(
    pengelola_client, meeting
):
    group, members, loans = meeting
    token = uuid.uuid4()
    post(pengelola_client, group, amounts={loans["Ani"]: "124.154"}, token=token)
    post(
        pengelola_client,
        group,
        amounts={loans["Ani"]: "124.154"},
        wajib={members["Ani"]: "7.500"},
        token=token,
        paid_on="2026-01-21",
    )
    repayment = Repayment.objects.get(loan=loans["Ani"])
    movement = SavingsMovement.objects.get(account__member=members["Ani"])
    assert (repayment.paid_on, repayment.receipt_no) == (PAID_ON, 1)
    assert (movement.on, movement.receipt_no) == (D(2026, 1, 21), 2)
    status, output = check_books()
    assert status == 0, output


def test_one_bad_row_saves_nothing(pengelola_client, lkmm, meeting):
    group, members, loans = meeting
    before, number = counts(), next_receipt_no(lkmm=lkmm)
    response = post(
        pengelola_client,
        group,
        amounts={loans["Ani"]: "124.154", loans["Budi 2"]: "5.000.000"},
        wajib={members["Ani"]: "7.500", members["Citra"]: "7.500"},
        sukarela={members["Citra"]: "500"},  # below the Rp1.000 least deposit
    )
    assert response.status_code == 200
    assert counts() == before
    assert next_receipt_no(lkmm=lkmm) == number
    assert not SavingsAccount.objects.filter(balance_derived__gt=0).exists()
    html = response.content.decode()
    assert "tidak ada pembayaran maupun setoran yang disimpan" in html
    rows = html_rows(html)
    budi = next(row for row in rows if "Budi" in row and "amount_" in row)
    citra = next(row for row in rows if "Citra" in row and "wajib_" in row)
    ani = next(row for row in rows if "Ani" in row and "amount_" in row)
    assert 'class="has-error"' in budi and "Melebihi sisa pinjaman" in budi
    assert 'class="has-error"' in citra and "Setoran sukarela paling sedikit Rp 1.000." in citra
    assert "has-error" not in ani
    # What was typed stays on the page.
    assert 'value="5.000.000"' in html and 'value="500"' in html


def test_a_badly_typed_deposit_is_refused_before_anything_is_written(pengelola_client, meeting):
    group, members, loans = meeting
    before = counts()
    response = post(pengelola_client, group, amounts={loans["Ani"]: "124.154"}, wajib={members["Ani"]: "7,5"})
    assert response.status_code == 200
    assert "Tulis jumlah dalam rupiah" in response.content.decode()
    assert counts() == before
    response = post(pengelola_client, group, wajib={members["Ani"]: ""})
    assert "paling sedikit untuk satu pinjaman atau simpanan" in response.content.decode()
    assert counts() == before


def test_the_service_keys_deposit_errors_by_kind_and_member(lkmm, other_lkmm, meeting, pengelola):
    _group, members, loans = meeting
    outsider = saver(other_lkmm, "Dewi")
    before = counts()
    with pytest.raises(ValidationError) as exc:
        collection_record(
            lkmm=lkmm,
            actor=pengelola.user,
            paid_on=PAID_ON,
            amounts={loans["Ani"].pk: INSTALLMENT},
            savings={
                members["Ani"].pk: {"wajib": WAJIB},
                outsider.pk: {"wajib": WAJIB},
                members["Citra"].pk: {"sukarela": 10},
            },
            token=uuid.uuid4(),
        )
    assert set(exc.value.error_dict) == {("wajib", outsider.pk), ("sukarela", members["Citra"].pk)}
    assert exc.value.error_dict["wajib", outsider.pk][0].messages == ["Anggota ini bukan anggota LKMM ini."]
    assert counts() == before
    saved = collection_record(
        lkmm=lkmm,
        actor=pengelola.user,
        paid_on=PAID_ON,
        amounts={},
        savings={members["Citra"].pk: {"wajib": WAJIB, "sukarela": 0}},
        token=uuid.uuid4(),
    )
    assert ([r.pk for r in saved.repayments], [m.amount for m in saved.movements]) == ([], [WAJIB])


def test_wajib_deposited_on_the_sheet_stays_locked_while_a_loan_is_outstanding(
    pengelola_client, lkmm, meeting
):
    group, members, loans = meeting
    full_meeting(pengelola_client, group, members, loans)
    account = SavingsAccount.objects.get(member=members["Ani"], kind="wajib")
    with pytest.raises(ValidationError) as exc:
        savings_services.savings_withdraw(account=account, amount=1_000, on=PAID_ON, actor=ketua_of(lkmm))
    assert exc.value.messages == ["Simpanan wajib terkunci selama anggota masih punya pinjaman berjalan."]
    assert account.movements.count() == 1
    citra = SavingsAccount.objects.get(member=members["Citra"], kind="wajib")
    assert savings_services.withdrawal_refusal(citra) == ""


# --- check_books -----------------------------------------------------------------------------------


def test_check_books_flags_a_number_shared_by_two_members(pengelola_client, meeting):
    group, members, loans = meeting
    full_meeting(pengelola_client, group, members, loans)
    # Citra's wajib (K-000003, the last number) forged onto Ani's kuitansi K-000001.
    SavingsMovement.objects.filter(account__member=members["Citra"]).update(receipt_no=1)
    status, output = check_books()
    assert status == 1
    assert "receipt numbers shared by different members, dates or a withdrawal: 1" in output


def test_check_books_flags_a_number_shared_on_two_dates(pengelola_client, meeting):
    group, members, loans = meeting
    full_meeting(pengelola_client, group, members, loans)
    SavingsMovement.objects.filter(account__member=members["Ani"], account__kind="sukarela").update(
        on=D(2026, 1, 23)
    )
    status, output = check_books()
    assert status == 1
    assert "receipt numbers shared by different members, dates or a withdrawal: 1" in output


# --- the receipt -----------------------------------------------------------------------------------


def test_the_printed_receipt_shows_both_parts_and_the_total(pengelola_client, meeting):
    group, members, loans = meeting
    ani = members["Ani"]
    type(ani).objects.filter(pk=ani.pk).update(phone="+6281234567890", whatsapp_consent=True)
    full_meeting(pengelola_client, group, members, loans)
    repayment = Repayment.objects.get(loan=loans["Ani"])
    wajib = SavingsMovement.objects.get(account__member=ani, account__kind="wajib")
    total = INSTALLMENT + WAJIB + 10_000
    for address in (
        reverse("loans:receipt", args=[repayment.pk]),
        reverse("savings:receipt", args=[wajib.pk]),
    ):
        response = pengelola_client.get(address, {"format": "a4"})
        assert response.status_code == 200
        assert response.templates[0].name == "loans/receipt_combined.html"
        html = response.content.decode()
        assert "KUITANSI PEMBAYARAN ANGSURAN DAN SIMPANAN" in html
        assert "K-000001" in html and loans["Ani"].code in html
        # The installment with its allocation: Rp5.000 fee, interest and principal of installments 1-...
        allocations = response.context["receipt"]["loans"][0]["allocations"]
        assert sum(a.late_fee + a.interest + a.principal for a in allocations) == INSTALLMENT
        assert "Simpanan wajib" in html and "Simpanan sukarela" in html
        # The deposits with the balances after them, the total and its words.
        assert [
            (p["movement"].amount, p["balance_after"]) for p in response.context["receipt"]["savings"]
        ] == [
            (WAJIB, WAJIB),
            (10_000, 10_000),
        ]
        assert response.context["receipt"]["total"] == total
        assert "Rp 141.654" in html
        assert "Seratus empat puluh satu ribu enam ratus lima puluh empat rupiah" in html
        text = unquote(response.context["whatsapp"])
        assert "Kuitansi K-000001" in text and "Jumlah: Rp 141.654" in text
        assert "Setoran simpanan wajib: Rp 7.500, saldo Rp 7.500" in text
        assert f"Angsuran pinjaman {loans['Ani'].code}: Rp 124.154" in text
    response = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk]), {"format": "58"})
    assert response.templates[0].name == "loans/receipt_combined_58.html"
    assert "Rp 141.654" in response.content.decode()
    # Budi's kuitansi carries both his loans.
    budi = Repayment.objects.filter(loan__member=members["Budi"]).first()
    response = pengelola_client.get(reverse("loans:receipt", args=[budi.pk]), {"format": "a4"})
    assert [p["repayment"].loan_id for p in response.context["receipt"]["loans"]] == [
        loans["Budi 1"].pk,
        loans["Budi 2"].pk,
    ]
    assert response.context["receipt"]["total"] == 2 * INSTALLMENT + WAJIB


def test_a_single_repayment_keeps_its_own_receipt(pengelola_client, meeting):
    group, members, loans = meeting
    post(pengelola_client, group, amounts={loans["Ani"]: "124.154"})
    repayment = Repayment.objects.get(loan=loans["Ani"])
    response = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk]), {"format": "a4"})
    assert response.templates[0].name == "loans/receipt.html"


def test_reversing_one_part_of_a_shared_receipt(pengelola_client, pengelola, lkmm, meeting):
    group, members, loans = meeting
    # Cash for the reversed deposit to leave by (the loans' disbursements took the kas).
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 1, 1),
        amount=10_000_000,
        memo="Hibah",
        account_code="3101",
        cash_account_code="1101",
    )
    full_meeting(pengelola_client, group, members, loans)
    ketua = ketua_of(lkmm)
    repayment = Repayment.objects.get(loan=loans["Ani"])
    loan_services.repayment_reverse(repayment=repayment, actor=ketua, on=PAID_ON, reason="Salah catat")
    wajib = SavingsMovement.objects.get(account__member=members["Ani"], account__kind="wajib")
    savings_services.savings_reverse(movement=wajib, actor=ketua, on=PAID_ON, reason="Salah catat")
    assert SavingsAccount.objects.get(member=members["Ani"], kind="wajib").balance_derived == 0
    assert SavingsAccount.objects.get(member=members["Ani"], kind="sukarela").balance_derived == 10_000
    status, output = check_books()
    assert status == 0, output
    html = pengelola_client.get(
        reverse("loans:receipt", args=[repayment.pk]), {"format": "a4"}
    ).content.decode()
    assert "Pembayaran ini dibatalkan per" in html and "Mutasi ini dibatalkan per" in html


# --- queries ---------------------------------------------------------------------------------------


def queries(client, method, address, data=None):
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(address, data) if data is not None else client.get(address)
    assert response.status_code in (200, 302)
    return len(captured)


def add_members(lkmm, product, group, n, *, in_group):
    from members.services import group_add_member

    for i in range(n):
        member = saver(lkmm, f"Zaki {i:02d}")
        make_active_loan(member=member, product=product)
        if i < in_group:
            group_add_member(group=group, member=member, actor=None)


def test_query_counts_do_not_grow_with_the_members(pengelola_client, lkmm, product, meeting):
    """3 members, then 12 (10 in the group, a group's most, and 2 outside it on the LKMM's sheet): the same
    number of queries for the sheets, a refused save, a save of the same lines and its summary."""
    group, members, loans = meeting
    range_url = reverse("loans:collection") + "?start=2026-01-22"

    def measure():
        bad = {
            "paid_on": "2026-01-22",
            "token": str(uuid.uuid4()),
            f"amount_{loans['Ani'].pk}": "9.000.000",
            f"wajib_{members['Citra'].pk}": "7.500",
        }
        good = {
            "paid_on": "2026-01-22",
            "token": str(uuid.uuid4()),
            f"amount_{loans['Ani'].pk}": "1.000",
            f"wajib_{members['Ani'].pk}": "7.500",
            f"wajib_{members['Citra'].pk}": "7.500",
        }
        counted = (
            queries(pengelola_client, "get", url(group)),
            queries(pengelola_client, "get", range_url),
            queries(pengelola_client, "post", url(group), bad),
            queries(pengelola_client, "post", range_url, bad),
        )
        with CaptureQueriesContext(connection) as captured:
            response = pengelola_client.post(range_url, good)
        assert response.status_code == 302
        summary = queries(pengelola_client, "get", response.url)
        return (*counted, len(captured), summary)

    few = measure()
    assert len(pengelola_client.get(range_url).context["rows"]) == 3
    add_members(lkmm, product, group, 9, in_group=7)
    many = measure()
    assert len(pengelola_client.get(range_url).context["rows"]) == 12
    assert len(pengelola_client.get(url(group)).context["rows"]) == 10
    assert few == many


# --- the phone ---------------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_the_sheet_with_savings_fits_a_phone(live_server, lkmm, pengelola, product):
    """At 360 px the sheet's member rows are cards with the wajib and sukarela inputs, and the shared
    kuitansi fits; no page scrolls sideways, nor the printed sheet on landscape A4. Saved in
    test-artifacts/screenshots/collection-*.png to look at."""
    from django.conf import settings as django_settings
    from django.test import Client

    from tests.factories import login
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, SCREENSHOTS, _unavailable, sync_playwright

    if sync_playwright is None:
        _unavailable("playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        _unavailable("Chromium not installed at /usr/bin/chromium: apt-get install chromium")
    members = [saver(lkmm, name) for name in ("Ani", "Budi", "Citra")]
    group = make_group(lkmm, members)
    make_active_loan(member=members[0], product=product)
    budi_loans = [make_active_loan(member=members[1], product=product) for _ in range(2)]
    saved = collection_record(
        lkmm=lkmm,
        actor=pengelola.user,
        paid_on=PAID_ON,
        amounts={loan.pk: INSTALLMENT for loan in budi_loans},
        savings={members[1].pk: {"wajib": 5_000, "sukarela": 20_000}},
        token=uuid.uuid4(),
    )
    receipt_url = reverse("loans:receipt", args=[saved.repayments[0].pk])
    client = Client()
    login(client, pengelola)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta")
            context.add_cookies(
                [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(live_server.url + url(group))
            page.screenshot(path=SCREENSHOTS / "collection-savings-360.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            assert page.locator(f"input[name=wajib_{members[2].pk}]").is_visible()
            for fmt in ("a4", "58"):
                page.goto(f"{live_server.url}{receipt_url}?format={fmt}")
                page.screenshot(path=SCREENSHOTS / f"collection-receipt-{fmt}-360.png", full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.goto(live_server.url + url(group))
            page.emulate_media(media="print")
            # Landscape A4 less its 12 mm margins, at 96 dpi (static/css/collection-sheet.css).
            page.set_viewport_size({"width": 1032, "height": 704})
            page.screenshot(path=SCREENSHOTS / "collection-savings-print.png", full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1032
        finally:
            browser.close()
