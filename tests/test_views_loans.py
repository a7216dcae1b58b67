"""Loan pages: products, list, application, detail, disbursement, cancellation, repayment, receipt.

Lifecycle: diajukan -> (the ketua approves) disetujui -> (any recorder disburses) aktif. The approval,
rejection, reversal and late-fee pages are covered in test_views_loan_engine.py.

The default factory product is 10 weekly installments, flat 1,5% per month: on Rp 1.200.000 each
installment is Rp 124.154 (principal 120.000 + interest 4.154) and the payoff is Rp 1.241.540.
"""

import datetime
import uuid
from urllib.parse import quote

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from audit.services import SECURITY_ACTIONS
from institutions.models import AuditLog
from ledger.models import JournalEntry
from loans import services as loan_services
from loans.models import Installment, Loan, LoanProduct, LoanStatusChange, Repayment
from tests.factories import (
    LoanProductFactory,
    MemberFactory,
    StaffFactory,
    make_active_loan,
    make_approved_loan,
    make_loan,
)

INSTALLMENT = 124_154
PAYOFF = 1_241_540


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


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
    """Everything a recording view may change."""
    return {
        "loans": sorted(Loan.objects.values_list("pk", "status")),
        "products": LoanProduct.objects.count(),
        "installments": Installment.objects.count(),
        "repayments": Repayment.objects.count(),
        "entries": JournalEntry.objects.count(),
        "status_changes": LoanStatusChange.objects.count(),
        "audit": AuditLog.objects.exclude(action__in=SECURITY_ACTIONS).count(),
    }


@pytest.fixture
def applied(lkmm):
    """A loan application of Semenggu, made three days ago."""
    return make_loan(member=MemberFactory(lkmm=lkmm, full_name="Siti Pemohon"), applied_on=today() - days(3))


@pytest.fixture
def approved(lkmm, ketua):
    """A Semenggu application of three days ago, approved by the ketua: waiting to be disbursed."""
    return make_approved_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Siti Disetujui"),
        applied_on=today() - days(3),
        approved_by=ketua.user,
    )


@pytest.fixture
def active(lkmm):
    """A Semenggu loan disbursed 30 days ago, nothing paid: installments 1-4 (due 23, 16, 9 and 2 days
    ago) are past due, installment 5 falls due in 5 days."""
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Ani Peminjam"), disbursed_on=today() - days(30)
    )


@pytest.fixture
def foreign_loan(other_lkmm):
    return make_active_loan(member=MemberFactory(lkmm=other_lkmm), disbursed_on=today() - days(30))


# --- products ------------------------------------------------------------------------------------

PRODUCT = {
    "name": "Bulanan Usaha",
    "interest_method": "annuity",
    "frequency": "monthly",
    "rate_per_month": "2",
    "installment_count": "12",
    "rounding_unit": "100",
    "min_amount": "500.000",
    "max_amount": "Rp 10.000.000",
    # What the form starts with, and a browser therefore sends back (the fields are required).
    "admin_fee_percent": "0",
    "admin_fee_mode": "deducted",
    "late_fee": "0",
}


def test_ketua_creates_a_product(ketua_client, ketua, lkmm):
    response = ketua_client.post(reverse("loans:product_create"), PRODUCT)

    assert response.status_code == 302
    assert response["Location"] == reverse("loans:products")
    product = LoanProduct.objects.get(lkmm=lkmm, name="Bulanan Usaha")
    product.refresh_from_db()
    assert (product.interest_method, product.frequency, product.installment_count, product.rounding_unit) == (
        "annuity",
        "monthly",
        12,
        100,
    )
    assert str(product.rate_per_month) == "2.00"
    assert (product.min_amount, product.max_amount) == (500_000, 10_000_000)
    assert (product.admin_fee_percent, product.admin_fee_mode, product.late_fee) == (0, "deducted", 0)
    assert (product.waive_interest_on_payoff, product.requires_group) == (False, False)
    assert product.is_active
    audit = AuditLog.objects.get(action="product.create")
    assert (audit.object_id, audit.lkmm, audit.actor) == (product.pk, lkmm, ketua.user)


def test_product_form_starts_with_the_lkmms_rounding_unit(ketua_client, lkmm):
    response = ketua_client.get(reverse("loans:product_create"))

    assert response.status_code == 200
    assert response.context["form"]["rounding_unit"].value() == lkmm.default_rounding_unit == 100


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"min_amount": "abc"}, "min_amount", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ({"min_amount": "20.000.000"}, None, "Pinjaman minimal tidak boleh melebihi maksimal."),
        (
            # Flat weekly x10 rounded up to Rp5.000 overpays principal before the 10th installment.
            {
                "interest_method": "flat",
                "frequency": "weekly",
                "installment_count": "10",
                "rounding_unit": "5000",
                "min_amount": "100.000",
            },
            "rounding_unit",
            "Untuk pinjaman Rp100.000: Dengan syarat ini angsuran ke-10 tidak mendapat pokok (Rp-30.842). "
            "Perkecil satuan pembulatan atau jumlah angsuran.",
        ),
    ],
)
def test_bad_product_is_refused_with_a_message(ketua_client, lkmm, changes, field, message):
    response = ketua_client.post(reverse("loans:product_create"), {**PRODUCT, **changes})

    assert response.status_code == 200
    form = response.context["form"]
    if field is None:
        assert form.non_field_errors() == [message]
    else:
        assert form.errors[field] == [message]
        assert error_next_to(response.content.decode(), field, message)
    assert not LoanProduct.objects.exists()


def test_rate_above_ten_percent_is_refused(ketua_client, lkmm):
    response = ketua_client.post(reverse("loans:product_create"), {**PRODUCT, "rate_per_month": "11"})

    assert response.status_code == 200
    assert "rate_per_month" in response.context["form"].errors
    assert not LoanProduct.objects.exists()


def test_duplicate_product_name_is_refused(ketua_client, lkmm, other_lkmm):
    LoanProductFactory(lkmm=other_lkmm, name="Bulanan Usaha")  # another LKMM's name does not count
    ketua_client.post(reverse("loans:product_create"), PRODUCT)

    response = ketua_client.post(reverse("loans:product_create"), {**PRODUCT, "min_amount": "600.000"})

    assert response.status_code == 200
    assert "LKMM ini sudah punya produk dengan nama ini." in response.content.decode()
    assert LoanProduct.objects.filter(lkmm=lkmm).count() == 1


@pytest.mark.parametrize(
    ("who", "names", "button"),
    [
        ("pengelola_client", ["Mingguan Semenggu"], False),
        ("ketua_client", ["Mingguan Semenggu"], True),
        ("dinas_client", ["Mingguan Semenggu", "Mingguan Wonosari"], False),
    ],
)
def test_product_list_is_scoped_and_only_ketua_gets_the_new_button(
    request, lkmm, other_lkmm, who, names, button
):
    LoanProductFactory(lkmm=lkmm, name="Mingguan Semenggu")
    LoanProductFactory(lkmm=other_lkmm, name="Mingguan Wonosari")
    client = request.getfixturevalue(who)

    response = client.get(reverse("loans:products"))

    assert response.status_code == 200
    assert sorted(p.name for p in response.context["products"]) == names
    assert (reverse("loans:product_create") in response.content.decode()) is button


# --- loan list -----------------------------------------------------------------------------------


def codes(response):
    return sorted(loan.pk for loan in response.context["page"].object_list)


def test_loan_list_is_scoped_to_the_own_lkmm(pengelola_client, active, foreign_loan):
    response = pengelola_client.get(reverse("loans:list"))

    assert response.status_code == 200
    assert codes(response) == [active.pk]


def test_dinas_lists_every_lkmms_loans(dinas_client, active, foreign_loan):
    response = dinas_client.get(reverse("loans:list"))

    assert response.status_code == 200
    assert codes(response) == sorted([active.pk, foreign_loan.pk])
    assert "LKMM Wonosari" in response.content.decode()


def test_loan_list_filters(pengelola_client, lkmm, active, applied):
    current = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=today())

    assert codes(pengelola_client.get(reverse("loans:list"))) == sorted([active.pk, applied.pk, current.pk])
    assert codes(pengelola_client.get(reverse("loans:list"), {"status": "diajukan"})) == [applied.pk]
    assert codes(pengelola_client.get(reverse("loans:list"), {"status": "aktif"})) == sorted(
        [active.pk, current.pk]
    )
    arrears = pengelola_client.get(reverse("loans:list"), {"arrears": "on"})
    assert codes(arrears) == [active.pk]
    assert arrears.context["page"][0].days_past_due == 23


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize("who", ["pengelola_client", "dinas_client"])
def test_loan_list_query_count_does_not_grow_with_loans(
    request, lkmm, other_lkmm, django_assert_max_num_queries, who
):
    client = request.getfixturevalue(who)

    def build(n):
        for i in range(n):
            member = MemberFactory(lkmm=lkmm if i % 3 else other_lkmm)
            if i % 2:
                make_active_loan(member=member, disbursed_on=today() - days(30))
            else:
                make_loan(member=member, applied_on=today())

    build(3)
    baseline = _queries(client, reverse("loans:list"))
    build(12)

    with django_assert_max_num_queries(baseline):
        response = client.get(reverse("loans:list"))

    assert baseline <= 6
    assert response.context["page"].paginator.count == (15 if who == "dinas_client" else 10)


# --- loan application ----------------------------------------------------------------------------


def apply_data(product, **changes):
    return {
        "product": product.pk,
        "principal": "1.200.000",
        "purpose": "Modal warung",
        "applied_on": today().isoformat(),
        "token": str(uuid.uuid4()),
        **changes,
    }


def test_the_same_application_posted_twice_records_one(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    data = apply_data(LoanProductFactory(lkmm=lkmm))
    url = reverse("loans:create", args=[member.pk])

    first = pengelola_client.post(url, data)
    second = pengelola_client.post(url, data)

    loan = Loan.objects.get(member=member)
    assert first["Location"] == second["Location"] == reverse("loans:detail", args=[loan.pk])


def test_a_second_application_for_a_member_with_a_loan_warns_and_needs_a_tick(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm)
    url = reverse("loans:create", args=[member.pk])
    pengelola_client.post(url, apply_data(product))
    first = Loan.objects.get(member=member)

    warned = pengelola_client.post(url, apply_data(product))

    assert warned.status_code == 200
    assert warned.context["form"].errors["also_other"] == [
        f"Anggota ini masih punya pinjaman {first.code}. Centang bila tetap diajukan."
    ]
    assert Loan.objects.filter(member=member).count() == 1
    pengelola_client.post(url, apply_data(product, also_other="on"))
    assert Loan.objects.filter(member=member).count() == 2


def test_a_product_can_forbid_a_second_loan(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm, one_loan_at_a_time=True)
    url = reverse("loans:create", args=[member.pk])
    pengelola_client.post(url, apply_data(product))

    refused = pengelola_client.post(url, apply_data(product, also_other="on"))

    assert refused.context["form"].errors["product"][0].startswith("Produk ini satu pinjaman sekaligus")
    assert Loan.objects.filter(member=member).count() == 1


def test_pengelola_records_a_loan_application(pengelola_client, pengelola, lkmm):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm)

    response = pengelola_client.post(reverse("loans:create", args=[member.pk]), apply_data(product))

    loan = Loan.objects.get(member=member)
    assert response.status_code == 302
    assert response["Location"] == reverse("loans:detail", args=[loan.pk])
    loan.refresh_from_db()
    assert (loan.status, loan.principal, loan.product, loan.lkmm, loan.number) == (
        "diajukan",
        1_200_000,
        product,
        lkmm,
        1,
    )
    assert (loan.applied_on, loan.disbursed_on, loan.created_by) == (today(), None, pengelola.user)
    assert (loan.installment_count, loan.frequency, str(loan.rate_per_month)) == (10, "weekly", "1.50")
    assert not loan.installments.exists()  # the schedule is fixed at disbursement
    assert AuditLog.objects.get(action="loan.apply").object_id == loan.pk


def test_application_form_offers_only_the_lkmms_active_products(pengelola_client, lkmm, other_lkmm):
    member = MemberFactory(lkmm=lkmm)
    own = LoanProductFactory(lkmm=lkmm)
    LoanProductFactory(lkmm=lkmm, is_active=False)
    LoanProductFactory(lkmm=other_lkmm)

    response = pengelola_client.get(reverse("loans:create", args=[member.pk]))

    assert response.status_code == 200
    assert list(response.context["form"].fields["product"].queryset) == [own]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"principal": "6.000.000"},
            "principal",
            "Jumlah pinjaman untuk produk ini antara Rp100.000 dan Rp5.000.000.",
        ),
        ({"principal": "1,2 juta"}, "principal", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ({"purpose": ""}, "purpose", "Bidang ini tidak boleh kosong."),
    ],
)
def test_bad_application_is_refused_next_to_the_field(pengelola_client, lkmm, changes, field, message):
    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm)

    response = pengelola_client.post(
        reverse("loans:create", args=[member.pk]), apply_data(product, **changes)
    )

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert error_next_to(response.content.decode(), field, message)
    assert not Loan.objects.exists()


def test_another_lkmms_product_cannot_be_chosen(pengelola_client, lkmm, other_lkmm):
    member = MemberFactory(lkmm=lkmm)

    response = pengelola_client.post(
        reverse("loans:create", args=[member.pk]), apply_data(LoanProductFactory(lkmm=other_lkmm))
    )

    assert response.status_code == 200
    assert "product" in response.context["form"].errors
    assert not Loan.objects.exists()


def test_a_member_who_left_cannot_borrow(pengelola_client, lkmm):
    member = MemberFactory(lkmm=lkmm, status="keluar")

    response = pengelola_client.post(
        reverse("loans:create", args=[member.pk]), apply_data(LoanProductFactory(lkmm=lkmm))
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Hanya anggota aktif yang dapat meminjam."]
    assert "Hanya anggota aktif yang dapat meminjam." in response.content.decode()
    assert not Loan.objects.exists()


# --- detail --------------------------------------------------------------------------------------


def test_application_page_for_ketua_offers_approval_rejection_and_cancellation(ketua_client, applied):
    response = ketua_client.get(reverse("loans:detail", args=[applied.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rp 1.200.000" in html
    assert "Setujui pinjaman" in html
    assert f'action="{reverse("loans:approve", args=[applied.pk])}"' in html
    assert f'action="{reverse("loans:reject", args=[applied.pk])}"' in html
    assert 'name="reject-reason"' in html
    assert f'action="{reverse("loans:cancel", args=[applied.pk])}"' in html
    assert reverse("loans:disburse", args=[applied.pk]) not in html  # not before approval
    assert len(response.context["preview"]) == 10
    assert response.context["preview"][0].due_date == today() + days(7)
    assert applied.applied_on.strftime("%d/%m/%Y") in html


def test_application_page_for_pengelola_waits_for_the_ketua(pengelola_client, applied):
    response = pengelola_client.get(reverse("loans:detail", args=[applied.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Menunggu persetujuan ketua LKMM." in html
    for view in ("approve", "reject", "disburse"):
        assert reverse(f"loans:{view}", args=[applied.pk]) not in html
    assert f'action="{reverse("loans:cancel", args=[applied.pk])}"' in html  # any recorder may cancel


@pytest.mark.parametrize("who", ["pengelola_client", "ketua_client"])
def test_approved_loan_page_offers_disbursement_to_any_recorder(request, approved, who):
    response = request.getfixturevalue(who).get(reverse("loans:detail", args=[approved.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Cairkan Rp 1.200.000" in html
    assert f'action="{reverse("loans:disburse", args=[approved.pk])}"' in html
    assert f'action="{reverse("loans:cancel", args=[approved.pk])}"' in html
    assert reverse("loans:approve", args=[approved.pk]) not in html
    assert response.context["disburse_form"]["disbursed_on"].value() == today()
    assert "Disetujui" in html  # the status badge and the history
    assert len(response.context["preview"]) == 10


def test_dinas_sees_an_approved_loan_without_buttons(dinas_client, approved):
    response = dinas_client.get(reverse("loans:detail", args=[approved.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Disetujui; menunggu pencairan." in html
    for view in ("approve", "reject", "disburse", "cancel"):
        assert reverse(f"loans:{view}", args=[approved.pk]) not in html


def test_active_loan_page_shows_schedule_standing_and_money(pengelola_client, active):
    response = pengelola_client.get(reverse("loans:detail", args=[active.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rp 1.200.000" in html
    assert "Rp 124.154" in html
    loan = response.context["loan"]
    assert (loan.days_past_due, loan.overdue_amount, loan.outstanding) == (23, 4 * INSTALLMENT, 1_200_000)
    assert response.context["payoff"] == PAYOFF
    assert [row.overdue for row in response.context["installments"]] == [True] * 4 + [False] * 6
    assert (today() - days(23)).strftime("%d/%m/%Y") in html
    assert reverse("loans:repay", args=[active.pk]) in html


def test_loan_detail_query_count_does_not_grow_with_payments(
    pengelola_client, pengelola, active, django_assert_max_num_queries
):
    url = reverse("loans:detail", args=[active.pk])
    start = today() - days(30)
    loan_services.repayment_record(loan=active, amount=50_000, paid_on=start + days(1), actor=pengelola.user)
    baseline = _queries(pengelola_client, url)
    for k in range(2, 7):
        loan_services.repayment_record(
            loan=active, amount=50_000, paid_on=start + days(k), actor=pengelola.user
        )

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(url)

    # session, user, staff, loan, installments (their kept standing), payments: count and page,
    # waivers, the menu's LKMM, status history, and whether this pengelola is a named approver.
    assert baseline <= 11
    assert len(response.context["repayments"]) == 6
    assert response.context["received_total"] == 300_000


def test_a_long_loans_payments_come_a_page_at_a_time_newest_first(pengelola_client, pengelola, active):
    start = today() - days(30)
    for k in range(1, 23):
        loan_services.repayment_record(
            loan=active, amount=10_000, paid_on=start + days(k), actor=pengelola.user
        )
    url = reverse("loans:detail", args=[active.pk])
    first = pengelola_client.get(url)
    assert [r.paid_on for r in first.context["repayments"]] == [start + days(k) for k in range(22, 2, -1)]
    assert "Halaman 1 dari 2" in first.content.decode()
    second = pengelola_client.get(url, {"page": 2})
    assert [r.paid_on for r in second.context["repayments"]] == [start + days(2), start + days(1)]
    # The schedule still shows everything received.
    assert second.context["received_total"] == 220_000


# --- disbursement --------------------------------------------------------------------------------


def test_ketua_disburses_an_approved_loan(ketua_client, ketua, approved):
    response = ketua_client.post(
        reverse("loans:disburse", args=[approved.pk]), {"disbursed_on": today().isoformat()}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("loans:detail", args=[approved.pk])
    approved.refresh_from_db()
    assert (approved.status, approved.disbursed_on) == ("aktif", today())
    installments = list(approved.installments.order_by("seq"))
    assert len(installments) == 10
    assert [i.due_date for i in installments] == [today() + days(7 * k) for k in range(1, 11)]
    assert sum(i.principal for i in installments) == 1_200_000
    entry = JournalEntry.objects.get(source_type="loans.loan", source_id=approved.pk)
    assert entry.date == today()
    assert lines_of(entry) == {"1201": (1_200_000, 0), "1101": (0, 1_200_000)}
    changes = [
        (c.from_status, c.to_status, c.on, c.by) for c in LoanStatusChange.objects.filter(loan=approved)
    ]
    assert changes == [
        ("diajukan", "disetujui", today(), ketua.user),
        ("disetujui", "aktif", today(), ketua.user),
    ]
    assert AuditLog.objects.filter(action="loan.aktif", object_id=approved.pk).exists()


def test_an_application_cannot_be_disbursed_before_approval(ketua_client, applied):
    before = snapshot()

    response = ketua_client.post(
        reverse("loans:disburse", args=[applied.pk]), {"disbursed_on": today().isoformat()}, follow=True
    )

    assert response.redirect_chain == [(reverse("loans:detail", args=[applied.pk]), 302)]
    assert messages_of(response) == ["Hanya pinjaman yang sudah disetujui yang dapat dicairkan."]
    assert snapshot() == before
    applied.refresh_from_db()
    assert (applied.status, applied.disbursed_on) == ("diajukan", None)


def test_disbursement_with_a_chosen_first_due_date(ketua_client, approved):
    ketua_client.post(
        reverse("loans:disburse", args=[approved.pk]),
        {"disbursed_on": (today() - days(1)).isoformat(), "first_due": (today() + days(3)).isoformat()},
    )

    approved.refresh_from_db()
    assert approved.status == "aktif"
    assert approved.installments.get(seq=1).due_date == today() + days(3)
    assert approved.installments.get(seq=2).due_date == today() + days(10)


def test_disburse_success_message(ketua_client, approved):
    response = ketua_client.post(
        reverse("loans:disburse", args=[approved.pk]), {"disbursed_on": today().isoformat()}, follow=True
    )

    assert messages_of(response) == ["Pinjaman P-00001 dicairkan."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"disbursed_on": 1}, "Tanggal ini tidak boleh di masa depan."),
        ({"disbursed_on": -4}, "Tanggal pencairan tidak boleh sebelum tanggal pengajuan."),
        ({"disbursed_on": 0, "first_due": 0}, "Jatuh tempo pertama harus sesudah tanggal pencairan."),
        ({"disbursed_on": ""}, "Bidang ini tidak boleh kosong."),
        ({"disbursed_on": "31/02/2026"}, "Masukkan tanggal yang valid."),
    ],
)
def test_bad_disbursement_is_refused_with_a_message(ketua_client, approved, data, message):
    """Ints are days from today (the application was made 3 days ago); strings are sent as typed."""
    data = {k: (today() + days(v)).isoformat() if isinstance(v, int) else v for k, v in data.items()}
    before = snapshot()

    response = ketua_client.post(reverse("loans:disburse", args=[approved.pk]), data, follow=True)

    assert response.redirect_chain == [(reverse("loans:detail", args=[approved.pk]), 302)]
    assert messages_of(response) == [message]
    assert snapshot() == before
    approved.refresh_from_db()
    assert (approved.status, approved.disbursed_on) == ("disetujui", None)


def test_disbursing_an_active_loan_again_is_refused(ketua_client, active):
    before = snapshot()

    response = ketua_client.post(
        reverse("loans:disburse", args=[active.pk]), {"disbursed_on": today().isoformat()}, follow=True
    )

    assert messages_of(response) == ["Hanya pinjaman yang sudah disetujui yang dapat dicairkan."]
    assert snapshot() == before


# --- cancellation --------------------------------------------------------------------------------


def test_ketua_cancels_an_application_with_a_reason(ketua_client, ketua, applied):
    response = ketua_client.post(
        reverse("loans:cancel", args=[applied.pk]), {"reason": "Anggota mengundurkan diri"}, follow=True
    )

    assert response.redirect_chain == [(reverse("loans:detail", args=[applied.pk]), 302)]
    assert messages_of(response) == ["Pengajuan P-00001 dibatalkan."]
    applied.refresh_from_db()
    assert applied.status == "dibatalkan"
    change = LoanStatusChange.objects.get(loan=applied)
    assert (change.from_status, change.to_status, change.reason, change.by, change.on) == (
        "diajukan",
        "dibatalkan",
        "Anggota mengundurkan diri",
        ketua.user,
        today(),
    )
    audit = AuditLog.objects.get(action="loan.dibatalkan")
    assert (audit.object_id, audit.reason) == (applied.pk, "Anggota mengundurkan diri")
    assert not JournalEntry.objects.filter(source_type="loans.loan", source_id=applied.pk).exists()
    assert "Anggota mengundurkan diri" in response.content.decode()  # status history on the page


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancel_needs_a_reason(ketua_client, applied, reason):
    response = ketua_client.post(reverse("loans:cancel", args=[applied.pk]), {"reason": reason}, follow=True)

    assert messages_of(response) == ["Tulis alasan pembatalan."]
    applied.refresh_from_db()
    assert applied.status == "diajukan"
    assert not LoanStatusChange.objects.filter(loan=applied).exists()


def test_an_active_loan_cannot_be_cancelled(ketua_client, active):
    before = snapshot()

    response = ketua_client.post(
        reverse("loans:cancel", args=[active.pk]), {"reason": "Salah catat"}, follow=True
    )

    assert messages_of(response) == ["Status pinjaman tidak dapat diubah dari Aktif menjadi Dibatalkan."]
    assert snapshot() == before


# --- repayment -----------------------------------------------------------------------------------


def pay(client, loan, amount, paid_on=None, token=None, **extra):
    data = {
        "amount": amount,
        "paid_on": (paid_on or today()).isoformat(),
        "token": str(token or uuid.uuid4()),
        **extra,
    }
    return client.post(reverse("loans:repay", args=[loan.pk]), data)


def test_repayment_form_suggests_the_overdue_amount_with_a_fresh_token(pengelola_client, active):
    first = pengelola_client.get(reverse("loans:repay", args=[active.pk]))
    second = pengelola_client.get(reverse("loans:repay", args=[active.pk]))

    assert first.status_code == 200
    form = first.context["form"]
    assert form["amount"].value() == "496.616"  # 4 overdue installments, written the Indonesian way
    assert 'value="496.616"' in first.content.decode()
    assert form["paid_on"].value() == today()
    assert first.context["payoff"] == PAYOFF
    assert form["token"].value() != second.context["form"]["token"].value()


def test_pengelola_records_a_repayment(pengelola_client, pengelola, lkmm, active):
    response = pay(pengelola_client, active, "124.154", note="Setoran pasar")

    repayment = Repayment.objects.get(loan=active)
    assert response.status_code == 302
    assert response["Location"] == reverse("loans:receipt", args=[repayment.pk])
    repayment.refresh_from_db()
    assert (repayment.receipt_no, repayment.receipt_code, repayment.amount) == (1, "K-000001", INSTALLMENT)
    assert (repayment.paid_on, repayment.recorded_by, repayment.lkmm, repayment.note) == (
        today(),
        pengelola.user,
        lkmm,
        "Setoran pasar",
    )
    allocations = [(a.installment.seq, a.interest, a.principal) for a in repayment.allocations.all()]
    assert allocations == [(1, 4_154, 120_000)]
    entry = JournalEntry.objects.get(source_type="loans.repayment", source_id=repayment.pk)
    lines = lines_of(entry)
    assert lines == {"1101": (INSTALLMENT, 0), "1201": (0, 120_000), "4101": (0, 4_154)}
    assert sum(d for d, _ in lines.values()) == sum(c for _, c in lines.values())
    active.refresh_from_db()
    assert active.status == "aktif"
    assert AuditLog.objects.get(action="repayment.record").object_id == repayment.pk


def test_a_payment_spanning_installments_is_allocated_oldest_first(pengelola_client, active):
    pay(pengelola_client, active, "200.000")

    repayment = Repayment.objects.get(loan=active)
    allocations = [
        (a.installment.seq, a.interest, a.principal)
        for a in repayment.allocations.order_by("installment__seq")
    ]
    assert allocations == [(1, 4_154, 120_000), (2, 4_154, 71_692)]
    lines = lines_of(JournalEntry.objects.get(source_type="loans.repayment"))
    assert lines == {"1101": (200_000, 0), "1201": (0, 191_692), "4101": (0, 8_308)}


def test_paying_the_payoff_amount_closes_the_loan(pengelola_client, pengelola, active):
    response = pay(pengelola_client, active, "Rp 1.241.540")

    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == "lunas"
    change = LoanStatusChange.objects.get(loan=active, to_status="lunas")
    assert (change.from_status, change.on, change.by) == ("aktif", today(), pengelola.user)
    assert Repayment.objects.get(loan=active).allocations.count() == 10


def test_success_message_names_amount_and_receipt(pengelola_client, active):
    response = pengelola_client.post(
        reverse("loans:repay", args=[active.pk]),
        {"amount": "124154", "paid_on": today().isoformat(), "token": str(uuid.uuid4())},
        follow=True,
    )

    assert messages_of(response) == ["Pembayaran Rp 124.154 dicatat, kuitansi K-000001."]


def test_resubmitting_the_same_form_records_one_payment(pengelola_client, active):
    token = uuid.uuid4()

    first = pay(pengelola_client, active, "124.154", token=token)
    second = pay(pengelola_client, active, "124.154", token=token)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Repayment.objects.filter(loan=active).count() == 1
    assert JournalEntry.objects.filter(source_type="loans.repayment").count() == 1
    assert AuditLog.objects.filter(action="repayment.record").count() == 1


@pytest.mark.parametrize(
    ("amount", "paid_on", "field", "message"),
    [
        ("1.241.541", 0, "amount", "Melebihi sisa pinjaman. Untuk melunasi, bayar Rp1.241.540."),
        ("abc", 0, "amount", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ("12.34", 0, "amount", "Tulis jumlah dalam rupiah tanpa sen, misalnya 1.250.000."),
        ("124.154", 1, "paid_on", "Tanggal ini tidak boleh di masa depan."),
        ("124.154", -31, "paid_on", "Tanggal bayar tidak boleh sebelum pencairan ({disbursed})."),
    ],
)
def test_bad_repayment_is_refused_next_to_the_field(
    pengelola_client, active, amount, paid_on, field, message
):
    message = message.format(disbursed=active.disbursed_on.strftime("%d/%m/%Y"))
    before = snapshot()

    response = pay(pengelola_client, active, amount, paid_on=today() + days(paid_on))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert error_next_to(response.content.decode(), field, message)
    assert snapshot() == before


def test_payoff_error_names_the_payoff_amount(pengelola_client, active):
    response = pay(pengelola_client, active, "2.000.000")

    assert "Untuk melunasi, bayar Rp1.241.540." in response.content.decode()
    assert not Repayment.objects.exists()


@pytest.mark.parametrize("amount", ["0", ""])
def test_zero_or_missing_amount_is_refused(pengelola_client, active, amount):
    response = pay(pengelola_client, active, amount)

    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert not Repayment.objects.exists()


def test_payment_on_an_application_is_refused(pengelola_client, applied):
    response = pay(pengelola_client, applied, "100.000")

    assert response.status_code == 200
    message = "Pembayaran hanya untuk pinjaman aktif (status sekarang: Diajukan)."
    assert response.context["refusal"] == message  # shown in place of the form
    assert message in response.content.decode()
    assert not Repayment.objects.exists()


def test_a_form_without_its_token_records_nothing(pengelola_client, active):
    response = pengelola_client.post(
        reverse("loans:repay", args=[active.pk]), {"amount": "124.154", "paid_on": today().isoformat()}
    )

    assert response.status_code == 200
    assert "token" in response.context["form"].errors
    assert not Repayment.objects.exists()


# --- receipt -------------------------------------------------------------------------------------


def test_receipt_shows_the_payment(pengelola_client, pengelola, active):
    repayment = loan_services.repayment_record(
        loan=active, amount=200_000, paid_on=today(), actor=pengelola.user
    )

    response = pengelola_client.get(reverse("loans:receipt", args=[repayment.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "K-000001" in html
    assert "Rp 200.000" in html
    assert "Ani Peminjam" in html
    assert today().strftime("%d/%m/%Y") in html
    assert response.context["outstanding_after"] == 1_200_000 - 191_692
    assert "Rp 1.008.308" in html
    assert [(a.installment.seq, a.principal) for a in response.context["allocations"]] == [
        (1, 120_000),
        (2, 71_692),
    ]


@pytest.mark.parametrize("page", ["loans:detail", "loans:receipt"])
def test_pages_render_a_payment_without_a_recorder(pengelola_client, active, page):
    """recorded_by may be NULL (services accept actor=None, e.g. an import): the pages still render."""
    repayment = loan_services.repayment_record(loan=active, amount=50_000, paid_on=today(), actor=None)

    response = pengelola_client.get(
        reverse(page, args=[active.pk if page == "loans:detail" else repayment.pk])
    )

    assert response.status_code == 200
    assert "K-000001" in response.content.decode()


# --- access --------------------------------------------------------------------------------------


def _repay(loan):
    """A payment recorded by a pengelola of the loan's LKMM."""
    recorder = StaffFactory(lkmm=loan.lkmm).user
    return loan_services.repayment_record(loan=loan, amount=50_000, paid_on=today(), actor=recorder)


def _recording_request(view, *, applied, approved, active, product_lkmm):
    """(url, POST data) of each recording view, aimed at objects of the given loans' LKMM. The approval,
    rejection, late-fee and reversal views are in test_views_loan_engine.py."""
    return {
        "create": (
            reverse("loans:create", args=[applied.member_id]),
            apply_data(LoanProductFactory(lkmm=product_lkmm)),
        ),
        "disburse": (reverse("loans:disburse", args=[approved.pk]), {"disbursed_on": today().isoformat()}),
        "cancel": (reverse("loans:cancel", args=[applied.pk]), {"reason": "Tidak jadi"}),
        "repay": (
            reverse("loans:repay", args=[active.pk]),
            {"amount": "124.154", "paid_on": today().isoformat(), "token": str(uuid.uuid4())},
        ),
        "product_create": (reverse("loans:product_create"), PRODUCT),
    }[view]


@pytest.mark.parametrize(
    ("who", "view"),
    [
        ("dinas_client", "create"),
        ("dinas_client", "disburse"),
        ("dinas_client", "cancel"),
        ("dinas_client", "repay"),
        ("dinas_client", "product_create"),
        # A pengelola disburses and cancels since approval moved to its own step (tested above and in
        # test_views_loan_engine.py); products stay the ketua's.
        ("pengelola_client", "product_create"),
    ],
)
def test_wrong_role_gets_403_and_nothing_changes(request, lkmm, applied, approved, active, who, view):
    client = request.getfixturevalue(who)
    url, data = _recording_request(view, applied=applied, approved=approved, active=active, product_lkmm=lkmm)
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 403
    assert "Tidak diizinkan" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("view", ["create", "repay", "product_create"])
def test_dinas_cannot_open_recording_forms(dinas_client, applied, approved, active, lkmm, view):
    url, _ = _recording_request(view, applied=applied, approved=approved, active=active, product_lkmm=lkmm)

    assert dinas_client.get(url).status_code == 403


def test_pengelola_cannot_open_the_product_form(pengelola_client, lkmm):
    assert pengelola_client.get(reverse("loans:product_create")).status_code == 403


@pytest.mark.parametrize(
    ("who", "view"),
    [
        ("pengelola_client", "create"),
        ("pengelola_client", "repay"),
        ("ketua_client", "disburse"),
        ("ketua_client", "cancel"),
    ],
)
def test_another_lkmms_loan_or_member_is_not_found_on_post(request, other_lkmm, who, view):
    foreign_applied = make_loan(member=MemberFactory(lkmm=other_lkmm), applied_on=today())
    foreign_approved = make_approved_loan(member=MemberFactory(lkmm=other_lkmm), applied_on=today())
    foreign_active = make_active_loan(member=MemberFactory(lkmm=other_lkmm), disbursed_on=today() - days(30))
    client = request.getfixturevalue(who)
    url, data = _recording_request(
        view,
        applied=foreign_applied,
        approved=foreign_approved,
        active=foreign_active,
        product_lkmm=other_lkmm,
    )
    before = snapshot()

    response = client.post(url, data)

    assert response.status_code == 404
    assert snapshot() == before


def test_another_lkmms_pages_are_not_found(pengelola_client, other_lkmm, foreign_loan):
    repayment = _repay(foreign_loan)

    for url in [
        reverse("loans:detail", args=[foreign_loan.pk]),
        reverse("loans:receipt", args=[repayment.pk]),
        reverse("loans:create", args=[foreign_loan.member_id]),
        reverse("loans:repay", args=[foreign_loan.pk]),
    ]:
        assert pengelola_client.get(url).status_code == 404, url


def test_dinas_reads_every_lkmms_loan_pages(dinas_client, active, foreign_loan):
    for loan in (active, foreign_loan):
        repayment = _repay(loan)
        detail = dinas_client.get(reverse("loans:detail", args=[loan.pk]))
        assert detail.status_code == 200
        assert reverse("loans:repay", args=[loan.pk]) not in detail.content.decode()
        assert dinas_client.get(reverse("loans:receipt", args=[repayment.pk])).status_code == 200
    assert dinas_client.get(reverse("loans:products")).status_code == 200


@pytest.mark.parametrize("view", ["disburse", "cancel"])
def test_get_on_a_post_only_view_is_405(ketua_client, approved, view):
    response = ketua_client.get(reverse(f"loans:{view}", args=[approved.pk]))

    assert response.status_code == 405
    approved.refresh_from_db()
    assert approved.status == "disetujui"


def test_anonymous_is_sent_to_the_login_page(client, applied, approved, active):
    repayment = _repay(active)
    get_urls = [
        reverse("loans:list"),
        reverse("loans:products"),
        reverse("loans:product_create"),
        reverse("loans:create", args=[applied.member_id]),
        reverse("loans:detail", args=[applied.pk]),
        reverse("loans:repay", args=[active.pk]),
        reverse("loans:receipt", args=[repayment.pk]),
    ]
    for url in get_urls:
        response = client.get(url)
        assert (response.status_code, response["Location"]) == (302, login_url(url)), url
    for url in [
        reverse("loans:disburse", args=[approved.pk]),
        reverse("loans:cancel", args=[approved.pk]),
        reverse("loans:cancel", args=[applied.pk]),
    ]:
        response = client.post(url, {"disbursed_on": today().isoformat(), "reason": "x"})
        assert (response.status_code, response["Location"]) == (302, login_url(url)), url
    applied.refresh_from_db()
    approved.refresh_from_db()
    assert (applied.status, approved.status) == ("diajukan", "disetujui")


def test_an_application_is_corrected_with_a_reason_and_its_editor_counts_as_recorder(lkmm, pengelola, ketua):
    from django.test import Client

    from institutions.models import AuditLog
    from loans.services import loan_approve
    from tests.factories import login, make_approver

    member = MemberFactory(lkmm=lkmm)
    product = LoanProductFactory(lkmm=lkmm)
    loan = make_loan(member=member, product=product, applied_on=today(), actor=pengelola.user)
    ketua_client = Client()
    login(ketua_client, ketua)

    response = ketua_client.post(
        reverse("loans:edit", args=[loan.pk]),
        {"product": product.pk, "principal": "1.000.000", "purpose": "Modal warung", "reason": "Salah tulis"},
    )

    assert response.status_code == 302
    loan.refresh_from_db()
    assert loan.principal == 1_000_000
    assert AuditLog.objects.get(action="loan.edit").data["changes"] == {"principal": [1_200_000, 1_000_000]}
    page = ketua_client.get(reverse("loans:detail", args=[loan.pk])).content.decode()
    assert "Rp 1.200.000 → <strong>Rp 1.000.000</strong>" in page
    # Under four eyes the ketua edited it, so another approver decides.
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save(update_fields=["four_eyes"])
    with pytest.raises(ValidationError, match="empat mata"):
        loan_approve(loan=loan, actor=ketua.user)
    loan_approve(loan=loan, actor=approver)
    loan.refresh_from_db()
    assert loan.status == "disetujui"
    # A decided application is not edited any more.
    assert ketua_client.get(reverse("loans:edit", args=[loan.pk])).status_code == 403


def test_another_lkmms_application_cannot_be_edited(pengelola_client, other_lkmm):
    foreign = make_loan(member=MemberFactory(lkmm=other_lkmm), applied_on=today())
    url = reverse("loans:edit", args=[foreign.pk])
    assert pengelola_client.get(url).status_code == 404
    assert pengelola_client.post(url, {"principal": "1", "reason": "x"}).status_code == 404
