"""Cash on hand (DOMAIN.md "Savings, the year's surplus and cash on hand"): the Dinas's limit, the LKMM
home's warning with its "setor ke bank" voucher, and the Dinas home's list of LKMMs over their limit."""

import datetime

import pytest
from django.utils import timezone

from ledger.selectors import cash_over_limit
from ledger.services import voucher_post
from tests.factories import LkmmFactory, ketua_of, login


def days(n):
    return datetime.timedelta(days=n)


def today():
    return timezone.localdate()


def voucher(lkmm, kind, amount, on, account):
    return voucher_post(
        lkmm=lkmm,
        actor=ketua_of(lkmm),
        kind=kind,
        date=on,
        amount=amount,
        memo="Bukti",
        account_code=account,
        cash_account_code="1101",
    )


@pytest.fixture
def over(lkmm):
    """Kas Rp 1.000.000 from five days ago, Rp 700.000 from three days ago: over Rp 500.000 every day."""
    voucher(lkmm, "cash_in", 1_000_000, today() - days(5), "3101")
    voucher(lkmm, "cash_out", 300_000, today() - days(3), "5201")
    return lkmm


def test_consecutive_days_over_the_limit_are_counted_back_from_yesterday(over):
    item = cash_over_limit(lkmm_ids=[over.pk], limit=500_000, until=today() - days(1))[over.pk]
    assert (item.balance, item.excess, item.days, item.since, item.capped) == (
        700_000,
        200_000,
        5,
        today() - days(5),
        False,
    )


def test_a_day_at_the_limit_is_not_over_it_and_ends_the_run(lkmm):
    voucher(lkmm, "cash_in", 500_000, today() - days(6), "3101")  # at the limit: not over
    voucher(lkmm, "cash_in", 100_000, today() - days(2), "3101")
    item = cash_over_limit(lkmm_ids=[lkmm.pk], limit=500_000, until=today() - days(1))[lkmm.pk]
    assert (item.days, item.since) == (2, today() - days(2))
    assert cash_over_limit(lkmm_ids=[lkmm.pk], limit=600_000, until=today() - days(1)) == {}


def test_a_run_longer_than_the_lookback_is_marked(lkmm):
    voucher(lkmm, "cash_in", 900_000, today() - days(200), "3101")
    item = cash_over_limit(lkmm_ids=[lkmm.pk], limit=500_000, until=today() - days(1))[lkmm.pk]
    assert item.days == 90 and item.capped


def test_todays_cash_is_not_judged_before_the_day_ends(lkmm):
    voucher(lkmm, "cash_in", 900_000, today(), "3101")
    assert cash_over_limit(lkmm_ids=[lkmm.pk], limit=500_000, until=today() - days(1)) == {}


def test_the_lkmm_home_warns_and_offers_the_deposit_to_the_bank(client, over, pengelola):
    login(client, pengelola)
    response = client.get("/")
    body = response.content.decode()
    assert response.context["cash_over"].excess == 200_000
    assert "melebihi batas Dinas Rp 500.000 (5 hari berturut-turut" in body
    assert "?kind=transfer&amp;setor=1" in body and "Setor Rp 200.000 ke bank" in body
    form = client.get(f"/buku/{over.code}/bukti/baru/?kind=transfer&setor=1").context["form"]
    assert form.initial["amount"] == 200_000
    assert form["account_code"].value() == "1102"


def test_the_dinas_limit_decides(client, over, pengelola):
    over.dinas.cash_limit = 800_000
    over.dinas.save()
    login(client, pengelola)
    response = client.get("/")
    assert response.context["cash_over"] is None
    assert "melebihi batas Dinas" not in response.content.decode()


def test_the_dinas_home_lists_its_lkmms_over_the_limit_longest_first(dinas_client, over):
    newer = LkmmFactory(code="baru", name="LKMM Baru")
    voucher(newer, "cash_in", 2_000_000, today() - days(2), "3101")
    LkmmFactory(code="tertib", name="LKMM Tertib")
    response = dinas_client.get("/")
    listed = [(item.lkmm.code, item.days, item.excess) for item in response.context["cash_over"]]
    assert listed == [(over.code, 5, 200_000), ("baru", 2, 1_500_000)]
    assert "Kas melebihi batas" in response.content.decode()


def test_the_dinas_cash_rows_show_kas_the_excess_and_the_run_with_names_escaped(dinas_client, over):
    long_run = LkmmFactory(code="lama", name="LKMM <Lama> & Co")
    voucher(long_run, "cash_in", 900_000, today() - days(200), "3101")
    body = dinas_client.get("/").content.decode()
    since = (today() - days(5)).strftime("%d/%m/%Y")
    first = (today() - days(90)).strftime("%d/%m/%Y")
    assert (
        f'<td><a href="/lkmm/lama/">LKMM &lt;Lama&gt; &amp; Co</a></td>\n'
        '      <td class="num">Rp 900.000</td>\n'
        '      <td class="num">Rp 400.000</td>\n'
        f'      <td class="num">&gt; 90 <small class="muted">(sejak {first})</small></td>'
    ) in body
    assert (
        '<td class="num">Rp 700.000</td>\n'
        '      <td class="num">Rp 200.000</td>\n'
        f'      <td class="num">5 <small class="muted">(sejak {since})</small></td>'
    ) in body
    assert "LKMM <Lama>" not in body


# --- the kept net kas movement per day (ledger.CashDay) --------------------------------------------------


def kept_days(lkmm):
    from ledger.models import CashDay

    return list(CashDay.objects.filter(lkmm=lkmm).order_by("date").values_list("date", "net"))


def test_every_kas_entry_keeps_the_days_net_movement_including_back_dated_ones(lkmm):
    from ledger.checks import cash_days_match_lines

    voucher(lkmm, "cash_in", 1_000_000, today() - days(5), "3101")
    voucher(lkmm, "cash_out", 300_000, today() - days(3), "5201")
    voucher(lkmm, "cash_out", 50_000, today() - days(3), "5201")  # the same day again
    assert kept_days(lkmm) == [(today() - days(5), 1_000_000), (today() - days(3), -350_000)]
    # Back-dated between the two days: a new day, and the later day stays as it was.
    voucher(lkmm, "cash_out", 100_000, today() - days(4), "5201")
    assert kept_days(lkmm) == [
        (today() - days(5), 1_000_000),
        (today() - days(4), -100_000),
        (today() - days(3), -350_000),
    ]
    # Kas to the bank is a kas movement too; bank to bank would not be.
    voucher_post(
        lkmm=lkmm,
        actor=ketua_of(lkmm),
        kind="transfer",
        date=today() - days(1),
        amount=500_000,
        memo="Setor ke bank",
        account_code="1102",
        cash_account_code="1101",
    )
    assert kept_days(lkmm)[-1] == (today() - days(1), -500_000)
    assert list(cash_days_match_lines([lkmm])) == []
    item = cash_over_limit(lkmm_ids=[lkmm.pk], limit=500_000, until=today() - days(2))[lkmm.pk]
    assert (item.balance, item.days, item.since) == (550_000, 4, today() - days(5))
    assert cash_over_limit(lkmm_ids=[lkmm.pk], limit=500_000, until=today() - days(1)) == {}


def test_a_back_dated_entry_writes_its_own_days_row_and_no_other(over):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger.models import CashDay

    for n in (2, 1, 0):
        voucher(over, "cash_in", 10_000 * n + 5_000, today() - days(n), "3101")
    before = {pk: (date, net) for pk, date, net in CashDay.objects.values_list("pk", "date", "net")}
    assert len(before) == 5
    # Onto a day that has a row, then onto a day that has none: each time one statement writes the
    # kept days, and every other row keeps its value.
    for on, expected in ((today() - days(5), 1_000_000 - 40_000), (today() - days(4), -40_000)):
        with CaptureQueriesContext(connection) as captured:
            voucher(over, "cash_out", 40_000, on, "5201")
        touching = [q["sql"] for q in captured.captured_queries if "ledger_cashday" in q["sql"]]
        writes = [sql for sql in touching if not sql.lstrip().startswith("SELECT")]
        assert len(writes) == 1 and writes[0].lstrip().startswith("INSERT INTO ledger_cashday")
        after = {pk: (date, net) for pk, date, net in CashDay.objects.values_list("pk", "date", "net")}
        changed = {pk: row for pk, row in after.items() if before.get(pk) != row}
        assert list(changed.values()) == [(on, expected)]
        before = after


def test_the_refresh_rebuilds_the_kept_days_from_the_lines(over):
    from ledger.checks import cash_days_match_lines
    from ledger.models import CashDay
    from ledger.services import cash_days_refresh

    before = kept_days(over)
    CashDay.objects.filter(lkmm=over).update(net=0)
    assert len(list(cash_days_match_lines([over]))) == 2
    cash_days_refresh(lkmm=over)
    assert kept_days(over) == before == [(today() - days(5), 1_000_000), (today() - days(3), -300_000)]
    assert list(cash_days_match_lines([over])) == []


def test_the_cash_list_takes_the_same_queries_for_more_lkmms(over):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        cash_over_limit(lkmm_ids=[over.pk], limit=500_000, until=today() - days(1))
    others = [LkmmFactory(code=f"lain{i}", name=f"LKMM Lain {i}") for i in range(4)]
    for other in others:
        voucher(other, "cash_in", 900_000, today() - days(2 + len(other.code)), "3101")
    with CaptureQueriesContext(connection) as five:
        result = cash_over_limit(
            lkmm_ids=[over.pk, *(o.pk for o in others)], limit=500_000, until=today() - days(1)
        )
    assert len(result) == 5
    assert len(one) == len(five) == 2


def test_what_kas_may_pay_on_a_day_is_its_lowest_end_of_day_balance_from_then_on(over):
    from ledger.selectors import cash_lowest_from

    def lowest(n):
        return cash_lowest_from(lkmm=over, code="1101", on=today() - days(n))

    assert lowest(6) == (today() - days(6), 0)
    assert lowest(5) == lowest(4) == lowest(3) == (today() - days(3), 700_000)
    assert lowest(0) == (today(), 700_000)
    voucher(over, "cash_out", 650_000, today() - days(1), "5201")
    assert lowest(5) == (today() - days(1), 50_000)
