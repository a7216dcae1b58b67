"""Invariants the database itself enforces: going around Django's validation must fail."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from institutions.models import Lkmm, Role, Staff
from ledger.models import Account, JournalEntry, JournalLine
from ledger.services import UnbalancedEntry, entry_post
from loans.models import Installment, Loan, Repayment
from loans.services import repayment_record
from members.models import Member
from tests.factories import LkmmFactory, MemberFactory, StaffFactory, UserFactory, make_active_loan

pytestmark = pytest.mark.django_db


def expect_integrity_error(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_same_nik_twice_in_one_lkmm_fails_in_the_database():
    member = MemberFactory()
    expect_integrity_error(lambda: MemberFactory(lkmm=member.lkmm, nik=member.nik))
    MemberFactory(nik=member.nik)  # another LKMM may (the members issue adds the warning)
    assert Member.objects.filter(nik=member.nik).count() == 2


def test_nik_must_be_16_digits_in_the_database():
    member = MemberFactory()
    expect_integrity_error(lambda: Member.objects.filter(pk=member.pk).update(nik="123"))


def test_repayment_amount_must_be_positive():
    loan = make_active_loan()
    payment = repayment_record(loan=loan, amount=1000, paid_on=datetime.date(2026, 1, 2), actor=None)
    expect_integrity_error(lambda: Repayment.objects.filter(pk=payment.pk).update(amount=0))


def test_installment_principal_must_be_positive():
    loan = make_active_loan()
    expect_integrity_error(lambda: Installment.objects.filter(loan=loan, seq=1).update(principal=0))


def test_journal_line_has_exactly_one_side():
    loan = make_active_loan()
    line = JournalLine.objects.filter(entry__lkmm=loan.lkmm).first()
    expect_integrity_error(lambda: JournalLine.objects.filter(pk=line.pk).update(debit=5, credit=5))
    expect_integrity_error(lambda: JournalLine.objects.filter(pk=line.pk).update(debit=0, credit=0))


def test_unbalanced_entry_is_refused_and_nothing_is_written():
    lkmm = LkmmFactory()
    with pytest.raises(UnbalancedEntry):
        entry_post(
            kind="cash_in",
            lkmm=lkmm,
            date=datetime.date(2026, 1, 1),
            memo="x",
            lines=[("1101", 100, 0), ("3101", 0, 99)],
        )
    assert JournalEntry.objects.filter(lkmm=lkmm).count() == 0


def test_staff_role_must_match_lkmm():
    lkmm = LkmmFactory()
    expect_integrity_error(lambda: Staff.objects.create(user=UserFactory(), role=Role.DINAS, lkmm=lkmm))
    expect_integrity_error(lambda: Staff.objects.create(user=UserFactory(), role=Role.PENGELOLA, lkmm=None))


def test_every_lkmm_gets_the_standard_chart():
    lkmm = LkmmFactory()
    assert set(Account.objects.filter(lkmm=lkmm).values_list("code", flat=True)) >= {
        "1101",
        "1201",
        "1209",
        "3101",
        "4101",
    }


def test_loan_disbursed_status_needs_a_date():
    loan = make_active_loan()
    expect_integrity_error(lambda: Loan.objects.filter(pk=loan.pk).update(disbursed_on=None))


class TestScoping:
    """LkmmScopedQuerySet.for_user is the one place that limits what a user sees."""

    def test_lkmm_staff_see_their_own_lkmm_only(self):
        mine, theirs = make_active_loan(), make_active_loan()
        staff = StaffFactory(lkmm=mine.lkmm)
        assert list(Loan.objects.for_user(staff.user)) == [mine]
        assert list(Member.objects.for_user(staff.user)) == [mine.member]
        assert list(Lkmm.objects.for_user(staff.user)) == [mine.lkmm]
        assert theirs.pk not in Repayment.objects.for_user(staff.user).values_list("loan", flat=True)

    def test_dinas_and_superusers_see_every_lkmm(self):
        make_active_loan(), make_active_loan()
        dinas = StaffFactory(dinas=True)
        admin = get_user_model().objects.create_superuser("root", "r@example.org", "x")
        assert Loan.objects.for_user(dinas.user).count() == 2
        assert Loan.objects.for_user(admin).count() == 2

    def test_users_without_a_role_and_anonymous_see_nothing(self):
        from django.contrib.auth.models import AnonymousUser

        make_active_loan()
        assert Loan.objects.for_user(UserFactory()).count() == 0
        assert Loan.objects.for_user(AnonymousUser()).count() == 0
