"""Trial balance (neraca saldo) and latest journal entries: `/buku/<code>/`."""

import datetime
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ledger.models import JournalEntry
from ledger.services import STANDARD_CHART
from loans import services as loan_services
from tests.factories import MemberFactory, make_active_loan


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def tb_url(code):
    return reverse("ledger:trial_balance", args=[code])


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


def balances(response):
    return {a.code: (a.debit_total, a.credit_total, a.balance) for a in response.context["accounts"]}


@pytest.fixture
def books(lkmm, pengelola):
    """Semenggu lends Rp 1.200.000 (10 days ago) and receives one installment of Rp 124.154 today."""
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name="Siti Aminah"), disbursed_on=today() - days(10)
    )
    return loan_services.repayment_record(loan=loan, amount=124_154, paid_on=today(), actor=pengelola.user)


def test_trial_balance_after_a_loan_and_a_payment(pengelola_client, lkmm, books, other_lkmm):
    make_active_loan(member=MemberFactory(lkmm=other_lkmm), disbursed_on=today(), principal=3_000_000)

    response = pengelola_client.get(tb_url("semenggu"))

    assert response.status_code == 200
    assert response.context["lkmm"] == lkmm
    rows = balances(response)
    assert len(rows) == len(STANDARD_CHART) == 24  # the standard chart (with the SHU accounts)
    assert rows["1101"] == (124_154, 1_200_000, -1_075_846)  # kas: lent out, one installment back
    assert rows["1201"] == (1_200_000, 120_000, 1_080_000)  # piutang
    assert rows["4101"] == (0, 4_154, 4_154)  # pendapatan bunga (credit-normal, shown positive)
    assert all(rows[code] == (0, 0, 0) for code in rows if code not in {"1101", "1201", "4101"})
    assert response.context["debit_sum"] == response.context["credit_sum"] == 1_324_154
    html = response.content.decode()
    assert "seimbang" in html and "TIDAK seimbang" not in html
    assert "-Rp 1.075.846" in html
    assert "Rp 1.324.154" in html


def test_latest_entries_come_first_with_their_lines(pengelola_client, books):
    response = pengelola_client.get(tb_url("semenggu"))

    entries = list(response.context["entries"])
    assert [e.number for e in entries] == [2, 1]
    for entry in entries:
        lines = list(entry.lines.all())
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) > 0
    html = response.content.decode()
    assert "J-00002" in html and "J-00001" in html
    assert "Angsuran P-00001 Siti Aminah, K-000001" in html
    assert (today() - days(10)).strftime("%d/%m/%Y") in html


def test_only_the_30_latest_entries_are_listed(pengelola_client, pengelola, lkmm):
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=today() - days(40))
    for k in range(31):
        loan_services.repayment_record(
            loan=loan, amount=1_000, paid_on=today() - days(31 - k), actor=pengelola.user
        )

    response = pengelola_client.get(tb_url("semenggu"))

    numbers = [e.number for e in response.context["entries"]]
    assert numbers == list(range(32, 2, -1))
    assert balances(response)["1101"][0] == 31_000  # the totals still count every entry


def test_empty_books(pengelola_client, lkmm):
    response = pengelola_client.get(tb_url("semenggu"))

    assert response.status_code == 200
    assert response.context["debit_sum"] == response.context["credit_sum"] == 0
    assert "Belum ada jurnal." in response.content.decode()


def test_staff_nav_links_to_their_books(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("reports:home"))

    assert f'href="{tb_url("semenggu")}"' in response.content.decode()


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["pengelola_client", "ketua_client"])
def test_another_lkmms_books_are_not_found(request, lkmm, other_lkmm, who):
    client = request.getfixturevalue(who)

    assert client.get(tb_url("wonosari")).status_code == 404


@pytest.mark.parametrize("code", ["semenggu", "wonosari"])
def test_dinas_reads_every_lkmms_books(dinas_client, books, other_lkmm, code):
    make_active_loan(member=MemberFactory(lkmm=other_lkmm), disbursed_on=today(), principal=3_000_000)

    response = dinas_client.get(tb_url(code))

    assert response.status_code == 200
    assert response.context["lkmm"].code == code
    expected_kas = {"semenggu": (124_154, 1_200_000, -1_075_846), "wonosari": (0, 3_000_000, -3_000_000)}[
        code
    ]
    assert balances(response)["1101"] == expected_kas


def test_unknown_lkmm_is_not_found(dinas_client):
    assert dinas_client.get(tb_url("tidak-ada")).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, lkmm):
    response = client.get(tb_url("semenggu"))

    assert response.status_code == 302
    assert response["Location"] == login_url(tb_url("semenggu"))


# --- query count ---------------------------------------------------------------------------------


def test_trial_balance_query_count_does_not_grow_with_entries(
    pengelola_client, pengelola, lkmm, django_assert_max_num_queries
):
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=today() - days(20))
    loan_services.repayment_record(loan=loan, amount=1_000, paid_on=today() - days(19), actor=pengelola.user)
    with CaptureQueriesContext(connection) as ctx:
        assert pengelola_client.get(tb_url("semenggu")).status_code == 200
    baseline = len(ctx)
    for k in range(10):
        loan_services.repayment_record(
            loan=loan, amount=1_000, paid_on=today() - days(18 - k), actor=pengelola.user
        )

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(tb_url("semenggu"))

    assert baseline <= 10
    assert len(response.context["entries"]) == JournalEntry.objects.filter(lkmm=lkmm).count() == 12
