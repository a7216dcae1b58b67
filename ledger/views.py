from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from institutions.access import staff_required
from institutions.models import Lkmm
from ledger.models import Account, JournalEntry, JournalLine


@staff_required
def trial_balance(request, code):
    """Neraca saldo: each account's debit and credit totals and balance, and the latest entries."""
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    totals = {row["account_id"]: row for row in JournalLine.objects.balance_by_account(lkmm=lkmm)}
    accounts = list(Account.objects.filter(lkmm=lkmm))
    for account in accounts:
        row = totals.get(account.pk, {"debit_total": 0, "credit_total": 0})
        account.debit_total, account.credit_total = row["debit_total"], row["credit_total"]
        signed = account.debit_total - account.credit_total
        account.balance = signed if account.debit_normal else -signed
    entries = (
        JournalEntry.objects.filter(lkmm=lkmm).prefetch_related("lines__account").order_by("-number")[:30]
    )
    return render(
        request,
        "ledger/trial_balance.html",
        {
            "lkmm": lkmm,
            "accounts": accounts,
            "debit_sum": sum(a.debit_total for a in accounts),
            "credit_sum": sum(a.credit_total for a in accounts),
            "entries": entries,
            "today": timezone.localdate(),
        },
    )
