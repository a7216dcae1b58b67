"""Missed simpanan wajib is owed to the member's own savings, not loan arrears (issue 13, item 1).

The rule (savings.selectors.wajib_periods, WajibRule, wajib_owed): the LKMM's current wajib amount times
the periods due since the wajib account was opened (the opening week or month counts; weekly: another
every 7th day after opening; monthly: another on each 1st), less the deposits that count (reversed ones
do not; withdrawals are not subtracted), never below 0; members who are not active owe nothing. The
collection sheet shows per member the wajib of the meeting's period and the wajib owed from before it.
Worked numbers below use wajib Rp5.000 a week (or Rp20.000 a month).
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from institutions.models import AuditLog
from ledger.services import voucher_post
from members.models import Member, MemberStatus
from members.services import group_create
from savings import selectors, services
from savings.models import SavingsAccount, SavingsProduct, WajibFrequency
from tests.factories import LoanProductFactory, MemberFactory, ketua_of, login, make_active_loan

D = datetime.date
pytestmark = pytest.mark.django_db

WAJIB = 5_000
MONTHLY = 20_000
INSTALLMENT = 124_154  # tests/test_collection.py's loan: Rp1.200.000, 10 weekly installments


def set_wajib(lkmm, amount=WAJIB, frequency=WajibFrequency.WEEKLY):
    products = services.products_ensure(lkmm=lkmm)
    SavingsProduct.objects.filter(pk=products["wajib"].pk).update(amount=amount, frequency=frequency)


def saver(lkmm, name, opened_on):
    member = MemberFactory(lkmm=lkmm, full_name=name)
    services.accounts_open(member=member, on=opened_on)
    return member


def pay(member, amount, on):
    return services.savings_deposit(
        member=member, kind="wajib", amount=amount, on=on, actor=ketua_of(member.lkmm)
    )


def owed(member, at):
    return selectors.wajib_owed(lkmm=member.lkmm, at=at, member_ids=[member.pk]).get(member.pk, 0)


# --- the periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frequency, opened_on, through, periods",
    [
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2025, 12, 31), 0),
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2026, 1, 1), 1),
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2026, 1, 7), 1),
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2026, 1, 8), 2),
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2026, 1, 21), 3),
        (WajibFrequency.WEEKLY, D(2026, 1, 1), D(2026, 1, 22), 4),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2026, 1, 19), 0),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2026, 1, 20), 1),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2026, 1, 31), 1),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2026, 2, 1), 2),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2026, 12, 31), 12),
        (WajibFrequency.MONTHLY, D(2026, 1, 20), D(2027, 1, 1), 13),
    ],
)
def test_periods_due_count_the_opening_week_or_month(frequency, opened_on, through, periods):
    assert selectors.wajib_periods(frequency=frequency, opened_on=opened_on, through=through) == periods


@pytest.mark.parametrize(
    "opened_on, deposited, on, owed_before, due",
    [
        # Opened 01/01, meeting 22/01 (4th week): three earlier weeks, one paid -> two owed before.
        (D(2026, 1, 1), 5_000, D(2026, 1, 22), 10_000, 5_000),
        (D(2026, 1, 1), 0, D(2026, 1, 22), 15_000, 5_000),
        # All four weeks paid ahead: nothing owed, nothing due.
        (D(2026, 1, 1), 20_000, D(2026, 1, 22), 0, 0),
        # Half of this week's paid: the rest is due, nothing is owed from before.
        (D(2026, 1, 1), 17_500, D(2026, 1, 22), 0, 2_500),
        # Opened on the meeting day or after it (later in the sheet's week): this meeting is its first.
        (D(2026, 1, 22), 0, D(2026, 1, 22), 0, 5_000),
        (D(2026, 1, 24), 0, D(2026, 1, 22), 0, 5_000),
    ],
)
def test_at_a_meeting_the_periods_before_it_are_owed_and_its_own_is_due(
    opened_on, deposited, on, owed_before, due
):
    rule = selectors.WajibRule(amount=WAJIB, frequency=WajibFrequency.WEEKLY)
    assert rule.at_meeting(opened_on=opened_on, deposited=deposited, on=on) == (owed_before, due)


# --- wajib_owed ----------------------------------------------------------------------------------------


def test_a_weekly_member_three_weeks_in_with_one_deposit_owes_two_weeks(lkmm):
    set_wajib(lkmm)
    member = saver(lkmm, "Ani", D(2026, 3, 2))
    pay(member, WAJIB, D(2026, 3, 2))
    # 02/03 to 22/03: weeks from 02/03, 09/03 and 16/03.
    assert owed(member, D(2026, 3, 22)) == 3 * WAJIB - WAJIB == 10_000
    assert owed(member, D(2026, 3, 23)) == 15_000
    assert owed(member, D(2026, 3, 1)) == 0  # before the account was opened


def test_a_monthly_member_owes_by_calendar_month(lkmm):
    set_wajib(lkmm, MONTHLY, WajibFrequency.MONTHLY)
    member = saver(lkmm, "Budi", D(2026, 1, 15))
    pay(member, MONTHLY, D(2026, 1, 15))
    pay(member, MONTHLY, D(2026, 2, 10))
    assert owed(member, D(2026, 2, 28)) == 0
    assert owed(member, D(2026, 3, 1)) == MONTHLY
    assert owed(member, D(2026, 4, 30)) == 4 * MONTHLY - 2 * MONTHLY == 40_000


def test_a_reversed_deposit_counts_as_not_paid_from_its_reversal(lkmm):
    set_wajib(lkmm)
    member = saver(lkmm, "Citra", D(2026, 3, 2))
    pay(member, WAJIB, D(2026, 3, 2))
    wrong = pay(member, WAJIB, D(2026, 3, 9))
    assert owed(member, D(2026, 3, 9)) == 0
    services.savings_reverse(movement=wrong, actor=ketua_of(lkmm), on=D(2026, 3, 10), reason="Salah catat")
    # On 09/03 it still counted (as the passbook shows that day); from 10/03 the week is owed again.
    assert owed(member, D(2026, 3, 9)) == 0
    assert owed(member, D(2026, 3, 10)) == WAJIB


def test_a_member_who_left_owes_nothing_and_a_withdrawal_makes_no_arrear(lkmm, pengelola):
    set_wajib(lkmm)
    voucher_post(
        lkmm=lkmm,
        actor=pengelola.user,
        kind="cash_in",
        date=D(2026, 1, 2),
        amount=1_000_000,
        memo="Hibah",
        account_code="3101",
        cash_account_code="1101",
    )
    stays, leaves = saver(lkmm, "Dedi", D(2026, 3, 2)), saver(lkmm, "Eka", D(2026, 3, 2))
    pay(stays, 3 * WAJIB, D(2026, 3, 16))
    account = SavingsAccount.objects.get(member=stays, kind="wajib")
    services.savings_withdraw(account=account, amount=3 * WAJIB, on=D(2026, 3, 17), actor=ketua_of(lkmm))
    assert owed(stays, D(2026, 3, 22)) == 0
    assert owed(leaves, D(2026, 3, 22)) == 3 * WAJIB
    Member.objects.filter(pk=leaves.pk).update(status=MemberStatus.KELUAR)
    result = selectors.wajib_owed(lkmm=lkmm, at=D(2026, 3, 22))
    assert leaves.pk not in result and result[stays.pk] == 0


def test_an_overpaid_member_owes_nothing_never_less(lkmm):
    set_wajib(lkmm)
    member = saver(lkmm, "Fajar", D(2026, 3, 2))
    pay(member, 50_000, D(2026, 3, 2))
    assert owed(member, D(2026, 3, 22)) == 0


def test_the_current_amount_applies_to_every_period(lkmm):
    """A changed amount counts for the weeks before the change too (the documented simplest rule)."""
    set_wajib(lkmm)
    member = saver(lkmm, "Gita", D(2026, 3, 2))
    pay(member, 2 * WAJIB, D(2026, 3, 9))
    set_wajib(lkmm, 7_000)
    assert owed(member, D(2026, 3, 15)) == 2 * 7_000 - 2 * WAJIB == 4_000


def test_wajib_owed_takes_the_same_queries_for_3_and_12_members(lkmm):
    set_wajib(lkmm)
    members = [saver(lkmm, f"Anggota {i:02d}", D(2026, 3, 2)) for i in range(12)]
    for member in members:
        pay(member, WAJIB, D(2026, 3, 2))

    def measure(ids):
        with CaptureQueriesContext(connection) as queries:
            result = selectors.wajib_owed(lkmm=lkmm, at=D(2026, 3, 22), member_ids=ids)
        return len(queries), result

    few, few_result = measure([m.pk for m in members[:3]])
    many, many_result = measure([m.pk for m in members])
    assert few == many == 1  # the accounts with their deposits summed and the LKMM's wajib product
    assert set(few_result.values()) == set(many_result.values()) == {10_000}
    assert len(few_result) == 3 and len(many_result) == 12


# --- the collection sheet ---------------------------------------------------------------------------


MEETING = D(2026, 1, 22)  # a Thursday, the group's meeting day


@pytest.fixture
def meeting(lkmm):
    """Group Mawar, accounts opened 01/01 (so 22/01 is the 4th week): Ani paid one week, Budi none (and
    has a loan), Citra all four ahead; Dedi's account opens 24/01, in the meeting's week."""
    set_wajib(lkmm)
    ani, budi, citra = (saver(lkmm, name, D(2026, 1, 1)) for name in ("Ani", "Budi", "Citra"))
    dedi = saver(lkmm, "Dedi", D(2026, 1, 24))
    pay(ani, WAJIB, D(2026, 1, 1))
    pay(citra, 4 * WAJIB, D(2026, 1, 15))
    # Paid on the meeting day itself: it pays this meeting, it does not change what was owed before it.
    pay(budi, WAJIB, MEETING)
    loan = make_active_loan(member=budi, product=LoanProductFactory(lkmm=lkmm, late_fee=5_000))
    group = group_create(
        lkmm=lkmm,
        actor=None,
        name="Mawar",
        meeting_day=3,
        meeting_place="Rumah Bu Siti",
        joint_liability=True,
        members=[ani, budi, citra, dedi],
        leader=ani,
        on=D(2026, 1, 5),
    )
    return group, loan


def sheet_url(group):
    return reverse("loans:collection_group", args=[group.pk]) + f"?start={MEETING:%Y-%m-%d}"


def rupiah(text):
    text = text.strip()
    return 0 if text in ("–", "") else int(re.sub(r"[^0-9]", "", text))


def test_the_sheet_shows_wajib_owed_beside_the_wajib_due_and_its_total(pengelola_client, meeting):
    group, loan = meeting
    response = pengelola_client.get(sheet_url(group))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.member.full_name for row in rows] == ["Ani", "Budi", "Citra", "Dedi"]
    assert [row.wajib_owed for row in rows] == [10_000, 15_000, 0, 0]
    assert [row.wajib_due for row in rows] == [WAJIB, WAJIB, 0, WAJIB]
    assert response.context["totals"]["wajib_owed"] == 25_000

    html = response.content.decode()
    assert "Wajib tertunggak" in html
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    cells = re.findall(r'<td class="num wajib-owed">(.*?)</td>', body)
    footer = re.search(r'<th class="num wajib-owed">(.*?)</th>', html).group(1)
    assert [rupiah(c) for c in cells] == [10_000, 15_000, 0, 0]
    assert "Rp 10.000" in cells[0] and "Rp 15.000" in cells[1]
    # The printed total is the sum of the printed rows.
    assert rupiah(footer) == sum(rupiah(c) for c in cells) == 25_000


def test_wajib_owed_is_not_loan_arrears(pengelola_client, meeting, lkmm):
    group, loan = meeting
    response = pengelola_client.get(sheet_url(group))
    budi = next(row for row in response.context["rows"] if row.member.full_name == "Budi")
    # The loan's figures are those of tests/test_collection_savings.py, without any savings in them.
    (line,) = budi.lines
    assert line.arrears == 2 * INSTALLMENT
    assert budi.amount_due == 3 * INSTALLMENT + 15_000
    totals = response.context["totals"]
    assert totals["arrears"] == 2 * INSTALLMENT
    assert totals["amount_due"] == 3 * INSTALLMENT + 15_000
    assert totals["total_due"] == totals["amount_due"] + totals["wajib_due"]
    # A member who only owes wajib is not a member in arrears.
    in_arrears = set(Member.objects.in_arrears(MEETING).values_list("full_name", flat=True))
    assert in_arrears == {"Budi"}


def test_a_monthly_wajib_on_the_weekly_sheet(pengelola_client, lkmm, meeting):
    """Rp20.000 a month: on 22/01 January's is due (Citra's Rp20.000 covers it); on 05/02 February's,
    with January's owed by those who did not pay it."""
    group, _loan = meeting
    SavingsProduct.objects.filter(lkmm=lkmm, kind="wajib").update(
        amount=MONTHLY, frequency=WajibFrequency.MONTHLY
    )
    rows = pengelola_client.get(sheet_url(group)).context["rows"]
    assert [(row.wajib_due, row.wajib_owed) for row in rows] == [
        (MONTHLY - WAJIB, 0),
        (MONTHLY, 0),
        (0, 0),
        (MONTHLY, 0),
    ]
    url = reverse("loans:collection_group", args=[group.pk]) + "?start=2026-02-05"
    rows = pengelola_client.get(url).context["rows"]
    # Before 05/02: Ani paid 5.000, Budi 5.000 (on 22/01), Citra 20.000, Dedi nothing.
    assert [(row.wajib_due, row.wajib_owed) for row in rows] == [
        (MONTHLY, MONTHLY - WAJIB),
        (MONTHLY, MONTHLY - WAJIB),
        (MONTHLY, 0),
        (MONTHLY, MONTHLY),
    ]


def test_the_sheet_query_count_stays_the_same_with_more_savers(pengelola_client, lkmm, meeting):
    group, _loan = meeting
    range_url = reverse("loans:collection") + f"?start={MEETING:%Y-%m-%d}"

    def measure():
        counts = []
        for url in (sheet_url(group), range_url):
            with CaptureQueriesContext(connection) as queries:
                assert pengelola_client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    few = measure()
    from members.services import group_add_member

    for i in range(9):
        member = saver(lkmm, f"Zaki {i:02d}", D(2026, 1, 1))
        pay(member, WAJIB, D(2026, 1, 8))
        if i < 6:
            group_add_member(group=group, member=member, actor=None)
    many = measure()
    assert len(pengelola_client.get(range_url).context["rows"]) == 13
    assert len(pengelola_client.get(sheet_url(group)).context["rows"]) == 10
    assert few == many


# --- the member page and the passbook -------------------------------------------------------------


def test_the_member_page_and_the_passbook_show_the_wajib_owed(client, lkmm, pengelola):
    set_wajib(lkmm)
    today = timezone.localdate()
    member = saver(lkmm, "Hana", today - datetime.timedelta(days=20))  # the 3rd week runs today
    pay(member, WAJIB, today - datetime.timedelta(days=20))
    login(client, pengelola)
    for url in (reverse("members:detail", args=[member.pk]), reverse("savings:passbook", args=[member.pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert response.context["wajib_owed"] == 10_000
        html = response.content.decode()
        assert "Wajib tertunggak" in html
        owed_html = re.search(r'class="[^"]*wajib-owed[^"]*">(.*?)</(dd|p)>', html, flags=re.S).group(1)
        assert "Rp 10.000" in owed_html, url


def test_a_member_who_left_has_no_wajib_owed_on_their_pages(client, lkmm, pengelola):
    set_wajib(lkmm)
    member = saver(lkmm, "Indah", D(2026, 1, 1))
    Member.objects.filter(pk=member.pk).update(status=MemberStatus.KELUAR)
    login(client, pengelola)
    response = client.get(reverse("savings:passbook", args=[member.pk]))
    assert response.context["wajib_owed"] is None
    assert "Wajib tertunggak" not in response.content.decode()


# --- the product's frequency ----------------------------------------------------------------------


def test_the_ketua_sets_the_wajib_frequency_and_it_is_audited(client, lkmm, pengelola):
    set_wajib(lkmm)
    login(client, pengelola)
    data = {"kind": "wajib", "wajib-amount": "20.000", "wajib-frequency": "bulanan"}
    assert client.post("/simpanan/produk/", data).status_code == 403
    login(client, ketua_of(lkmm))
    assert "Per pertemuan mingguan" in client.get("/simpanan/produk/").content.decode()
    assert client.post("/simpanan/produk/", data).status_code == 302
    product = SavingsProduct.objects.get(lkmm=lkmm, kind="wajib")
    assert (product.amount, product.frequency) == (20_000, WajibFrequency.MONTHLY)
    assert AuditLog.objects.get(action="savings.product").data == {
        "kind": "wajib",
        "before": WAJIB,
        "after": 20_000,
        "frequency_before": "mingguan",
        "frequency_after": "bulanan",
    }


def test_a_bad_frequency_is_refused_next_to_the_field(client, lkmm):
    set_wajib(lkmm)
    login(client, ketua_of(lkmm))
    response = client.post(
        "/simpanan/produk/", {"kind": "wajib", "wajib-amount": "7.000", "wajib-frequency": "harian"}
    )
    assert response.status_code == 200
    form = {p.kind: f for p, f in response.context["rows"]}["wajib"]
    assert "frequency" in form.errors
    product = SavingsProduct.objects.get(lkmm=lkmm, kind="wajib")
    assert (product.amount, product.frequency) == (WAJIB, WajibFrequency.WEEKLY)
    assert not AuditLog.objects.filter(action="savings.product").exists()


def test_only_the_wajib_product_has_a_frequency(client, lkmm):
    set_wajib(lkmm)
    login(client, ketua_of(lkmm))
    html = client.get("/simpanan/produk/").content.decode()
    assert 'name="wajib-frequency"' in html
    assert 'name="pokok-frequency"' not in html and 'name="sukarela-frequency"' not in html
    response = client.post(
        "/simpanan/produk/", {"kind": "pokok", "pokok-amount": "12.000", "pokok-frequency": "bulanan"}
    )
    assert response.status_code == 302
    pokok = SavingsProduct.objects.get(lkmm=lkmm, kind="pokok")
    assert (pokok.amount, pokok.frequency) == (12_000, WajibFrequency.WEEKLY)
