"""The audit trail (issue 9, part 6): the database's history on PostgreSQL, the security events in the
app's audit log, the audit page and its exports, and Django admin's audit rows."""

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from institutions.models import AuditLog, Lkmm
from institutions.services import audit_record
from members.models import Member, MemberStatus
from tests.factories import PASSWORD, LoanProductFactory, MemberFactory, StaffFactory, make_active_loan

URL = "/jejak-audit/"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database keeps history on PostgreSQL only (CI runs these)"
)
on_sqlite = pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite notice")


def _log(lkmm, reason, *, action="member.test"):
    member = MemberFactory(lkmm=lkmm)
    return audit_record(actor=None, action=action, obj=member, lkmm=lkmm, reason=reason)


# --- the page: who may see what ------------------------------------------------------------------------


def test_the_ketua_sees_the_own_lkmm_only(ketua_client, lkmm, other_lkmm):
    _log(lkmm, "alasan-sendiri")
    _log(other_lkmm, "alasan-lain")
    response = ketua_client.get(URL)
    assert response.status_code == 200
    assert "alasan-sendiri" in response.text
    assert "alasan-lain" not in response.text
    assert f'href="{URL}"' in response.text  # linked from the menu


def test_the_dinas_sees_every_lkmm(dinas_client, lkmm, other_lkmm):
    _log(lkmm, "alasan-sendiri")
    _log(other_lkmm, "alasan-lain")
    response = dinas_client.get(URL)
    assert response.status_code == 200
    assert "alasan-sendiri" in response.text and "alasan-lain" in response.text
    assert f'href="{URL}"' in response.text


def test_the_pengelola_is_refused_and_has_no_link(pengelola_client):
    assert pengelola_client.get(URL).status_code == 403
    assert f'href="{URL}"' not in pengelola_client.get(reverse("members:list")).text


def test_anonymous_goes_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/akun/masuk/" in response["Location"]


def test_filters_by_account_object_and_dates(ketua_client, ketua, lkmm):
    mine = MemberFactory(lkmm=lkmm)
    audit_record(actor=ketua.user, action="member.a", obj=mine, lkmm=lkmm, reason="punya-ketua")
    _log(lkmm, "tanpa-akun")
    page = ketua_client.get(URL, {"account": ketua.user.username}).text
    assert "punya-ketua" in page and "tanpa-akun" not in page
    page = ketua_client.get(URL, {"object_type": "members.member", "object_id": mine.pk}).text
    assert "punya-ketua" in page and "tanpa-akun" not in page
    today = datetime.date.today()
    assert "punya-ketua" in ketua_client.get(URL, {"start": today - datetime.timedelta(days=1)}).text
    assert "punya-ketua" not in ketua_client.get(URL, {"end": today - datetime.timedelta(days=2)}).text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "0001-01-01"}, "Pilih tanggal antara 01/01/1900"),
        ({"end": "9999-12-31"}, "Pilih tanggal antara 01/01/1900"),
        ({"start": "kemarin"}, "Tulis tanggal yang benar"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "Tanggal akhir tidak boleh sebelum tanggal awal."),
        ({"object_type": "members.member", "object_id": "1e99"}, "Id objek harus berupa bilangan bulat."),
        ({"object_type": "members.member", "object_id": str(2**70)}, "9223372036854775807"),
        ({"object_id": "5"}, "Pilih jenis objek untuk id itu."),
        ({"object_type": "x.y"}, "Pilih jenis objek dari daftar."),
        ({"account": "tidak-ada"}, "Tidak ada akun dengan nama pengguna itu."),
    ],
)
def test_bad_filters_get_a_clear_message(ketua_client, params, message):
    response = ketua_client.get(URL, params)
    assert response.status_code == 200
    assert message in response.text
    assert ketua_client.get(URL, {**params, "format": "csv"}).status_code == 404


def test_another_lkmms_account_is_not_found_by_the_ketua(ketua_client, other_lkmm):
    stranger = StaffFactory(user__username="ketua.lain", lkmm=other_lkmm, ketua=True)
    response = ketua_client.get(URL, {"account": stranger.user.username})
    assert "Tidak ada akun dengan nama pengguna itu." in response.text


def test_unknown_format_is_404(ketua_client):
    assert ketua_client.get(URL, {"format": "pdf"}).status_code == 404


# --- exports ---------------------------------------------------------------------------------------


def test_csv_export_neutralises_formulas_and_keeps_numbers(ketua_client, lkmm):
    for reason in ["=1+1", "+HYPERLINK(1)", "-2+3", "@SUM(A1)", "\tx", "\rx", "biasa"]:
        _log(lkmm, reason)
    response = ketua_client.get(URL, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Waktu", "Akun", "LKMM"]
    reasons = {row[6] for row in rows[1:] if len(row) > 6}
    assert {"'=1+1", "'+HYPERLINK(1)", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "biasa"} <= reasons
    object_ids = [row[5] for row in rows[1:] if len(row) > 6 and row[3] == "member.test"]
    assert all(value.isdigit() for value in object_ids)  # numbers stay numbers, without an apostrophe


def test_xlsx_export_keeps_strings_as_strings(ketua_client, lkmm):
    _log(lkmm, "=1+1")
    response = ketua_client.get(URL, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == "=1+1"]
    assert cells and all(cell.data_type == "s" for cell in cells)
    ids = [row[5].value for row in sheet.iter_rows() if row[3].value == "member.test"]
    assert ids and all(isinstance(value, int) for value in ids)


def test_an_export_is_itself_recorded_as_a_download(ketua_client, ketua):
    ketua_client.get(URL, {"format": "csv"})
    row = AuditLog.objects.get(action="unduh")
    assert row.actor == ketua.user and row.lkmm == ketua.lkmm
    assert row.data["what"] == "jejak-audit" and row.data["ip"] == "127.0.0.1"


# --- security events --------------------------------------------------------------------------------


def test_login_success_failure_and_logout_are_recorded(client, pengelola):
    client.post(reverse("login"), {"username": pengelola.user.username, "password": "salah"})
    client.post(reverse("login"), {"username": "tidak.ada", "password": "salah"})
    client.post(reverse("login"), {"username": pengelola.user.username, "password": PASSWORD})
    client.post(reverse("logout"))
    failed = AuditLog.objects.filter(action="login_gagal").order_by("id")
    assert [(row.object_id, row.data["username"], row.actor_id) for row in failed] == [
        (pengelola.user.pk, pengelola.user.username, None),
        (0, "tidak.ada", None),
    ]
    assert failed[0].lkmm == pengelola.lkmm and failed[0].data["ip"] == "127.0.0.1"
    assert "password" not in str(failed[0].data)
    login = AuditLog.objects.get(action="login")
    assert login.actor == pengelola.user and login.lkmm == pengelola.lkmm and login.data["ip"] == "127.0.0.1"
    assert AuditLog.objects.get(action="logout").actor == pengelola.user


def test_refused_accesses_of_logged_in_users_are_recorded(pengelola_client, pengelola, other_lkmm, client):
    stranger = MemberFactory(lkmm=other_lkmm)
    assert pengelola_client.get(URL).status_code == 403
    assert pengelola_client.get(reverse("members:detail", args=[stranger.pk])).status_code == 404
    rows = AuditLog.objects.filter(action="akses_ditolak").order_by("id")
    assert [(row.data["status"], row.data["path"]) for row in rows] == [
        (403, URL),
        (404, reverse("members:detail", args=[stranger.pk])),
    ]
    assert all(row.actor == pengelola.user and row.lkmm == pengelola.lkmm for row in rows)


def test_anonymous_404s_are_not_recorded(client, db):
    client.get("/tidak-ada/")
    assert not AuditLog.objects.filter(action="akses_ditolak").exists()


def test_report_exports_and_member_photos_are_recorded_as_downloads(
    ketua_client, ketua, lkmm, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    ketua_client.get(reverse("reports:arrears", args=[lkmm.code]), {"format": "csv"})
    ketua_client.get(reverse("reports:quality", args=[lkmm.code]), {"format": "xlsx"})
    member = MemberFactory(lkmm=lkmm)
    (tmp_path / "foto").mkdir()
    (tmp_path / "foto" / "a.jpg").write_bytes(b"jpeg")
    Member.objects.filter(pk=member.pk).update(photo="foto/a.jpg")
    assert ketua_client.get(reverse("members:photo", args=[member.pk])).status_code == 200
    rows = AuditLog.objects.filter(action="unduh").order_by("id")
    assert [(row.data["what"], row.data.get("format", "")) for row in rows] == [
        ("daftar-tunggakan", "csv"),
        ("kolektibilitas-ppap", "xlsx"),
        ("foto-anggota", ""),
    ]
    assert rows[2].object_type == "members.member" and rows[2].object_id == member.pk
    assert all(row.actor == ketua.user for row in rows)


# --- Django admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    from tests.factories import login

    login(client, get_user_model().objects.create_superuser("root", "r@example.org", "pw-123-xyz"))
    return client


def _admin_post(client, obj, **changes):
    """Post the admin change form of `obj` as it is shown, with `changes` on top."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(value, "pk"):
            value = value.pk
        if value is None or value is False or hasattr(value, "storage"):  # no file re-uploaded
            continue
        data[name] = value.isoformat() if isinstance(value, datetime.date) else value
    for formset in client.get(url).context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(changes)
    return client.post(url, data)


def test_admin_cannot_move_a_member_to_another_lkmm(admin_client, lkmm, other_lkmm):
    member = MemberFactory(lkmm=lkmm)
    opts = member._meta
    form = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[member.pk]))
    assert "lkmm" not in form.context["adminform"].form.fields  # shown read-only
    response = _admin_post(admin_client, member, lkmm=other_lkmm.pk, full_name="Siti Baru")
    assert response.status_code == 302, response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.lkmm == lkmm and member.full_name == "Siti Baru"


def test_admin_can_still_choose_the_lkmm_of_a_new_member(admin_client):
    form = admin_client.get(reverse("admin:members_member_add")).context["adminform"].form
    assert "lkmm" in form.fields


def test_admin_change_writes_an_audit_row_with_before_and_after(admin_client, lkmm):
    member = MemberFactory(lkmm=lkmm, full_name="Siti Lama")
    _admin_post(admin_client, member, full_name="Siti Baru")
    row = AuditLog.objects.get(action="admin.ubah", object_type="members.member")
    assert row.object_id == member.pk and row.lkmm == lkmm and row.actor.username == "root"
    assert row.data["changes"] == {"full_name": ["Siti Lama", "Siti Baru"]}
    assert row.reason == "Django admin"


def test_admin_switching_four_eyes_is_audited(admin_client, lkmm):
    from tests.factories import StaffFactory, make_approver

    assert not lkmm.four_eyes
    # With fewer than two people who decide, four eyes is refused (and nothing is audited).
    _admin_post(admin_client, lkmm, four_eyes="on")
    lkmm.refresh_from_db()
    assert not lkmm.four_eyes
    assert not AuditLog.objects.filter(action="admin.ubah", object_type="institutions.lkmm").exists()
    StaffFactory(lkmm=lkmm, ketua=True)
    make_approver(lkmm)
    _admin_post(admin_client, lkmm, four_eyes="on")
    lkmm.refresh_from_db()
    row = AuditLog.objects.get(action="admin.ubah", object_type="institutions.lkmm")
    assert row.data["changes"]["four_eyes"] == [lkmm.four_eyes is not True, lkmm.four_eyes] == [False, True]


def test_admin_product_edit_is_audited_and_its_lkmm_fixed(admin_client, lkmm, other_lkmm):
    product = LoanProductFactory(lkmm=lkmm, name="Produk A")
    _admin_post(admin_client, product, name="Produk B", lkmm=other_lkmm.pk)
    product.refresh_from_db()
    assert product.lkmm == lkmm and product.name == "Produk B"
    row = AuditLog.objects.get(action="admin.ubah", object_type="loans.loanproduct")
    assert row.data["changes"] == {"name": ["Produk A", "Produk B"]}


def test_admin_cannot_change_loans_or_repayments(admin_client):
    loan = make_active_loan()
    url = reverse("admin:loans_loan_change", args=[loan.pk])
    admin_client.post(
        url,
        {
            "lkmm": Lkmm.objects.create(
                code="x", name="X", desa="d", kecamatan="k", founded_on="2020-01-01", dinas=loan.lkmm.dinas
            ).pk
        },
    )
    loan.refresh_from_db()
    assert loan.lkmm.code != "x"


# --- SQLite and PostgreSQL --------------------------------------------------------------------------


@on_sqlite
def test_on_sqlite_the_page_says_database_capture_needs_postgresql(ketua_client):
    assert "memerlukan PostgreSQL" in ketua_client.get(URL).text


@on_postgresql
def test_a_raw_sql_update_of_a_member_is_in_the_history_with_before_and_after(ketua_client, lkmm):
    member = MemberFactory(lkmm=lkmm, full_name="Siti Sebelum")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE members_member SET full_name = %s WHERE id = %s", ["Siti Sesudah", member.pk])
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(pgh_obj_model="audit.MemberTracked", pgh_obj_id=str(member.pk)).latest(
        "pgh_id"
    )
    assert event.pgh_label == "update"
    assert event.pgh_diff == {"full_name": ["Siti Sebelum", "Siti Sesudah"]}
    assert event.user_id is None  # no request: nobody claimed it, the row is still there
    page = ketua_client.get(URL, {"object_type": "members.member", "object_id": member.pk}).text
    assert "Siti Sebelum" in page and "Siti Sesudah" in page


@on_postgresql
def test_a_ketuas_request_that_changes_a_member_records_the_user_and_ip(ketua_client, ketua, lkmm):
    member = MemberFactory(lkmm=lkmm)
    response = ketua_client.post(
        reverse("members:status", args=[member.pk]),
        {"to": MemberStatus.DIBLOKIR, "reason": "tidak hadir"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(
        pgh_obj_model="audit.MemberTracked", pgh_obj_id=str(member.pk), pgh_label="update"
    ).latest("pgh_id")
    assert event.user_id == ketua.user.pk and event.ip == "10.1.2.3"
    assert event.url == reverse("members:status", args=[member.pk])
    assert event.pgh_diff["status"] == [MemberStatus.AKTIF, MemberStatus.DIBLOKIR]


@on_postgresql
def test_history_of_another_lkmm_never_appears(ketua_client, dinas, other_lkmm, lkmm):
    MemberFactory(lkmm=lkmm, full_name="Anggota Sendiri")
    MemberFactory(lkmm=other_lkmm, full_name="Anggota Lain")
    # Schedule rows, journal lines and the ketua's login reach their LKMM through a join.
    make_active_loan(member=MemberFactory(lkmm=other_lkmm))
    page = ketua_client.get(URL).text
    assert "Anggota Sendiri" in page and "Anggota Lain" not in page
    from audit.models import AuditEvent

    user = get_user_model().objects.get(username="ketua.test")
    seen = list(AuditEvent.objects.for_user(user).values_list("pgh_obj_model", "event_lkmm"))
    assert seen and {lkmm_id for _model, lkmm_id in seen} == {lkmm.pk}
    dinas_client = Client()
    from tests.factories import login

    login(dinas_client, dinas)
    assert "Anggota Lain" in dinas_client.get(URL).text


@on_postgresql
def test_derived_columns_are_not_tracked(lkmm):
    import datetime as dt

    from audit.models import AuditEvent
    from loans.services import repayment_record

    loan = make_active_loan(member=MemberFactory(lkmm=lkmm))
    standing = AuditEvent.objects.filter(pgh_obj_model__in=["audit.LoanTracked", "audit.InstallmentTracked"])
    before = standing.count()
    repayment_record(loan=loan, amount=1000, paid_on=dt.date(2026, 1, 2), actor=None)
    after = standing.count()
    assert after == before  # the payment changed only the kept standing of the loan and its schedule
    assert AuditEvent.objects.filter(pgh_obj_model="audit.RepaymentTracked", pgh_label="insert").count() == 1
    fields = set(AuditEvent.objects.filter(pgh_obj_model="audit.LoanTracked").first().pgh_data)
    assert not {name for name in fields if name.endswith("_derived")}


@on_postgresql
def test_history_rows_are_append_only(lkmm):
    from django.db import InternalError, transaction

    from audit.models import AuditEvent

    MemberFactory(lkmm=lkmm)
    model = AuditEvent.objects.filter(pgh_obj_model="audit.MemberTracked").first()
    assert model is not None
    with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_memberevent")


def test_admin_checks_a_members_nik_as_the_member_page_does(admin_client, lkmm):
    member = MemberFactory(lkmm=lkmm)
    nik = member.nik
    response = _admin_post(admin_client, member, gender="L")  # the NIK says a woman (day + 40)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.gender == "P" and member.nik == nik
    assert not AuditLog.objects.filter(action="admin.ubah").exists()
