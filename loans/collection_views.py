"""The collection sheet (lembar tagihan) of a group meeting or of a date range, and its one-form recording.

Anyone on the staff may see and print a sheet; only a recorder of the sheet's LKMM may post it. The
sheet posts to its own address; after saving, the same address with ?kuitansi=<ids> lists the receipts.
"""

import datetime
import re
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.access import staff_required
from institutions.forms import DateField, Form, RupiahField
from institutions.models import Lkmm
from institutions.security import form_data
from institutions.templatetags.lkmm_format import format_rupiah
from loans import receipts as receipts_text
from loans.collection import MAX_PERIOD_DAYS, collection_lines, collection_record, sheet_date
from loans.models import Loan, Repayment
from members.models import Group, Member

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


class CollectionForm(Form):
    """One amount per loan on the sheet (left empty when nothing was paid) and one date for them all."""

    paid_on = DateField(label=gettext_lazy("Tanggal bayar"))
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.loan_fields = {}
        for line in lines:
            name = f"amount_{line.loan.pk}"
            self.fields[name] = RupiahField(
                label=_("Dibayar"),
                required=False,
                min_value=1,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "numeric",
                        "autocomplete": "off",
                        "aria-label": _("Dibayar %(member)s (%(loan)s)")
                        % {"member": line.loan.member.full_name, "loan": line.loan.code},
                    }
                ),
            )
            self.loan_fields[line.loan.pk] = name
            line.field = self[name]

    def clean(self):
        data = super().clean()
        if not self.errors and not self.amounts():
            raise ValidationError(_("Isi jumlah yang dibayar, paling sedikit untuk satu pinjaman."))
        return data

    def amounts(self):
        return {
            loan_id: self.cleaned_data[name]
            for loan_id, name in self.loan_fields.items()
            if self.cleaned_data.get(name)
        }

    def add_line_errors(self, exc):
        """collection_record's errors, keyed by loan id, next to each loan's amount."""
        for loan_id, errors in exc.error_dict.items():
            self.add_error(self.loan_fields.get(loan_id), errors)


def _may_record(request, lkmm):
    staff = request.user.staff
    return staff.records and staff.lkmm_id == lkmm.pk


def _receipt_ids(request):
    # ASCII digits of an id that fits the column (a longer one would overflow the query on PostgreSQL).
    return [
        int(part) for part in request.GET.get("kuitansi", "").split(",") if re.fullmatch(r"[0-9]{1,18}", part)
    ]


def _summary(request, *, lkmm, group):
    receipts = list(
        Repayment.objects.for_user(request.user)
        .filter(lkmm=lkmm, pk__in=_receipt_ids(request))
        .select_related("loan__member")
        .order_by("receipt_no")
    )
    query = request.GET.copy()
    query.pop("kuitansi")
    total = sum(r.amount for r in receipts)
    leader = group.leader if group is not None else None
    whatsapp = None
    if receipts and leader is not None and leader.whatsapp_consent and leader.phone:
        text = receipts_text.collection_text(lkmm=lkmm, group=group, receipts=receipts, total=total)
        whatsapp = receipts_text.whatsapp_url(leader.phone, text)
    return render(
        request,
        "loans/collection_done.html",
        {
            "lkmm": lkmm,
            "group": group,
            "receipts": receipts,
            "total": total,
            "leader": leader,
            "whatsapp": whatsapp,
            "sheet_url": f"{request.path}?{query.urlencode()}" if query else request.path,
        },
    )


def _sheet(request, *, lkmm, group, loans, period_form, start, end, context=None):
    may_record = lkmm is not None and _may_record(request, lkmm)
    if request.method == "POST" and not may_record:
        raise PermissionDenied
    if request.method != "POST" and "kuitansi" in request.GET and lkmm is not None:
        return _summary(request, lkmm=lkmm, group=group)
    lines = collection_lines(loans=loans, start=start, end=end) if lkmm is not None else []
    form = None
    if request.method == "POST":
        form = CollectionForm(request.POST, lines=lines)
        if form.is_valid():
            try:
                repayments = collection_record(
                    lkmm=lkmm,
                    actor=request.user,
                    paid_on=form.cleaned_data["paid_on"],
                    amounts=form.amounts(),
                    token=form.cleaned_data["token"],
                )
            except ValidationError as exc:
                form.add_line_errors(exc)
            else:
                messages.success(
                    request,
                    _("%(n)d pembayaran dicatat, jumlah %(total)s.")
                    % {"n": len(repayments), "total": format_rupiah(sum(r.amount for r in repayments))},
                )
                query = request.GET.copy()
                query["kuitansi"] = ",".join(str(r.pk) for r in repayments)
                return redirect(f"{request.path}?{query.urlencode(safe=',')}")
    elif may_record:
        # What was typed at the meeting when the session had ended comes back to be saved again.
        restored = form_data(request)
        form = (
            CollectionForm(restored, lines=lines)
            if restored is not None
            else CollectionForm(lines=lines, initial={"paid_on": timezone.localdate(), "token": uuid.uuid4()})
        )
    totals = {
        key: sum(getattr(line, key) for line in lines)
        for key in ("due_in_period", "arrears", "late_fees", "amount_due", "payoff")
    }
    return render(
        request,
        "loans/collection_sheet.html",
        {
            "lkmm": lkmm,
            "group": group,
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
    """The sheet of every active loan of an LKMM over a date range (this week by default)."""
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
        period_form=period_form,
        start=start,
        end=end,
    )


@staff_required
def collection_group(request, group_pk):
    """The sheet of a group's meeting: its current members' active loans, for the week from the meeting
    (the next meeting day by default), with links to the meetings before and after."""
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
        period_form=period_form,
        start=start,
        end=end,
        context={"previous_meeting": start - week, "next_meeting": start + week},
    )
