import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import decider_required, recorder_required, staff_required
from institutions.forms import add_service_errors
from institutions.models import Dinas, Lkmm
from ledger import selectors, services
from ledger.forms import CapitalSourceForm, CashBookForm, TrialBalanceForm, VoucherForm
from ledger.models import Account, AccountCode, CapitalKind, CapitalSource, EntryKind, JournalEntry
from ledger.statements import MONTH, period_containing, statements_for
from lkmm.db_routers import reads_replica


def _lkmm_for(request, code):
    return get_object_or_404(Lkmm.objects.for_user(request.user), code=code)


@staff_required
@reads_replica
def trial_balance(request, code):
    """Neraca saldo at a date: each account's debit and credit totals and balance, and the latest entries."""
    lkmm = _lkmm_for(request, code)
    form = TrialBalanceForm(request.GET or None)
    at = (form.is_valid() and form.cleaned_data["at"]) or timezone.localdate()
    accounts = selectors.trial_balance(lkmm=lkmm, at=at)
    entries = (
        JournalEntry.objects.filter(lkmm=lkmm, date__lte=at)
        .prefetch_related("lines__account")
        .order_by("-number")[:30]
    )
    return render(
        request,
        "ledger/trial_balance.html",
        {
            "lkmm": lkmm,
            "form": form,
            "at": at,
            "accounts": accounts,
            "debit_sum": sum(a.debit_total for a in accounts),
            "credit_sum": sum(a.credit_total for a in accounts),
            "entries": entries,
            "may_record": _may_record(request, lkmm),
        },
    )


def _may_record(request, lkmm):
    staff = request.user.staff
    return staff.records and staff.lkmm_id == lkmm.pk


@staff_required
@reads_replica
def cash_book(request, code):
    """Buku kas (or, with ?account=1102, buku bank) over a date range, this month by default."""
    lkmm = _lkmm_for(request, code)
    today = timezone.localdate()
    form = CashBookForm(request.GET or None)
    account, start, end = AccountCode.KAS, today.replace(day=1), today
    if form.is_valid():
        account = form.cleaned_data["account"] or account
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or max(end, start)
    book = selectors.cash_book(lkmm=lkmm, code=account, start=start, end=end)
    return render(
        request,
        "ledger/cash_book.html",
        {"lkmm": lkmm, "form": form, "book": book, "may_record": _may_record(request, lkmm)},
    )


@recorder_required
def voucher_create(request, code):
    """Bukti kas masuk, kas keluar or pemindahbukuan (?kind=cash_in|cash_out|transfer)."""
    lkmm = _lkmm_for(request, code)
    kind = request.GET.get("kind", EntryKind.CASH_IN)
    if kind not in services.VOUCHER_ACCOUNTS:
        raise Http404
    accounts = {account.code: account for account in Account.objects.filter(lkmm=lkmm)}
    initial = {"token": uuid.uuid4()}
    if kind == EntryKind.TRANSFER and request.GET.get("setor") == "1":
        # "Setor ke bank" from the home page's cash-limit warning: kas above the Dinas's limit, to the bank.
        limit = Dinas.objects.only("cash_limit").get(pk=lkmm.dinas_id).cash_limit
        kas = selectors.cash_balance(lkmm=lkmm, code=AccountCode.KAS, at=timezone.localdate())
        if kas > limit:
            initial |= {"amount": kas - limit, "memo": _("Setor kelebihan kas ke bank")}
    form = VoucherForm(request.POST or None, kind=kind, accounts=accounts, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.voucher_post(lkmm=lkmm, actor=request.user, kind=kind, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(kind)s %(code)s dicatat.") % {"kind": entry.get_kind_display(), "code": entry.code},
            )
            return redirect("ledger:entry_detail", code=lkmm.code, number=entry.number)
    today = timezone.localdate()
    return render(
        request,
        "ledger/voucher_form.html",
        {
            "lkmm": lkmm,
            "form": form,
            "kind": kind,
            "may_record": True,
            "kinds": [(value, EntryKind(value).label) for value in services.VOUCHER_ACCOUNTS],
            "today": today,
            "balances": [
                (accounts[code], selectors.cash_balance(lkmm=lkmm, code=code, at=today))
                for code in services.CASH_ACCOUNTS
                if code in accounts
            ],
        },
    )


@staff_required
@reads_replica
def entry_detail(request, code, number):
    """One journal entry, printable: for a voucher, its bukti kas."""
    lkmm = _lkmm_for(request, code)
    entry = get_object_or_404(
        JournalEntry.objects.filter(lkmm=lkmm).select_related("created_by", "loan"), number=number
    )
    lines = list(entry.lines.select_related("account").order_by("-debit", "pk"))
    return render(
        request,
        "ledger/entry_detail.html",
        {
            "lkmm": lkmm,
            "entry": entry,
            "lines": lines,
            "amount": sum(line.debit for line in lines),
            "is_voucher": entry.kind in services.VOUCHER_ACCOUNTS,
        },
    )


def _may_decide(request, lkmm):
    staff = request.user.staff
    return staff.approves and staff.lkmm_id == lkmm.pk


@staff_required
@reads_replica
def capital_list(request, code):
    """Sumber modal: the capital put into the LKMM (grants, revolving funds, bank loans), with totals."""
    lkmm = _lkmm_for(request, code)
    sources = list(
        CapitalSource.objects.filter(lkmm=lkmm).select_related("entry").order_by("-received_on", "-pk")
    )
    totals = {kind: sum(s.amount for s in sources if s.kind == kind) for kind in CapitalKind.values}
    return render(
        request,
        "ledger/capital_list.html",
        {
            "lkmm": lkmm,
            "sources": sources,
            "by_kind": [(label, totals[kind]) for kind, label in CapitalKind.choices],
            "total": sum(totals.values()),
            "owed_back": sum(s.owed_back for s in sources),
            # What the capital has become: today's equity, as the neraca shows it.
            "equity": statements_for(
                Lkmm.objects.filter(pk=lkmm.pk), period_containing(MONTH, timezone.localdate())
            )
            .neraca.sections[2]
            .current,
            "may_decide": _may_decide(request, lkmm),
            "may_record": _may_record(request, lkmm),
        },
    )


@decider_required
def capital_create(request, code):
    """The ketua (or an approver) records capital received; the service posts its journal entry."""
    lkmm = _lkmm_for(request, code)
    if request.user.staff.lkmm_id != lkmm.pk:
        raise Http404
    form = CapitalSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.capital_source_record(lkmm=lkmm, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(kind)s dari %(source)s dicatat (%(entry)s).")
                % {
                    "kind": source.get_kind_display(),
                    "source": source.source_name,
                    "entry": source.entry.code,
                },
            )
            return redirect("ledger:capital_list", code=lkmm.code)
    return render(request, "ledger/capital_form.html", {"lkmm": lkmm, "form": form, "may_record": True})
