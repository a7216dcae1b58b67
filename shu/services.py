"""Writes of the SHU. Each is one transaction with its journal entries and audit rows.

The books (ledger.statements explains how the statements read them):
- year_close (a decision; under four eyes a request and another approver's decision), after December's
  month-end close: on 31 December every income and expense account's year is closed into SHU tahun
  berjalan (3202); on 1 January that moves on, to SHU tahun lalu belum dibagi (3203) when it is a
  surplus, to SHU ditahan (3201) when it is a loss (no SHU).
- shu_distribute, the rapat anggota's decision carried out: Dr 3203 the surplus; Cr cadangan umum (3103)
  the reserve pool with every remainder, Cr dana sosial (2301), Cr dana pengurus (2302: the board's share,
  owed to it until paid from that fund on the dana page, not an expense: the SHU is shared after the
  year's result, not part of it), Cr SHU
  anggota belum dibayarkan (2303) the members' shares. Then each active member's share leaves 2303: to
  their sukarela savings (a deposit with its kuitansi, savings.services.savings_credit) or in cash, as
  the meeting decided; a member who left keeps it in 2303 until collected (share_collect).
- shu_reverse, a recorded distribution reversed from a date of its own (the rapat anggota's decision was
  wrong, or wrongly recorded): every posting of the distribution is reversed on that date, the cash
  payout (Dr kas / Cr 2303), each sukarela credit through the savings services (Dr simpanan / Cr 2303,
  its kuitansi marked reversed) and the sharing itself (Dr reserve, funds and 2303 / Cr 3203), so the SHU
  waits again in 3203 for a corrected decision. The decision is kept as a ShuReversal with its shares.
  Refused when it cannot be undone: a held share already paid out, a sukarela credit already withdrawn,
  a fund already spent.
- sosial_spend / sosial_reverse: Dr dana sosial (or dana pengurus, when the board is paid its share) /
  Cr kas, never more than the fund holds.

Every one of these is a decision (the ketua or a named approver); under four eyes each becomes a request
by a recorder or approver and a decision by another approver (institutions.decisions).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import check_decider
from institutions.models import Lkmm
from institutions.services import audit_record
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import AccountCode, EntryKind, PeriodClose
from ledger.selectors import cash_lowest_from
from ledger.services import entry_post, refuse_if_closed
from shu import selectors
from shu.models import (
    FUND_ACCOUNT,
    Decision,
    Fund,
    FundSpending,
    Settlement,
    ShuReversal,
    ShuRule,
    ShuShare,
    ShuYear,
)

FIRST_YEAR = 2000


def _d(date):
    return date.strftime("%d/%m/%Y")


def _check_year(year):
    today = timezone.localdate()
    if not isinstance(year, int) or year < FIRST_YEAR or year > today.year + 1:
        raise ValidationError(
            {"year": _("Tahun harus antara %(a)s dan %(b)s.") % {"a": FIRST_YEAR, "b": today.year + 1}}
        )


@transaction.atomic
def rule_set(
    *, lkmm, actor, from_year, reserve, jasa_simpanan, jasa_pinjaman, dana_sosial, pengurus, note=""
):
    """A new version of the LKMM's percentages from `from_year` on; the ketua (or a named approver)
    decides it. A year already closed keeps the version it was divided by."""
    check_decider(actor, lkmm=lkmm, what=_("aturan pembagian SHU"))
    _check_year(from_year)
    percents = {
        "reserve": reserve,
        "jasa_simpanan": jasa_simpanan,
        "jasa_pinjaman": jasa_pinjaman,
        "dana_sosial": dana_sosial,
        "pengurus": pengurus,
    }
    errors = {k: _("Persentase harus antara 0 dan 100.") for k, v in percents.items() if not 0 <= v <= 100}
    if errors:
        raise ValidationError(errors)
    if sum(percents.values()) != 100:
        raise ValidationError(
            _("Jumlah persentase harus 100, sekarang %(n)s.") % {"n": sum(percents.values())}
        )
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    closed = ShuYear.objects.filter(lkmm=lkmm, year__gte=from_year).order_by("-year").first()
    if closed is not None:
        raise ValidationError(
            {
                "from_year": _("Tahun %(y)s sudah ditutup: aturan baru berlaku mulai %(n)s.")
                % {"y": closed.year, "n": closed.year + 1}
            }
        )
    last = ShuRule.objects.filter(lkmm=lkmm).order_by("-version").values_list("version", flat=True).first()
    rule = ShuRule(
        lkmm=lkmm,
        version=(last or 0) + 1,
        from_year=from_year,
        note=note.strip(),
        created_by=actor,
        **percents,
    )
    rule.full_clean()
    rule.save()
    audit_record(
        actor=actor, action="shu.rule", obj=rule, lkmm=lkmm, data={"from_year": from_year, **percents}
    )
    return rule


@transaction.atomic
def year_close(*, lkmm, year, actor, requested_by=None):
    """Tutup tahun: close the year's income and expense into SHU (see the module's docstring) and store
    its pools by the rule in force. Only after December's month-end close, once per year."""
    check_decider(actor, lkmm=lkmm, what=_("tutup tahun"), requested_by=requested_by, at_once=True)
    _check_year(year)
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    december = datetime.date(year, 12, 1)
    if not PeriodClose.objects.filter(lkmm=lkmm, month=december, reopened_at__isnull=True).exists():
        raise ValidationError({"year": _("Tutup buku Desember %(y)s dulu, baru tutup tahun.") % {"y": year}})
    if ShuYear.objects.filter(lkmm=lkmm, year=year).exists():
        raise ValidationError({"year": _("Tahun %(y)s sudah ditutup.") % {"y": year}})
    balances, result = selectors.year_result(lkmm=lkmm, year=year)
    rule = selectors.rule_in_force(lkmm=lkmm, year=year)
    if result > 0 and rule is None:
        raise ValidationError(
            {"year": _("Atur dulu persentase pembagian SHU yang berlaku untuk tahun %(y)s.") % {"y": year}}
        )
    shu_year = ShuYear(lkmm=lkmm, year=year, result=result, closed_by=actor, requested_by=requested_by)
    if result > 0:
        from shu.division import pools_of

        pools = pools_of(result, rule.percents)
        shu_year.rule = rule
        for pool, amount in pools.items():
            setattr(shu_year, f"pool_{pool}", amount)
    shu_year.save()
    lines = [(code, max(-net, 0), max(net, 0)) for code, net in balances.items() if net]
    if lines:
        current = AccountCode.SHU_TAHUN_BERJALAN
        lines.append((current, max(-result, 0), max(result, 0)))
        shu_year.closing_entry = entry_post(
            lkmm=lkmm,
            date=datetime.date(year, 12, 31),
            memo=_("Tutup tahun %(y)s: pendapatan dan beban ke SHU tahun berjalan") % {"y": year},
            lines=lines,
            kind=EntryKind.YEAR_CLOSE,
            actor=actor,
            source=shu_year,
            into_closed=True,
        )
        if result:
            to = AccountCode.SHU_BELUM_DIBAGI if result > 0 else AccountCode.SHU_DITAHAN
            amount = abs(result)
            shu_year.carry_entry = entry_post(
                lkmm=lkmm,
                date=datetime.date(year + 1, 1, 1),
                memo=(
                    _("SHU %(y)s belum dibagi, menunggu rapat anggota")
                    if result > 0
                    else _("Defisit %(y)s dibawa ke SHU ditahan")
                )
                % {"y": year},
                lines=[(current, amount, 0), (to, 0, amount)]
                if result > 0
                else [(to, amount, 0), (current, 0, amount)],
                kind=EntryKind.YEAR_CLOSE,
                actor=actor,
                source=shu_year,
                into_closed=True,
            )
        shu_year.save(update_fields=["closing_entry", "carry_entry"])
    audit_record(
        actor=actor,
        action="shu.year_close",
        obj=shu_year,
        lkmm=lkmm,
        data={
            "year": year,
            "result": result,
            "rule": rule.pk if rule and result > 0 else None,
            **shu_year.pools,
        },
    )
    return shu_year


def _check_on(on, *, after, field="on"):
    if on > timezone.localdate():
        raise ValidationError({field: _("Tanggal tidak boleh di masa depan.")})
    if on < after:
        raise ValidationError({field: _("Tanggal tidak boleh sebelum %(d)s.") % {"d": _d(after)}})


def _check_cash(lkmm, on, amount, field="on"):
    when, cash = cash_lowest_from(lkmm=lkmm, code=AccountCode.KAS, on=on)
    if amount > cash:
        raise ValidationError(
            {
                field: _("Kas tidak cukup: saldo kas %(d)s hanya %(amount)s.")
                % {"d": _d(when), "amount": format_rupiah(max(cash, 0))}
            }
        )


@transaction.atomic
def shu_distribute(*, shu_year, actor, decided_on, decision, minutes_no, note="", requested_by=None):
    """Record the rapat anggota's decision on a closed year's SHU and carry it out (see the module's
    docstring). The shares are the preview's, stored with where each went. It moves the SHU into the
    reserve and the funds: a decision, under four eyes a request and another approver's decision."""
    from members.models import MemberStatus
    from savings.models import SavingsKind
    from savings.services import savings_credit

    lkmm = Lkmm.objects.select_for_update().get(pk=shu_year.lkmm_id)
    check_decider(actor, lkmm=lkmm, what=_("pembagian SHU"), requested_by=requested_by, at_once=True)
    shu_year = ShuYear.objects.select_for_update().get(pk=shu_year.pk)
    if shu_year.distributed:
        raise ValidationError(_("SHU tahun %(y)s sudah dibagikan.") % {"y": shu_year.year})
    if shu_year.result <= 0:
        raise ValidationError(_("Tahun %(y)s tidak menghasilkan SHU untuk dibagi.") % {"y": shu_year.year})
    if decision not in Decision.values:
        raise ValidationError({"decision": _("Pilih keputusan rapat anggota.")})
    minutes_no = (minutes_no or "").strip()
    if not minutes_no:
        raise ValidationError({"minutes_no": _("Tulis nomor berita acara rapat anggota.")})
    _check_on(decided_on, after=datetime.date(shu_year.year + 1, 1, 1), field="decided_on")
    preview = selectors.preview(lkmm=lkmm, year=shu_year.year)
    pools = shu_year.pools
    members_total = preview.members_total
    settlements = {}
    for row in preview.rows:
        if row.member.status != MemberStatus.AKTIF:
            settlements[row.member.pk] = Settlement.UTANG
        else:
            settlements[row.member.pk] = decision
    cash_out = sum(r.total for r in preview.rows if settlements[r.member.pk] == Settlement.TUNAI)
    if cash_out:
        _check_cash(lkmm, decided_on, cash_out, field="decided_on")
    label = _("SHU %(y)s") % {"y": shu_year.year}
    try:
        entry = entry_post(
            lkmm=lkmm,
            date=decided_on,
            memo=_("Pembagian SHU %(y)s, berita acara %(no)s") % {"y": shu_year.year, "no": minutes_no},
            lines=[
                (AccountCode.SHU_BELUM_DIBAGI, shu_year.result, 0),
                (AccountCode.CADANGAN_UMUM, 0, preview.reserve_total),
                (AccountCode.DANA_SOSIAL, 0, pools["dana_sosial"]),
                (AccountCode.DANA_PENGURUS, 0, pools["pengurus"]),
                (AccountCode.UTANG_SHU, 0, members_total),
            ],
            kind=EntryKind.SHU,
            actor=actor,
            source=shu_year,
        )
    except ValidationError as exc:
        raise ValidationError({"decided_on": exc.messages}) from None
    shares = []
    for row in preview.rows:
        settlement = settlements[row.member.pk]
        share = ShuShare(
            shu_year=shu_year,
            member=row.member,
            average_savings=row.average_savings,
            interest_paid=row.interest_paid,
            jasa_simpanan=row.jasa_simpanan,
            jasa_pinjaman=row.jasa_pinjaman,
            total=row.total,
            settlement=settlement,
        )
        if row.total > 0 and settlement == Settlement.SUKARELA:
            share.movement = savings_credit(
                member=row.member,
                kind=SavingsKind.SUKARELA,
                amount=row.total,
                on=decided_on,
                actor=actor,
                from_code=AccountCode.UTANG_SHU,
                memo=label,
                note=label,
            )
        elif row.total > 0 and settlement == Settlement.TUNAI:
            share.collected_on, share.collected_by = decided_on, actor
        shares.append(share)
    ShuShare.objects.bulk_create(shares)
    if cash_out:
        cash_entry = entry_post(
            lkmm=lkmm,
            date=decided_on,
            memo=_("Pembayaran tunai SHU %(y)s kepada anggota") % {"y": shu_year.year},
            lines=[(AccountCode.UTANG_SHU, cash_out, 0), (AccountCode.KAS, 0, cash_out)],
            kind=EntryKind.SHU,
            actor=actor,
            source=shu_year,
        )
        ShuShare.objects.filter(shu_year=shu_year, settlement=Settlement.TUNAI, total__gt=0).update(
            collection_entry=cash_entry
        )
    shu_year.decided_on, shu_year.decision, shu_year.minutes_no = decided_on, decision, minutes_no
    shu_year.decision_note = (note or "").strip()
    shu_year.reserve_total = preview.reserve_total
    shu_year.distributed_at, shu_year.distributed_by, shu_year.distribution_entry = (
        timezone.now(),
        actor,
        entry,
    )
    shu_year.save()
    audit_record(
        actor=actor,
        action="shu.distribute",
        obj=shu_year,
        lkmm=lkmm,
        reason=shu_year.decision_note,
        data={
            "year": shu_year.year,
            "decided_on": decided_on.isoformat(),
            "decision": decision,
            "minutes_no": minutes_no,
            "members": members_total,
            "reserve": preview.reserve_total,
            "cash": cash_out,
            "held": sum(s.total for s in shares if s.settlement == Settlement.UTANG),
            "requested_by": requested_by.pk if requested_by else None,
        },
    )
    return shu_year


def _reversing(entry):
    """The lines of `entry` with debit and credit swapped: its reversal."""
    return [(line.account.code, line.credit, line.debit) for line in entry.lines.select_related("account")]


@transaction.atomic
def shu_reverse(*, shu_year, actor, on, reason, requested_by=None):
    """Reverse a recorded distribution from `on` (see the module's docstring). A decision like a
    payment's reversal: under four eyes a request, and neither its proposer nor whoever recorded the
    distribution decides it. All or nothing: any share that cannot be undone refuses the whole."""
    from savings.services import savings_credit_reverse

    lkmm = Lkmm.objects.select_for_update().get(pk=shu_year.lkmm_id)
    shu_year = ShuYear.objects.select_for_update().get(pk=shu_year.pk)
    check_decider(
        actor,
        lkmm=lkmm,
        what=_("pembatalan pembagian SHU"),
        recorded_by=[shu_year.distributed_by_id],
        requested_by=requested_by,
        at_once=True,
    )
    if not shu_year.distributed:
        raise ValidationError(_("SHU tahun %(y)s belum dibagikan.") % {"y": shu_year.year})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan pembatalan.")})
    _check_on(on, after=shu_year.decided_on)
    shares = list(
        ShuShare.objects.select_for_update(of=("self",))
        .filter(shu_year=shu_year, reversal__isnull=True)
        .select_related("member", "movement")
        .order_by("member__number")
    )
    paid = [s for s in shares if s.settlement == Settlement.UTANG and s.collected_on is not None]
    if paid:
        raise ValidationError(
            _(
                "SHU yang ditahan untuk %(names)s sudah diambil: pembagian tidak dapat dibatalkan lagi "
                "(pembayarannya tidak dapat dibatalkan)."
            )
            % {"names": ", ".join(f"{s.member.full_name} ({_d(s.collected_on)})" for s in paid)}
        )
    pools = shu_year.pools
    for code, amount in (
        (AccountCode.DANA_SOSIAL, pools["dana_sosial"]),
        (AccountCode.DANA_PENGURUS, pools["pengurus"]),
    ):
        when, held = selectors.fund_lowest_from(lkmm=lkmm, code=code, on=on)
        if amount > held:
            label = Fund.SOSIAL.label if code == AccountCode.DANA_SOSIAL else Fund.PENGURUS.label
            raise ValidationError(
                _(
                    "%(fund)s dari SHU ini sudah dipakai: saldonya %(d)s hanya %(held)s, kurang dari "
                    "%(amount)s. Batalkan dulu penggunaannya."
                )
                % {
                    "fund": label,
                    "d": _d(when),
                    "held": format_rupiah(max(held, 0)),
                    "amount": format_rupiah(amount),
                }
            )
    try:
        refuse_if_closed(lkmm=lkmm, date=on)
    except ValidationError as exc:
        raise ValidationError({"on": exc.messages}) from None
    label = _("Pembatalan SHU %(y)s") % {"y": shu_year.year}
    # Each posting of the distribution reversed, the last first: the cash paid out comes back to the
    # kas and the sukarela credits leave the savings (each kuitansi marked reversed in the passbook),
    # both back into 2303; then the sharing itself goes back to SHU belum dibagi.
    cash_entry = None
    paid_out = next(
        (s.collection_entry for s in shares if s.settlement == Settlement.TUNAI and s.collection_entry_id),
        None,
    )
    if paid_out is not None:
        cash_entry = entry_post(
            lkmm=lkmm,
            date=on,
            memo=_("Pembatalan pembayaran tunai SHU %(y)s") % {"y": shu_year.year},
            lines=_reversing(paid_out),
            kind=EntryKind.SHU,
            actor=actor,
            source=shu_year,
        )
    for share in shares:
        if share.settlement == Settlement.SUKARELA and share.movement_id:
            savings_credit_reverse(
                movement=share.movement,
                actor=actor,
                on=on,
                to_code=AccountCode.UTANG_SHU,
                reason=reason,
                memo=label,
            )
    entry = entry_post(
        lkmm=lkmm,
        date=on,
        memo=_("Pembatalan pembagian SHU %(y)s, berita acara %(no)s: %(reason)s")
        % {"y": shu_year.year, "no": shu_year.minutes_no, "reason": reason},
        lines=_reversing(shu_year.distribution_entry),
        kind=EntryKind.SHU,
        actor=actor,
        source=shu_year,
    )
    reversal = ShuReversal.objects.create(
        shu_year=shu_year,
        decided_on=shu_year.decided_on,
        decision=shu_year.decision,
        minutes_no=shu_year.minutes_no,
        decision_note=shu_year.decision_note,
        reserve_total=shu_year.reserve_total,
        distributed_at=shu_year.distributed_at,
        distributed_by=shu_year.distributed_by,
        distribution_entry=shu_year.distribution_entry,
        on=on,
        reason=reason,
        reversed_by=actor,
        requested_by=requested_by,
        entry=entry,
        cash_entry=cash_entry,
    )
    ShuShare.objects.filter(pk__in=[s.pk for s in shares]).update(reversal=reversal)
    shu_year.decided_on, shu_year.decision, shu_year.minutes_no, shu_year.decision_note = None, "", "", ""
    shu_year.reserve_total = 0
    shu_year.distributed_at = shu_year.distributed_by = shu_year.distribution_entry = None
    shu_year.save(
        update_fields=[
            "decided_on",
            "decision",
            "minutes_no",
            "decision_note",
            "reserve_total",
            "distributed_at",
            "distributed_by",
            "distribution_entry",
        ]
    )
    audit_record(
        actor=actor,
        action="shu.distribution_reverse",
        obj=shu_year,
        lkmm=lkmm,
        reason=reason,
        data={
            "year": shu_year.year,
            "reversal": reversal.pk,
            "on": on.isoformat(),
            "minutes_no": reversal.minutes_no,
            "decision": reversal.decision,
            "members": sum(s.total for s in shares),
            "cash": sum(s.total for s in shares if s.settlement == Settlement.TUNAI),
            "sukarela": sum(s.total for s in shares if s.settlement == Settlement.SUKARELA),
            "held": sum(s.total for s in shares if s.settlement == Settlement.UTANG),
            "requested_by": requested_by.pk if requested_by else None,
        },
    )
    return reversal


@transaction.atomic
def share_collect(*, share, actor, on, requested_by=None):
    """A member who left collects the SHU share held for them: paid in cash from the payable. A decision,
    under four eyes a request and another approver's decision."""
    share = ShuShare.objects.select_related("shu_year", "member").get(pk=share.pk)
    lkmm = Lkmm.objects.select_for_update().get(pk=share.shu_year.lkmm_id)
    check_decider(actor, lkmm=lkmm, what=_("pembayaran SHU"), requested_by=requested_by, at_once=True)
    share = ShuShare.objects.select_for_update().select_related("shu_year", "member").get(pk=share.pk)
    if not share.waiting:
        raise ValidationError(_("SHU ini tidak menunggu diambil."))
    _check_on(on, after=share.shu_year.decided_on)
    _check_cash(lkmm, on, share.total)
    share.collection_entry = entry_post(
        lkmm=lkmm,
        date=on,
        memo=_("SHU %(y)s diambil %(member)s") % {"y": share.shu_year.year, "member": share.member.full_name},
        lines=[(AccountCode.UTANG_SHU, share.total, 0), (AccountCode.KAS, 0, share.total)],
        kind=EntryKind.SHU,
        actor=actor,
        source=share,
    )
    share.collected_on, share.collected_by = on, actor
    share.save(update_fields=["collected_on", "collected_by", "collection_entry"])
    audit_record(
        actor=actor,
        action="shu.collect",
        obj=share,
        lkmm=lkmm,
        data={"member": share.member_id, "amount": share.total, "on": on.isoformat()},
    )
    return share


@transaction.atomic
def sosial_spend(*, lkmm, actor, on, purpose, description, amount, fund=Fund.SOSIAL, requested_by=None):
    """Spend from dana sosial (Posyandu, PAUD, a poor neighbour), or pay the board from dana pengurus
    (`fund`): never more than the fund holds on that day or any later one, nor than the kas. A decision,
    under four eyes a request and another approver's decision."""
    check_decider(actor, lkmm=lkmm, what=_("penggunaan dana"), requested_by=requested_by, at_once=True)
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    if fund not in Fund.values:
        raise ValidationError({"fund": _("Pilih dana sosial atau dana pengurus.")})
    code = FUND_ACCOUNT[fund]
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Tulis untuk apa dana ini dipakai.")})
    if amount <= 0:
        raise ValidationError({"amount": _("Jumlah harus lebih dari nol.")})
    _check_on(on, after=lkmm.founded_on)
    when, held = selectors.fund_lowest_from(lkmm=lkmm, code=code, on=on)
    if amount > held:
        raise ValidationError(
            {
                "amount": _("Melebihi %(fund)s: saldo %(d)s hanya %(amount)s.")
                % {"fund": Fund(fund).label.lower(), "d": _d(when), "amount": format_rupiah(max(held, 0))}
            }
        )
    _check_cash(lkmm, on, amount, field="amount")
    spending = FundSpending(
        lkmm=lkmm,
        fund=fund,
        on=on,
        purpose=purpose,
        description=description,
        amount=amount,
        recorded_by=actor,
        requested_by=requested_by,
    )
    spending.full_clean(exclude=["entry"])
    spending.entry = entry_post(
        lkmm=lkmm,
        date=on,
        memo=_("%(fund)s: %(p)s, %(d)s")
        % {"fund": Fund(fund).label, "p": spending.get_purpose_display(), "d": description},
        lines=[(code, amount, 0), (AccountCode.KAS, 0, amount)],
        kind=EntryKind.DANA_SOSIAL,
        actor=actor,
    )
    spending.save()
    audit_record(
        actor=actor,
        action="shu.fund_spend",
        obj=spending,
        lkmm=lkmm,
        data={
            "fund": fund,
            "purpose": purpose,
            "amount": amount,
            "on": on.isoformat(),
            "requested_by": requested_by.pk if requested_by else None,
        },
    )
    return spending


@transaction.atomic
def sosial_reverse(*, spending, actor, on, reason, requested_by=None):
    """A mistaken spending reversed from `on`: the money is back in the fund and the kas. A decision, like
    a payment's reversal: under four eyes a request, and neither its proposer nor whoever recorded the
    spending decides it."""
    lkmm = Lkmm.objects.select_for_update().get(pk=spending.lkmm_id)
    spending = FundSpending.objects.select_for_update().get(pk=spending.pk)
    check_decider(
        actor,
        lkmm=lkmm,
        what=_("pembatalan penggunaan dana"),
        recorded_by=[spending.recorded_by_id],
        requested_by=requested_by,
        at_once=True,
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Tulis alasan pembatalan.")})
    if spending.reversed_on is not None:
        raise ValidationError(_("Penggunaan ini sudah dibatalkan."))
    _check_on(on, after=spending.on)
    try:
        reversal_entry = entry_post(
            lkmm=lkmm,
            date=on,
            memo=_("Pembatalan %(fund)s: %(d)s")
            % {"fund": spending.get_fund_display().lower(), "d": spending.description},
            lines=[(AccountCode.KAS, spending.amount, 0), (FUND_ACCOUNT[spending.fund], 0, spending.amount)],
            kind=EntryKind.DANA_SOSIAL,
            actor=actor,
            source=spending,
        )
    except ValidationError as exc:
        raise ValidationError({"on": exc.messages}) from None
    spending.reversal_entry = reversal_entry
    spending.reversed_on, spending.reversed_by, spending.reversal_reason = on, actor, reason
    spending.save(update_fields=["reversed_on", "reversed_by", "reversal_reason", "reversal_entry"])
    audit_record(
        actor=actor,
        action="shu.fund_reverse",
        obj=spending,
        lkmm=lkmm,
        reason=reason,
        data={
            "amount": spending.amount,
            "on": on.isoformat(),
            "requested_by": requested_by.pk if requested_by else None,
        },
    )
    return spending
