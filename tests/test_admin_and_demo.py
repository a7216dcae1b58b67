import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from institutions.models import Lkmm, Role, Staff
from ledger.models import JournalEntry, JournalLine
from loans.models import Loan, LoanStatus, Repayment
from members.models import Member
from tests.factories import login, make_active_loan

DEMO_LOGINS = [
    "dinas",
    "ketua.semenggu",
    "pengelola.semenggu",
    "ketua.wonosari",
    "pengelola.wonosari",
    "ketua.mandiri",
    "pengelola.mandiri",
    "admin",
]


@pytest.mark.django_db
def test_every_model_has_an_admin_changelist_and_change_page(client):
    loan = make_active_loan()
    import datetime

    from loans.services import repayment_record

    repayment_record(loan=loan, amount=1000, paid_on=datetime.date(2026, 1, 2), actor=None)
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    checked, inlined = 0, set()
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "a"}).status_code == 200, changelist
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change
        checked += 1
        for inline in model_admin.inlines:
            inlined.add(inline.model)
    project_models = {
        m for m in apps.get_models() if m._meta.app_label in {"institutions", "members", "loans", "ledger"}
    }
    assert project_models <= set(admin.site._registry) | inlined
    assert checked >= 11


@pytest.mark.django_db
def test_money_records_cannot_be_edited_or_deleted_in_admin(client):
    loan = make_active_loan()
    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    for name, pk in [("loans_loan", loan.pk), ("ledger_journalentry", JournalEntry.objects.first().pk)]:
        response = client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"})
        assert response.status_code == 403
    assert Loan.objects.filter(pk=loan.pk).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seed_demo_builds_a_consistent_demo_once():
    call_command("seed_demo")
    assert set(Lkmm.objects.filter(dinas__code="jember").values_list("code", flat=True)) == {
        "semenggu",
        "wonosari",
        "mandiri",
    }
    # A second city, small, so that each reviewer's scope shows.
    assert list(Lkmm.objects.filter(dinas__code="bontang").values_list("code", flat=True)) == ["guntung"]
    assert Staff.objects.get(user__username="dinas.bontang").dinas.kabupaten == "Bontang"
    assert list(
        Lkmm.objects.for_user(get_user_model().objects.get(username="dinas")).order_by("code")
    ) == list(Lkmm.objects.filter(dinas__code="jember").order_by("code"))
    users = get_user_model().objects.filter(username__in=DEMO_LOGINS)
    assert users.count() == len(DEMO_LOGINS)
    assert all(user.check_password("lkmm-demo") for user in users)
    assert Staff.objects.get(user__username="dinas").role == Role.DINAS
    assert Staff.objects.get(user__username="ketua.wonosari").lkmm.code == "wonosari"
    for lkmm in Lkmm.objects.filter(dinas__code="jember"):
        assert 45 <= Member.objects.filter(lkmm=lkmm).count() <= 60
        statuses = set(Loan.objects.filter(lkmm=lkmm).values_list("status", flat=True))
        assert {LoanStatus.AKTIF, LoanStatus.LUNAS, LoanStatus.DIAJUKAN} <= statuses
    # On-time, late and defaulted payers all exist.
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    active = Loan.objects.filter(status=LoanStatus.AKTIF).with_standing(today)
    assert active.filter(oldest_overdue_on__isnull=True).exists()
    assert active.filter(oldest_overdue_on__gte=today - datetime.timedelta(days=30)).exists()
    assert active.filter(oldest_overdue_on__lt=today - datetime.timedelta(days=60)).exists()
    # The books balance and match the loans.
    totals = JournalLine.objects.aggregate(d=Sum("debit"), c=Sum("credit"))
    assert totals["d"] == totals["c"]
    receivable = JournalLine.objects.filter(account__code="1201").aggregate(d=Sum("debit"), c=Sum("credit"))
    outstanding = sum(
        loan.outstanding
        for loan in Loan.objects.filter(status__in=["aktif", "lunas"]).with_standing(datetime.date.max)
    )
    assert receivable["d"] - receivable["c"] == outstanding
    assert Repayment.objects.count() > 300
    # check_books finds every invariant holding in the demo's books.
    call_command("check_books")
    # Running it again changes nothing.
    before = (Member.objects.count(), Loan.objects.count(), Repayment.objects.count())
    call_command("seed_demo")
    assert (Member.objects.count(), Loan.objects.count(), Repayment.objects.count()) == before
