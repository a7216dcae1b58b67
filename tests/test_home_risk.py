"""The manager's home page: overdue list with WhatsApp reminders, NPL against the 5% line, reserve,
and the alerts."""

import datetime
from urllib.parse import unquote

import pytest
from django.utils import timezone

from tests.factories import LoanProductFactory, MemberFactory, make_active_loan

pytestmark = pytest.mark.django_db


def overdue_loan(lkmm, *, days, phone="+6281234567890", consent=True):
    """A weekly loan whose first installment (Rp124.154) fell due `days` days ago, unpaid."""
    today = timezone.localdate()
    product = LoanProductFactory(lkmm=lkmm)
    member = MemberFactory(lkmm=lkmm, phone=phone, full_name="Siti Aminah", whatsapp_consent=consent)
    return make_active_loan(
        member=member,
        product=product,
        disbursed_on=today - datetime.timedelta(days=days + 7),
        first_due=today - datetime.timedelta(days=days),
    )


def test_overdue_member_gets_a_polite_whatsapp_reminder(pengelola_client, lkmm):
    loan = overdue_loan(lkmm, days=3)
    html = pengelola_client.get("/").content.decode()
    link = next(part for part in html.split('"') if part.startswith("https://wa.me/6281234567890?text="))
    text = unquote(link.split("text=", 1)[1])
    due = (timezone.localdate() - datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    assert "Siti Aminah" in text and loan.code in text
    assert "Rp 124.154" in text and due in text
    assert text.startswith("Selamat pagi Ibu/Bapak")


def test_no_whatsapp_link_without_a_phone(pengelola_client, lkmm):
    overdue_loan(lkmm, days=3, phone="")
    assert "wa.me" not in pengelola_client.get("/").content.decode()


def test_no_whatsapp_link_without_the_members_consent(pengelola_client, lkmm):
    overdue_loan(lkmm, days=3, consent=False)
    html = pengelola_client.get("/").content.decode()
    assert "Siti Aminah" in html and "wa.me" not in html


def test_alerts_npl_above_the_bar_and_loans_crossing_30_days(pengelola_client, lkmm):
    loan = overdue_loan(lkmm, days=33)  # weekly lkm-2015: 33 days is Diragukan, non-performing
    response = pengelola_client.get("/")
    html = response.content.decode()
    figures = response.context["figures"]
    assert figures["npl_ratio"] == 100
    assert "melewati batas Dinas 5%" in html
    assert set(response.context["alerts"]) == {"npl", "coverage", "crossed"}
    assert [x.pk for x in response.context["crossed"]] == [loan.pk]
    assert figures["required"] == 600_000 and figures["held"] == 0  # 50% of Rp1.200.000


def test_a_loan_late_for_weeks_already_is_not_newly_crossed(pengelola_client, lkmm):
    overdue_loan(lkmm, days=60)
    response = pengelola_client.get("/")
    assert response.context["crossed"] == []


def test_a_payment_this_week_is_read_back_for_the_loans_crossing_30_days(pengelola_client, lkmm):
    from loans.services import repayment_record

    today = timezone.localdate()
    # Weekly installments due 60, 53, 46, 39, 32, ... days ago. Four paid three days ago: 32 days past
    # due now, but 53 a week ago (already past 30 then: not newly crossed).
    late = overdue_loan(lkmm, days=60)
    repayment_record(loan=late, amount=4 * 124_154, paid_on=today - datetime.timedelta(days=3), actor=None)
    # Four paid ten days ago: 32 days past due now, 25 a week ago (newly crossed).
    crossing = overdue_loan(lkmm, days=60)
    repayment_record(
        loan=crossing, amount=4 * 124_154, paid_on=today - datetime.timedelta(days=10), actor=None
    )
    response = pengelola_client.get("/")
    assert [x.pk for x in response.context["crossed"]] == [crossing.pk]


def test_dinas_totals_are_the_sum_of_each_lkmm(dinas_client, lkmm, other_lkmm):
    # The Dinas home shows the end of last month: 33 and 60 days past due then.
    month_end = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    for owner, days in ((lkmm, 33), (other_lkmm, 60)):  # Diragukan, 50%; Macet, 100% of 1.200.000
        make_active_loan(
            member=MemberFactory(lkmm=owner),
            product=LoanProductFactory(lkmm=owner),
            disbursed_on=month_end - datetime.timedelta(days=days + 7),
            first_due=month_end - datetime.timedelta(days=days),
        )
    response = dinas_client.get("/")
    rows = {row["lkmm"].code: row["figures"] for row in response.context["rows"]}
    assert (rows["semenggu"]["required"], rows["wonosari"]["required"]) == (600_000, 1_200_000)
    totals = response.context["totals"]
    assert (totals["required"], totals["outstanding"], totals["npl_ratio"]) == (1_800_000, 2_400_000, 100)
