import datetime

import pytest
from django.utils import timezone

from ledger.models import JournalEntry
from loans.models import Loan
from tests.factories import LkmmFactory, LoanProductFactory, MemberFactory, make_active_loan

pytestmark = pytest.mark.django_db


def overdue(lkmm, days=60):
    today = timezone.localdate()
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm),
        product=LoanProductFactory(lkmm=lkmm),
        disbursed_on=today - datetime.timedelta(days=days + 7),
        first_due=today - datetime.timedelta(days=days),
    )


def test_reserve_page_and_month_end_allocation(ketua_client, lkmm, django_assert_max_num_queries):
    overdue(lkmm)  # weekly, 60 days: Macet under lkm-2015, 100% of Rp1.200.000
    url = f"/risiko/cadangan/{lkmm.code}/"
    with django_assert_max_num_queries(60):  # 12 month-ends, a few queries each, whatever the loans
        page = ketua_client.get(url)
    assert page.status_code == 200
    assert page.context["now"]["required"] == 1_200_000
    response = ketua_client.post(url, {"on": timezone.localdate().isoformat(), "amount": ""})
    assert response.status_code == 302
    assert JournalEntry.objects.filter(lkmm=lkmm, kind="provision").count() == 1
    assert ketua_client.get(url).context["now"]["coverage"] == 100


def test_reserve_page_permissions(client, pengelola_client, lkmm, other_lkmm):
    url = f"/risiko/cadangan/{lkmm.code}/"
    assert pengelola_client.get(url).status_code == 200
    assert pengelola_client.post(url, {"on": "2026-01-01"}).status_code == 403
    assert pengelola_client.get(f"/risiko/cadangan/{other_lkmm.code}/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_dinas_reads_but_does_not_allocate(dinas_client, lkmm):
    url = f"/risiko/cadangan/{lkmm.code}/"
    assert dinas_client.get(url).status_code == 200
    assert dinas_client.post(url, {"on": "2026-01-01"}).status_code == 403


def test_write_off_page_shows_the_top_up_then_confirms(ketua_client, pengelola, lkmm):
    from django.test import Client

    from tests.factories import login

    loan = overdue(lkmm)
    url = f"/risiko/hapus-buku/{loan.pk}/"
    other = login(Client(), pengelola)
    assert other.get(url).status_code == 403
    data = {"on": timezone.localdate().isoformat(), "reason": "tidak tertagih"}
    checked = ketua_client.post(url, data)
    assert checked.context["preview"] == {"outstanding": 1_200_000, "held": 0, "shortfall": 1_200_000}
    assert Loan.objects.get(pk=loan.pk).status == "aktif"
    done = ketua_client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    assert Loan.objects.get(pk=loan.pk).status == "dihapusbukukan"
    recovery = ketua_client.post(
        f"/risiko/pemulihan/{loan.pk}/",
        {"received_on": timezone.localdate().isoformat(), "amount": "250.000"},
    )
    assert recovery.status_code == 302
    assert loan.recoveries.get().amount == 250_000


def test_other_lkmm_loan_write_off_is_404(ketua_client):
    loan = overdue(LkmmFactory(code="lain"))
    assert ketua_client.get(f"/risiko/hapus-buku/{loan.pk}/").status_code == 404
