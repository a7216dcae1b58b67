"""Savings pages: a member's passbook (buku tabungan), deposits, withdrawals (decisions), a leaving
member's savings returned, reversals, receipts and the LKMM's savings products."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import DECIDE, decision_mode, recorder_required, staff_required
from institutions.decisions import act_or_request, announce
from institutions.forms import add_service_errors
from institutions.models import RequestKind
from institutions.security import form_data
from institutions.templatetags.lkmm_format import format_rupiah
from loans import receipts
from members.models import Member, MemberStatus
from savings import selectors, services
from savings.forms import DepositForm, ProductAmountForm, ReturnAllForm, SavingsReverseForm, WithdrawForm
from savings.models import SavingsAccount, SavingsKind, SavingsMovement


def _member_for(request, pk):
    return get_object_or_404(Member.objects.for_user(request.user).select_related("lkmm"), pk=pk)


@staff_required
def passbook(request, member_pk):
    """Every movement of each of the member's accounts with its running balance; prints on A4."""
    member = _member_for(request, member_pk)
    book = selectors.passbook(member=member)
    staff = request.user.staff
    mine = staff.records and staff.lkmm_id == member.lkmm_id
    mode = decision_mode(request.user, lkmm=member.lkmm) if mine else None
    for account in book.accounts:
        account.refusal = services.withdrawal_refusal(account) if account.balance_derived else ""
    today = timezone.localdate()
    wajib_owed = selectors.wajib_owed(lkmm=member.lkmm, at=today, member_ids=[member.pk]).get(member.pk)
    return render(
        request,
        "savings/passbook.html",
        {
            "member": member,
            "book": book,
            "mine": mine,
            "decision_mode": mode,
            "may_deposit": mine and member.status == MemberStatus.AKTIF,
            "may_return": mode is not None and book.total > 0,
            "today": today,
            "wajib_owed": wajib_owed,
        },
    )


@recorder_required
def deposit(request, member_pk):
    member = _member_for(request, member_pk)
    if member.lkmm_id != request.user.staff.lkmm_id:
        raise Http404
    if member.status != MemberStatus.AKTIF:
        return render(
            request,
            "savings/deposit_form.html",
            {"member": member, "refusal": _("Hanya anggota aktif yang dapat menyetor simpanan.")},
        )
    products = services.products_ensure(lkmm=member.lkmm)
    if request.method != "POST":
        restored = form_data(request)
        kind = (
            request.GET.get("jenis") if request.GET.get("jenis") in SavingsKind.values else SavingsKind.WAJIB
        )
        form = (
            DepositForm(restored)
            if restored is not None
            else DepositForm(
                initial={
                    "kind": kind,
                    "amount": products[kind].amount or None,
                    "on": timezone.localdate(),
                    "token": uuid.uuid4(),
                }
            )
        )
    else:
        form = DepositForm(request.POST)
        if form.is_valid():
            try:
                movement = services.savings_deposit(member=member, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Setoran %(amount)s dicatat, kuitansi %(receipt)s.")
                    % {"amount": format_rupiah(movement.amount), "receipt": movement.receipt_code},
                )
                receipts.mark_original(request.session, movement)
                return redirect("savings:receipt", pk=movement.pk)
    return render(
        request,
        "savings/deposit_form.html",
        {"member": member, "form": form, "products": [products[k] for k in SavingsKind]},
    )


def _decision(request, lkmm):
    mode = decision_mode(request.user, lkmm=lkmm)
    if mode is None:
        raise PermissionDenied
    return mode


@recorder_required
def withdraw(request, pk):
    account = get_object_or_404(
        SavingsAccount.objects.for_user(request.user).select_related("member", "lkmm"), pk=pk
    )
    mode = _decision(request, account.lkmm)
    refusal = services.withdrawal_refusal(account)
    form = WithdrawForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.WITHDRAWAL,
                lkmm=account.lkmm,
                actor=request.user,
                target=f"savings:{account.pk}",
                summary=f"{account.get_kind_display()} {account.member.full_name} "
                f"{format_rupiah(form.cleaned_data['amount'])}",
                account=account,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            announce(request, waiting, _("Penarikan simpanan dicatat."))
            if waiting is None:
                receipts.mark_original(request.session, done)
                return redirect("savings:receipt", pk=done.pk)
            return redirect("savings:passbook", member_pk=account.member_id)
    return render(
        request,
        "savings/withdraw_form.html",
        {"account": account, "form": form, "refusal": refusal, "decides": mode == DECIDE},
    )


@recorder_required
def return_all(request, member_pk):
    """A leaving member's savings paid back in full (after their loans are settled), one decision."""
    member = _member_for(request, member_pk)
    mode = _decision(request, member.lkmm)
    accounts = list(SavingsAccount.objects.filter(member=member, balance_derived__gt=0).order_by("kind"))
    refusal = (
        services.withdrawal_refusal(accounts[0], leaving=True)
        if accounts
        else _("Anggota ini tidak punya saldo simpanan.")
    )
    form = ReturnAllForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.SAVINGS_RETURN,
                lkmm=member.lkmm,
                actor=request.user,
                target=f"member:{member.pk}",
                summary=f"{member.full_name} {format_rupiah(sum(a.balance_derived for a in accounts))}",
                member=member,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            announce(request, waiting, _("Simpanan %(name)s dikembalikan.") % {"name": member.full_name})
            return redirect("savings:passbook", member_pk=member.pk)
    return render(
        request,
        "savings/return_form.html",
        {
            "member": member,
            "accounts": accounts,
            "total": sum(a.balance_derived for a in accounts),
            "form": form,
            "refusal": refusal,
            "decides": mode == DECIDE,
        },
    )


@recorder_required
def reverse(request, pk):
    movement = get_object_or_404(
        SavingsMovement.objects.for_user(request.user).select_related(
            "account__member", "lkmm", "recorded_by"
        ),
        pk=pk,
    )
    mode = _decision(request, movement.lkmm)
    refusal = _("Mutasi ini sudah dibatalkan.") if movement.reversed_on else ""
    form = SavingsReverseForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.SAVINGS_REVERSAL,
                lkmm=movement.lkmm,
                actor=request.user,
                target=f"savings_movement:{movement.pk}",
                summary=f"{movement.receipt_code} {format_rupiah(movement.amount)} "
                f"{movement.account.member.full_name}",
                recorded_by=movement.recorded_by,
                movement=movement,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            announce(
                request, waiting, _("Mutasi %(receipt)s dibatalkan.") % {"receipt": movement.receipt_code}
            )
            return redirect("savings:passbook", member_pk=movement.account.member_id)
    return render(
        request,
        "savings/reverse_form.html",
        {"movement": movement, "form": form, "refusal": refusal, "decides": mode == DECIDE},
    )


@staff_required
def receipt(request, pk):
    """A savings movement's kuitansi, A4 or 58 mm, the original once then SALINAN, like a repayment's."""
    movement = get_object_or_404(
        SavingsMovement.objects.for_user(request.user).select_related(
            "account__member", "lkmm", "recorded_by", "reversed_by"
        ),
        pk=pk,
    )
    fmt = request.GET.get("format") or request.session.get(receipts.FORMAT_KEY, "a4")
    if fmt not in receipts.FORMATS:
        raise Http404
    request.session[receipts.FORMAT_KEY] = fmt
    shared = receipts.shared_receipt(lkmm_id=movement.lkmm_id, receipt_no=movement.receipt_no)
    if shared is not None:
        # A member's installments and deposits of one collection sheet save: one kuitansi for them all.
        from loans.views import render_shared_receipt

        return render_shared_receipt(request, shared=shared, viewed=movement, fmt=fmt)
    balance_after = selectors.balance_at(account=movement.account, movement=movement)
    member = movement.account.member
    whatsapp = None
    if member.whatsapp_consent and member.phone and movement.reversed_on is None:
        whatsapp = receipts.whatsapp_url(
            member.phone, selectors.receipt_text(movement=movement, balance_after=balance_after)
        )
    return render(
        request,
        "savings/receipt_58.html" if fmt == "58" else "savings/receipt.html",
        {
            "movement": movement,
            "member": member,
            "balance_after": balance_after,
            "original": receipts.take_original(request.session, movement),
            "whatsapp": whatsapp,
            "format": fmt,
        },
    )


@staff_required
def products(request):
    """The LKMM's savings rules; whoever decides for the LKMM sets the amounts (audited)."""
    staff = request.user.staff
    if staff.lkmm_id is None:
        raise Http404
    lkmm = staff.lkmm
    rows = services.products_ensure(lkmm=lkmm)
    decides = staff.approves
    forms_by_kind = {
        kind: ProductAmountForm(
            request.POST if request.POST.get("kind") == kind else None,
            prefix=kind,
            kind=kind,
            initial={"amount": rows[kind].amount, "frequency": rows[kind].frequency},
        )
        for kind in SavingsKind
    }
    if request.method == "POST":
        if not decides:
            raise PermissionDenied
        kind = request.POST.get("kind")
        form = forms_by_kind.get(kind)
        if form is not None and form.is_valid():
            try:
                services.product_update(product=rows[kind], actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("%(kind)s diubah.") % {"kind": rows[kind].get_kind_display()})
                return redirect("savings:products")
    return render(
        request,
        "savings/products.html",
        {"lkmm": lkmm, "rows": [(rows[k], forms_by_kind[k]) for k in SavingsKind], "decides": decides},
    )
