"""Month-end figures stored for every LKMM (closed month or not), read back, dropped by back-dated events."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from ledger.models import MonthFigures
from loans.services import repayment_record
from risk import figures as figures_sql
from risk.selectors import month_figures, month_flows, portfolio
from risk.services import month_close
from tests.factories import LkmmFactory, ketua_of, login, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db
JANUARY = D(2026, 1, 1)


@pytest.fixture
def loan():
    loan = make_active_loan()  # 1.200.000 weekly from 01/01/2026, 10 x 124.154 from 08/01
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    return loan


def test_figures_are_computed_once_then_read_from_the_stored_row(loan, django_assert_num_queries):
    figures = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert (figures["outstanding"], figures["overdue"], figures["provisional"]) == (
        1_080_000,
        3 * 124_154,
        True,
    )
    flows = month_flows(ids=[loan.lkmm_id], month=JANUARY)[loan.lkmm_id]
    assert (flows["borrowers"], flows["overdue_at_start"], flows["disbursed"], flows["collected"]) == (
        1,
        0,
        1_200_000,
        124_154,
    )
    assert figures == {
        **portfolio(lkmms=[loan.lkmm], at=D(2026, 1, 31)),
        **flows,
        "closed": None,
        "provisional": True,
    }
    # the closes, the stored rows: no portfolio statement.
    with django_assert_num_queries(2):
        again = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert again == figures


def test_a_back_dated_payment_drops_the_stored_months_from_its_date(loan):
    month_figures(lkmms=[loan.lkmm], month=JANUARY)
    month_figures(lkmms=[loan.lkmm], month=D(2026, 2, 1))
    assert MonthFigures.objects.filter(lkmm=loan.lkmm).count() == 2
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 2, 3), actor=None)
    assert list(MonthFigures.objects.filter(lkmm=loan.lkmm).values_list("month", flat=True)) == [JANUARY]
    february = month_figures(lkmms=[loan.lkmm], month=D(2026, 2, 1))[loan.lkmm_id]
    assert february["outstanding"] == 1_200_000 - 2 * 120_000


def test_a_closed_month_reads_its_close(loan):
    close = month_close(lkmm=loan.lkmm, actor=ketua_of(loan.lkmm), month=JANUARY)
    figures = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert (figures["closed"], figures["provisional"], figures["outstanding"]) == (close, False, 1_080_000)


def test_the_daily_command_stores_every_lkmm_for_the_months_that_ended(loan):
    other = LkmmFactory()
    out = io.StringIO()
    call_command("store_month_figures", "--since", "2026-01", stdout=out)
    assert out.getvalue().startswith("2026-01: 2 LKMM(s)")
    months = (timezone.localdate().year - 2026) * 12 + timezone.localdate().month - 1
    assert MonthFigures.objects.filter(lkmm=loan.lkmm).count() == months
    assert MonthFigures.objects.filter(lkmm=other, month=JANUARY).get().outstanding == 0
    assert MonthFigures.objects.get(lkmm=loan.lkmm, month=JANUARY).outstanding == 1_080_000


def test_the_quality_report_at_an_ended_month_reads_the_stored_figures(loan, client):
    from django.urls import reverse

    from tests.factories import StaffFactory

    month_figures(lkmms=[loan.lkmm], month=JANUARY)
    stored = MonthFigures.objects.get(lkmm=loan.lkmm, month=JANUARY)
    stored.held = 777_777  # marks the stored row as the one read
    stored.save()
    staff = StaffFactory(lkmm=loan.lkmm)
    login(client, staff)
    response = client.get(reverse("reports:quality", args=[loan.lkmm.code]), {"at": "2026-01-31"})
    assert response.context["figures"]["held"] == 777_777
    assert response.context["figures"]["provisional"] is True


def test_a_closed_months_borrowers_and_overdue_at_start_are_kept_after_the_first_read(
    loan, django_assert_num_queries
):
    month_close(lkmm=loan.lkmm, actor=ketua_of(loan.lkmm), month=JANUARY)
    first = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert (first["borrowers"], first["overdue_at_start"]) == (1, 0)
    assert MonthFigures.objects.get(lkmm=loan.lkmm, month=JANUARY).borrowers == 1
    # the close, the stored row: no statement over the loans' history.
    with django_assert_num_queries(2):
        again = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert (again["borrowers"], again["overdue_at_start"], again["provisional"]) == (1, 0, False)


def test_overdue_at_start_is_the_standing_on_the_months_first_day(loan):
    february = month_figures(lkmms=[loan.lkmm], month=D(2026, 2, 1))[loan.lkmm_id]
    january = month_figures(lkmms=[loan.lkmm], month=JANUARY)[loan.lkmm_id]
    assert february["overdue_at_start"] == figures_sql.totals(D(2026, 2, 1), lkmms=[loan.lkmm])["overdue"]
    assert february["overdue_at_start"] >= january["overdue"]
