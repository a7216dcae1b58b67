"""Trends (issue 11 item 2): twelve months of stored month-end figures for an LKMM, a kecamatan and the
city, as SVG charts and a table, with CSV/XLSX downloads; a fixed number of queries whatever the number
of LKMMs."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from ledger.models import MonthFigures
from loans.services import repayment_record, repayment_reverse
from reports.trends import months_ending, trend
from risk.selectors import month_figures, stored_month
from risk.services import month_close
from tests.factories import LkmmFactory, StaffFactory, ketua_of, login, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db
LAST = D(2026, 6, 1)


JANUARY = D(2026, 1, 1)


def _loan(lkmm, *, disbursed_on=JANUARY, principal=1_200_000):
    from tests.factories import MemberFactory

    return make_active_loan(member=MemberFactory(lkmm=lkmm), principal=principal, disbursed_on=disbursed_on)


@pytest.fixture
def books(lkmm, other_lkmm):
    """Semenggu: a loan from January paid twice, one payment reversed in its own month and one reversed in
    the next; Wonosari (another kecamatan): a loan from March never paid."""
    other_lkmm.kecamatan = "Kaliwates"
    other_lkmm.save()
    loan = _loan(lkmm)
    repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
    wrong = repayment_record(loan=loan, amount=10_000, paid_on=D(2026, 1, 9), actor=None)
    repayment_reverse(repayment=wrong, actor=ketua_of(lkmm), on=D(2026, 1, 20), reason="Salah catat")
    late = repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 2, 26), actor=None)
    repayment_reverse(repayment=late, actor=ketua_of(lkmm), on=D(2026, 3, 2), reason="Salah catat")
    month_close(lkmm=lkmm, actor=ketua_of(lkmm), month=D(2026, 1, 1))
    _loan(other_lkmm, disbursed_on=D(2026, 3, 10), principal=2_000_000)
    return loan


def test_months_ending():
    assert months_ending(D(2026, 2, 1), 3) == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    assert len(months_ending(LAST)) == 12


def test_an_lkmms_trend_equals_its_stored_month_end_figures(books, lkmm):
    rows = trend(lkmms=[lkmm], last=LAST)
    assert [row["month"] for row in rows] == months_ending(LAST)
    stored = {
        row["month"]: stored_month(row)
        for row in MonthFigures.objects.filter(lkmm=lkmm, month__lte=LAST).values()
    }
    january = month_figures(lkmms=[lkmm], month=D(2026, 1, 1))[lkmm.pk]  # the close's summary
    assert january["provisional"] is False
    for row in rows:
        if row["month"] == D(2026, 1, 1):
            expected = january
            assert row["provisional"] == 0
        else:
            expected = stored[row["month"]]
            assert row["provisional"] == 1
        for key in ("outstanding", "npl", "par30", "required", "held"):
            assert row[key] == expected[key], (row["month"], key)
        for key in ("npl_ratio", "par30_ratio", "coverage"):
            assert (str(row[key]) if row[key] is not None else None) == (
                str(expected[key]) if expected[key] is not None else None
            )
    by_month = {row["month"]: row for row in rows}
    assert by_month[D(2026, 1, 1)]["outstanding"] == 1_080_000
    assert by_month[D(2026, 1, 1)]["disbursed"] == 1_200_000
    # Reversed in its own month: never counted; reversed in the next: counted in its month as reported.
    assert by_month[D(2026, 1, 1)]["collected"] == 124_154
    assert by_month[D(2026, 2, 1)]["collected"] == 124_154
    assert by_month[D(2026, 3, 1)]["collected"] == 0
    assert by_month[D(2025, 12, 1)]["outstanding"] == 0


def test_the_citys_trend_is_the_sum_of_its_lkmms(books, lkmm, other_lkmm):
    city = {row["month"]: row for row in trend(lkmms=[lkmm, other_lkmm], last=LAST)}
    one = {row["month"]: row for row in trend(lkmms=[lkmm], last=LAST)}
    two = {row["month"]: row for row in trend(lkmms=[other_lkmm], last=LAST)}
    for month, row in city.items():
        for key in ("outstanding", "disbursed", "collected", "npl", "par30", "required", "held"):
            assert row[key] == one[month][key] + two[month][key]
    assert city[D(2026, 3, 1)]["disbursed"] == 2_000_000


def _get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response


def test_dinas_reads_the_city_each_kecamatan_and_each_lkmm(client, dinas, books, lkmm, other_lkmm):
    login(client, dinas)
    page = _get(client, reverse("oversight:trend"), bulan="2026-06").content.decode()
    assert page.count("<svg") == 6 and "style=" not in page
    assert 'viewBox="0 0 320 170"' in page
    assert reverse("oversight:trend_kecamatan", args=["Kaliwates"]) in page
    page = _get(client, reverse("oversight:trend_kecamatan", args=["Sumbersari"]), bulan="2026-06")
    assert reverse("oversight:trend_lkmm", args=[lkmm.code]) in page.content.decode()
    assert [row["outstanding"] for row in page.context["rows"]] == [
        row["outstanding"] for row in trend(lkmms=[lkmm], last=LAST)
    ]
    _get(client, reverse("oversight:trend_lkmm", args=[other_lkmm.code]))
    assert client.get(reverse("oversight:trend_kecamatan", args=["Tidak Ada"])).status_code == 404
    assert client.get(reverse("oversight:trend_lkmm", args=["tidak-ada"])).status_code == 404


def test_lkmm_staff_read_their_own_lkmms_trend_only(client, books, lkmm, other_lkmm):
    login(client, StaffFactory(lkmm=lkmm))
    response = client.get(reverse("oversight:trend"), {"bulan": "2026-06"})
    assert response["Location"] == reverse("oversight:trend_lkmm", args=[lkmm.code]) + "?bulan=2026-06"
    _get(client, reverse("oversight:trend_lkmm", args=[lkmm.code]))
    assert client.get(reverse("oversight:trend_lkmm", args=[other_lkmm.code])).status_code == 404
    assert client.get(reverse("oversight:trend_kecamatan", args=["Sumbersari"])).status_code == 403


def test_anonymous_goes_to_the_login_page(client, lkmm):
    response = client.get(reverse("oversight:trend_lkmm", args=[lkmm.code]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_downloads_hold_the_pages_figures(client, dinas, books, lkmm):
    login(client, dinas)
    url = reverse("oversight:trend_lkmm", args=[lkmm.code])
    rows = trend(lkmms=[lkmm], last=LAST)
    response = _get(client, url, bulan="2026-06", format="xlsx")
    assert response["Content-Disposition"] == f'attachment; filename="tren-{lkmm.code}-2026-06.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header_at = next(i for i, row in enumerate(values) if row[0] == "Bulan")
    body = values[header_at + 1 : header_at + 13]
    assert [row[0].date() for row in body] == [row["end"] for row in rows]  # real dates
    assert [row[1] for row in body] == [row["outstanding"] for row in rows]
    assert [row[4] for row in body] == [row["collected"] for row in rows]
    assert sheet.freeze_panes == f"A{header_at + 2}"
    response = _get(client, url, bulan="2026-06", format="csv")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(line[3]) for line in lines[1:13]] == [row["disbursed"] for row in rows]
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_a_month_not_ended_is_explained(client, dinas, lkmm):
    login(client, dinas)
    response = _get(client, reverse("oversight:trend"), bulan="2999-01")
    assert "Pilih bulan yang sudah berakhir." in response.content.decode()


def _world(count):
    lkmms = []
    for i in range(count):
        lkmm = LkmmFactory(kecamatan=f"Kec {i % 3}")
        loan = _loan(lkmm)
        repayment_record(loan=loan, amount=124_154, paid_on=D(2026, 1, 8), actor=None)
        lkmms.append(lkmm)
    return lkmms


@pytest.mark.parametrize("url_name", ["oversight:trend", "oversight:trend_kecamatan"])
def test_the_query_count_does_not_grow_with_lkmms(client, dinas, url_name, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, dinas)
    counts = []
    for count in (2, 6):
        _world(count if not counts else count - 2)
        args = ["Kec 0"] if url_name.endswith("kecamatan") else []
        url = reverse(url_name, args=args)
        _get(client, url, bulan="2026-06")  # stores what was missing
        with CaptureQueriesContext(connection) as queries:
            _get(client, url, bulan="2026-06")
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_menu_marks_the_trend_page(client, dinas, lkmm):
    login(client, dinas)
    page = client.get(reverse("oversight:trend_lkmm", args=[lkmm.code])).content.decode()
    assert f'<a href="{reverse("oversight:trend")}" aria-current="page">Tren</a>' in page
