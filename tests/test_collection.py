"""The collection sheet (lembar tagihan): amounts due with worked numbers, one-transaction recording,
resubmission, permissions and the sheet's query count.

The loan used throughout: Rp1.200.000 at 1,5% flat per month, 10 weekly installments of Rp124.154
(Rp120.000 principal + Rp4.154 interest), disbursed Thursday 01/01/2026, due 08/01, 15/01, 22/01, ...
12/03/2026; the product charges a late fee of Rp5.000 per installment not paid by its due date.
"""

import datetime
import re
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import AuditLog
from ledger.models import EntryKind, JournalEntry, JournalLine
from loans.collection import collection_lines, collection_record, line_token
from loans.models import Loan, Repayment
from loans.services import loan_position, repayment_record
from members.services import group_add_member, group_create
from tests.conftest import _login
from tests.factories import LoanProductFactory, MemberFactory, StaffFactory, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db

INSTALLMENT = 124_154
SCHEDULE_TOTAL = 1_241_540
FEE = 5_000


@pytest.fixture
def product(lkmm):
    return LoanProductFactory(lkmm=lkmm, late_fee=FEE)


def make_group(lkmm, members, name="Mawar"):
    return group_create(
        lkmm=lkmm,
        actor=None,
        name=name,
        meeting_day=3,  # Kamis, the loans' due day
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=members,
        leader=members[0],
        on=D(2026, 1, 5),
    )


@pytest.fixture
def sheet(lkmm, product):
    """Three members of group Mawar, each with the standard loan:
    Ani has paid nothing; Budi paid installment 1 on its due date; Citra paid Rp50.000 two days late."""
    ani, budi, citra = (MemberFactory(lkmm=lkmm, full_name=name) for name in ("Ani", "Budi", "Citra"))
    group = make_group(lkmm, [ani, budi, citra])
    loans = {m.full_name: make_active_loan(member=m, product=product) for m in (ani, budi, citra)}
    repayment_record(loan=loans["Budi"], amount=INSTALLMENT, paid_on=D(2026, 1, 8), actor=None)
    repayment_record(loan=loans["Citra"], amount=50_000, paid_on=D(2026, 1, 10), actor=None)
    return group, loans


def lines_by_name(loans, start, end):
    loans = Loan.objects.filter(pk__in=[loan.pk for loan in loans])
    return {line.loan.member.full_name: line for line in collection_lines(loans=loans, start=start, end=end)}


def foreign_loan(other_lkmm):
    return make_active_loan(
        member=MemberFactory(lkmm=other_lkmm), product=LoanProductFactory(lkmm=other_lkmm)
    )


# --- amounts due -----------------------------------------------------------------------------------

# Week of Thursday 22/01/2026, read at its end (28/01): installments 1 (08/01) and 2 (15/01) are arrears,
# installment 3 (22/01) is due in the period, and all three were late, so each owes a Rp5.000 fee.
# Citra's Rp50.000 of 10/01 paid installment 1's fee (5.000), interest (4.154) and principal (40.846).
WEEK_OF_22_JAN = [
    # name, arrears, due in period, late fees, amount due, days past due, payoff
    ("Ani", 2 * INSTALLMENT, INSTALLMENT, 3 * FEE, 387_462, 20, SCHEDULE_TOTAL + 3 * FEE),
    ("Budi", INSTALLMENT, INSTALLMENT, 2 * FEE, 258_308, 13, SCHEDULE_TOTAL - INSTALLMENT + 2 * FEE),
    ("Citra", 79_154 + INSTALLMENT, INSTALLMENT, 2 * FEE, 337_462, 20, SCHEDULE_TOTAL - 45_000 + 2 * FEE),
]


@pytest.mark.parametrize(("name", "arrears", "due", "fees", "amount_due", "dpd", "payoff"), WEEK_OF_22_JAN)
def test_amounts_due_for_a_past_week(sheet, name, arrears, due, fees, amount_due, dpd, payoff):
    _group, loans = sheet
    line = lines_by_name(loans.values(), D(2026, 1, 22), D(2026, 1, 28))[name]
    assert (line.arrears, line.due_in_period, line.late_fees) == (arrears, due, fees)
    assert line.amount_due == arrears + due + fees == amount_due
    assert line.days_past_due == dpd
    assert (line.first_seq, line.last_seq, line.first_due) == (3, 3, D(2026, 1, 22))
    assert line.payoff == payoff == loan_position(loan=loans[name], at=D(2026, 1, 28))["payoff"]


def test_an_installment_due_on_the_sheet_date_is_not_late_yet(sheet):
    """A one-day sheet for Thursday 22/01, read on 22/01: installment 3 is due, not late (no fee yet)."""
    _group, loans = sheet
    ani = lines_by_name(loans.values(), D(2026, 1, 22), D(2026, 1, 22))["Ani"]
    assert (ani.arrears, ani.due_in_period, ani.late_fees) == (2 * INSTALLMENT, INSTALLMENT, 2 * FEE)
    assert ani.amount_due == 382_462
    assert ani.days_past_due == 14
    assert ani.payoff == SCHEDULE_TOTAL + 2 * FEE
    assert ani.payoff == loan_position(loan=loans["Ani"], at=D(2026, 1, 22))["payoff"]


def test_a_current_sheet_counts_payments_up_to_today(sheet):
    """This week's sheet is read today: every installment of the standard loan is past due by now."""
    _group, loans = sheet
    today = timezone.localdate()
    assert today > D(2026, 3, 12)
    lines = lines_by_name(loans.values(), today, today + datetime.timedelta(days=6))
    ani = lines["Ani"]
    assert (ani.arrears, ani.due_in_period, ani.late_fees) == (SCHEDULE_TOTAL, 0, 10 * FEE)
    assert ani.first_seq is None
    assert ani.days_past_due == (today - D(2026, 1, 8)).days
    for name, line in lines.items():
        assert line.amount_due == line.payoff == loan_position(loan=loans[name], at=today)["payoff"]


def test_an_installment_due_before_a_meeting_still_ahead_is_owed_not_in_arrears(lkmm, product):
    """The next meeting is in 4 days; an installment due in 2 days is not past due: it is owed at the
    meeting, never called tunggakan (the group page says arrears Rp 0 too)."""
    today = timezone.localdate()
    loan = make_active_loan(
        member=MemberFactory(lkmm=lkmm),
        product=product,
        disbursed_on=today - datetime.timedelta(days=5),
        first_due=today + datetime.timedelta(days=2),
    )
    start = today + datetime.timedelta(days=4)
    line = collection_lines(
        loans=Loan.objects.filter(pk=loan.pk), start=start, end=start + datetime.timedelta(days=6)
    )[0]
    assert (line.arrears, line.due_in_period, line.late_fees) == (0, 2 * INSTALLMENT, 0)
    assert (line.first_seq, line.last_seq) == (1, 2)
    assert line.days_past_due == 0


def test_a_week_ahead_of_the_schedule_shows_only_what_falls_due(lkmm, product):
    """Before anything is late: the sheet of the week of 08/01 read at its end asks for installment 1 only,
    and a loan whose product waives future interest at early payoff shows that smaller payoff."""
    member, other = MemberFactory(lkmm=lkmm), MemberFactory(lkmm=lkmm)
    plain = make_active_loan(member=member, product=product)
    waiving = make_active_loan(
        member=other, product=LoanProductFactory(lkmm=lkmm, waive_interest_on_payoff=True)
    )
    repayment_record(loan=plain, amount=INSTALLMENT, paid_on=D(2026, 1, 8), actor=None)
    week = collection_lines(loans=Loan.objects.filter(lkmm=lkmm), start=D(2026, 1, 8), end=D(2026, 1, 8))
    lines = {line.loan.pk: line for line in week}
    assert (lines[plain.pk].amount_due, lines[plain.pk].days_past_due) == (0, 0)
    assert lines[plain.pk].payoff == SCHEDULE_TOTAL - INSTALLMENT
    assert lines[waiving.pk].amount_due == INSTALLMENT
    # Paid off on 08/01: all principal plus installment 1's interest; 9 x Rp4.154 of interest waived.
    position = loan_position(loan=waiving, at=D(2026, 1, 8))
    assert lines[waiving.pk].payoff == position["early_payoff"] == 1_200_000 + 4_154


def test_only_active_loans_paid_out_by_the_end_of_the_period_are_on_the_sheet(lkmm, product, sheet):
    _group, loans = sheet
    later = make_active_loan(member=MemberFactory(lkmm=lkmm), product=product, disbursed_on=D(2026, 2, 2))
    repayment_record(loan=loans["Budi"], amount=1_117_386 + 10_000, paid_on=D(2026, 1, 29), actor=None)
    in_january = collection_lines(
        loans=Loan.objects.filter(lkmm=lkmm), start=D(2026, 1, 22), end=D(2026, 1, 28)
    )
    assert [line.loan.member.full_name for line in in_january] == ["Ani", "Citra"]  # Budi has paid off
    in_february = collection_lines(
        loans=Loan.objects.filter(lkmm=lkmm), start=D(2026, 2, 2), end=D(2026, 2, 8)
    )
    assert later.pk in [line.loan.pk for line in in_february]


def test_the_sheet_page_shows_the_worked_numbers(pengelola_client, sheet):
    group, loans = sheet
    url = reverse("loans:collection_group", args=[group.pk])
    response = pengelola_client.get(url, {"start": "2026-01-22"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "22/01/2026 – 28/01/2026" in html
    assert html.index("Ani") < html.index("Budi") < html.index("Citra")
    for text in ("Rp 387.462", "Rp 258.308", "Rp 337.462", "Rp 1.256.540", "Rp 248.308", "Rp 15.000"):
        assert text in html
    assert "ke-3, 22/01/2026" in html
    assert html.count('name="amount_') == 3
    assert "data-print" in html and "js/app.js" in html  # the print button, wired without inline script
    assert "Ketua kelompok" in html and "Petugas penagih" in html
    # Totals: 387.462 + 258.308 + 337.462.
    assert "Rp 983.232" in html


def test_the_sheet_rows_escape_names_and_link_each_loan(pengelola_client, sheet):
    """The rows are written in Python (loans.templatetags.sheet_rows): a member's name is escaped, each
    loan links to its page, and the inputs carry the member's name as their label."""
    group, loans = sheet
    ani = loans["Ani"].member
    ani.full_name = 'Ani <b>"Bu RT"</b>'
    ani.save()
    response = pengelola_client.get(
        reverse("loans:collection_group", args=[group.pk]), {"start": "2026-01-22"}
    )
    html = response.content.decode()
    assert "<b>" not in html
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    row = next(row for row in rows if "Bu RT" in row)
    assert "Ani &lt;b&gt;&quot;Bu RT&quot;&lt;/b&gt;" in row
    assert (
        row.count(f'href="{reverse("loans:detail", args=[loans["Ani"].pk])}"') == 2
    )  # under the name, and its column
    assert f'name="amount_{loans["Ani"].pk}"' in row
    assert 'aria-label="Dibayar Ani &lt;b&gt;&quot;Bu RT&quot;&lt;/b&gt;' in row
    assert '<span class="badge bad">20 hari</span>' in row
    assert "ke-3, 22/01/2026" in row


def test_the_group_sheet_defaults_to_the_next_meeting_week(pengelola_client, sheet):
    group, _loans = sheet
    today = timezone.localdate()
    meeting = today + datetime.timedelta(days=(3 - today.weekday()) % 7)
    response = pengelola_client.get(reverse("loans:collection_group", args=[group.pk]))
    assert response.context["start"] == meeting
    assert response.context["end"] == meeting + datetime.timedelta(days=6)
    # One tab of each menu is highlighted: Tagihan (the sheet), not Kelompok as well. The wide menu and
    # the phone's bottom bar are both in the page; CSS shows one of them.
    html = response.content.decode()
    wide = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    phone = re.search(r'<nav class="bottombar".*?</nav>', html, re.S).group(0)
    assert wide.count('aria-current="page"') == 1 and phone.count('aria-current="page"') == 1
    assert re.search(r'aria-current="page">Tagihan<', wide) and re.search(
        r'aria-current="page">Tagihan<', phone
    )
    assert html.count('aria-current="page"') == 2


def test_the_range_sheet_defaults_to_this_week_of_the_users_lkmm(pengelola_client, sheet, other_lkmm):
    foreign_loan(other_lkmm)
    response = pengelola_client.get(reverse("loans:collection"))
    today = timezone.localdate()
    assert (response.context["start"], response.context["end"]) == (today, today + datetime.timedelta(days=6))
    names = [line.loan.member.full_name for line in response.context["lines"]]
    assert names == ["Ani", "Budi", "Citra"]


def test_a_period_must_run_forwards_and_stay_short(pengelola_client, sheet):
    url = reverse("loans:collection")
    response = pengelola_client.get(url, {"start": "2026-01-22", "end": "2026-01-21"})
    assert "Tanggal akhir tidak boleh sebelum tanggal awal." in response.content.decode()
    response = pengelola_client.get(url, {"start": "2026-01-01", "end": "2026-03-01"})
    assert "paling lama 31 hari" in response.content.decode()


# --- recording -------------------------------------------------------------------------------------


def post_sheet(client, group, amounts, *, paid_on="2026-01-22", token=None, start="2026-01-22"):
    data = {"paid_on": paid_on, "token": str(token or uuid.uuid4())}
    data.update({f"amount_{loan.pk}": amount for loan, amount in amounts.items()})
    return client.post(reverse("loans:collection_group", args=[group.pk]) + f"?start={start}", data)


def assert_books_balance(lkmm):
    for entry in JournalEntry.objects.filter(lkmm=lkmm):
        totals = JournalLine.objects.filter(entry=entry).aggregate(d=Sum("debit"), c=Sum("credit"))
        assert totals["d"] == totals["c"], entry


def test_a_whole_sheet_is_recorded_in_one_go(pengelola_client, pengelola, sheet):
    group, loans = sheet
    before = Repayment.objects.count()
    response = post_sheet(
        pengelola_client,
        group,
        {loans["Ani"]: "387.462", loans["Budi"]: "Rp 124.154", loans["Citra"]: ""},
    )
    assert response.status_code == 302
    new = list(Repayment.objects.filter(recorded_by=pengelola.user).order_by("receipt_no"))
    assert Repayment.objects.count() == before + 2
    assert [(r.loan.member.full_name, r.amount, r.paid_on) for r in new] == [
        ("Ani", 387_462, D(2026, 1, 22)),
        ("Budi", INSTALLMENT, D(2026, 1, 22)),
    ]
    # The fixture's two payments took receipts 1 and 2; the sheet's follow without a gap.
    assert [r.receipt_no for r in new] == [3, 4]
    entries = JournalEntry.objects.filter(kind=EntryKind.REPAYMENT, source_id__in=[r.pk for r in new])
    assert entries.count() == 2
    assert_books_balance(group.lkmm)
    assert AuditLog.objects.filter(action="repayment.record", actor=pengelola.user).count() == 2
    # Ani's Rp387.462 on 22/01 pays installments 1-3 with their two fees due by then (the third is not late
    # on its due date) and leaves Rp5.000 for installment 4's interest and principal.
    ani = Loan.objects.with_standing(D(2026, 1, 22)).get(pk=loans["Ani"].pk)
    assert (ani.overdue_amount, ani.overdue_fees, ani.days_past_due) == (0, 0, 0)
    assert ani.outstanding == 1_200_000 - 3 * 120_000 - (5_000 - 4_154)

    summary = pengelola_client.get(response.url)
    html = summary.content.decode()
    assert summary.templates[0].name == "loans/collection_done.html"
    for repayment in new:
        assert reverse("loans:receipt", args=[repayment.pk]) in html
        assert repayment.receipt_code in html
    assert "Rp 511.616" in html  # 387.462 + 124.154
    assert "2 pembayaran dicatat" in html


def test_receipt_numbers_follow_the_sheets_order(pengelola_client, lkmm, product):
    zaenab = make_active_loan(member=MemberFactory(lkmm=lkmm, full_name="Zaenab"), product=product)
    ahmad = make_active_loan(member=MemberFactory(lkmm=lkmm, full_name="Ahmad"), product=product)
    data = {"paid_on": "2026-01-08", "token": str(uuid.uuid4())}
    data.update({f"amount_{zaenab.pk}": "124.154", f"amount_{ahmad.pk}": "124.154"})
    response = pengelola_client.post(reverse("loans:collection") + "?start=2026-01-08", data)
    assert response.status_code == 302
    receipts = Repayment.objects.order_by("receipt_no").values_list("loan__member__full_name", flat=True)
    assert list(receipts) == ["Ahmad", "Zaenab"]


def test_one_bad_line_saves_nothing_and_is_marked(pengelola_client, sheet):
    group, loans = sheet
    entries, repayments = JournalEntry.objects.count(), Repayment.objects.count()
    response = post_sheet(
        pengelola_client,
        group,
        {loans["Ani"]: "124.154", loans["Budi"]: "2.000.000", loans["Citra"]: "50.000"},
    )
    assert response.status_code == 200
    assert (JournalEntry.objects.count(), Repayment.objects.count()) == (entries, repayments)
    assert not AuditLog.objects.filter(action="repayment.record", actor__isnull=False).exists()
    html = response.content.decode()
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    budi = next(row for row in rows if "Budi" in row and "amount_" in row)
    assert 'class="has-error"' in budi
    # Budi's payoff on 22/01: 1.241.540 - 124.154 paid + the late fee of installment 2 (15/01).
    assert "Melebihi sisa pinjaman. Untuk melunasi, bayar Rp1.122.386." in budi
    assert sum("Melebihi sisa pinjaman" in row for row in rows) == 1
    assert "tidak ada pembayaran maupun setoran yang disimpan" in html
    # What was typed stays on the page.
    assert 'value="124.154"' in html and 'value="2.000.000"' in html


def test_a_resubmitted_sheet_records_nothing_twice(pengelola_client, sheet):
    group, loans = sheet
    token = uuid.uuid4()
    amounts = {loans["Ani"]: "124.154", loans["Citra"]: "79.154"}
    first = post_sheet(pengelola_client, group, amounts, token=token)
    count = Repayment.objects.count()
    second = post_sheet(pengelola_client, group, amounts, token=token)
    assert Repayment.objects.count() == count
    assert first.url == second.url
    recorded = Repayment.objects.filter(token__in=[line_token(token, loan.pk) for loan in amounts])
    assert sorted(r.loan.member.full_name for r in recorded) == ["Ani", "Citra"]


def test_the_service_keys_errors_by_loan_and_rolls_everything_back(lkmm, other_lkmm, sheet, pengelola):
    _group, loans = sheet
    outsider = foreign_loan(other_lkmm)
    count = Repayment.objects.count()
    with pytest.raises(ValidationError) as exc:
        collection_record(
            lkmm=lkmm,
            actor=pengelola.user,
            paid_on=D(2026, 1, 22),
            amounts={loans["Ani"].pk: INSTALLMENT, outsider.pk: 1_000, loans["Budi"].pk: 5_000_000},
            token=uuid.uuid4(),
        )
    assert set(exc.value.error_dict) == {outsider.pk, loans["Budi"].pk}
    assert Repayment.objects.count() == count
    # An empty line is skipped; the same sheet token returns the payments already recorded.
    kwargs = {
        "lkmm": lkmm,
        "actor": pengelola.user,
        "paid_on": D(2026, 1, 22),
        "amounts": {loans["Ani"].pk: INSTALLMENT, loans["Budi"].pk: 0},
        "token": uuid.uuid4(),
    }
    first = collection_record(**kwargs).repayments
    assert [r.pk for r in collection_record(**kwargs).repayments] == [r.pk for r in first]
    assert len(first) == 1 and Repayment.objects.count() == count + 1


def test_an_empty_sheet_or_a_future_date_is_refused(pengelola_client, sheet):
    group, loans = sheet
    count = Repayment.objects.count()
    response = post_sheet(pengelola_client, group, {loans["Ani"]: "", loans["Budi"]: ""})
    assert "paling sedikit untuk satu pinjaman" in response.content.decode()
    response = post_sheet(pengelola_client, group, {loans["Ani"]: "1000"}, paid_on="2999-01-01")
    assert "tidak boleh di masa depan" in response.content.decode()
    response = post_sheet(pengelola_client, group, {loans["Ani"]: "12,5"})
    assert "Tulis jumlah dalam rupiah" in response.content.decode()
    assert Repayment.objects.count() == count


# --- who may see and record ------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, sheet):
    group, loans = sheet
    for url in (reverse("loans:collection"), reverse("loans:collection_group", args=[group.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        response = client.post(url, {"paid_on": "2026-01-22", "token": str(uuid.uuid4())})
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_dinas_reads_any_sheet_but_records_none(dinas_client, sheet, lkmm):
    group, loans = sheet
    group_url = reverse("loans:collection_group", args=[group.pk])
    response = dinas_client.get(group_url, {"start": "2026-01-22"})
    assert response.status_code == 200
    assert "Rp 387.462" in response.content.decode()
    assert 'name="amount_' not in response.content.decode()
    count = Repayment.objects.count()
    assert post_sheet(dinas_client, group, {loans["Ani"]: "124.154"}).status_code == 403
    response = dinas_client.post(
        reverse("loans:collection") + f"?lkmm={lkmm.code}&start=2026-01-22",
        {"paid_on": "2026-01-22", "token": str(uuid.uuid4()), f"amount_{loans['Ani'].pk}": "1000"},
    )
    assert response.status_code == 403
    assert Repayment.objects.count() == count
    # The date-range sheet: first pick an LKMM.
    response = dinas_client.get(reverse("loans:collection"))
    assert response.status_code == 200 and response.context["lines"] == []
    assert "Pilih LKMM" in response.content.decode()
    response = dinas_client.get(reverse("loans:collection"), {"lkmm": lkmm.code, "start": "2026-01-22"})
    assert len(response.context["lines"]) == 3


def test_another_lkmms_group_or_lkmm_is_not_found(client, sheet, other_lkmm):
    group, loans = sheet
    outsider = _login(client, StaffFactory(user__username="pengelola.wonosari", lkmm=other_lkmm))
    url = reverse("loans:collection_group", args=[group.pk])
    assert outsider.get(url).status_code == 404
    assert post_sheet(outsider, group, {loans["Ani"]: "124.154"}).status_code == 404
    assert outsider.get(reverse("loans:collection"), {"lkmm": group.lkmm.code}).status_code == 404
    assert outsider.get(reverse("loans:collection")).context["lines"] == []
    assert not Repayment.objects.filter(recorded_by__isnull=False).exists()


def test_the_summary_lists_only_receipts_of_the_sheets_lkmm(pengelola_client, sheet, other_lkmm):
    group, _loans = sheet
    foreign = repayment_record(
        loan=foreign_loan(other_lkmm),
        amount=1_000,
        paid_on=D(2026, 1, 8),
        actor=None,
    )
    mine = Repayment.objects.filter(lkmm=group.lkmm).first()
    url = reverse("loans:collection_group", args=[group.pk])
    response = pengelola_client.get(url, {"kuitansi": f"{foreign.pk},{mine.pk},x"})
    assert [r.pk for r in response.context["receipts"]] == [mine.pk]


# --- queries ---------------------------------------------------------------------------------------


def sheet_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_sheet_query_count_does_not_grow_with_its_loans(pengelola_client, lkmm, product, sheet):
    group, _loans = sheet
    range_url = reverse("loans:collection") + "?start=2026-01-22"
    group_url = reverse("loans:collection_group", args=[group.pk]) + "?start=2026-01-22"
    few = sheet_queries(pengelola_client, range_url), sheet_queries(pengelola_client, group_url)
    extra = [MemberFactory(lkmm=lkmm) for _ in range(4)]
    for member in extra:
        loan = make_active_loan(member=member, product=product)
        repayment_record(loan=loan, amount=30_000, paid_on=D(2026, 1, 12), actor=None)
    make_group(lkmm, extra[:3], name="Melati")
    group_add_member(group=group, member=extra[3], actor=None)
    many = sheet_queries(pengelola_client, range_url), sheet_queries(pengelola_client, group_url)
    assert len(pengelola_client.get(group_url).context["lines"]) == 4
    assert few == many
    # Range: session, user, staff, the staff's LKMM, the loans with their standing, then the installments,
    # the payments and the waived interest summed per loan, the wajib product and the members' wajib
    # accounts. Group: the group instead of the LKMM, and the staff's LKMM for the page's top bar.
    assert many == (10, 11)
