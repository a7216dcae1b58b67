"""The collection sheet (lembar tagihan) of a group meeting or of a date range, and its one-form recording.

Anyone on the staff may see and print a sheet; only a recorder of the sheet's LKMM may post it. The
sheet has one row per member: each active loan's installment paid, the wajib and sukarela deposited. It
posts to its own address; after saving, the same address with ?kuitansi=<repayment ids>&setoran=<savings
movement ids> lists the receipts, one per member.
"""

import copy
import datetime
import re
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.access import staff_required
from institutions.forms import DateField, Form, RupiahField
from institutions.models import Lkmm
from institutions.security import form_data
from institutions.templatetags.lkmm_format import format_rupiah
from loans import receipts as receipts_text
from loans.collection import (
    MAX_PERIOD_DAYS,
    collection_record,
    collection_rows,
    sheet_date,
)
from loans.models import Loan, Repayment
from members.models import Group, Member
from savings.models import SavingsKind, SavingsMovement

WEEK = datetime.timedelta(days=6)


class PeriodForm(Form):
    start = DateField(label=gettext_lazy("Dari"), required=False, future=True)
    end = DateField(label=gettext_lazy("Sampai"), required=False, future=True)
    lkmm = forms.ChoiceField(label=gettext_lazy("LKMM"), required=False)

    def __init__(self, *args, lkmms=None, **kwargs):
        """`lkmms`: the LKMMs a Dinas reviewer may pick; None where the sheet's LKMM is fixed."""
        super().__init__(*args, **kwargs)
        if lkmms is None:
            del self.fields["lkmm"]
        else:
            self.fields["lkmm"].choices = [("", _("Pilih LKMM")), *((x.code, x.name) for x in lkmms)]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("Tanggal akhir tidak boleh sebelum tanggal awal."))
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error(
                    "end", _("Satu lembar tagihan paling lama %(n)d hari.") % {"n": MAX_PERIOD_DAYS}
                )
        return data

    def period(self, default_start):
        """(start, end): what the reader asked for, else a week from `default_start`."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start = data.get("start") or default_start
        return start, data.get("end") or start + WEEK


class AmountFields:
    """The sheet's amount inputs, one per loan and two per saving member: each a shallow copy of one
    RupiahField with its own label and widget attributes. Building each anew (its validators, error
    messages and a deep copy of its widget) cost a 700-member sheet about 40 ms."""

    def __init__(self):
        self.prototype = RupiahField(
            required=False,
            min_value=1,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        )

    def __call__(self, label):
        field = copy.copy(self.prototype)
        field.label = label
        field.widget = copy.copy(self.prototype.widget)
        field.widget.attrs = {**self.prototype.widget.attrs, "aria-label": label}
        return field


class CollectionForm(Form):
    """Per member row: one amount per active loan, the wajib and the sukarela deposited (each left empty
    when nothing was paid), and one date for them all."""

    paid_on = DateField(label=gettext_lazy("Tanggal bayar"))
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        amount_field = AmountFields()
        self.loan_fields = {}
        self.savings_fields = {}  # (kind, member id) -> field name
        for row in rows:
            name = row.member.full_name
            for line in row.lines:
                field = f"amount_{line.loan.pk}"
                self.fields[field] = amount_field(
                    _("Dibayar %(member)s (%(loan)s)") % {"member": name, "loan": line.loan.code}
                )
                self.loan_fields[line.loan.pk] = field
                line.field = self[field]
            row.savings_fields = {}
            if row.saves:
                for kind, label in (
                    (SavingsKind.WAJIB, _("Wajib disetor %(member)s")),
                    (SavingsKind.SUKARELA, _("Sukarela disetor %(member)s")),
                ):
                    field = f"{kind}_{row.member.pk}"
                    self.fields[field] = amount_field(label % {"member": name})
                    self.savings_fields[kind, row.member.pk] = field
                    row.savings_fields[kind] = self[field]
            row.wajib_field = row.savings_fields.get(SavingsKind.WAJIB)
            row.sukarela_field = row.savings_fields.get(SavingsKind.SUKARELA)
            row.inputs = [line.field for line in row.lines] + list(row.savings_fields.values())

    def clean(self):
        data = super().clean()
        if not self.errors and not self.amounts() and not self.savings():
            raise ValidationError(
                _("Isi jumlah yang dibayar atau disetor, paling sedikit untuk satu pinjaman atau simpanan.")
            )
        return data

    def amounts(self):
        return {
            loan_id: self.cleaned_data[name]
            for loan_id, name in self.loan_fields.items()
            if self.cleaned_data.get(name)
        }

    def savings(self):
        """{member id: {kind: amount}} of the deposits typed."""
        result = {}
        for (kind, member_id), name in self.savings_fields.items():
            if self.cleaned_data.get(name):
                result.setdefault(member_id, {})[kind] = self.cleaned_data[name]
        return result

    def add_line_errors(self, exc):
        """collection_record's errors, keyed by loan id or (kind, member id), next to each amount."""
        for key, errors in exc.error_dict.items():
            field = self.savings_fields.get(key) if isinstance(key, tuple) else self.loan_fields.get(key)
            self.add_error(field, errors)


def _may_record(request, lkmm):
    staff = request.user.staff
    return staff.records and staff.lkmm_id == lkmm.pk


def _ids(request, key):
    # ASCII digits of an id that fits the column (a longer one would overflow the query on PostgreSQL).
    return [int(part) for part in request.GET.get(key, "").split(",") if re.fullmatch(r"[0-9]{1,18}", part)]


class Receipt:
    """One kuitansi of a sheet save: a member's installments and deposits under one number."""

    def __init__(self, receipt_no, member, on):
        self.receipt_no, self.member, self.on = receipt_no, member, on
        self.repayments, self.movements = [], []

    @property
    def receipt_code(self):
        return f"K-{self.receipt_no:06d}"

    @property
    def installments(self):
        return sum(r.amount for r in self.repayments)

    def deposit(self, kind):
        return sum(m.amount for m in self.movements if m.account.kind == kind)

    @property
    def wajib(self):
        return self.deposit(SavingsKind.WAJIB)

    @property
    def sukarela(self):
        return self.deposit(SavingsKind.SUKARELA)

    @property
    def amount(self):
        return self.installments + sum(m.amount for m in self.movements)

    @property
    def url(self):
        if self.repayments:
            return reverse("loans:receipt", args=[self.repayments[0].pk])
        return reverse("savings:receipt", args=[self.movements[0].pk])


def _summary(request, *, lkmm, group):
    repayments = list(
        Repayment.objects.for_user(request.user)
        .filter(lkmm=lkmm, pk__in=_ids(request, "kuitansi"))
        .select_related("loan__member")
        .order_by("receipt_no", "loan__number")
    )
    movements = list(
        SavingsMovement.objects.for_user(request.user)
        .filter(lkmm=lkmm, pk__in=_ids(request, "setoran"))
        .select_related("account__member")
        .order_by("receipt_no", "account__kind")
    )
    by_number = {}
    for repayment in repayments:
        by_number.setdefault(
            repayment.receipt_no, Receipt(repayment.receipt_no, repayment.loan.member, repayment.paid_on)
        ).repayments.append(repayment)
    for movement in movements:
        by_number.setdefault(
            movement.receipt_no, Receipt(movement.receipt_no, movement.account.member, movement.on)
        ).movements.append(movement)
    kuitansi = [by_number[n] for n in sorted(by_number)]
    query = request.GET.copy()
    query.pop("kuitansi")
    query.pop("setoran", None)
    total = sum(r.amount for r in kuitansi)
    leader = group.leader if group is not None else None
    whatsapp = None
    if kuitansi and leader is not None and leader.whatsapp_consent and leader.phone:
        text = receipts_text.collection_text(lkmm=lkmm, group=group, receipts=kuitansi, total=total)
        whatsapp = receipts_text.whatsapp_url(leader.phone, text)
    return render(
        request,
        "loans/collection_done.html",
        {
            "lkmm": lkmm,
            "group": group,
            "receipts": repayments,
            "kuitansi": kuitansi,
            "total": total,
            "totals": {
                "installments": sum(r.installments for r in kuitansi),
                "wajib": sum(r.wajib for r in kuitansi),
                "sukarela": sum(r.sukarela for r in kuitansi),
            },
            "leader": leader,
            "whatsapp": whatsapp,
            "sheet_url": f"{request.path}?{query.urlencode()}" if query else request.path,
        },
    )


def _sheet(request, *, lkmm, group, loans, members, period_form, start, end, context=None):
    may_record = lkmm is not None and _may_record(request, lkmm)
    if request.method == "POST" and not may_record:
        raise PermissionDenied
    if request.method != "POST" and "kuitansi" in request.GET and lkmm is not None:
        return _summary(request, lkmm=lkmm, group=group)
    rows = (
        collection_rows(lkmm=lkmm, loans=loans, members=members, start=start, end=end)
        if lkmm is not None
        else []
    )
    lines = [line for row in rows for line in row.lines]
    form = None
    if request.method == "POST":
        form = CollectionForm(request.POST, rows=rows)
        if form.is_valid():
            try:
                saved = collection_record(
                    lkmm=lkmm,
                    actor=request.user,
                    paid_on=form.cleaned_data["paid_on"],
                    amounts=form.amounts(),
                    savings=form.savings(),
                    token=form.cleaned_data["token"],
                )
            except ValidationError as exc:
                form.add_line_errors(exc)
            else:
                messages.success(
                    request,
                    _("%(n)d pembayaran dicatat, %(s)d setoran simpanan, %(k)d kuitansi, jumlah %(total)s.")
                    % {
                        "n": len(saved.repayments),
                        "s": len(saved.movements),
                        "k": saved.receipts,
                        "total": format_rupiah(saved.total),
                    },
                )
                query = request.GET.copy()
                query["kuitansi"] = ",".join(str(r.pk) for r in saved.repayments)
                if saved.movements:
                    query["setoran"] = ",".join(str(m.pk) for m in saved.movements)
                return redirect(f"{request.path}?{query.urlencode(safe=',')}")
    elif may_record:
        # What was typed at the meeting when the session had ended comes back to be saved again.
        restored = form_data(request)
        form = (
            CollectionForm(restored, rows=rows)
            if restored is not None
            else CollectionForm(rows=rows, initial={"paid_on": timezone.localdate(), "token": uuid.uuid4()})
        )
    totals = {
        key: sum(getattr(line, key) for line in lines)
        for key in ("due_in_period", "arrears", "late_fees", "amount_due", "payoff")
    }
    totals["wajib_due"] = sum(row.wajib_due for row in rows)
    totals["wajib_owed"] = sum(row.wajib_owed for row in rows)
    totals["total_due"] = totals["amount_due"] + totals["wajib_due"]
    return render(
        request,
        "loans/collection_sheet.html",
        {
            "lkmm": lkmm,
            "group": group,
            "rows": rows,
            "lines": lines,
            "totals": totals,
            "start": start,
            "end": end,
            "at": sheet_date(end=end),
            "period_form": period_form,
            "form": form,
            **(context or {}),
        },
    )


@staff_required
def collection_sheet(request):
    """The sheet of every active loan and every saving member of an LKMM over a date range (this week by
    default)."""
    staff = request.user.staff
    code = request.GET.get("lkmm")
    # Another LKMM's code is not found for its staff (Lkmm.objects.for_user); a Dinas reviewer picks one.
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code) if code else staff.lkmm
    lkmms = Lkmm.objects.for_user(request.user).filter(is_active=True) if staff.is_dinas else None
    period_form = PeriodForm(request.GET or None, lkmms=lkmms)
    start, end = period_form.period(timezone.localdate())
    return _sheet(
        request,
        lkmm=lkmm,
        group=None,
        loans=Loan.objects.filter(lkmm=lkmm),
        members=Member.objects.filter(lkmm=lkmm),
        period_form=period_form,
        start=start,
        end=end,
    )


@staff_required
def collection_group(request, group_pk):
    """The sheet of a group's meeting: its current members' active loans and savings, for the week from
    the meeting (the next meeting day by default), with links to the meetings before and after."""
    group = get_object_or_404(
        Group.objects.for_user(request.user).select_related("lkmm", "leader"), pk=group_pk
    )
    today = timezone.localdate()
    next_meeting = today + datetime.timedelta(days=(group.meeting_day - today.weekday()) % 7)
    period_form = PeriodForm(request.GET or None)
    start, end = period_form.period(next_meeting)
    week = datetime.timedelta(days=7)
    return _sheet(
        request,
        lkmm=group.lkmm,
        group=group,
        loans=Loan.objects.filter(lkmm=group.lkmm, member__in=Member.objects.in_group(group)),
        members=Member.objects.in_group(group),
        period_form=period_form,
        start=start,
        end=end,
        context={"previous_meeting": start - week, "next_meeting": start + week},
    )
