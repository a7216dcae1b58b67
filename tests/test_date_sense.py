"""Dates are checked for sense where they are recorded: a member aged 17 to 100 at joining, joined
neither in the future nor before the LKMM was founded, and no loan applied for before membership."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from loans.services import loan_apply
from tests.factories import LkmmFactory, LoanProductFactory, MemberFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def member_errors(**fields):
    member = MemberFactory.build(lkmm=LkmmFactory(code="tgl"), **fields)
    try:
        member.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


@pytest.mark.parametrize(
    ("birth_date", "joined_on", "refused"),
    [
        (D(2009, 1, 6), D(2026, 1, 5), True),  # 16 the day before the 17th birthday
        (D(2009, 1, 5), D(2026, 1, 5), False),  # 17 on the day
        (D(1926, 1, 5), D(2026, 1, 5), False),  # 100 on the day
        (D(1925, 1, 4), D(2026, 1, 5), True),  # 101
        (D(2030, 1, 1), D(2026, 1, 5), True),  # born in the future
    ],
)
def test_age_at_joining_is_17_to_100(birth_date, joined_on, refused):
    assert ("birth_date" in member_errors(birth_date=birth_date, joined_on=joined_on)) is refused


def test_joining_is_neither_in_the_future_nor_before_the_lkmm_was_founded():
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert member_errors(joined_on=tomorrow)["joined_on"] == ["Tanggal masuk tidak boleh di masa depan."]
    assert member_errors(joined_on=D(2009, 11, 15))["joined_on"] == [
        "Tanggal masuk tidak boleh sebelum LKMM berdiri (16/11/2009)."
    ]
    assert "joined_on" not in member_errors(joined_on=D(2009, 11, 16))


def test_a_loan_is_not_applied_for_before_membership():
    member = MemberFactory(joined_on=D(2026, 1, 5))
    product = LoanProductFactory(lkmm=member.lkmm)
    with pytest.raises(ValidationError) as refused:
        loan_apply(
            member=member,
            product=product,
            principal=500_000,
            purpose="x",
            applied_on=D(2026, 1, 4),
            actor=None,
        )
    assert refused.value.message_dict["applied_on"] == [
        "Tanggal pengajuan tidak boleh sebelum anggota masuk (05/01/2026)."
    ]
    loan = loan_apply(
        member=member, product=product, principal=500_000, purpose="x", applied_on=D(2026, 1, 5), actor=None
    )
    assert loan.applied_on == D(2026, 1, 5)
