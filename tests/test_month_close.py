"""Month-end close (tutup buku): stored figures, refused back-dated entries, reopening by an admin."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from ledger.models import JournalEntry, PeriodClose
from loans.services import repayment_record, repayment_reverse
from risk.models import ClosedLoanFigure
from risk.selectors import portfolio, stored_portfolio
from risk.services import month_close, month_reopen
from tests.factories import PASSWORD, StaffFactory, ketua_of, login, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_january():
    loan = make_active_loan()  # 1.200.000 weekly from 01/01/2026; first due 08/01
    payment = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    close = month_close(lkmm=loan.lkmm, actor=ketua_of(loan.lkmm), month=D(2026, 1, 1))
    return loan, payment, close


def test_closing_stores_the_month_end_figures(closed_january):
    loan, _payment, close = closed_january
    figure = ClosedLoanFigure.objects.get(period_close=close, loan=loan)
    # At 31/01: installments 2-4 (15, 22, 29/01) unpaid, 16 days past due.
    assert (figure.outstanding, figure.days_past_due, figure.overdue) == (1_080_000, 16, 3 * 124_154)
    stored = stored_portfolio(lkmm=loan.lkmm, at=D(2026, 1, 31))
    assert stored["outstanding"] == 1_080_000 and stored["closed"] == close


def test_entries_into_a_closed_month_are_refused_and_figures_stay(closed_january):
    loan, payment, close = closed_january
    before = dict(close.summary)
    entries = JournalEntry.objects.count()
    with pytest.raises(ValidationError, match="01/2026 sudah ditutup"):
        repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 20), actor=None)
    with pytest.raises(ValidationError, match="ditutup"):
        repayment_reverse(repayment=payment, actor=ketua_of(loan.lkmm), on=D(2026, 1, 30), reason="salah")
    assert JournalEntry.objects.count() == entries
    close.refresh_from_db()
    assert close.summary == before
    assert portfolio(lkmms=[loan.lkmm], at=D(2026, 1, 31))["outstanding"] == 1_080_000
    # February is open.
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 2, 2), actor=None)


def test_only_the_ketua_closes_and_reopens_and_an_admin_may_reopen(closed_january):
    loan, _payment, close = closed_january
    with pytest.raises(PermissionDenied):
        month_close(lkmm=loan.lkmm, actor=StaffFactory(lkmm=loan.lkmm).user, month=D(2026, 2, 1))
    with pytest.raises(ValidationError, match="sudah ditutup"):
        month_close(lkmm=loan.lkmm, actor=ketua_of(loan.lkmm), month=D(2026, 1, 1))
    with pytest.raises(PermissionDenied):
        month_reopen(close=close, actor=StaffFactory(lkmm=loan.lkmm).user, reason="salah")
    admin = get_user_model().objects.create_superuser("root", "r@example.org", PASSWORD)
    with pytest.raises(ValidationError):
        month_reopen(close=close, actor=admin, reason="")
    month_reopen(close=close, actor=admin, reason="Pembayaran 20/01 terlewat dicatat")
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 20), actor=None)
    assert PeriodClose.objects.get(pk=close.pk).reopen_reason == "Pembayaran 20/01 terlewat dicatat"


def test_the_current_month_cannot_be_closed(lkmm, ketua):
    from django.utils import timezone

    with pytest.raises(ValidationError, match="sesudah berakhir"):
        month_close(lkmm=lkmm, actor=ketua.user, month=timezone.localdate().replace(day=1))


def test_close_pages(client, closed_january):
    loan, _payment, close = closed_january
    ketua = ketua_of(loan.lkmm)
    login(client, ketua)
    page = client.get("/risiko/tutup-buku/")
    assert page.status_code == 200 and "01/2026" in page.content.decode()
    dinas = StaffFactory(dinas=True).user
    login(client, dinas)
    assert client.get("/risiko/tutup-buku/").status_code == 200
    assert client.post("/risiko/tutup-buku/", {"month": "2026-02-01"}).status_code == 403
    assert client.get(f"/risiko/tutup-buku/{close.pk}/buka/").status_code == 403


def test_the_quality_report_of_a_closed_month_reads_the_stored_figures(client, closed_january):
    from risk.models import QualityPolicy

    loan, _payment, close = closed_january
    ketua = ketua_of(loan.lkmm)
    # Changing the policy after the close does not change what January reported.
    loan.lkmm.quality_policy = QualityPolicy.objects.get(code="bank-5")
    loan.lkmm.save()
    login(client, ketua)
    response = client.get(f"/laporan/{loan.lkmm.code}/kolektibilitas/?at=2026-01-31")
    assert response.status_code == 200
    assert response.context["figures"]["closed"] == close
    assert response.context["figures"]["outstanding"] == 1_080_000


def test_the_close_form_offers_only_months_that_can_be_closed(client, closed_january):
    import datetime

    from django.utils import timezone

    loan, _payment, _close = closed_january
    ketua = ketua_of(loan.lkmm)
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - datetime.timedelta(days=1)).replace(day=1)
    month_close(lkmm=loan.lkmm, actor=ketua, month=last_month)
    login(client, ketua)

    form = client.get("/risiko/tutup-buku/").context["form"]

    offered = [value for value, _label in form.fields["month"].choices]
    before_last = (last_month - datetime.timedelta(days=1)).replace(day=1)
    assert offered[0] == before_last.isoformat()  # the latest month still open
    assert last_month.isoformat() not in offered  # closed already
    assert this_month.isoformat() not in offered  # not ended
