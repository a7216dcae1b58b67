"""Coaching (pembinaan, issue 11 item 4): reviewers record visits, trainings and quarterly meetings with
their follow-ups; the owner or a reviewer marks a follow-up done; LKMM staff read their own LKMM's."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from coaching import services
from coaching.models import CoachingRecord, FollowUp
from institutions.models import AuditLog
from tests.factories import LkmmFactory, StaffFactory, login

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def record(dinas, lkmm, other_lkmm):
    return services.coaching_record_create(
        actor=dinas.user,
        kind="pelatihan",
        held_on=TODAY - 10 * DAY,
        lkmms=[lkmm, other_lkmm],
        attendees="Bu Rina (Dinas); ketua dan bendahara kedua LKMM",
        topic="Pembukuan kas harian",
        findings="Buku kas belum ditutup tiap hari.",
    )


@pytest.fixture
def follow_up(record, dinas, lkmm, ketua):
    return services.follow_up_create(
        actor=dinas.user,
        record=record,
        lkmm=lkmm,
        action="Tutup buku kas tiap hari",
        owner=ketua.user,
        due_on=TODAY - DAY,
    )


def test_a_reviewer_records_coaching_with_an_audit_row_per_lkmm(record, lkmm, other_lkmm, dinas):
    assert set(record.lkmms.all()) == {lkmm, other_lkmm}
    rows = AuditLog.objects.filter(action=services.RECORDED, object_id=record.pk)
    assert {row.lkmm for row in rows} == {lkmm, other_lkmm}
    assert {row.actor for row in rows} == {dinas.user}
    assert rows.first().object_type == "coaching.coachingrecord"


def test_the_reviewer_creates_through_the_page(client, dinas, lkmm):
    login(client, dinas)
    form = client.get(reverse("coaching:create"), {"lkmm": lkmm.code})
    assert form.status_code == 200 and list(form.context["form"].initial["lkmms"]) == [lkmm]
    response = client.post(
        reverse("coaching:create"),
        {
            "kind": "kunjungan",
            "held_on": TODAY.isoformat(),
            "lkmms": [lkmm.pk],
            "attendees": "Pak Budi",
            "topic": "Kunjungan rutin",
            "findings": "",
        },
    )
    record = CoachingRecord.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "coaching:detail", args=[record.pk]
    )
    assert list(record.lkmms.all()) == [lkmm] and record.recorded_by == dinas.user
    response = client.post(
        reverse("coaching:follow_up_add", args=[record.pk]),
        {
            "lkmm": lkmm.pk,
            "action": "Lengkapi buku anggota",
            "owner": dinas.user.pk,
            "due_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("coaching:detail", args=[record.pk])).status_code == 200
    assert client.get(reverse("coaching:list")).status_code == 200
    follow_up = FollowUp.objects.get()
    assert (follow_up.lkmm, follow_up.owner, follow_up.created_by) == (lkmm, dinas.user, dinas.user)
    assert AuditLog.objects.filter(
        action=services.FOLLOW_UP_ADDED, object_id=follow_up.pk, lkmm=lkmm
    ).exists()


@pytest.mark.parametrize("who", ["pengelola", "ketua"])
def test_lkmm_staff_cannot_create(client, request, who, lkmm, record):
    staff = request.getfixturevalue(who)
    login(client, staff)
    assert client.get(reverse("coaching:create")).status_code == 403
    data = {
        "kind": "kunjungan",
        "held_on": TODAY.isoformat(),
        "lkmms": [lkmm.pk],
        "attendees": "x",
        "topic": "x",
    }
    assert client.post(reverse("coaching:create"), data).status_code == 403
    assert client.post(reverse("coaching:follow_up_add", args=[record.pk]), {}).status_code == 403
    assert CoachingRecord.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.coaching_record_create(
            actor=staff.user, kind="kunjungan", held_on=TODAY, lkmms=[lkmm], attendees="x", topic="x"
        )


def test_the_owner_marks_a_follow_up_done(client, follow_up, ketua):
    login(client, ketua)
    url = reverse("coaching:follow_up_done", args=[follow_up.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"done_on": TODAY.isoformat(), "note": "Sudah rutin"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.done_on, follow_up.done_by, follow_up.note) == (TODAY, ketua.user, "Sudah rutin")
    row = AuditLog.objects.get(action=services.FOLLOW_UP_DONE, object_id=follow_up.pk)
    assert (row.actor, row.lkmm) == (ketua.user, follow_up.lkmm)
    # Done once: again is refused with a message, nothing changes.
    with pytest.raises(ValidationError):
        services.follow_up_done(actor=ketua.user, follow_up=follow_up, done_on=TODAY)


def test_a_reviewer_marks_a_follow_up_done(client, follow_up, dinas):
    login(client, dinas)
    client.post(reverse("coaching:follow_up_done", args=[follow_up.pk]), {"done_on": TODAY.isoformat()})
    follow_up.refresh_from_db()
    assert follow_up.done_by == dinas.user


def test_someone_else_of_the_lkmm_may_not_mark_it_done(client, follow_up, pengelola):
    login(client, pengelola)
    url = reverse("coaching:follow_up_done", args=[follow_up.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"done_on": TODAY.isoformat()}).status_code == 403
    follow_up.refresh_from_db()
    assert follow_up.done_on is None


def test_another_lkmms_staff_get_404_on_its_follow_up(client, follow_up, other_lkmm, dinas):
    other_ketua = StaffFactory(lkmm=other_lkmm, ketua=True)
    login(client, other_ketua)
    assert client.post(reverse("coaching:follow_up_done", args=[follow_up.pk])).status_code == 404
    # The record covers both LKMMs: its staff read it, without the other LKMM's follow-ups.
    page = client.get(reverse("coaching:detail", args=[follow_up.record_id]))
    assert page.status_code == 200 and follow_up.action not in page.content.decode()


def test_a_record_is_visible_only_where_it_covers_the_lkmm(client, record, dinas, lkmm, pengelola):
    third = LkmmFactory(code="ajung")
    alone = services.coaching_record_create(
        actor=dinas.user,
        kind="kunjungan",
        held_on=TODAY,
        lkmms=[third],
        attendees="x",
        topic="Kunjungan Ajung",
    )
    assert set(CoachingRecord.objects.for_user(pengelola.user)) == {record}
    assert set(CoachingRecord.objects.for_user(dinas.user)) == {record, alone}
    login(client, pengelola)
    assert client.get(reverse("coaching:detail", args=[alone.pk])).status_code == 404
    page = client.get(reverse("coaching:list")).content.decode()
    assert "Pembukuan kas harian" in page and "Kunjungan Ajung" not in page
    assert client.get(reverse("coaching:list"), {"lkmm": third.code}).status_code == 404


def test_an_owner_is_of_the_lkmm_or_the_dinas(record, dinas, lkmm, other_lkmm):
    stranger = StaffFactory(lkmm=LkmmFactory(code="ajung"))
    with pytest.raises(ValidationError):
        services.follow_up_create(
            actor=dinas.user, record=record, lkmm=lkmm, action="x", owner=stranger.user, due_on=TODAY
        )
    outside = LkmmFactory(code="jelbuk")
    with pytest.raises(ValidationError):  # the record does not cover it
        services.follow_up_create(
            actor=dinas.user, record=record, lkmm=outside, action="x", owner=dinas.user, due_on=TODAY
        )


def test_overdue_means_open_and_due_before_today(record, dinas, lkmm, ketua):
    def make(due_on, done=False):
        item = services.follow_up_create(
            actor=dinas.user,
            record=record,
            lkmm=lkmm,
            action=f"due {due_on}",
            owner=ketua.user,
            due_on=due_on,
        )
        if done:
            services.follow_up_done(actor=ketua.user, follow_up=item, done_on=TODAY)
        return item

    late, today, later, done_late = make(TODAY - DAY), make(TODAY), make(TODAY + DAY), make(TODAY - DAY, True)
    assert list(FollowUp.objects.overdue()) == [late]
    assert set(FollowUp.objects.open()) == {late, today, later}
    assert (late.is_overdue, today.is_overdue, later.is_overdue) == (True, False, False)
    done_late.refresh_from_db()
    assert done_late.is_overdue is False


def test_the_lkmm_home_shows_its_open_follow_ups(client, follow_up, ketua, other_lkmm, dinas):
    login(client, ketua)
    page = client.get(reverse("reports:home")).content.decode()
    assert "Tindak lanjut pembinaan" in page and follow_up.action in page and "terlambat" in page
    StaffFactory(lkmm=other_lkmm, ketua=True, user__username="ketua.lain")
    login(client, StaffFactory(lkmm=other_lkmm))
    assert follow_up.action not in client.get(reverse("reports:home")).content.decode()
    login(client, dinas)
    page = client.get(reverse("coaching:follow_ups"), {"status": "terlambat"}).content.decode()
    assert follow_up.action in page


def test_pages_answer_anonymous_with_the_login_page(client, follow_up):
    for url in (
        reverse("coaching:list"),
        reverse("coaching:detail", args=[follow_up.record_id]),
        reverse("coaching:follow_up_done", args=[follow_up.pk]),
    ):
        assert client.get(url)["Location"].startswith(reverse("login"))


def test_the_write_views_say_the_dinas_may_post_there():
    from django.urls import resolve

    for name, args in (
        ("coaching:create", []),
        ("coaching:follow_up_add", [1]),
        ("coaching:follow_up_done", [1]),
    ):
        assert getattr(resolve(reverse(name, args=args)).func, "dinas_writes", False) is True
    assert not getattr(resolve(reverse("coaching:list")).func, "dinas_writes", False)


def test_the_record_list_query_count_does_not_grow_with_records(client, dinas, lkmm, other_lkmm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, dinas)
    counts = []
    for n in (1, 5):
        for i in range(n):
            record = services.coaching_record_create(
                actor=dinas.user,
                kind="kunjungan",
                held_on=TODAY,
                lkmms=[lkmm, other_lkmm],
                attendees="x",
                topic=f"T{i}",
            )
            services.follow_up_create(
                actor=dinas.user, record=record, lkmm=lkmm, action=f"A{i}", owner=dinas.user, due_on=TODAY
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("coaching:list")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_records_and_follow_ups_download_as_the_pages_show_them(client, follow_up, dinas, lkmm):
    import io

    import openpyxl

    login(client, dinas)
    response = client.get(reverse("coaching:list"), {"format": "xlsx"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[0] == "Tanggal")
    assert rows[header + 1][0].date() == TODAY - 10 * DAY  # a real date
    assert rows[header + 1][3] == "Pembukuan kas harian"
    csv_text = client.get(reverse("coaching:follow_ups"), {"status": "terlambat", "format": "csv"})
    lines = csv_text.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Batas waktu,LKMM,Tindak lanjut")
    assert "Tutup buku kas tiap hari" in lines[1] and lines[1].endswith(",ya")
    assert client.get(reverse("coaching:list"), {"format": "pdf"}).status_code == 404
