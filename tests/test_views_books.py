"""The ketua's upload page (issue 10): dry run, confirm, four eyes, the template download."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from books import views as book_views
from loans.models import Loan
from tests.factories import login, make_approver
from tests.test_books_import import LOANS, MEMBERS, REPAYMENTS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def xlsx(**sheets):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, lines in sheets.items():
        ws = workbook.create_sheet(name)
        import csv

        for row in csv.reader(lines):
            ws.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = "buku.xlsx"
    return out


def upload(client, **sheets):
    sheets = {"members": MEMBERS, "loans": LOANS, "repayments": REPAYMENTS, **sheets}
    return client.post(reverse("books:upload"), {"book": xlsx(**sheets)})


def test_dry_run_then_confirm(client, lkmm, ketua):
    login(client, ketua)
    response = upload(client)
    assert response.status_code == 302
    preview = client.get(response.url)
    assert preview.status_code == 200
    assert "Impor sekarang" in preview.content.decode()
    assert not Loan.objects.filter(lkmm=lkmm).exists()
    done = client.post(response.url, {"confirm": "1"})
    assert done.status_code == 302
    assert Loan.objects.filter(lkmm=lkmm).count() == 2
    assert list(book_views._folder().iterdir()) == []  # the file is deleted


def test_errors_shown_and_nothing_saved(client, lkmm, ketua):
    login(client, ketua)
    loans = [*LOANS, "A-3,3509011205800009,1000000,flat,1.5,weekly,10,2025-02-03"]
    response = upload(client, loans=loans)
    page = client.get(response.url).content.decode()
    assert "NIK ini tidak ada di lembar members." in page
    assert "Impor sekarang" not in page
    client.post(response.url, {"confirm": "1"})
    assert not Loan.objects.filter(lkmm=lkmm).exists()


def test_four_eyes_another_approver_confirms(client, lkmm, ketua):
    approver = make_approver(lkmm)
    lkmm.four_eyes = True
    lkmm.save()
    login(client, ketua)
    url = upload(client).url
    assert "Impor sekarang" not in client.get(url).content.decode()
    client.post(url, {"confirm": "1"})
    assert not Loan.objects.filter(lkmm=lkmm).exists()
    client.logout()
    login(client, approver)
    assert client.post(url, {"confirm": "1"}).status_code == 302
    assert Loan.objects.filter(lkmm=lkmm).count() == 2


def test_authority(client, lkmm, other_lkmm, ketua, pengelola):
    assert client.get(reverse("books:upload")).status_code == 302  # login
    login(client, pengelola)
    assert client.get(reverse("books:upload")).status_code == 403
    client.logout()
    login(client, ketua)
    url = upload(client).url
    from tests.factories import StaffFactory

    other = StaffFactory(lkmm=other_lkmm, role="ketua", user__username="ketua.lain")
    client.logout()
    login(client, other)
    assert client.get(url).status_code == 404
    assert client.get(reverse("books:preview", args=["..%2Fetc"])).status_code == 404


def test_template_download(client, lkmm, ketua):
    login(client, ketua)
    response = client.get(reverse("books:template"))
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [
        "members",
        "loans",
        "repayments",
        "events",
        "opening",
        "savings",
        "catatan",
    ]
    assert [c.value for c in workbook["savings"][1]] == [
        "nik",
        "type",
        "on",
        "amount",
        "kind",
        "reversed_on",
        "reversal_reason",
    ]
    assert workbook["savings"].max_row == 5 and workbook["savings"]["C2"].is_date
    assert any(row[0].value == "savings" for row in workbook["catatan"].iter_rows(min_row=2))
    assert workbook["loans"]["A1"].value == "loan_ref"
    assert workbook["members"]["D2"].is_date


def test_report_downloads_semicolon_csv_and_real_xlsx_dates(client, lkmm, ketua):
    import datetime

    from tests.factories import LoanProductFactory, MemberFactory, make_active_loan

    make_active_loan(member=MemberFactory(lkmm=lkmm), product=LoanProductFactory(lkmm=lkmm))
    login(client, ketua)
    url = reverse("reports:arrears", args=[lkmm.code])
    response = client.get(url, {"at": "2026-03-01", "format": "csv-id"})
    text = response.content.decode("utf-8-sig")
    assert response["Content-Disposition"].endswith('.csv"')
    assert ";" in text.splitlines()[0] and "," not in text.splitlines()[0]
    response = client.get(url, {"at": "2026-03-01", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    dates = [c.value for row in sheet.iter_rows() for c in row if c.is_date]
    assert dates and all(isinstance(d, datetime.datetime) for d in dates)


def test_a_book_of_csv_files_is_uploaded_together(client, lkmm, ketua):
    """The CSV form of a book (members.csv, loans.csv, ...; semicolons and a BOM are fine) chosen at once."""

    def csv_file(name, lines, *, semicolon=False):
        import csv

        out = io.StringIO()
        csv.writer(out, delimiter=";" if semicolon else ",").writerows(csv.reader(lines))
        handle = io.BytesIO(("\ufeff" + out.getvalue()).encode())
        handle.name = name
        return handle

    login(client, ketua)
    response = client.post(
        reverse("books:upload"),
        {
            "book": [
                csv_file("members.csv", MEMBERS),
                csv_file("LOANS.csv", LOANS, semicolon=True),
                csv_file("repayments.csv", REPAYMENTS),
            ]
        },
    )
    assert response.status_code == 302
    preview = client.get(response.url)
    assert [str(p) for p in preview.context["errors"]] == []
    assert "Impor sekarang" in preview.content.decode()
    assert client.post(response.url, {"confirm": "1"}).status_code == 302
    assert Loan.objects.filter(lkmm=lkmm).count() == 2
    assert list(book_views._folder().iterdir()) == []  # the folder is deleted


def test_an_upload_mixing_kinds_of_file_is_refused(client, lkmm, ketua):
    login(client, ketua)
    stray = io.BytesIO(b"x")
    stray.name = "catatan.txt"
    response = client.post(reverse("books:upload"), {"book": [xlsx(members=MEMBERS), stray]})
    assert response.status_code == 200
    assert response.context["form"].errors["book"] == [
        "Unggah satu berkas .xlsx, atau berkas-berkas .csv buku ini."
    ]
    assert list(book_views._folder().iterdir()) == []
