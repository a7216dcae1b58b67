"""Taking data out (issue 10): the whole book in the import format (export_book), and the portfolio at a
date as plain CSV for other tools (export_portfolio). Raw values throughout: these files are for
machines and for bringing the book back in, so nothing is neutralised or formatted for the eye."""

import csv
import datetime
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.utils import timezone

from books.formats import SHEETS
from ledger.models import AccountCode, EntryKind, JournalLine, PeriodClose
from loans import allocation as engine
from loans.models import DISBURSED_STATUSES, Installment, Loan, LoanStatusChange, Repayment, Waiver
from members.models import GroupMembership, Member, MemberStatus, MemberStatusChange

PORTFOLIO_COLUMNS = (
    "lkmm",
    "loan_ref",
    "nik",
    "principal",
    "outstanding_principal",
    "overdue_principal",
    "overdue_interest",
    "late_fees_due",
    "days_past_due",
    "class_code",
    "reserve_rate_pct",
    "required_reserve",
    "restructured",
)
SUMMARY_COLUMNS = (
    "lkmm",
    "loans",
    "outstanding_principal",
    "par1_pct",
    "par30_pct",
    "par90_pct",
    "npl_pct",
    "required_reserve",
    "reserve_held",
)


def _pct(value):
    if value is None:
        return ""
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _closed(lkmm, at):
    if (at + datetime.timedelta(days=1)).day != 1:
        return None
    return PeriodClose.objects.filter(lkmm=lkmm, month=at.replace(day=1), reopened_at__isnull=True).first()


def _overdue_split(loan_ids, at):
    """{loan id: (overdue principal, overdue interest)} at `at`, replaying the engine over the payments
    that count then (DOMAIN.md) and the waivers dated by then: three queries for all the loans."""
    installments, payments, waivers = defaultdict(list), defaultdict(list), defaultdict(list)
    for i in Installment.objects.filter(loan__in=loan_ids).order_by("due_date", "seq"):
        installments[i.loan_id].append(i)
    counting = Repayment.objects.filter(loan__in=loan_ids).counting_at(at)
    for r in counting.order_by("paid_on", "receipt_no"):
        payments[r.loan_id].append(engine.Pay(r.pk, r.paid_on, r.receipt_no, r.amount))
    for w in Waiver.objects.filter(loan__in=loan_ids, on__lte=at):
        waivers[w.loan_id].append(engine.Waiver(w.installment_id, w.on, w.interest, w.late_fee))
    late_fees = dict(Loan.objects.filter(pk__in=loan_ids).values_list("pk", "late_fee"))
    result = {}
    for loan_id in loan_ids:
        insts = [engine.Inst(i.pk, i.due_date, i.principal, i.interest) for i in installments[loan_id]]
        states = engine.allocate(
            insts, payments[loan_id], late_fee=late_fees[loan_id], waivers=waivers[loan_id]
        ).states
        principal = interest = 0
        for inst in insts:
            if inst.due_date >= at:
                continue
            waived = sum(w.interest for w in waivers[loan_id] if w.installment_id == inst.id)
            principal += inst.principal - states[inst.id].principal
            interest += max(0, inst.interest - waived - states[inst.id].interest)
        result[loan_id] = (principal, interest)
    return result


def portfolio_rows(at, lkmms):
    """One row per loan with principal outstanding at the end of `at`, ordered by LKMM code then
    loan_ref. At a closed month end the figures stored at the close, extended with the overdue split."""
    from risk.figures import loan_figures
    from risk.models import ClosedLoanFigure, QualityClass

    rows = []
    codes = dict(QualityClass.objects.values_list("pk", "code"))
    for lkmm in sorted(lkmms, key=lambda x: x.code):
        close = _closed(lkmm, at)
        if close is not None:
            figures = {
                f.loan_id: {
                    "outstanding": f.outstanding,
                    "overdue": f.overdue,
                    "fees": f.late_fees,
                    "dpd": f.days_past_due,
                    "class": f.quality_class_id,
                    "rate": f.reserve_rate,
                    "required": f.required_reserve,
                }
                for f in ClosedLoanFigure.objects.filter(period_close=close, outstanding__gt=0)
            }
        else:
            figures = {
                loan_id: {
                    "outstanding": f.outstanding,
                    "overdue": f.overdue_amount,
                    "fees": f.overdue_fees,
                    "dpd": f.days_past_due,
                    "class": f.quality_class_id,
                    "rate": f.reserve_rate,
                    "required": f.required,
                }
                for loan_id, f in loan_figures(at, lkmms=[lkmm]).items()
            }
        loans = Loan.objects.filter(pk__in=list(figures)).select_related("member")
        split = _overdue_split(list(figures), at)
        mine = []
        for loan in loans:
            f = figures[loan.pk]
            overdue_principal, overdue_interest = split[loan.pk]
            mine.append(
                [
                    lkmm.code,
                    loan.ref,
                    loan.member.nik,
                    loan.principal,
                    f["outstanding"],
                    overdue_principal,
                    f["overdue"] - overdue_principal,
                    f["fees"],
                    f["dpd"],
                    codes.get(f["class"], ""),
                    _pct(f["rate"]),
                    f["required"],
                    1 if loan.restructured_from_id else 0,
                ]
            )
        rows.extend(sorted(mine, key=lambda row: row[1]))
    return rows


def summary_rows(at, lkmms):
    """One row per LKMM: its loans, outstanding, PAR1/30/90, NPL (two decimals, empty when nothing is
    outstanding), required reserve and reserve held. A closed month end reports the stored figures."""
    from risk.selectors import portfolio_by_lkmm, stored_portfolio

    lkmms = sorted(lkmms, key=lambda x: x.code)
    computed = portfolio_by_lkmm(lkmms=lkmms, at=at)
    rows = []
    for lkmm in lkmms:
        f = stored_portfolio(lkmm=lkmm, at=at) or computed[lkmm.pk]
        rows.append(
            [
                lkmm.code,
                f["loans"],
                f["outstanding"],
                _pct(f["par1_ratio"]),
                _pct(f["par30_ratio"]),
                _pct(f["par90_ratio"]),
                _pct(f["npl_ratio"]),
                f["required"],
                f["held"],
            ]
        )
    return rows


def portfolio_csv(at, lkmms, *, summary=False):
    """The CSV text: comma separated, a header row always, no BOM."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if summary:
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerows(summary_rows(at, lkmms))
    else:
        writer.writerow(PORTFOLIO_COLUMNS)
        writer.writerows(portfolio_rows(at, lkmms))
    return out.getvalue()


# --- the whole book -------------------------------------------------------------------------------------


def _rate(value):
    return f"{Decimal(value).normalize():f}"


def book_tables(lkmm):
    """{sheet: (header, rows)} of the LKMM in the import format, and a list of what the format cannot
    hold (vouchers other than capital received and reserve allocations)."""
    skipped = []
    loans = list(
        Loan.objects.filter(lkmm=lkmm, status__in=DISBURSED_STATUSES)
        .select_related("member", "restructured_from")
        .order_by("number")
    )
    borrowers = {loan.member_id for loan in loans}
    members = list(
        Member.objects.filter(lkmm=lkmm)
        .filter(status__in=[MemberStatus.AKTIF, MemberStatus.KELUAR, MemberStatus.DIBLOKIR])
        .select_related("business_type")
        .order_by("number")
    )
    members += list(Member.objects.filter(pk__in=borrowers).exclude(pk__in=[m.pk for m in members]))
    left = {}
    for change in MemberStatusChange.objects.filter(member__lkmm=lkmm, to_status=MemberStatus.KELUAR):
        left[change.member_id] = timezone.localtime(change.at).date()
    groups = {}
    for gm in (
        GroupMembership.objects.filter(member__lkmm=lkmm).select_related("group").order_by("joined_on", "id")
    ):
        if gm.left_on is None or gm.member_id not in groups:
            groups[gm.member_id] = gm.group.name
    member_rows = []
    for m in members:
        status = (
            m.status
            if m.status in (MemberStatus.AKTIF, MemberStatus.KELUAR, MemberStatus.DIBLOKIR)
            else "aktif"
        )
        member_rows.append(
            {
                "nik": m.nik,
                "full_name": m.full_name,
                "gender": m.gender,
                "birth_date": m.birth_date,
                "joined_on": m.joined_on,
                "kk_number": m.kk_number,
                "address": m.address,
                "dusun": m.dusun,
                "rt": m.rt,
                "rw": m.rw,
                "desa": m.desa,
                "kecamatan": m.kecamatan,
                "phone": m.phone,
                "business_type": m.business_type.name if m.business_type else "",
                "monthly_income": m.net_income_at_admission,
                "dtsen": 1 if m.dtsen_listed else 0,
                "dtsen_decile": m.dtsen_decile,
                "group": groups.get(m.pk, ""),
                "status": status,
                "left_on": left.get(m.pk, m.joined_on) if status == "keluar" else None,
            }
        )
    first_due = dict(Installment.objects.filter(loan__lkmm=lkmm, seq=1).values_list("loan_id", "due_date"))
    loan_rows = [
        {
            "loan_ref": loan.ref,
            "nik": loan.member.nik,
            "principal": loan.principal,
            "interest_method": loan.interest_method,
            "monthly_rate_pct": _rate(loan.rate_per_month),
            "frequency": loan.frequency,
            "installments": loan.installment_count,
            "disbursed_on": loan.disbursed_on,
            "first_due_on": first_due.get(loan.pk),
            "admin_fee": loan.admin_fee,
            "late_fee": loan.late_fee,
            "rounding_unit": loan.rounding_unit,
            "waive_interest_on_payoff": 1 if loan.waive_interest_on_payoff else 0,
        }
        for loan in loans
    ]
    refs = {loan.pk: loan.ref for loan in loans}
    repayment_rows = [
        {
            "loan_ref": refs[r.loan_id],
            "paid_on": r.paid_on,
            "amount": r.amount,
            "paid_by_nik": r.paid_by.nik if r.paid_by_id else "",
            "reversed_on": r.reversed_on,
            "reversal_reason": r.reversal_reason,
        }
        for r in Repayment.objects.filter(loan__in=refs)
        .select_related("paid_by")
        .order_by("paid_on", "receipt_no")
    ]
    event_rows = []
    by_loan = {loan.pk: loan for loan in loans}
    fee_waivers = (
        Waiver.objects.filter(loan__in=refs, late_fee__gt=0, interest=0)
        .values_list("loan_id", "on", "reason")
        .distinct()
        .order_by("on", "loan_id")
    )
    for loan_id, on, reason in fee_waivers:
        if by_loan[loan_id].transferred_on == on:
            continue  # waived by the restructure itself
        event_rows.append({"loan_ref": refs[loan_id], "on": on, "kind": "late_fee_waiver", "reason": reason})
    from risk.models import Recovery

    reasons = {
        (c.loan_id, c.to_status): c.reason
        for c in LoanStatusChange.objects.filter(
            loan__in=refs, to_status__in=["dihapusbukukan", "direstrukturisasi"]
        )
    }
    for loan in loans:
        if loan.written_off_on:
            event_rows.append(
                {
                    "loan_ref": loan.ref,
                    "on": loan.written_off_on,
                    "kind": "write_off",
                    "reason": reasons.get((loan.pk, "dihapusbukukan"), ""),
                }
            )
        if loan.transferred_on:
            new = Loan.objects.get(restructured_from=loan)
            event_rows.append(
                {
                    "loan_ref": loan.ref,
                    "on": loan.transferred_on,
                    "kind": "restructure",
                    "new_loan_ref": new.ref,
                    "reason": reasons.get((loan.pk, "direstrukturisasi"), ""),
                }
            )
    for recovery in Recovery.objects.filter(loan__in=refs).order_by("received_on", "id"):
        event_rows.append(
            {
                "loan_ref": refs[recovery.loan_id],
                "on": recovery.received_on,
                "kind": "recovery",
                "amount": recovery.amount,
                "reason": recovery.note,
            }
        )
    event_rows.sort(key=lambda e: e["on"])
    opening_rows = []
    lines = defaultdict(list)
    # Savings entries are in the savings sheet, each with its movement.
    for line in (
        JournalLine.objects.filter(entry__lkmm=lkmm, entry__loan__isnull=True)
        .exclude(entry__kind=EntryKind.SAVINGS)
        .select_related("account", "entry")
    ):
        lines[line.entry].append(line)
    for entry, entry_lines in sorted(lines.items(), key=lambda kv: (kv[0].date, kv[0].number)):
        debit = {line.account.code for line in entry_lines if line.debit}
        credit = {line.account.code for line in entry_lines if line.credit}
        amount = sum(line.debit for line in entry_lines)
        account = None
        if debit == {AccountCode.KAS} and credit == {AccountCode.MODAL_HIBAH}:
            account = "modal_hibah"
        elif debit == {AccountCode.KAS} and credit == {AccountCode.DANA_BERGULIR}:
            account = "dana_bergulir"
        elif debit == {AccountCode.BANK} and credit == {AccountCode.MODAL_HIBAH}:
            account = "bank"
        elif debit == {AccountCode.BEBAN_PENYISIHAN} and credit == {AccountCode.CADANGAN}:
            account = "cadangan_risiko"
        if account is None:
            skipped.append(f"J-{entry.number:05d} {entry.date:%Y-%m-%d} {entry.memo}")
            continue
        opening_rows.append({"on": entry.date, "account": account, "amount": amount})
    tables = {}
    for sheet, rows in (
        ("members", member_rows),
        ("loans", loan_rows),
        ("repayments", repayment_rows),
        ("events", event_rows),
        ("opening", opening_rows),
        ("savings", savings_rows(lkmm)),
    ):
        required, optional, _needed = SHEETS[sheet]
        header = [*required, *optional]
        tables[sheet] = (header, [[row.get(column) for column in header] for row in rows])
    return tables, skipped


def savings_rows(lkmm):
    """Every savings movement of the LKMM's members, with its reversal if any: by date, deposits before
    withdrawals within a day (the order the import records them in), then by kuitansi."""
    from savings.models import MovementKind, SavingsMovement

    movements = SavingsMovement.objects.filter(lkmm=lkmm).select_related("account__member")
    return [
        {
            "nik": m.account.member.nik,
            "type": m.account.kind,
            "on": m.on,
            "amount": m.amount,
            "kind": m.kind,
            "reversed_on": m.reversed_on,
            "reversal_reason": m.reversal_reason if m.reversed_on else "",
        }
        for m in sorted(movements, key=lambda m: (m.on, m.kind != MovementKind.DEPOSIT, m.receipt_no))
    ]


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_book(tables, path):
    """An .xlsx workbook when `path` ends in .xlsx, else a folder of CSV files."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        workbook.remove(workbook.active)
        for sheet, (header, rows) in tables.items():
            ws = workbook.create_sheet(sheet)
            ws.append(header)
            for row in rows:
                ws.append(["" if v is None else v for v in row])
            for column_cells in ws.iter_cols(min_row=2):
                for cell in column_cells:
                    if isinstance(cell.value, datetime.date):
                        cell.number_format = "yyyy-mm-dd"
        workbook.save(path)
        return
    path.mkdir(parents=True, exist_ok=True)
    for sheet, (header, rows) in tables.items():
        with (path / f"{sheet}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows([_csv_value(v) for v in row] for row in rows)
