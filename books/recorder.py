"""Applying a validated Plan (books.importer): the whole book in one transaction.

The common history (loans disbursed and repaid forward in date order) is recorded in bulk: the rows the
services would write one event at a time (loan, status changes, schedule, payments, allocations, journal
entries, audit rows, kept standing) are built in memory with the same engine and written with a few
bulk inserts, so the cost per payment is a few objects, not a few queries. What needs the engine's
re-allocation (reversals, waivers, early payoff with interest waived) and the moves of principal
(write-off, restructure, recovery) go through the loan services themselves, in date order per loan,
after the bulk part; any refusal there rolls the whole import back and names its row.
"""

import contextlib
import itertools

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from books.formats import Problem
from books.importer import OPENING_NOTE, savings_timeline, timeline
from institutions.access import recording_history
from institutions.models import AuditLog, Lkmm
from institutions.services import audit_record
from ledger.models import Account, AccountCode, EntryKind, JournalEntry, JournalLine
from ledger.services import (
    account_balances_refresh,
    cash_days_deferred,
    cash_days_refresh,
    chart_ensure,
    entry_post,
    month_figures_forget,
    next_receipt_no,
)
from loans import allocation as engine
from loans import services as loan_services
from loans import standing
from loans.models import (
    Allocation,
    FeeMode,
    Installment,
    Loan,
    LoanProduct,
    LoanStatus,
    LoanStatusChange,
    Repayment,
)
from members.models import BusinessType, Group, GroupMembership, Member, MemberStatus, MemberStatusChange
from savings import services as savings_services
from savings.models import MovementKind, SavingsAccount, SavingsKind

OPENING_ACCOUNTS = {
    "kas": (AccountCode.KAS, AccountCode.MODAL_HIBAH),
    "bank": (AccountCode.BANK, AccountCode.MODAL_HIBAH),
    "modal_hibah": (AccountCode.KAS, AccountCode.MODAL_HIBAH),
    "dana_bergulir": (AccountCode.KAS, AccountCode.DANA_BERGULIR),
    "cadangan_risiko": (AccountCode.BEBAN_PENYISIHAN, AccountCode.CADANGAN),
}
BATCH = 2000


class ApplyError(Exception):
    def __init__(self, problem):
        super().__init__(str(problem))
        self.problem = problem


def _books(text):
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(text)


def product_name(loan):
    method = {"flat": "Flat", "annuity": "Anuitas", "declining": "Menurun"}[loan["interest_method"]]
    frequency = {"daily": "harian", "weekly": "mingguan", "monthly": "bulanan"}[loan["frequency"]]
    rate = f"{loan['rate'].normalize():f}".replace(".", ",")
    name = f"Impor {method} {rate}% {frequency} {loan['installments']}x bulat {loan['rounding_unit']}"
    if loan["late_fee"]:
        name += f" denda {loan['late_fee']}"
    if loan["waive"]:
        name += " lunas-cepat"
    return name[:80]


def _settles_early(insts, states, loan, amount, date):
    """Whether the payment settles the loan early with the interest not yet due waived (that takes the
    service: it records the waiver)."""
    position = loan_services._position(
        installments=insts,
        states=states,
        waivers=[],
        late_fee=loan.late_fee,
        waive_interest_on_payoff=True,
        at=date,
    )
    return amount == position["early_payoff"] < position["payoff"]


def _loan_lines(cash, moved):
    """loans.services._post_loan_entry's lines: kas by `cash`; receivable, interest and late-fee income
    by what the event moved."""

    def side(code, debit_amount):
        return (code, max(debit_amount, 0), max(-debit_amount, 0))

    principal, interest, fees = moved
    return [
        side(AccountCode.KAS, cash),
        side(AccountCode.PIUTANG, -principal),
        side(AccountCode.PENDAPATAN_BUNGA, -interest),
        side(AccountCode.PENDAPATAN_DENDA, -fees),
    ]


def apply(plan, *, actor):
    """Record `plan` (valid) into its LKMM. Returns the counts created. Raises ApplyError naming the row
    a service refused; nothing is saved then."""
    user = actor.pk if actor is not None and actor.is_authenticated else None
    # Only PostgreSQL has the history triggers (and pghistory's context works only there).
    context = (
        pghistory.context(import_book=plan.lkmm.code, user=user)
        if connection.vendor == "postgresql"
        else contextlib.nullcontext()
    )
    with transaction.atomic(), recording_history(), context:
        _quiet_history_triggers()
        return _Recorder(plan, actor).run()


def _quiet_history_triggers():
    """The history triggers (audit/models.py) read two settings in plpgsql blocks that catch the error
    of a missing setting; each caught error aborts a subtransaction, and a transaction with tens of
    thousands of aborted subtransactions makes every later insert slower (2,000 journal lines: 0.4 s at
    first, 3.4 s after 24,000). Giving both settings a value for this transaction keeps the triggers
    (and the history they write) as they are, at a constant cost per row: pghistory.context sets the
    context; an empty ignore list is set here."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


class _Recorder:
    def __init__(self, plan, actor):
        self.plan, self.actor = plan, actor
        self.actor_or_none = actor if actor is not None and actor.is_authenticated else None
        self.lkmm = Lkmm.objects.select_for_update().get(pk=plan.lkmm.pk)
        self.entries = []  # (date, order, JournalEntry, lines, audit?) of the bulk part
        self.audits = []

    def run(self):
        plan, lkmm = self.plan, self.lkmm
        chart_ensure(lkmm=lkmm)
        self.accounts = {a.code: a for a in Account.objects.filter(lkmm=lkmm)}
        if plan.modal_awal:
            on, amount = plan.modal_awal
            self._opening(on, AccountCode.KAS, AccountCode.MODAL_HIBAH, amount, _books("Modal awal (impor)"))
        for o in plan.openings:
            debit, credit = OPENING_ACCOUNTS[o["account"]]
            self._opening(
                o["on"], debit, credit, o["amount"], _books("Saldo awal %(a)s (impor)") % {"a": o["account"]}
            )
        self.members = self._members()
        self.products = self._products()
        items = timeline(plan)
        self._loans(items)
        self._flush()
        self._later(items)
        with cash_days_deferred(lkmm=lkmm):  # years of savings, member by member: out of date order
            self._savings()
        dates = [loan["disbursed_on"] for loan in plan.loans.values()] + [o["on"] for o in plan.openings]
        earliest = min(dates, default=None)
        if earliest:
            month_figures_forget(lkmm=lkmm, date=earliest)
        return plan.summary()

    # --- opening, members, products -------------------------------------------------------------------

    def _opening(self, on, debit, credit, amount, memo):
        kind = EntryKind.PROVISION if credit == AccountCode.CADANGAN else EntryKind.OPENING
        entry = entry_post(
            lkmm=self.lkmm,
            date=on,
            memo=memo,
            kind=kind,
            actor=self.actor,
            lines=[(debit, amount, 0), (credit, 0, amount)],
        )
        audit_record(
            actor=self.actor, action="book.opening", obj=entry, lkmm=self.lkmm, data={"amount": amount}
        )

    def _members(self):
        plan, lkmm = self.plan, self.lkmm
        for name in plan.new_business_types:
            BusinessType.objects.get_or_create(name=name[:60])
        types = {t.name: t for t in BusinessType.objects.all()}
        number = (Member.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0) + 1
        members = []
        for n, row in enumerate(plan.members):
            business = types.get(row["business_type"])
            member = Member(
                lkmm=lkmm,
                number=number + n,
                nik=row["nik"],
                full_name=row["full_name"][:120],
                gender=row["gender"],
                birth_date=row["birth_date"],
                joined_on=row["joined_on"],
                kk_number=row["kk_number"],
                address=row["address"][:200],
                dusun=row["dusun"][:80],
                rt=row["rt"].zfill(3) if row["rt"] else "",
                rw=row["rw"].zfill(3) if row["rw"] else "",
                desa=(row["desa"] or lkmm.desa)[:80],
                kecamatan=(row["kecamatan"] or lkmm.kecamatan)[:80],
                kabupaten=lkmm.kabupaten,
                phone=row["phone"][:16],
                business_type=business,
                business=(row["business_type"] or _books("impor"))[:200],
                net_income_at_admission=row["monthly_income"],
                dtsen_listed=row["dtsen"],
                dtsen_decile=row["dtsen_decile"],
                status=row["status"],
                created_by=self.actor_or_none,
            )
            members.append(member)
        Member.objects.bulk_create(members, batch_size=BATCH)
        changes, audits = [], []
        for member in members:
            changes.append(
                MemberStatusChange(
                    member=member,
                    from_status="",
                    to_status=MemberStatus.AKTIF,
                    by=self.actor_or_none,
                    reason=_books("Impor buku"),
                )
            )
            if member.status != MemberStatus.AKTIF:
                changes.append(
                    MemberStatusChange(
                        member=member,
                        from_status=MemberStatus.AKTIF,
                        to_status=member.status,
                        by=self.actor_or_none,
                        reason=_books("Impor buku"),
                    )
                )
            audits.append(self._audit("member.import", member))
        MemberStatusChange.objects.bulk_create(changes, batch_size=BATCH)
        AuditLog.objects.bulk_create(audits, batch_size=BATCH)
        groups = {g.name: g for g in Group.objects.filter(lkmm=lkmm)}
        for name in plan.new_groups:
            groups[name] = Group.objects.create(
                lkmm=lkmm, name=name[:80], meeting_day=0, meeting_place=lkmm.desa
            )
            self.audits.append(self._audit("group.create", groups[name]))
        GroupMembership.objects.bulk_create(
            [
                GroupMembership(
                    group=groups[row["group"]],
                    member=member,
                    joined_on=row["joined_on"],
                    left_on=row["left_on"] if member.status != MemberStatus.AKTIF else None,
                )
                for member, row in zip(members, plan.members, strict=True)
                if row["group"]
            ],
            batch_size=BATCH,
        )
        # Every member has the three savings accounts from joining (savings.services.accounts_open).
        SavingsAccount.objects.bulk_create(
            [
                SavingsAccount(lkmm=lkmm, member=member, kind=kind, opened_on=member.joined_on)
                for member in members
                for kind in SavingsKind
            ],
            batch_size=BATCH,
        )
        found = {m.nik: m for m in Member.objects.filter(lkmm=lkmm)}
        return found

    def _products(self):
        products = {p.name: p for p in LoanProduct.objects.filter(lkmm=self.lkmm)}
        amounts = {}
        for loan in self.plan.loans.values():
            amounts.setdefault(product_name(loan), []).append(loan["principal"])
        for loan in self.plan.loans.values():
            name = product_name(loan)
            if name not in products:
                product = LoanProduct(
                    lkmm=self.lkmm,
                    name=name,
                    interest_method=loan["interest_method"],
                    frequency=loan["frequency"],
                    rate_per_month=loan["rate"],
                    installment_count=loan["installments"],
                    rounding_unit=loan["rounding_unit"],
                    min_amount=min(amounts[name]),
                    max_amount=max(amounts[name]),
                    late_fee=loan["late_fee"],
                    waive_interest_on_payoff=loan["waive"],
                )
                product.save()
                self.audits.append(self._audit("product.create", product))
                products[name] = product
        return products

    def _audit(self, action, obj, reason="", data=None):
        return AuditLog(
            actor=self.actor_or_none,
            lkmm=self.lkmm,
            action=action,
            object_type=obj._meta.label_lower,
            object_id=obj.pk,
            reason=reason,
            data=data or {},
        )

    # --- loans and their forward payments, in bulk ---------------------------------------------------

    def _loans(self, items):
        """Every loan not made by restructuring, disbursed and followed through its payments and their
        reversals in memory, then written with bulk inserts (no row is written twice)."""
        plan, lkmm = self.plan, self.lkmm
        number = (Loan.objects.filter(lkmm=lkmm).aggregate(n=Max("number"))["n"] or 0) + 1
        self.loan_objects, loans = {}, []
        for row in plan.loans.values():
            if row["restructured_from"] is not None:
                continue
            loan = Loan(
                lkmm=lkmm,
                number=number,
                member=self.members[row["nik"]],
                product=self.products[product_name(row)],
                principal=row["principal"],
                purpose="impor",
                loan_ref=row["ref"],
                applied_on=row["disbursed_on"],
                disbursed_on=row["disbursed_on"],
                status=LoanStatus.AKTIF,
                created_by=self.actor_or_none,
                interest_method=row["interest_method"],
                frequency=row["frequency"],
                rate_per_month=row["rate"],
                installment_count=row["installments"],
                rounding_unit=row["rounding_unit"],
                admin_fee=row["admin_fee"],
                admin_fee_mode=FeeMode.DEDUCTED,
                late_fee=row["late_fee"],
                waive_interest_on_payoff=row["waive"],
            )
            loan.rows = [
                Installment(
                    loan=loan,
                    seq=line.seq,
                    due_date=line.due_date,
                    principal=line.principal,
                    interest=line.interest,
                )
                for line in row["schedule"]
            ]
            loan.transitions = [
                (loan.disbursed_on, "diajukan", "disetujui", ""),
                (loan.disbursed_on, "disetujui", "aktif", ""),
            ]
            number += 1
            loans.append(loan)
            self.loan_objects[row["ref"]] = loan
        self.later = {}
        actions = []
        for loan in loans:
            actions.extend(self._forward(loan, items.get(loan.loan_ref, [])))
        Loan.objects.bulk_create(loans, batch_size=BATCH)
        Installment.objects.bulk_create(
            itertools.chain.from_iterable(loan.rows for loan in loans), batch_size=BATCH
        )
        changes = []
        for loan in loans:
            for on, from_status, to_status, reason in loan.transitions:
                changes.append(
                    LoanStatusChange(
                        loan=loan,
                        from_status=from_status,
                        to_status=to_status,
                        on=on,
                        by=self.actor_or_none,
                        reason=reason,
                    )
                )
                if from_status == "diajukan":
                    self.audits.append(self._audit("loan.apply", loan, data={"principal": loan.principal}))
                self.audits.append(
                    self._audit(
                        f"loan.{to_status}",
                        loan,
                        reason=reason,
                        data={"from": from_status, "to": to_status, "on": on.isoformat()},
                    )
                )
            fee = loan.admin_fee
            self._entry(
                loan.disbursed_on,
                0,
                EntryKind.DISBURSEMENT,
                loan,
                loan,
                self.memos["disburse"] % {"loan": loan.code, "member": loan.member.full_name},
                [
                    (AccountCode.PIUTANG, loan.principal, 0),
                    (AccountCode.KAS, 0, loan.principal - fee),
                    (AccountCode.PENDAPATAN_ADMINISTRASI, 0, fee),
                ],
            )
        LoanStatusChange.objects.bulk_create(changes, batch_size=BATCH)
        # Receipt numbers follow the payments' dates, as the kuitansi book would.
        payments = sorted((a[1] for a in actions if a[0] == "pay"), key=lambda r: (r.paid_on, r.loan.number))
        receipt = next_receipt_no(lkmm=lkmm)  # the one kuitansi sequence, shared with savings
        for repayment in payments:
            repayment.receipt_no = receipt
            receipt += 1
        Repayment.objects.bulk_create(payments, batch_size=BATCH)
        allocations = []
        for action in actions:
            kind, repayment, rows, moved = action
            loan = repayment.loan
            names = {"loan": loan.code, "member": loan.member.full_name, "receipt": repayment.receipt_code}
            allocations.extend(rows)
            if kind == "pay":
                self._entry(
                    repayment.paid_on,
                    1,
                    EntryKind.REPAYMENT,
                    loan,
                    repayment,
                    self.memos["pay"] % names,
                    _loan_lines(repayment.amount, moved),
                )
                self.audits.append(
                    self._audit(
                        "repayment.record",
                        repayment,
                        data={
                            "loan": loan.pk,
                            "amount": repayment.amount,
                            "paid_on": repayment.paid_on.isoformat(),
                            "paid_by": repayment.paid_by_id,
                        },
                    )
                )
            else:
                on = repayment.reversed_on
                self._entry(
                    on,
                    2,
                    EntryKind.REVERSAL,
                    loan,
                    repayment,
                    self.memos["reverse"] % names,
                    _loan_lines(-repayment.amount, moved),
                )
                self.audits.append(
                    self._audit(
                        "repayment.reverse",
                        repayment,
                        reason=repayment.reversal_reason,
                        data={"on": on.isoformat()},
                    )
                )
        for allocation in allocations:
            allocation.repayment_id = allocation.repayment.pk
            allocation.installment_id = allocation.installment.pk
        Allocation.objects.bulk_create(allocations, batch_size=BATCH)

    @property
    def memos(self):
        if not hasattr(self, "_memos"):
            self._memos = {
                "disburse": _books("Pencairan %(loan)s %(member)s"),
                "pay": _books("Angsuran %(loan)s %(member)s, %(receipt)s"),
                "reverse": _books("Pembatalan %(receipt)s %(loan)s %(member)s"),
            }
        return self._memos

    def _forward(self, loan, items):
        """The loan's payments and reversals up to its first item that needs a service, as the services
        would record them one by one (loans.standing: forward allocation, and a reversal closing the
        allocation rows it changes and appending their new version), in memory. Sets the loan's and
        its installments' kept columns and status. Returns [(kind, Repayment, [Allocation], moved)]
        where `moved` is what the event's entry moves: (principal, interest, late fees) received."""
        insts = [engine.Inst(n, i.due_date, i.principal, i.interest) for n, i in enumerate(loan.rows)]
        states = {n: engine.State() for n in range(len(insts))}
        actions, recorded, rows = [], [], []
        booked = (0, 0, 0)  # principal, interest, late fees credited in the books so far
        last = loan.disbursed_on
        for index, (date, _order, _n, kind, item) in enumerate(items):
            if kind == "pay":
                if loan.status != LoanStatus.AKTIF or (
                    loan.waive_interest_on_payoff
                    and _settles_early(insts, states, loan, item["amount"], date)
                ):
                    self.later[loan.loan_ref] = items[index:]
                    break
                result = engine.allocate(
                    insts, [engine.Pay(0, date, 0, item["amount"])], late_fee=loan.late_fee, states=states
                )
                if result.excess:
                    raise ApplyError(
                        Problem(
                            item.get("sheet", "repayments"),
                            item["row"],
                            "amount",
                            _("Melebihi sisa pinjaman."),
                        )
                    )
                states = result.states
                payer = self.members.get(item.get("paid_by_nik") or "")
                repayment = Repayment(
                    lkmm=self.lkmm,
                    loan=loan,
                    amount=item["amount"],
                    paid_on=date,
                    recorded_by=self.actor_or_none,
                    paid_by=payer if payer is not None and payer.pk != loan.member_id else None,
                    note=OPENING_NOTE if item.get("opening") else "",
                )
                repayment.n = len(recorded)
                item["_repayment"] = repayment
                recorded.append(repayment)
                new_rows = [
                    Allocation(
                        repayment=repayment,
                        installment=loan.rows[p.installment_id],
                        late_fee=p.late_fee,
                        interest=p.interest,
                        principal=p.principal,
                    )
                    for p in result.parts
                ]
                rows.extend(new_rows)
                moved = tuple(
                    sum(getattr(p, f) for p in result.parts) for f in ("principal", "interest", "late_fee")
                )
                booked = tuple(b + m for b, m in zip(booked, moved, strict=True))
                actions.append(("pay", repayment, new_rows, moved))
            elif kind == "reverse":
                repayment = item.get("_repayment")
                if repayment is None or loan.status not in (LoanStatus.AKTIF, LoanStatus.LUNAS):
                    self.later[loan.loan_ref] = items[index:]
                    break
                repayment.reversed_on, repayment.reversal_reason = date, item["reason"]
                repayment.reversed_by = self.actor_or_none
                repayment.reversed_at = timezone.now()
                redone = {r.n for r in recorded if r.paid_on >= repayment.paid_on}
                for row in rows:
                    if row.repayment.n in redone and (row.valid_to is None or row.valid_to > date):
                        row.valid_to = max(row.valid_from or date, date)
                counting = [
                    engine.Pay(r.n, r.paid_on, r.n, r.amount)
                    for r in recorded
                    if r.reversed_on is None or r.reversed_on > date
                ]
                result = engine.allocate(insts, counting, late_fee=loan.late_fee)
                new_rows = [
                    Allocation(
                        repayment=recorded[p.payment_id],
                        installment=loan.rows[p.installment_id],
                        late_fee=p.late_fee,
                        interest=p.interest,
                        principal=p.principal,
                        valid_from=date,
                    )
                    for p in result.parts
                    if p.payment_id in redone
                ]
                rows.extend(new_rows)
                states = result.states
                paid = tuple(
                    sum(getattr(s, f) for s in states.values()) for f in ("principal", "interest", "late_fee")
                )
                moved = tuple(p - b for p, b in zip(paid, booked, strict=True))
                booked = paid
                actions.append(("reverse", repayment, new_rows, moved))
            else:
                self.later[loan.loan_ref] = items[index:]
                break
            last = max(last, date)
            # Installments are paid oldest first: while the last one is unsettled, the loan is owing.
            owing = states[len(insts) - 1].completed_on is None or any(
                standing.installment_values(
                    loan.rows[n],
                    states[n],
                    late_fee=loan.late_fee,
                    interest_waived=0,
                    fee_waived=0,
                    moved=False,
                )["open_derived"]
                for n in range(len(insts))
            )
            if loan.status == LoanStatus.AKTIF and not owing:
                loan.transitions.append((date, "aktif", "lunas", ""))
                loan.status = LoanStatus.LUNAS
            elif loan.status == LoanStatus.LUNAS and owing:
                loan.transitions.append((date, "lunas", "aktif", _books("Pembayaran pelunasan dibatalkan.")))
                loan.status = LoanStatus.AKTIF
        for n, inst in enumerate(loan.rows):
            values = standing.installment_values(
                inst, states[n], late_fee=loan.late_fee, interest_waived=0, fee_waived=0, moved=False
            )
            for k, v in values.items():
                setattr(inst, k, v)
        unpaid = [i.due_date for i in loan.rows if i.settled_on_derived is None]
        loan.principal_outstanding_derived = loan.principal - sum(i.principal_paid_derived for i in loan.rows)
        loan.oldest_unpaid_due_derived = min(unpaid) if unpaid else None
        loan.standing_as_of_derived = last
        return actions

    def _entry(self, date, order, kind, loan, source, memo, lines):
        lines = [(code, d, c) for code, d, c in lines if d or c]
        entry = JournalEntry(
            lkmm=self.lkmm,
            kind=kind,
            loan=loan,
            date=date,
            memo=memo[:200],
            created_by=self.actor_or_none,
            source_type=source._meta.label_lower,
        )
        entry.source = source
        self.entries.append((date, order, len(self.entries), entry, lines))

    def _flush(self):
        number = (JournalEntry.objects.filter(lkmm=self.lkmm).aggregate(n=Max("number"))["n"] or 0) + 1
        self.entries.sort(key=lambda e: e[:3])
        entries = []
        for _date, _o, _n, entry, _lines in self.entries:
            entry.number, entry.source_id = number, entry.source.pk
            number += 1
            entries.append(entry)
        JournalEntry.objects.bulk_create(entries, batch_size=BATCH)
        JournalLine.objects.bulk_create(
            itertools.chain.from_iterable(
                (
                    JournalLine(entry=entry, account=self.accounts[code], debit=d, credit=c)
                    for code, d, c in lines
                )
                for _d, _o, _n, entry, lines in self.entries
            ),
            batch_size=BATCH,
        )
        # The lines above bypass entry_post's kept balances.
        account_balances_refresh(lkmm=self.lkmm)
        cash_days_refresh(lkmm=self.lkmm)
        AuditLog.objects.bulk_create(self.audits, batch_size=BATCH)
        self.entries, self.audits = [], []

    # --- the rest, through the services ---------------------------------------------------------------

    def _later(self, items):
        """Per loan in date order: the items after the bulk part, each through its service. Loans made
        by restructuring follow the loan they came from."""
        from risk import services as risk_services

        queue = sorted(self.later.items(), key=lambda kv: kv[1][0][0])
        while queue:
            ref, rest = queue.pop(0)
            for date, _order, _n, kind, item in rest:
                try:
                    self._one(ref, date, kind, item, risk_services)
                except ValidationError as exc:
                    column = {"pay": "amount", "reverse": "reversed_on"}.get(kind, "kind")
                    raise ApplyError(
                        Problem(item.get("sheet", "events"), item["row"], column, "; ".join(exc.messages))
                    ) from None
                if kind == "restructure":
                    new_ref = item["new_ref"]
                    new_items = items.get(new_ref, [])
                    if new_items:
                        queue.append((new_ref, new_items))

    def _one(self, ref, date, kind, item, risk_services):
        loan = self.loan_objects[ref]
        actor = self.actor
        if kind == "pay":
            payer = self.members.get(item.get("paid_by_nik") or "")
            repayment = loan_services.repayment_record(
                loan=loan,
                amount=item["amount"],
                paid_on=date,
                actor=actor,
                note=OPENING_NOTE if item.get("opening") else "",
                paid_by=payer if payer is not None and payer.pk != loan.member_id else None,
            )
            item["_repayment"] = repayment
        elif kind == "reverse":
            loan_services.repayment_reverse(
                repayment=item["_repayment"], actor=actor, on=date, reason=item["reason"]
            )
        elif kind == "late_fee_waiver":
            loan_services.late_fees_waive(loan=loan, actor=actor, on=date, reason=item["reason"])
        elif kind == "write_off":
            risk_services.loan_write_off(loan=loan, actor=actor, on=date, reason=item["reason"])
        elif kind == "recovery":
            risk_services.recovery_record(
                loan=loan, actor=actor, amount=item["amount"], received_on=date, note=item["reason"]
            )
        elif kind == "restructure":
            row = self.plan.loans[item["new_ref"]]
            new = loan_services.loan_restructure(
                loan=loan,
                actor=actor,
                on=date,
                product=self.products[product_name(row)],
                reason=item["reason"],
                first_due=row["first_due_on"],
            )
            new.loan_ref = row["ref"]
            new.save(update_fields=["loan_ref"])
            self.loan_objects[row["ref"]] = new

    # --- savings, through the services --------------------------------------------------------------------

    def _savings(self):
        """Each savings movement and reversal of the book through savings.services' import path (journal
        entry, kuitansi, kept balance, audit row), in the order books.importer checked them."""
        kinds = {"setor": MovementKind.DEPOSIT, "tarik": MovementKind.WITHDRAWAL}
        for _date, _order, _row, what, item in savings_timeline(self.plan):
            try:
                if what == "move":
                    item["_movement"] = savings_services.savings_movement_import(
                        member=self.members[item["nik"]],
                        kind=item["type"],
                        movement_kind=kinds[item["kind"]],
                        amount=item["amount"],
                        on=item["on"],
                        actor=self.actor,
                    )
                else:
                    savings_services.savings_reverse_import(
                        movement=item["_movement"],
                        on=item["reversed_on"],
                        reason=item["reason"],
                        actor=self.actor,
                    )
            except ValidationError as exc:
                column = "amount" if what == "move" else "reversed_on"
                raise ApplyError(Problem("savings", item["row"], column, "; ".join(exc.messages))) from None
