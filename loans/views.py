import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from institutions.access import ketua_required, recorder_required, staff_required
from institutions.forms import add_service_errors
from loans import schedule, services
from loans.forms import (
    CancelForm,
    DisburseForm,
    LoanApplyForm,
    LoanFilterForm,
    ProductForm,
    RepaymentForm,
)
from loans.models import Allocation, Loan, LoanProduct, LoanStatus, Repayment
from loans.selectors import installments_with_paid
from members.models import Member


def _effective_rate(product):
    """The equivalent effective annual rate of a product, at its maximum amount."""
    lines = schedule.build_schedule(
        principal=product.max_amount,
        rate_per_month=product.rate_per_month,
        count=product.installment_count,
        frequency=product.frequency,
        method=product.interest_method,
        rounding_unit=product.rounding_unit,
        first_due=timezone.localdate(),
    )
    return schedule.effective_annual_rate(
        received=product.max_amount,
        installments=[line.total for line in lines],
        frequency=product.frequency,
    )


@staff_required
def product_list(request):
    products = list(LoanProduct.objects.for_user(request.user).select_related("lkmm"))
    for product in products:
        product.effective_rate = _effective_rate(product)
    return render(request, "loans/product_list.html", {"products": products})


@ketua_required
def product_create(request):
    lkmm = request.user.staff.lkmm
    form = ProductForm(request.POST or None, initial={"rounding_unit": lkmm.default_rounding_unit})
    form.instance.lkmm = lkmm
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(lkmm=lkmm, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Produk %(name)s disimpan.") % {"name": product.name})
            return redirect("loans:products")
    return render(request, "loans/product_form.html", {"form": form})


@staff_required
def loan_list(request):
    today = timezone.localdate()
    form = LoanFilterForm(request.GET or None)
    loans = Loan.objects.for_user(request.user).for_list().with_standing(today)
    if form.is_valid():
        if form.cleaned_data["status"]:
            loans = loans.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["arrears"]:
            loans = loans.filter(status=LoanStatus.AKTIF, oldest_overdue_on__isnull=False).order_by(
                "oldest_overdue_on"
            )
    page = Paginator(loans, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "loans/loan_list.html", {"page": page, "form": form, "query": query.urlencode()})


@recorder_required
def loan_create(request, member_pk):
    member = get_object_or_404(Member.objects.for_user(request.user), pk=member_pk)
    form = LoanApplyForm(request.POST or None, lkmm=member.lkmm)
    if request.method == "POST" and form.is_valid():
        try:
            loan = services.loan_apply(member=member, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pengajuan %(code)s dicatat.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    return render(request, "loans/loan_form.html", {"form": form, "member": member})


def _loan_for(request, pk):
    return get_object_or_404(Loan.objects.for_user(request.user).for_list(), pk=pk)


@staff_required
def loan_detail(request, pk):
    today = timezone.localdate()
    loan = get_object_or_404(Loan.objects.for_user(request.user).for_list().with_standing(today), pk=pk)
    context = {"loan": loan, "today": today}
    if loan.status == LoanStatus.DIAJUKAN:
        context["preview"] = schedule.build_schedule(
            first_due=schedule.first_due_after(today, loan.frequency), **loan.schedule_terms()
        )
        context["disburse_form"] = DisburseForm(initial={"disbursed_on": today})
        context["cancel_form"] = CancelForm()
    else:
        rows = list(installments_with_paid(loan=loan, at=today))
        for row in rows:
            row.remaining = row.total - row.paid_principal - row.paid_interest
            row.overdue = row.remaining > 0 and row.due_date < today
        context["installments"] = rows
        context["payoff"] = sum(row.remaining for row in rows)
        context["repayments"] = loan.repayments.select_related("recorded_by").order_by(
            "paid_on", "receipt_no"
        )
    lines = context.get("preview") or context.get("installments") or []
    context["total_interest"] = sum(line.interest for line in lines)
    context["schedule_total"] = sum(line.total for line in lines)
    context["received_total"] = sum(
        row.paid_principal + row.paid_interest for row in context.get("installments", [])
    )
    context["effective_rate"] = schedule.effective_annual_rate(
        received=loan.principal,
        installments=[line.total for line in lines],
        frequency=loan.frequency,
    )
    context["status_changes"] = loan.status_changes.select_related("by")
    return render(request, "loans/loan_detail.html", context)


@require_POST
@ketua_required
def loan_disburse_view(request, pk):
    loan = _loan_for(request, pk)
    form = DisburseForm(request.POST)
    if form.is_valid():
        try:
            services.loan_disburse(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pinjaman %(code)s dicairkan.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    for error in form.errors.values():
        messages.error(request, " ".join(error))
    return redirect("loans:detail", pk=loan.pk)


@require_POST
@ketua_required
def loan_cancel_view(request, pk):
    loan = _loan_for(request, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            services.loan_cancel(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Pengajuan %(code)s dibatalkan.") % {"code": loan.code})
    else:
        messages.error(request, _("Tulis alasan pembatalan."))
    return redirect("loans:detail", pk=loan.pk)


@recorder_required
def repayment_create(request, loan_pk):
    today = timezone.localdate()
    loan = get_object_or_404(Loan.objects.for_user(request.user).for_list().with_standing(today), pk=loan_pk)
    rows = list(installments_with_paid(loan=loan, at=today))
    payoff = sum(row.total - row.paid_principal - row.paid_interest for row in rows)
    next_due = next((row for row in rows if row.total > row.paid_principal + row.paid_interest), None)
    suggested = loan.overdue_amount or (
        next_due.total - next_due.paid_principal - next_due.paid_interest if next_due else 0
    )
    form = RepaymentForm(
        request.POST or None,
        initial={"paid_on": today, "token": uuid.uuid4(), "amount": suggested or None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            repayment = services.repayment_record(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Pembayaran %(amount)s dicatat, kuitansi %(receipt)s.")
                % {
                    "amount": f"Rp {repayment.amount:,}".replace(",", "."),
                    "receipt": repayment.receipt_code,
                },
            )
            return redirect("loans:receipt", pk=repayment.pk)
    return render(
        request,
        "loans/repayment_form.html",
        {
            "form": form,
            "loan": loan,
            "payoff": payoff,
            "next_due": next_due,
            "suggested": suggested,
        },
    )


@staff_required
def repayment_receipt(request, pk):
    repayment = get_object_or_404(
        Repayment.objects.for_user(request.user).select_related("loan__member", "lkmm", "recorded_by"),
        pk=pk,
    )
    allocations = repayment.allocations.select_related("installment").order_by("installment__seq")
    repaid = Allocation.objects.filter(
        repayment__loan=repayment.loan,
        repayment__reversed_on__isnull=True,
        repayment__receipt_no__lte=repayment.receipt_no,
    ).aggregate(s=Coalesce(Sum("principal"), 0))["s"]
    return render(
        request,
        "loans/receipt.html",
        {
            "repayment": repayment,
            "allocations": allocations,
            "outstanding_after": repayment.loan.principal - repaid,
        },
    )
