"""The Dinas home for a chosen month (issue 11, item 1): each row equals that LKMM's own reports, every
total is the sum of the rows under it, each health flag at and just past its threshold, the month-close
rule, paging, sorting, filtering, scoping by Dinas, exports and a fixed number of queries."""

import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import Dinas
from ledger.models import PeriodClose
from loans import services as loan_services
from reports import dinas_home
from risk.selectors import month_end, repayment_rate
from risk.services import month_close
from tests.factories import (
    DinasFactory,
    LkmmFactory,
    MemberFactory,
    StaffFactory,
    ketua_of,
    login,
    make_active_loan,
)

pytestmark = pytest.mark.django_db
HOME = reverse("reports:home")
D = datetime.date


def today():
    return timezone.localdate()


def last_month():
    return (today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def book(lkmm, *, late=0, current=0, paid=0):
    """Loans of `lkmm` around last month: `late` ones disbursed 60 days before its end with nothing paid
    (PAR30, non-performing under lkm-2015), `current` ones disbursed in it with `paid` payments made of the
    first installment, in the month."""
    end = month_end(last_month())
    for _k in range(late):
        make_active_loan(
            member=MemberFactory(lkmm=lkmm, joined_on=D(2025, 1, 1)),
            disbursed_on=end - datetime.timedelta(days=60),
        )
    for k in range(current):
        loan = make_active_loan(
            member=MemberFactory(lkmm=lkmm, joined_on=D(2025, 1, 1)),
            disbursed_on=last_month(),
        )
        if k < paid:
            loan_services.repayment_record(
                loan=loan, amount=124_154, paid_on=last_month() + datetime.timedelta(days=7), actor=None
            )


@pytest.fixture
def city(db):
    """Four LKMMs of Jember in two kecamatan, one of Bontang."""
    lkmms = [
        LkmmFactory(code="semenggu", name="LKMM Semenggu", kecamatan="Sumbersari"),
        LkmmFactory(code="wonosari", name="LKMM Wonosari", kecamatan="Sumbersari"),
        LkmmFactory(code="mandiri", name="LKMM Mandiri", kecamatan="Patrang"),
        LkmmFactory(code="sepi", name="LKMM Sepi", kecamatan="Patrang"),
    ]
    book(lkmms[0], late=1, current=2, paid=2)
    book(lkmms[1], current=3, paid=1)
    book(lkmms[2], late=2, current=1, paid=0)
    bontang = DinasFactory(code="bontang", kabupaten="Bontang", provinsi="Kalimantan Timur")
    far = LkmmFactory(code="guntung", name="LKMM Guntung", dinas=bontang)
    book(far, current=1)
    return SimpleNamespace(lkmms=lkmms, far=far, bontang=bontang)


def rows_of(response):
    return {row["lkmm"].code: row for row in response.context["rows"]}


# --- figures -----------------------------------------------------------------------------------------

AMOUNTS = [
    "members",
    "borrowers",
    "loans",
    "outstanding",
    "overdue",
    "npl",
    "par30",
    "required",
    "held",
    "disbursed",
    "collected",
    "received",
    "due",
    "overdue_at_start",
    "savings",
    "savers",
]


def test_totals_are_the_sum_of_the_rows_and_percentages_come_from_summed_amounts(dinas_client, city):
    response = dinas_client.get(HOME)
    rows = list(response.context["rows"])
    assert len(rows) == 4
    totals = response.context["totals"]
    for key in AMOUNTS:
        assert totals[key] == sum(row["figures"][key] for row in rows), key
    kecamatan = response.context["kecamatan"]
    assert [name for name, _n, _f in kecamatan] == ["Patrang", "Sumbersari"]
    for name, count, figures in kecamatan:
        mine = [row["figures"] for row in rows if row["lkmm"].kecamatan == name]
        assert count == len(mine) == 2
        for key in AMOUNTS:
            assert figures[key] == sum(f[key] for f in mine), (name, key)
    for key in AMOUNTS:
        assert totals[key] == sum(f[key] for _name, _n, f in kecamatan)
    assert totals["npl_ratio"] == dinas_home.percent(totals["npl"], totals["outstanding"])
    assert totals["par30_ratio"] == dinas_home.percent(totals["par30"], totals["outstanding"])
    assert totals["repayment_rate"] == dinas_home.percent(
        totals["received"], totals["due"] + totals["overdue_at_start"]
    )
    # The city figures on the page are the totals.
    assert totals["disbursed"] == 6 * 1_200_000


def test_each_row_equals_the_lkmms_own_reports_for_the_month(dinas_client, city):
    month = last_month()
    end = month_end(month)
    rows = rows_of(dinas_client.get(HOME))
    for lkmm in city.lkmms:
        figures = rows[lkmm.code]["figures"]
        own = dinas_client.get(reverse("reports:quality", args=[lkmm.code]), {"at": end.isoformat()})
        report = own.context["figures"]
        for key in (
            "loans",
            "outstanding",
            "npl",
            "npl_ratio",
            "par30_ratio",
            "required",
            "held",
            "coverage",
        ):
            assert figures[key] == report[key], (lkmm.code, key)
        rate = repayment_rate(lkmms=[lkmm], start=month, end=end)
        assert figures["repayment_rate"] == rate["rate"]
        assert (figures["received"], figures["due"], figures["overdue_at_start"]) == (
            rate["received"],
            rate["due"],
            rate["overdue_at_start"],
        )
    semenggu = rows["semenggu"]["figures"]
    assert semenggu["disbursed"] == 2 * 1_200_000
    assert semenggu["collected"] == 2 * 124_154
    assert semenggu["borrowers"] == 3 and semenggu["members"] == 3
    assert semenggu["last_activity"] == month + datetime.timedelta(days=7)
    assert rows["sepi"]["figures"]["last_activity"] is None
    assert rows["sepi"]["figures"]["repayment_rate"] is None


def test_a_reversed_payment_is_not_collected(dinas_client, city):
    lkmm = city.lkmms[1]
    repayment = lkmm.repayments.first()
    loan_services.repayment_reverse(
        repayment=repayment,
        actor=ketua_of(lkmm),
        on=month_end(last_month()),
        reason="Salah catat",
    )
    assert rows_of(dinas_client.get(HOME))["wonosari"]["figures"]["collected"] == 0


# --- health ------------------------------------------------------------------------------------------

MONTH = D(2026, 10, 1)


def figures(**changes):
    base = {
        "npl_ratio": Decimal("0"),
        "par30_ratio": Decimal("0"),
        "required": 1000,
        "coverage": Decimal("150"),
        "last_activity": D(2026, 10, 31),
        "closed": SimpleNamespace(closed_at=timezone.make_aware(datetime.datetime(2026, 11, 2, 9))),
    }
    return {**base, **changes}


def settings(**changes):
    return Dinas(
        **{
            "npl_threshold_pct": Decimal("5"),
            "par30_threshold_pct": Decimal("10"),
            "coverage_threshold_pct": Decimal("100"),
            **changes,
        }
    )


def closed_on(day):
    return SimpleNamespace(
        closed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 30)))
    )


@pytest.mark.parametrize(
    ("changes", "dinas", "today", "flag", "reasons"),
    [
        ({}, {}, D(2026, 12, 1), "sehat", []),
        # NPL: at the threshold, just past it; the Dinas's own threshold.
        ({"npl_ratio": Decimal("5.00")}, {}, D(2026, 12, 1), "sehat", []),
        ({"npl_ratio": Decimal("5.01")}, {}, D(2026, 12, 1), "bermasalah", ["npl"]),
        (
            {"npl_ratio": Decimal("3.01")},
            {"npl_threshold_pct": Decimal("3")},
            D(2026, 12, 1),
            "bermasalah",
            ["npl"],
        ),
        # Coverage: at the threshold, just short of it; none required: not judged.
        ({"coverage": Decimal("100.00")}, {}, D(2026, 12, 1), "sehat", []),
        ({"coverage": Decimal("99.99")}, {}, D(2026, 12, 1), "bermasalah", ["coverage"]),
        (
            {"coverage": Decimal("79.99")},
            {"coverage_threshold_pct": Decimal("80")},
            D(2026, 12, 1),
            "bermasalah",
            ["coverage"],
        ),
        (
            {"coverage": Decimal("80.00")},
            {"coverage_threshold_pct": Decimal("80")},
            D(2026, 12, 1),
            "sehat",
            [],
        ),
        ({"coverage": None, "required": 0}, {}, D(2026, 12, 1), "sehat", []),
        # PAR30.
        ({"par30_ratio": Decimal("10.00")}, {}, D(2026, 12, 1), "sehat", []),
        ({"par30_ratio": Decimal("10.01")}, {}, D(2026, 12, 1), "perhatian", ["par30"]),
        (
            {"par30_ratio": Decimal("12.01")},
            {"par30_threshold_pct": Decimal("12")},
            D(2026, 12, 1),
            "perhatian",
            ["par30"],
        ),
        # No activity for more than 30 days before the month's end (31 Oct).
        ({"last_activity": D(2026, 10, 1)}, {}, D(2026, 12, 1), "sehat", []),
        ({"last_activity": D(2026, 9, 30)}, {}, D(2026, 12, 1), "perhatian", ["quiet"]),
        ({"last_activity": None}, {}, D(2026, 12, 1), "perhatian", ["quiet"]),
        # Closed by the 10th of the next month: on the 10th in time, on the 11th late.
        ({"closed": closed_on(D(2026, 11, 10))}, {}, D(2026, 12, 1), "sehat", []),
        ({"closed": closed_on(D(2026, 11, 11))}, {}, D(2026, 12, 1), "perhatian", ["close"]),
        ({"closed": None}, {}, D(2026, 11, 10), "sehat", []),
        ({"closed": None}, {}, D(2026, 11, 11), "perhatian", ["close"]),
        # bermasalah wins over perlu perhatian, and says every reason.
        (
            {"npl_ratio": Decimal("6"), "par30_ratio": Decimal("11")},
            {},
            D(2026, 12, 1),
            "bermasalah",
            ["npl", "par30"],
        ),
    ],
)
def test_health_at_and_just_past_each_threshold(changes, dinas, today, flag, reasons):
    result = dinas_home.health(figures(**changes), dinas=settings(**dinas), month=MONTH, today=today)
    assert result == (flag, reasons)


def test_the_month_not_closed_by_the_10th_flags_the_lkmm_on_the_page(dinas_client, city):
    """Last month, closed in time by Mandiri and late by Wonosari; not closed by the others."""
    month = last_month()
    deadline = dinas_home.close_deadline(month)
    assert deadline == (month_end(month) + datetime.timedelta(days=1)).replace(day=10)
    for lkmm, day in ((city.lkmms[2], deadline), (city.lkmms[1], deadline + datetime.timedelta(days=1))):
        close = month_close(lkmm=lkmm, actor=ketua_of(lkmm), month=month)
        PeriodClose.objects.filter(pk=close.pk).update(
            closed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        )
    rows = rows_of(dinas_client.get(HOME))
    assert "close" not in rows["mandiri"]["reasons"]
    assert "close" in rows["wonosari"]["reasons"]
    assert rows["mandiri"]["figures"]["provisional"] is False
    assert ("close" in rows["semenggu"]["reasons"]) is (today() > deadline)
    assert rows["semenggu"]["figures"]["provisional"] is True


def test_the_dinas_thresholds_move_the_flags(dinas_client, city):
    rows = rows_of(dinas_client.get(HOME))
    semenggu = rows["semenggu"]
    assert "npl" in semenggu["reasons"]  # one loan of three 30+ days late
    Dinas.objects.filter(code="jember").update(npl_threshold_pct=Decimal("100"), coverage_threshold_pct=0)
    rows = rows_of(dinas_client.get(HOME))
    assert "npl" not in rows["semenggu"]["reasons"]


# --- the page ----------------------------------------------------------------------------------------


def test_flagged_first_filter_sort_and_provisional_mark(dinas_client, city):
    response = dinas_client.get(HOME)
    flags = [row["flag"] for row in response.context["rows"]]
    assert flags == sorted(flags, key=dinas_home.FLAG_ORDER.get)
    html = response.content.decode()
    assert "sementara" in html and "_dinas_home_extra" not in html
    flagged = dinas_client.get(HOME, {"status": "ditandai"})
    assert all(row["flag"] != "sehat" for row in flagged.context["rows"])
    assert len(flagged.context["rows"]) == response.context["flagged"]
    by_disbursed = dinas_client.get(HOME, {"urut": "disalurkan"})
    amounts = [row["figures"]["disbursed"] for row in by_disbursed.context["rows"]]
    assert amounts == sorted(amounts, reverse=True)
    by_rate = dinas_client.get(HOME, {"urut": "pengembalian"})
    rates = [row["figures"]["repayment_rate"] for row in by_rate.context["rows"]]
    assert rates[-1] is None and rates[:-1] == sorted(rates[:-1])
    assert dinas_client.get(HOME, {"urut": "tidak-ada"}).context["sort"] == "status"


def test_fifty_rows_a_page_and_the_totals_cover_every_page(dinas_client):
    for k in range(53):
        LkmmFactory(
            code=f"desa{k:02d}", name=f"LKMM Desa {k:02d}", kecamatan="Kaliwates" if k % 2 else "Ajung"
        )
    first = dinas_client.get(HOME, {"urut": "nama"})
    second = dinas_client.get(HOME, {"urut": "nama", "page": 2})
    assert len(first.context["rows"]) == 50
    assert [row["lkmm"].code for row in second.context["rows"]] == ["desa50", "desa51", "desa52"]
    assert sum(n for _name, n, _f in second.context["kecamatan"]) == 53


def test_only_the_reviewers_dinas(client, city):
    login(client, StaffFactory(dinas=True))
    assert "guntung" not in rows_of(client.get(HOME))
    client.logout()
    login(client, StaffFactory(dinas=True, dinas_of=city.bontang))
    response = client.get(HOME)
    assert list(rows_of(response)) == ["guntung"]
    assert response.context["totals"]["disbursed"] == 1_200_000
    text = client.get(HOME, {"format": "csv"}).content.decode("utf-8-sig")
    assert "LKMM Guntung" in text and "Semenggu" not in text


def test_a_manager_gets_their_dashboard_not_the_dinas_home(client, city):
    login(client, StaffFactory(lkmm=city.lkmms[0]))
    response = client.get(HOME)
    assert "reports/overview.html" not in [t.name for t in response.templates]
    assert client.get(HOME, {"format": "csv"}).get("Content-Type", "").startswith("text/html")


def test_the_number_of_queries_is_fixed_whatever_the_number_of_lkmms(dinas_client, django_assert_num_queries):
    def build(n):
        for k in range(n):
            lkmm = LkmmFactory(code=f"q{Dinas.objects.count()}{k}{LkmmFactory._meta.model.objects.count()}")
            book(lkmm, late=1, current=1, paid=1)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert dinas_client.get(HOME).status_code == 200
        return len(ctx)

    build(3)
    count()  # the month-end figures are stored on the first read
    three = count()
    build(7)
    count()
    with django_assert_num_queries(three):
        response = dinas_client.get(HOME)
    assert len(response.context["rows"]) == 10


# --- exports -----------------------------------------------------------------------------------------


def test_xlsx_holds_the_page_figures_with_real_dates_and_the_total(dinas_client, city):
    page = dinas_client.get(HOME)
    response = dinas_client.get(HOME, {"format": "xlsx"})
    assert response["Content-Disposition"].startswith('attachment; filename="kesehatan-lkmm-jember-')
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header_at = next(i for i, row in enumerate(values) if row[0] == "Kecamatan")
    header = values[header_at]
    assert sheet.freeze_panes == f"A{header_at + 2}"
    data = values[header_at + 1 : header_at + 1 + len(page.context["rows"])]
    for row, line in zip(page.context["rows"], data, strict=True):
        assert line[header.index("Kode")] == row["lkmm"].code
        assert line[header.index("Sisa pokok pinjaman (Rp)")] == row["figures"]["outstanding"]
        assert line[header.index("Disalurkan bulan ini (Rp)")] == row["figures"]["disbursed"]
        activity = line[header.index("Kegiatan terakhir")]
        expected = row["figures"]["last_activity"]
        assert (activity.date() if activity else None) == expected
    total = values[header_at + 1 + len(page.context["rows"])]
    assert total[0] == "Jumlah kota"
    assert total[header.index("Sisa pokok pinjaman (Rp)")] == page.context["totals"]["outstanding"]
    cell = sheet.cell(row=header_at + 2, column=header.index("Sisa pokok pinjaman (Rp)") + 1)
    assert cell.number_format == "#,##0"


def test_csv_has_indonesian_headers_and_the_totals(dinas_client, city):
    response = dinas_client.get(HOME, {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Kecamatan", "Kode", "LKMM"]
    assert any(row and row[0] == "Jumlah kota" for row in rows)
    assert dinas_client.get(HOME, {"format": "pdf"}).status_code == 404


def test_members_savings_at_the_months_end_are_on_each_row_and_in_the_totals(dinas_client, city):
    from savings.selectors import savings_totals
    from savings.services import savings_deposit

    semenggu, wonosari = city.lkmms[0], city.lkmms[1]
    saver = semenggu.members.first()
    savings_deposit(
        member=saver,
        kind="sukarela",
        amount=75_000,
        on=last_month() + datetime.timedelta(days=3),
        actor=ketua_of(semenggu),
    )
    savings_deposit(
        member=saver, kind="sukarela", amount=5_000, on=today(), actor=ketua_of(semenggu)
    )  # after the month
    savings_deposit(
        member=wonosari.members.first(),
        kind="wajib",
        amount=20_000,
        on=last_month(),
        actor=ketua_of(wonosari),
    )
    response = dinas_client.get(HOME)
    rows = rows_of(response)
    assert (rows["semenggu"]["figures"]["savings"], rows["semenggu"]["figures"]["savers"]) == (75_000, 1)
    assert rows["wonosari"]["figures"]["savings"] == 20_000
    assert rows["sepi"]["figures"]["savings"] == 0
    assert response.context["totals"]["savings"] == 95_000
    kept = savings_totals(lkmm_ids=[semenggu.pk], at=month_end(last_month()))[semenggu.pk]
    assert kept["total"] == 75_000
    assert "Rp 95.000" in response.content.decode()


# --- the database's flag is health()'s ----------------------------------------------------------------

# Stored month rows at and around each threshold (the Dinas's defaults: NPL 5%, PAR30 10%, coverage
# 100%), where rounding to two decimals decides: 5.004% is not above 5%, 5.005% is.
BOUNDARY_ROWS = {
    "npl-at": {"npl": 50_000},
    "npl-rounds-down": {"npl": 50_049},
    "npl-rounds-up": {"npl": 50_050},
    "par30-at": {"par30": 100_000},
    "par30-rounds-down": {"par30": 100_049},
    "par30-rounds-up": {"par30": 100_050},
    "coverage-at": {"required": 200_000, "held": 200_000},
    "coverage-rounds-up": {"required": 200_000, "held": 199_999},
    "coverage-below": {"required": 200_000, "held": 199_989},
    "no-reserve-required": {"required": 0, "held": 0},
    "quiet-30-days": {"last_activity": -30},
    "quiet-31-days": {"last_activity": -31},
    "never-active": {"last_activity": None},
    "nothing-lent": {"outstanding": 0, "loans": 0},
}


def test_the_databases_flags_filters_and_counts_agree_with_health_at_every_boundary(dinas_client):
    from ledger.models import MonthFigures

    month = last_month()
    end = month_end(month)
    dinas = Dinas.objects.get()
    for code, changes in BOUNDARY_ROWS.items():
        lkmm = LkmmFactory(code=code, name=code, dinas=dinas)
        values = {"outstanding": 1_000_000, "loans": 10, "required": 100_000, "held": 100_000}
        values.update({key: value for key, value in changes.items() if key != "last_activity"})
        shift = changes.get("last_activity", 0)
        MonthFigures.objects.create(
            lkmm=lkmm,
            month=month,
            flows_kept=True,
            last_activity=None if shift is None else end + datetime.timedelta(days=shift),
            **values,
        )
    response = dinas_client.get(HOME)
    rows = rows_of(response)
    assert set(rows) == set(BOUNDARY_ROWS)
    settings = SimpleNamespace(
        npl_threshold_pct=dinas.npl_threshold_pct,
        par30_threshold_pct=dinas.par30_threshold_pct,
        coverage_threshold_pct=dinas.coverage_threshold_pct,
    )
    expected = {
        code: dinas_home.health(row["figures"], dinas=settings, month=month, today=today())[0]
        for code, row in rows.items()
    }
    assert {code: row["flag"] for code, row in rows.items()} == expected
    assert expected["npl-at"] == expected["npl-rounds-down"] != dinas_home.BERMASALAH
    assert expected["npl-rounds-up"] == expected["coverage-below"] == dinas_home.BERMASALAH
    assert expected["coverage-rounds-up"] == expected["coverage-at"]
    assert expected["par30-rounds-up"] == expected["quiet-31-days"] == expected["never-active"]
    for status in (dinas_home.BERMASALAH, dinas_home.PERHATIAN, dinas_home.SEHAT):
        shown = rows_of(dinas_client.get(HOME, {"status": status}))
        assert set(shown) == {code for code, flag in expected.items() if flag == status}, status
        assert response.context["counts"][status] == len(shown)


def test_today_beside_each_lkmm_equals_its_portfolio_today(dinas_client, city):
    from risk.selectors import npl_by_lkmm, portfolio_by_lkmm

    lkmms = city.lkmms
    light = npl_by_lkmm(lkmms=lkmms, at=today())
    full = portfolio_by_lkmm(lkmms=lkmms, at=today())
    for lkmm in lkmms:
        for key in ("outstanding", "npl", "npl_ratio"):
            assert light[lkmm.pk][key] == full[lkmm.pk][key], (lkmm.code, key)
    assert any(full[lkmm.pk]["npl"] for lkmm in lkmms)  # the case is not all zeros
    rows = rows_of(dinas_client.get(HOME))
    assert rows["semenggu"]["today"]["outstanding"] == full[lkmms[0].pk]["outstanding"]


def test_the_rows_html_shows_each_figure_and_escapes_the_names(dinas_client, city):
    """The rows are written in Python (reports.templatetags.dinas_rows): each LKMM's cells carry its
    figures as the filters format them, the flag, the close and its links; a name from the database is
    escaped."""
    mandiri = city.lkmms[2]
    mandiri.name = 'LKMM <b>"Mandiri"</b>'
    mandiri.desa = "Desa & Co"
    mandiri.save()
    month = last_month()
    close = month_close(lkmm=mandiri, actor=ketua_of(mandiri), month=month)
    response = dinas_client.get(HOME)
    html = response.content.decode()
    row = rows_of(response)["mandiri"]
    f = row["figures"]
    start = html.index(f'href="{reverse("reports:lkmm", args=["mandiri"])}"')
    cells = html[start : html.index("</tr>", start)]
    assert "<b>" not in cells
    assert "LKMM &lt;b&gt;&quot;Mandiri&quot;&lt;/b&gt;" in cells
    assert "Desa &amp; Co, Patrang" in cells
    assert '<span class="badge bad">Bermasalah</span>' in cells  # NPL over 5%: two late loans, nothing paid
    assert f["npl_ratio"] > 5
    npl = f"{f['npl_ratio']:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    assert f'<td class="num bad">{npl}%</td>' in cells
    assert f'<span class="nowrap">Rp {f["outstanding"]:,}</span>'.replace(",", ".") in cells
    closed = timezone.localtime(close.closed_at)
    assert f'ditutup <span class="nowrap">{closed:%d/%m/%Y}</span>' in cells
    assert f'href="/laporan/mandiri/tunggakan/?at={month_end(month).isoformat()}"' in cells
    assert row["reasons_text"] in cells
