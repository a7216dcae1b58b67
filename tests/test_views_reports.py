"""Home page (an LKMM's dashboard for its staff, the overview of every LKMM for Dinas) and the
per-LKMM dashboard `/lkmm/<code>/`."""

import datetime
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from loans import services as loan_services
from risk.services import month_close
from tests.factories import LkmmFactory, MemberFactory, ketua_of, make_active_loan, make_loan

HOME = reverse("reports:home")
INSTALLMENT = 124_154  # Rp 1.200.000 on the factory product: 120.000 principal + 4.154 interest


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def login_url(next_url):
    return f"{reverse('login')}?next={quote(next_url)}"


def late_loan(lkmm, name="Ani Menunggak"):
    """Disbursed 30 days ago, nothing paid: 4 installments past due (the oldest 23 days), the 5th due
    in 5 days."""
    return make_active_loan(member=MemberFactory(lkmm=lkmm, full_name=name), disbursed_on=today() - days(30))


def current_loan(lkmm, name="Budi Lancar"):
    """Disbursed today: first installment due in 7 days, outside the 7-day list (today..today+6)."""
    return make_active_loan(member=MemberFactory(lkmm=lkmm, full_name=name), disbursed_on=today())


def month_end_of_last_month():
    return today().replace(day=1) - days(1)


def late_at_month_end(lkmm, name="Ani Menunggak", overdue_days=23):
    """Weekly, disbursed so that at the end of last month its oldest unpaid installment was
    `overdue_days` days past due."""
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name=name),
        disbursed_on=month_end_of_last_month() - days(overdue_days + 7),
    )


def current_at_month_end(lkmm, name="Budi Lancar"):
    """Disbursed two days before the end of last month: nothing due yet then."""
    return make_active_loan(
        member=MemberFactory(lkmm=lkmm, full_name=name), disbursed_on=month_end_of_last_month() - days(2)
    )


# --- dashboard -----------------------------------------------------------------------------------


def test_home_of_lkmm_staff_is_their_dashboard(pengelola_client, lkmm, other_lkmm):
    late = late_loan(lkmm)
    current = current_loan(lkmm)
    make_loan(member=MemberFactory(lkmm=lkmm), applied_on=today())  # an application is not a loan yet
    MemberFactory(lkmm=lkmm, status="keluar")
    late_loan(other_lkmm, name="Orang Wonosari")

    response = pengelola_client.get(HOME)

    assert response.status_code == 200
    assert response.context["lkmm"] == lkmm
    figures = response.context["figures"]
    assert figures["members"] == 3  # active members only
    assert figures["loans"] == 2
    assert figures["outstanding"] == 2_400_000
    assert figures["overdue"] == 4 * INSTALLMENT
    assert figures["past_due_loans"] == 1
    assert figures["par1_ratio"] == Decimal("50.00")
    assert figures["par30_ratio"] == Decimal("0.00")
    assert [loan.pk for loan in response.context["overdue"]] == [late.pk]
    assert response.context["overdue"][0].days_past_due == 23
    due = list(response.context["due_week"])
    assert [(row.loan_id, row.seq, row.due_date, row.remaining) for row in due] == [
        (late.pk, 5, today() + days(5), INSTALLMENT)
    ]
    html = response.content.decode()
    assert "Ani Menunggak" in html
    assert "Orang Wonosari" not in html
    assert "Rp 2.400.000" in html
    assert "Rp 496.616" in html
    assert '<span class="value">50%</span>' in html  # PAR1
    assert current.member.full_name not in html  # nothing due this week, nothing overdue


def test_the_home_lists_rows_escape_names_and_link_member_and_loan(pengelola_client, lkmm):
    """The due and overdue rows are written in Python (reports.templatetags.home_rows)."""
    late = late_loan(lkmm, name='Ani <b>"Telat"</b>')
    html = pengelola_client.get(HOME).content.decode()
    assert "<b>" not in html
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    name = "Ani &lt;b&gt;&quot;Telat&quot;&lt;/b&gt;"
    due = next(row for row in rows if name in row and "#5" in row)
    assert f'href="{reverse("members:detail", args=[late.member_id])}"' in due
    assert f'<a href="{reverse("loans:detail", args=[late.pk])}">{late.code}</a> #5' in due
    assert f"<td>{(today() + days(5)):%d/%m/%Y}</td>" in due
    overdue = next(row for row in rows if name in row and "badge bad" in row)
    assert '<span class="badge bad">23</span>' in overdue
    assert f"Rp {4 * INSTALLMENT:,}".replace(",", ".") in overdue


def test_a_partly_paid_installment_stays_on_the_weekly_list_with_what_is_left(
    pengelola_client, pengelola, lkmm
):
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm), disbursed_on=today() - days(4)
    )  # 1st due in 3 days
    loan_services.repayment_record(loan=loan, amount=100_000, paid_on=today(), actor=pengelola.user)

    response = pengelola_client.get(HOME)

    due = list(response.context["due_week"])
    assert [(row.seq, row.remaining) for row in due] == [(1, INSTALLMENT - 100_000)]
    assert "Rp 24.154" in response.content.decode()


def test_a_fully_paid_installment_leaves_the_weekly_list(pengelola_client, pengelola, lkmm):
    loan = make_active_loan(member=MemberFactory(lkmm=lkmm), disbursed_on=today() - days(4))
    loan_services.repayment_record(loan=loan, amount=INSTALLMENT, paid_on=today(), actor=pengelola.user)

    response = pengelola_client.get(HOME)

    assert list(response.context["due_week"]) == []
    assert "Tidak ada tagihan dalam 7 hari ke depan." in response.content.decode()


def test_empty_dashboard(pengelola_client, lkmm):
    response = pengelola_client.get(HOME)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["members"], figures["loans"], figures["outstanding"], figures["par1_ratio"]) == (
        0,
        0,
        0,
        None,
    )
    assert "Tidak ada pinjaman menunggak." in response.content.decode()


def test_own_lkmm_dashboard_by_code(pengelola_client, lkmm):
    response = pengelola_client.get(reverse("reports:lkmm", args=["semenggu"]))

    assert response.status_code == 200
    assert response.context["lkmm"] == lkmm


@pytest.mark.parametrize("who", ["pengelola_client", "ketua_client"])
def test_another_lkmms_dashboard_is_not_found(request, lkmm, other_lkmm, who):
    client = request.getfixturevalue(who)

    assert client.get("/lkmm/wonosari/").status_code == 404


def test_unknown_lkmm_is_not_found(dinas_client):
    assert dinas_client.get("/lkmm/tidak-ada/").status_code == 404


@pytest.mark.parametrize("url", [HOME, "/lkmm/semenggu/"])
def test_anonymous_is_sent_to_the_login_page(client, lkmm, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == login_url(url)


# --- Dinas ---------------------------------------------------------------------------------------


def test_dinas_home_is_the_overview_of_every_lkmm(dinas_client, lkmm, other_lkmm):
    LkmmFactory(code="mandiri", name="LKMM Mandiri", desa="Mandiri")
    LkmmFactory(code="tutup", name="LKMM Tutup", is_active=False)
    late_at_month_end(lkmm)
    current_at_month_end(other_lkmm)

    response = dinas_client.get(HOME)

    assert response.status_code == 200
    assert "reports/overview.html" in [t.name for t in response.templates]
    rows = {row["lkmm"].code: row["figures"] for row in response.context["rows"]}
    assert sorted(rows) == ["mandiri", "semenggu", "wonosari"]  # active LKMMs only
    assert (rows["semenggu"]["loans"], rows["semenggu"]["past_due_loans"]) == (1, 1)
    assert (rows["wonosari"]["loans"], rows["wonosari"]["past_due_loans"]) == (1, 0)
    assert rows["mandiri"]["loans"] == 0
    totals = response.context["totals"]
    assert (totals["members"], totals["loans"], totals["outstanding"]) == (2, 2, 2_400_000)
    assert totals["par1_ratio"] == Decimal("50.00")
    html = response.content.decode()
    for code, name in [
        ("semenggu", "LKMM Semenggu"),
        ("wonosari", "LKMM Wonosari"),
        ("mandiri", "LKMM Mandiri"),
    ]:
        assert name in html
        assert f'href="{reverse("reports:lkmm", args=[code])}"' in html
    assert "LKMM Tutup" not in html
    # Beside each LKMM, its figures today: the late loan is still there, unpaid.
    today_rows = {row["lkmm"].code: row["today"] for row in response.context["rows"]}
    assert today_rows["semenggu"]["outstanding"] == 1_200_000
    assert today_rows["mandiri"]["outstanding"] == 0
    assert response.context["month"] == (month_end_of_last_month()).replace(day=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-13", "Bulan tidak dikenal"),
        ("٢٠٢٦-١١", "tahun-bulan"),
        ("2999-01", "sudah berakhir"),
        ("1999-12", "sejak 2000"),
    ],
)
def test_a_month_that_cannot_be_shown_is_explained_next_to_the_field(dinas_client, lkmm, value, message):
    response = dinas_client.get(HOME, {"bulan": value})
    assert response.status_code == 200
    assert message in response.context["form"].errors["bulan"][0]
    assert response.context["month"] == month_end_of_last_month().replace(day=1)


def test_dinas_home_shows_a_chosen_month(dinas_client, lkmm):
    loan = late_at_month_end(lkmm, overdue_days=40)
    earlier = (month_end_of_last_month().replace(day=1) - days(1)).replace(day=1)
    response = dinas_client.get(HOME, {"bulan": f"{earlier:%Y-%m}"})
    row = response.context["rows"][0]
    assert response.context["month"] == earlier
    # Disbursed 47 days before the end of last month: out, and past due, by the month before too.
    assert loan.disbursed_on < response.context["month_end"]
    assert (row["figures"]["loans"], row["figures"]["past_due_loans"]) == (1, 1)


def test_dinas_home_puts_flagged_lkmms_first_with_kecamatan_subtotals(dinas_client, lkmm, other_lkmm):
    healthy = LkmmFactory(code="mandiri", name="LKMM Mandiri", kecamatan="Patrang")
    # Weekly, the oldest installment 33 days past due: Diragukan under lkm-2015, so NPL 100%.
    late_at_month_end(other_lkmm, overdue_days=33)
    current_at_month_end(lkmm)
    current_at_month_end(healthy)
    # Closed in time, so that whatever today's date the healthy ones stay sehat.
    for each in (lkmm, healthy):
        close = month_close(lkmm=each, actor=ketua_of(each), month=month_end_of_last_month())
        type(close).objects.filter(pk=close.pk).update(
            closed_at=timezone.make_aware(datetime.datetime.combine(today().replace(day=1), datetime.time(9)))
        )

    response = dinas_client.get(HOME)

    flags = [(row["lkmm"].code, row["flag"]) for row in response.context["rows"]]
    assert flags == [("wonosari", "bermasalah"), ("mandiri", "sehat"), ("semenggu", "sehat")]
    assert response.context["counts"] == {"bermasalah": 1, "perhatian": 0, "sehat": 2}
    kecamatan = {
        name: (count, f["loans"], f["outstanding"]) for name, count, f in response.context["kecamatan"]
    }
    assert kecamatan == {"Patrang": (1, 1, 1_200_000), "Sumbersari": (2, 2, 2_400_000)}
    # The city total is the sum of the kecamatan rows printed above it.
    assert response.context["totals"]["outstanding"] == 3_600_000
    only_flagged = dinas_client.get(HOME, {"status": "bermasalah"})
    assert [row["lkmm"].code for row in only_flagged.context["rows"]] == ["wonosari"]
    by_name = dinas_client.get(HOME, {"urut": "nama"})
    assert [row["lkmm"].name for row in by_name.context["rows"]] == [
        "LKMM Mandiri",
        "LKMM Semenggu",
        "LKMM Wonosari",
    ]


def test_dinas_home_shows_fifty_lkmms_a_page(dinas_client):
    for k in range(52):
        LkmmFactory(code=f"desa{k:02d}", name=f"LKMM Desa {k:02d}")
    first = dinas_client.get(HOME, {"urut": "nama"})
    assert len(first.context["rows"]) == 50
    assert "Halaman 1 dari 2" in first.content.decode()
    second = dinas_client.get(HOME, {"urut": "nama", "page": 2})
    assert [row["lkmm"].code for row in second.context["rows"]] == ["desa50", "desa51"]
    # Totals cover every LKMM, whatever the page.
    assert sum(count for _name, count, _f in second.context["kecamatan"]) == 52


@pytest.mark.parametrize("code", ["semenggu", "wonosari"])
def test_dinas_opens_every_lkmm_dashboard(dinas_client, lkmm, other_lkmm, code):
    late_loan(other_lkmm, name="Orang Wonosari")

    response = dinas_client.get(reverse("reports:lkmm", args=[code]))

    assert response.status_code == 200
    assert response.context["lkmm"].code == code
    html = response.content.decode()
    assert reverse("ledger:trial_balance", args=[code]) in html
    assert ("Orang Wonosari" in html) is (code == "wonosari")


# --- query counts --------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_dashboard_query_count_does_not_grow_with_loans(
    pengelola_client, lkmm, django_assert_max_num_queries
):
    def build(n):
        for i in range(n):
            (late_loan if i % 2 else current_loan)(lkmm, name=f"Anggota {i}")

    build(3)
    baseline = _queries(pengelola_client, HOME)
    build(12)

    with django_assert_max_num_queries(baseline):
        response = pengelola_client.get(HOME)

    # session, user, staff, LKMM, its Dinas's thresholds; quality classes, loans, reserve, members;
    # overdue, crossed 30 days, due; the inbox's four lists (member and loan applications, loans to
    # disburse, four-eyes requests); the coaching follow-ups box; kas against the Dinas's cash limit (the
    # kept kas balance, less today's lines)
    assert baseline <= 17
    assert response.context["figures"]["loans"] == 15
    assert len(response.context["overdue"]) == 7


def test_overview_query_count_does_not_grow_with_lkmms_or_loans(
    dinas_client, lkmm, django_assert_max_num_queries
):
    late_at_month_end(lkmm)
    _queries(dinas_client, HOME)  # the month-end figures are stored on first read
    baseline = _queries(dinas_client, HOME)
    for k in range(5):
        other = LkmmFactory(code=f"desa{k}")
        late_at_month_end(other)
        current_at_month_end(other)
    _queries(dinas_client, HOME)

    with django_assert_max_num_queries(baseline):
        response = dinas_client.get(HOME)

    # session, user, the second factor's device, staff, the Dinas, LKMMs; the month: closes, stored
    # figures, members, borrowers, disbursed, collected, received, due, overdue at its start, last
    # activity; today beside the page's LKMMs: their figures, reserves, members; the open coaching
    # follow-ups of the Dinas's LKMMs; kas against the cash limit.
    assert baseline <= 21
    assert len(response.context["rows"]) == 6
    assert response.context["totals"]["loans"] == 11


@pytest.mark.parametrize("url", ["/", "/tren/", "/dampak/", "/pembinaan/", "/buku/laporan-keuangan/"])
def test_dinas_pages_offer_the_semicolon_csv_excel_in_indonesia_opens(dinas_client, lkmm, url):
    page = dinas_client.get(url)
    assert "format=csv-id" in page.content.decode()
    response = dinas_client.get(url, {"format": "csv-id"})
    assert response.status_code == 200
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert ";" in header and "," not in header
