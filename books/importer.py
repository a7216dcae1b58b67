"""Bringing a book in (issue 10): validate every row into a Plan, then apply the plan in one transaction.

Validation reads nothing but the book and the target LKMM, and collects every problem (errors apart from
warnings) as `sheet:row:column: message`. It replays each loan through the allocation engine, so that
payments beyond the payoff amount, restructures without their new loan and the like are refused before
anything is written. Applying (books.recorder) then records the history through the loan services; any
refusal there still rolls everything back and is reported against its row.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from books import formats as fmt
from books.formats import Bad, Problem
from institutions.models import ROUNDING_UNITS
from ledger.models import PeriodClose
from loans import allocation as engine
from loans import schedule
from loans.services import _position
from members.nik import check_nik

METHODS = ("flat", "annuity", "declining")
FREQUENCIES = ("daily", "weekly", "monthly")
EVENT_KINDS = ("late_fee_waiver", "write_off", "recovery", "restructure")
OPENING_ACCOUNTS = ("kas", "bank", "modal_hibah", "dana_bergulir", "cadangan_risiko")
MEMBER_STATUSES = ("aktif", "keluar", "diblokir")
SAVINGS_TYPES = ("pokok", "wajib", "sukarela")
SAVINGS_KINDS = ("setor", "tarik")
OPENING_NOTE = "Saldo pembayaran awal (impor)"


@dataclass
class Plan:
    lkmm: object
    today: datetime.date
    problems: list = field(default_factory=list)
    members: list = field(default_factory=list)  # dicts, in file order
    loans: dict = field(default_factory=dict)  # loan_ref -> dict
    repayments: list = field(default_factory=list)
    events: list = field(default_factory=list)
    openings: list = field(default_factory=list)
    savings: list = field(default_factory=list)  # dicts, in file order (see savings_timeline)
    new_business_types: list = field(default_factory=list)
    new_groups: list = field(default_factory=list)
    modal_awal: tuple | None = None  # (date, amount)
    outstanding: dict = field(default_factory=dict)  # loan_ref -> outstanding principal today

    @property
    def errors(self):
        return [p for p in self.problems if not p.warning]

    @property
    def warnings(self):
        return [p for p in self.problems if p.warning]

    @property
    def ok(self):
        return not self.errors

    def summary(self):
        loans = [loan for loan in self.loans.values() if loan is not None]
        return {
            "members": len(self.members),
            "loans": len(loans),
            "repayments": len(self.repayments) + sum(1 for loan in loans if loan["paid_amount"]),
            "events": len(self.events),
            "openings": len(self.openings),
            "savings": len(self.savings),
            "savings_total": sum(
                s["amount"] if s["kind"] == "setor" else -s["amount"]
                for s in self.savings
                if s["reversed_on"] is None
            ),
            "principal": sum(loan["principal"] for loan in loans),
            "paid": sum(r["amount"] for r in self.repayments) + sum(loan["paid_amount"] for loan in loans),
            "outstanding": sum(self.outstanding.values()),
            "loans_outstanding": sum(1 for v in self.outstanding.values() if v > 0),
        }


class _Rows:
    """Reads typed values from one row, collecting problems instead of raising."""

    def __init__(self, plan, cells):
        self.plan, self.cells, self.bad = plan, cells, False

    def problem(self, column, message, warning=False):
        self.plan.problems.append(Problem(self.cells.sheet, self.cells.number, column, message, warning))
        if not warning:
            self.bad = True

    def get(self, column, parse=fmt.text, required=True, default=None):
        raw = self.cells.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.problem(column, _("Wajib diisi."))
            return default
        try:
            return parse(raw)
        except Bad as exc:
            self.problem(column, str(exc))
            return default

    def positive(self, column, required=True):
        value = self.get(column, fmt.amount, required=required)
        if value is not None and value <= 0:
            self.problem(column, _("Harus lebih dari nol."))
            return None
        return value

    def not_negative(self, column):
        value = self.get(column, fmt.amount, required=False, default=0)
        if value is not None and value < 0:
            self.problem(column, _("Tidak boleh negatif."))
            return 0
        return value

    def past_date(self, column, required=True):
        value = self.get(column, fmt.date, required=required)
        if value is None:
            return None
        if value > self.plan.today:
            self.problem(column, _("Tanggal tidak boleh di masa depan."))
            return None
        if value.year < 1970:
            self.problem(column, _("Tanggal terlalu lama."))
            return None
        if value.replace(day=1) in self.plan.closed_months:
            self.problem(
                column, _("Bulan %(m)s sudah ditutup (tutup buku).") % {"m": value.strftime("%m/%Y")}
            )
            return None
        return value

    def choice(self, column, choices, required=True, default=None):
        value = self.get(column, required=required, default=default)
        if value is None:
            return default
        value = value.lower()
        if value not in choices:
            self.problem(column, _("Pilih salah satu: %(c)s.") % {"c": ", ".join(choices)})
            return None
        return value


def validate(book, *, lkmm, today=None):
    """Every problem of `book` (a formats.Book) for import into `lkmm`, and what would be created."""
    from loans.models import Loan
    from members.models import BusinessType, Group, Member

    plan = Plan(lkmm=lkmm, today=today or timezone.localdate())
    plan.problems.extend(book.problems)
    plan.closed_months = set(
        PeriodClose.objects.filter(lkmm=lkmm, reopened_at__isnull=True).values_list("month", flat=True)
    )
    existing_niks = set(Member.objects.filter(lkmm=lkmm).values_list("nik", flat=True))
    # A loan's reference in export_portfolio is its imported loan_ref, else its code (P-00001): an
    # imported reference may be neither, so the references stay unique within the LKMM.
    existing_refs = set(
        Loan.objects.filter(lkmm=lkmm).exclude(loan_ref="").values_list("loan_ref", flat=True)
    ) | {f"P-{number:05d}" for number in Loan.objects.filter(lkmm=lkmm).values_list("number", flat=True)}
    business_types = {name.lower(): name for name in BusinessType.objects.values_list("name", flat=True)}
    groups = set(Group.objects.filter(lkmm=lkmm).values_list("name", flat=True))

    niks = {}
    for cells in book.sheets["members"]:
        row = _Rows(plan, cells)
        nik = row.get("nik")
        name = row.get("full_name")
        gender = row.choice("gender", ("l", "p"))
        birth = row.get("birth_date", fmt.date)
        joined = row.past_date("joined_on")
        if nik is not None:
            problems = check_nik(nik, birth_date=birth, gender=gender.upper() if gender else None)
            for column, message in problems.items():
                row.problem(column, message)
            if nik in niks:
                row.problem("nik", _("NIK ini sudah ada di baris %(n)d.") % {"n": niks[nik]["row"]})
            elif nik in existing_niks:
                row.problem("nik", _("NIK ini sudah anggota LKMM ini."))
        status = row.choice("status", MEMBER_STATUSES, required=False, default="aktif")
        left_on = row.past_date("left_on", required=False)
        if status == "keluar" and left_on is None:
            row.problem("left_on", _("Anggota yang keluar perlu tanggal keluar."))
        business = row.get("business_type", required=False, default="")
        if business and business.lower() not in business_types:
            business_types[business.lower()] = business
            plan.new_business_types.append(business)
        group = row.get("group", required=False, default="")
        if group and group not in groups:
            groups.add(group)
            plan.new_groups.append(group)
        dtsen = row.get("dtsen", fmt.flag, required=False, default=False)
        decile = row.get("dtsen_decile", fmt.whole, required=False)
        if decile is not None and (not dtsen or not 1 <= decile <= 10):
            row.problem("dtsen_decile", _("Desil DTSEN 1 sampai 10, hanya bila terdaftar di DTSEN."))
        for column in ("rt", "rw"):
            value = row.get(column, required=False, default="")
            if value and (not value.isdigit() or len(value) > 3):
                row.problem(column, _("Tulis 3 angka, misalnya 004."))
        kk = row.get("kk_number", required=False, default="")
        if kk and (len(kk) != 16 or not kk.isdigit()):
            row.problem("kk_number", _("Nomor KK harus 16 angka."))
        if row.bad or nik in niks:
            continue
        niks[nik] = {
            "row": cells.number,
            "nik": nik,
            "full_name": name,
            "gender": gender.upper(),
            "birth_date": birth,
            "joined_on": joined,
            "status": status,
            "left_on": left_on,
            "business_type": business_types.get(business.lower(), "") if business else "",
            "group": group,
            "dtsen": dtsen,
            "dtsen_decile": decile,
            "monthly_income": row.get("monthly_income", fmt.amount, required=False),
            **{
                column: row.get(column, required=False, default="")
                for column in ("kk_number", "address", "dusun", "rt", "rw", "desa", "kecamatan", "phone")
            },
        }
        plan.members.append(niks[nik])
    _warn_elsewhere(plan, lkmm)

    for cells in book.sheets["loans"]:
        _loan_row(plan, cells, niks, existing_refs, existing_niks)
    for cells in book.sheets["repayments"]:
        _repayment_row(plan, cells, niks)
    for cells in book.sheets["events"]:
        _event_row(plan, cells)
    for cells in book.sheets["opening"]:
        row = _Rows(plan, cells)
        on = row.past_date("on")
        account = row.choice("account", OPENING_ACCOUNTS)
        amount = row.positive("amount")
        if not row.bad:
            plan.openings.append({"row": cells.number, "on": on, "account": account, "amount": amount})
    _savings(plan, book.sheets["savings"], niks)
    if plan.ok:
        _replay(plan)
    if plan.ok:
        _cash(plan)
    return plan


def _warn_elsewhere(plan, lkmm):
    from members.models import Member
    from members.selectors import CURRENT_STATUSES

    niks = {m["nik"]: m for m in plan.members}
    others = (
        Member.objects.filter(nik__in=list(niks), status__in=CURRENT_STATUSES)
        .exclude(lkmm=lkmm)
        .values_list("nik", "lkmm__name")
    )
    for nik, name in others:
        plan.problems.append(
            Problem(
                "members",
                niks[nik]["row"],
                "nik",
                _("NIK ini juga anggota %(lkmm)s.") % {"lkmm": name},
                warning=True,
            )
        )


def _loan_row(plan, cells, niks, existing_refs, existing_niks):
    row = _Rows(plan, cells)
    ref = row.get("loan_ref")
    if ref is not None:
        if len(ref) > 40:
            row.problem("loan_ref", _("Paling panjang 40 huruf."))
        elif ref in plan.loans:
            row.problem(
                "loan_ref", _("loan_ref ini sudah ada di baris %(n)d.") % {"n": plan.loans[ref]["row"]}
            )
        elif ref in existing_refs:
            row.problem("loan_ref", _("loan_ref ini sudah ada di LKMM ini."))
    nik = row.get("nik")
    if nik is not None and nik not in niks:
        row.problem("nik", _("NIK ini tidak ada di lembar members."))
    principal = row.positive("principal")
    method = row.choice("interest_method", METHODS)
    rate = row.get("monthly_rate_pct", fmt.rate)
    if rate is not None and not Decimal(0) <= rate <= Decimal(10):
        row.problem("monthly_rate_pct", _("Bunga per bulan 0 sampai 10%."))
    elif rate is not None and rate != rate.quantize(Decimal("0.01")):
        row.problem("monthly_rate_pct", _("Paling banyak dua angka di belakang koma."))
    frequency = row.choice("frequency", FREQUENCIES)
    count = row.get("installments", fmt.whole)
    if count is not None and not 1 <= count <= 120:
        row.problem("installments", _("Jumlah angsuran 1 sampai 120."))
    disbursed = row.past_date("disbursed_on")
    first_due = row.get("first_due_on", fmt.date, required=False)
    if first_due is not None and disbursed is not None and first_due <= disbursed:
        row.problem("first_due_on", _("Jatuh tempo pertama harus sesudah tanggal pencairan."))
    admin_fee = row.not_negative("admin_fee")
    if admin_fee and principal and admin_fee >= principal:
        row.problem("admin_fee", _("Biaya administrasi harus lebih kecil dari pokok."))
    late_fee = row.not_negative("late_fee")
    unit = row.get("rounding_unit", fmt.whole, required=False, default=plan.lkmm.default_rounding_unit)
    if unit not in dict(ROUNDING_UNITS):
        row.problem("rounding_unit", _("Satuan pembulatan 1, 100, 500, 1000 atau 5000."))
    waive = row.get("waive_interest_on_payoff", fmt.flag, required=False, default=False)
    paid_until = row.past_date("paid_until", required=False)
    paid_amount = row.get("paid_amount", fmt.amount, required=False)
    if (paid_until is None) != (paid_amount is None) and not row.bad:
        row.problem("paid_amount", _("paid_until dan paid_amount diisi berdua."))
    if paid_amount is not None and paid_amount <= 0:
        row.problem("paid_amount", _("Harus lebih dari nol."))
    if paid_until is not None and disbursed is not None and paid_until < disbursed:
        row.problem("paid_until", _("Tanggal bayar tidak boleh sebelum pencairan."))
    if row.bad:
        if ref is not None:
            plan.loans.setdefault(ref, None)
        return
    first_due = first_due or schedule.first_due_after(disbursed, frequency)
    terms = {
        "principal": principal,
        "rate_per_month": rate,
        "count": count,
        "frequency": frequency,
        "method": method,
        "rounding_unit": unit,
    }
    try:
        lines = schedule.build_schedule(first_due=first_due, **terms)
    except schedule.ScheduleError as exc:
        row.problem("principal", str(exc))
        plan.loans.setdefault(ref, None)
        return
    plan.loans[ref] = {
        "row": cells.number,
        "ref": ref,
        "nik": nik,
        "principal": principal,
        "interest_method": method,
        "rate": rate,
        "frequency": frequency,
        "installments": count,
        "disbursed_on": disbursed,
        "first_due_on": first_due,
        "admin_fee": admin_fee,
        "late_fee": late_fee,
        "rounding_unit": unit,
        "waive": waive,
        "paid_until": paid_until,
        "paid_amount": paid_amount or 0,
        "schedule": lines,
        "restructured_from": None,
    }


def _repayment_row(plan, cells, niks):
    row = _Rows(plan, cells)
    ref = row.get("loan_ref")
    if ref is not None and ref not in plan.loans:
        row.problem("loan_ref", _("loan_ref ini tidak ada di lembar loans."))
    paid_on = row.past_date("paid_on")
    amount = row.positive("amount")
    payer = row.get("paid_by_nik", required=False, default="")
    if payer and payer not in niks:
        row.problem("paid_by_nik", _("NIK ini tidak ada di lembar members."))
    reversed_on = row.past_date("reversed_on", required=False)
    reason = row.get("reversal_reason", required=False, default="")
    if reversed_on is not None and paid_on is not None and reversed_on < paid_on:
        row.problem("reversed_on", _("Tanggal pembatalan tidak boleh sebelum tanggal bayar."))
    if reason and reversed_on is None:
        row.problem("reversed_on", _("Alasan pembatalan tanpa tanggal pembatalan."))
    loan = plan.loans.get(ref)
    if loan is not None and paid_on is not None and paid_on < loan["disbursed_on"]:
        row.problem(
            "paid_on",
            _("Tanggal bayar tidak boleh sebelum pencairan (%(d)s).") % {"d": _d(loan["disbursed_on"])},
        )
    if row.bad or loan is None:
        return
    plan.repayments.append(
        {
            "row": cells.number,
            "ref": ref,
            "paid_on": paid_on,
            "amount": amount,
            "paid_by_nik": payer,
            "reversed_on": reversed_on,
            "reason": reason[:200] or _("Dibatalkan (impor)"),
        }
    )


def _event_row(plan, cells):
    row = _Rows(plan, cells)
    ref = row.get("loan_ref")
    if ref is not None and ref not in plan.loans:
        row.problem("loan_ref", _("loan_ref ini tidak ada di lembar loans."))
    on = row.past_date("on")
    kind = row.choice("kind", EVENT_KINDS)
    amount = None
    if kind == "recovery":
        amount = row.positive("amount")
    new_ref = row.get("new_loan_ref", required=False, default="")
    if kind == "restructure":
        if not new_ref:
            row.problem("new_loan_ref", _("Restrukturisasi perlu pinjaman barunya (new_loan_ref)."))
        elif new_ref not in plan.loans:
            row.problem("new_loan_ref", _("Pinjaman baru ini tidak ada di lembar loans."))
        elif plan.loans[new_ref] is not None and on is not None and plan.loans[new_ref]["disbursed_on"] != on:
            row.problem("new_loan_ref", _("Pinjaman baru harus dicairkan pada tanggal restrukturisasi."))
    reason = row.get("reason", required=False, default="") or _("Impor buku")
    if row.bad or plan.loans.get(ref) is None:
        return
    plan.events.append(
        {
            "row": cells.number,
            "ref": ref,
            "on": on,
            "kind": kind,
            "amount": amount,
            "new_ref": new_ref,
            "reason": reason[:200],
        }
    )
    if kind == "restructure" and plan.loans.get(new_ref) is not None:
        new = plan.loans[new_ref]
        if new["restructured_from"] is not None:
            row.problem("new_loan_ref", _("Pinjaman baru ini sudah hasil restrukturisasi lain."))
        new["restructured_from"] = ref


def _d(date):
    return date.strftime("%d/%m/%Y")


# --- savings ----------------------------------------------------------------------------------------------


def _savings(plan, rows, niks):
    """Check the savings sheet: each row on its own, then each account's end-of-day balance in date order
    (a reversal counts from its date), which may never go below zero."""
    valid = []
    for cells in rows:
        row = _Rows(plan, cells)
        nik = row.get("nik")
        if nik is not None and nik not in niks:
            row.problem("nik", _("NIK ini tidak ada di lembar members."))
        kind_of_savings = row.choice("type", SAVINGS_TYPES)
        on = row.past_date("on")
        amount = row.positive("amount")
        kind = row.choice("kind", SAVINGS_KINDS)
        member = niks.get(nik)
        if member is not None and on is not None and on < member["joined_on"]:
            row.problem(
                "on",
                _("Tanggal tidak boleh sebelum anggota masuk (%(d)s).") % {"d": _d(member["joined_on"])},
            )
        reversed_on = row.past_date("reversed_on", required=False)
        reason = row.get("reversal_reason", required=False, default="")
        if reversed_on is not None and on is not None and reversed_on < on:
            row.problem("reversed_on", _("Tanggal pembatalan tidak boleh sebelum tanggal mutasi."))
        if reason and reversed_on is None:
            row.problem("reversed_on", _("Alasan pembatalan tanpa tanggal pembatalan."))
        if row.bad:
            continue
        valid.append(
            {
                "row": cells.number,
                "nik": nik,
                "type": kind_of_savings,
                "on": on,
                "amount": amount,
                "kind": kind,
                "reversed_on": reversed_on,
                "reason": reason[:200] or _("Dibatalkan (impor)"),
            }
        )
    accounts = defaultdict(list)
    for item in valid:
        accounts[item["nik"], item["type"]].append(item)
    for items in accounts.values():
        changes = defaultdict(int)
        for item in items:
            signed = item["amount"] if item["kind"] == "setor" else -item["amount"]
            changes[item["on"]] += signed
            if item["reversed_on"] is not None:
                changes[item["reversed_on"]] -= signed
        balance, below = 0, None
        for day in sorted(changes):
            balance += changes[day]
            if balance < 0:
                below = day
                break
        if below is None:
            continue
        # Name the row that takes the balance below zero: a withdrawal that day, else the reversal of a
        # deposit that day.
        culprit = next(
            (i for i in items if i["on"] == below and i["kind"] == "tarik"),
            next((i for i in items if i["reversed_on"] == below), items[0]),
        )
        column = "amount" if culprit["on"] == below and culprit["kind"] == "tarik" else "reversed_on"
        plan.problems.append(
            Problem(
                "savings",
                culprit["row"],
                column,
                _("Saldo simpanan %(type)s menjadi kurang dari nol pada %(d)s (%(balance)s).")
                % {"type": culprit["type"], "d": _d(below), "balance": balance},
            )
        )
    plan.savings = valid


def savings_timeline(plan):
    """The savings rows and their reversals in the order they are recorded: by date; within a day the
    deposits, the reversals of earlier withdrawals, the withdrawals, then the other reversals; then the
    sheet's order. So each withdrawal sees the day's deposits, as the end-of-day balances checked above
    do. Items: (date, order, row, "move" or "reverse", row dict)."""
    items = []
    for item in plan.savings:
        items.append((item["on"], 0 if item["kind"] == "setor" else 2, item["row"], "move", item))
        if item["reversed_on"] is not None:
            early = item["kind"] == "tarik" and item["reversed_on"] > item["on"]
            items.append((item["reversed_on"], 1 if early else 3, item["row"], "reverse", item))
    items.sort(key=lambda i: i[:3])
    return items


# --- replay ---------------------------------------------------------------------------------------------

# Within one day: payments, then waivers, reversals, the moves of principal, recoveries.
ORDER_OF = {"pay": 0, "late_fee_waiver": 1, "reverse": 2, "write_off": 3, "restructure": 3, "recovery": 4}


def timeline(plan):
    """Each loan's dated items in the order they are recorded: {ref: [(date, order, n, kind, item)]}."""
    items = defaultdict(list)
    n = 0
    for loan in plan.loans.values():
        if loan["paid_amount"]:
            opening = {
                "row": loan["row"],
                "ref": loan["ref"],
                "paid_on": loan["paid_until"],
                "amount": loan["paid_amount"],
                "paid_by_nik": "",
                "reversed_on": None,
                "opening": True,
                "sheet": "loans",
            }
            items[loan["ref"]].append((loan["paid_until"], 0, -1, "pay", opening))
    for n, r in enumerate(plan.repayments):
        r.setdefault("sheet", "repayments")
        items[r["ref"]].append((r["paid_on"], 0, n, "pay", r))
        if r["reversed_on"] is not None:
            items[r["ref"]].append((r["reversed_on"], 2, n, "reverse", r))
    for n, e in enumerate(plan.events):
        items[e["ref"]].append((e["on"], ORDER_OF[e["kind"]], n, e["kind"], e))
    for ref in items:
        items[ref].sort(key=lambda item: item[:3])
    return items


def _replay(plan):
    """Run each loan's history through the allocation engine as the services would, and refuse what
    they would refuse (a payment beyond the payoff, events in the wrong state)."""
    items = timeline(plan)
    restructured = {}
    # Restructured loans come after the loan they came from.
    order = sorted(plan.loans.values(), key=lambda loan: loan["restructured_from"] is not None)
    for loan in order:
        if loan["restructured_from"] is not None and loan["ref"] not in restructured:
            new_event = next(e for e in plan.events if e["new_ref"] == loan["ref"])
            plan.problems.append(
                Problem(
                    "events",
                    new_event["row"],
                    "new_loan_ref",
                    _("Pinjaman asalnya tidak dapat direstrukturisasi."),
                )
            )
            continue
        if loan["ref"] in restructured and restructured[loan["ref"]] != loan["principal"]:
            plan.problems.append(
                Problem(
                    "loans",
                    loan["row"],
                    "principal",
                    _(
                        "Pokok pinjaman hasil restrukturisasi harus sama dengan sisa pokok yang "
                        "dipindahkan, %(p)s."
                    )
                    % {"p": restructured[loan["ref"]]},
                )
            )
            continue
        _replay_loan(plan, loan, items.get(loan["ref"], []), restructured)


def _problem(plan, item, column, message):
    plan.problems.append(Problem(item.get("sheet", "events"), item["row"], column, message))


def _replay_loan(plan, loan, items, restructured):
    installments = [
        engine.Inst(line.seq, line.due_date, line.principal, line.interest) for line in loan["schedule"]
    ]
    late_fee = loan["late_fee"] if loan["restructured_from"] is None else loan["late_fee"]
    payments, waivers = [], []
    status, written_off, recovered = "aktif", 0, 0
    number = 0

    def counting(at):
        return [
            engine.Pay(p["n"], p["paid_on"], p["n"], p["amount"])
            for p in payments
            if p["paid_on"] <= at and (p["reversed_on"] is None or p["reversed_on"] > at)
        ]

    def states_at(at):
        return engine.allocate(installments, counting(at), late_fee=late_fee, waivers=waivers).states

    states = {i.id: engine.State() for i in installments}
    clean = True  # no reversal or waiver yet: states carry forward
    for date, _order, _n, kind, item in items:
        if kind == "pay":
            if status != "aktif":
                _problem(
                    plan,
                    item,
                    "loan_ref" if item.get("sheet") != "loans" else "paid_amount",
                    _("Pembayaran untuk pinjaman yang sudah %(s)s.") % {"s": status},
                )
                return
            if clean and not loan["waive"]:
                # The usual payment: allocated forward from the states so far; money beyond what is
                # owed at its date (the payoff) is the service's refusal.
                result = engine.allocate(
                    installments,
                    [engine.Pay(number + 1, date, number + 1, item["amount"])],
                    late_fee=late_fee,
                    waivers=waivers,
                    states=states,
                )
                if result.excess:
                    settle = item["amount"] - sum(result.excess.values())
                    _problem(
                        plan,
                        item,
                        "amount" if item.get("sheet") != "loans" else "paid_amount",
                        _("Melebihi sisa pinjaman. Untuk melunasi, bayar %(p)s.") % {"p": settle},
                    )
                    return
                number += 1
                item["_payment"] = {
                    "n": number,
                    "paid_on": date,
                    "amount": item["amount"],
                    "reversed_on": None,
                }
                payments.append(item["_payment"])
                states = result.states
                last = installments[-1].id if installments else None
                if (
                    last is not None
                    and states[last].completed_on is not None
                    and not any(_owing(inst, states[inst.id], late_fee, waivers) for inst in installments)
                ):
                    status = "lunas"
                continue
            if not clean:
                states = states_at(date)
            position = _position(
                installments=installments,
                states=states,
                waivers=waivers,
                late_fee=late_fee,
                waive_interest_on_payoff=loan["waive"],
                at=date,
            )
            settle = position["early_payoff"] if loan["waive"] else position["payoff"]
            if item["amount"] > settle:
                _problem(
                    plan,
                    item,
                    "amount" if item.get("sheet") != "loans" else "paid_amount",
                    _("Melebihi sisa pinjaman. Untuk melunasi, bayar %(p)s.") % {"p": settle},
                )
                return
            number += 1
            payment = {
                "n": number,
                "paid_on": date,
                "amount": item["amount"],
                "reversed_on": None,
                "item": item,
            }
            item["_payment"] = payment
            payments.append(payment)
            if loan["waive"] and item["amount"] == settle and settle < position["payoff"]:
                waivers.extend(
                    engine.Waiver(inst_id, date, interest, 0)
                    for inst_id, interest in position["waivable_interest"].items()
                )
                clean = False
            if clean:
                result = engine.allocate(
                    installments,
                    [engine.Pay(number, date, number, item["amount"])],
                    late_fee=late_fee,
                    waivers=waivers,
                    states=states,
                )
                states = result.states
            else:
                states = states_at(date)
            if not any(_owing(inst, states[inst.id], late_fee, waivers) for inst in installments):
                status = "lunas"
        elif kind == "reverse":
            payment = item.get("_payment")
            if payment is None:
                return
            if status not in ("aktif", "lunas"):
                _problem(
                    plan,
                    item,
                    "reversed_on",
                    _("Pinjaman ini sudah %(s)s; pembayarannya tidak dapat dibatalkan.") % {"s": status},
                )
                return
            payment["reversed_on"] = date
            clean = False
            states = states_at(date)
            status = (
                "lunas"
                if not any(_owing(i, states[i.id], late_fee, waivers) for i in installments)
                else "aktif"
            )
        elif kind == "late_fee_waiver":
            if status != "aktif":
                _problem(plan, item, "kind", _("Denda hanya dibebaskan pada pinjaman aktif."))
                return
            states = states_at(date) if not clean else states
            fees = {
                inst.id: engine.owed(inst, states[inst.id], at=date, late_fee=late_fee, waivers=waivers)[0]
                for inst in installments
            }
            if not any(fees.values()):
                _problem(plan, item, "kind", _("Tidak ada denda yang terutang pada tanggal ini."))
                return
            waivers.extend(engine.Waiver(i, date, 0, fee) for i, fee in fees.items() if fee)
            clean = False
            states = states_at(date)
        elif kind in ("write_off", "restructure"):
            if status != "aktif":
                _problem(
                    plan,
                    item,
                    "kind",
                    _("Hanya pinjaman aktif yang dapat dihapusbukukan atau direstrukturisasi."),
                )
                return
            states = states_at(date) if not clean else states
            outstanding = loan["principal"] - sum(s.principal for s in states.values())
            if kind == "write_off":
                status, written_off = "dihapusbukukan", outstanding
            else:
                status = "direstrukturisasi"
                restructured[item["new_ref"]] = outstanding
        elif kind == "recovery":
            if status != "dihapusbukukan" or recovered + item["amount"] > written_off:
                _problem(
                    plan,
                    item,
                    "amount",
                    _(
                        "Pemulihan hanya untuk pinjaman yang dihapusbukukan, sampai pokok yang "
                        "dihapusbukukan."
                    ),
                )
                return
            recovered += item["amount"]
    if status in ("aktif", "lunas"):
        final = states_at(datetime.date.max) if not clean else states
        plan.outstanding[loan["ref"]] = loan["principal"] - sum(s.principal for s in final.values())
    else:
        plan.outstanding[loan["ref"]] = 0


def _owing(inst, state, late_fee, waivers=()):
    """Whether the installment stays open (loans.standing.installment_values): principal and interest
    not settled, or a late fee charged and neither paid nor waived."""
    if state.completed_on is None:
        return True
    charged = late_fee if state.completed_on > inst.due_date else 0
    waived = sum(w.late_fee for w in waivers if w.installment_id == inst.id)
    return state.late_fee + waived < charged


def _cash(plan):
    """The kas balance day by day; where it would go below zero, an opening capital (modal awal) for the
    shortfall the day before the first event."""
    from ledger.selectors import cash_balance

    moves = defaultdict(int)
    for o in plan.openings:
        if o["account"] in ("kas", "modal_hibah", "dana_bergulir"):
            moves[o["on"]] += o["amount"]
    for loan in plan.loans.values():
        if loan["restructured_from"] is None:
            moves[loan["disbursed_on"]] -= loan["principal"] - loan["admin_fee"]
        if loan["paid_amount"]:
            moves[loan["paid_until"]] += loan["paid_amount"]
    for r in plan.repayments:
        moves[r["paid_on"]] += r["amount"]
        if r["reversed_on"]:
            moves[r["reversed_on"]] -= r["amount"]
    for e in plan.events:
        if e["kind"] == "recovery":
            moves[e["on"]] += e["amount"]
    for s in plan.savings:
        signed = s["amount"] if s["kind"] == "setor" else -s["amount"]
        moves[s["on"]] += signed
        if s["reversed_on"]:
            moves[s["reversed_on"]] -= signed
    if not moves:
        return
    balance = cash_balance(lkmm=plan.lkmm, code="1101", at=plan.today)
    lowest = balance
    for day in sorted(moves):
        balance += moves[day]
        lowest = min(lowest, balance)
    if lowest < 0:
        plan.modal_awal = (min(moves) - datetime.timedelta(days=1), -lowest)
