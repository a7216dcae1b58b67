import contextlib
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from institutions.access import (
    DECIDE,
    decider_required,
    decision_mode,
    may_decide,
    recorder_required,
    staff_required,
)
from institutions.decisions import act_or_request, announce, loan_summary, requested_message
from institutions.forms import add_service_errors
from institutions.models import AuditLog, DecisionRequest, RequestKind
from institutions.security import form_data
from institutions.templatetags.lkmm_format import format_rupiah
from loans import receipts, schedule, selectors, services, standing
from loans.forms import (
    CancelForm,
    DisburseForm,
    EmptyForm,
    LoanApplyForm,
    LoanEditForm,
    LoanFilterForm,
    ProductForm,
    ReasonForm,
    RepaymentForm,
    RestructureForm,
    ReverseForm,
    WaiveForm,
)
from loans.models import Loan, LoanProduct, LoanStatus, Repayment
from loans.selectors import product_effective_rate
from members.models import Member


def _effective_rate(product):
    """The equivalent effective annual rate of a product, at its maximum amount."""
    return product_effective_rate(product)


@staff_required
def product_list(request):
    products = list(LoanProduct.objects.for_user(request.user).select_related("lkmm"))
    for product in products:
        product.effective_rate = _effective_rate(product)
    return render(request, "loans/product_list.html", {"products": products})


@decider_required
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
def loan_edit(request, pk):
    """Correct an application that still waits for its decision, with a reason."""
    loan = _loan_for(request, pk)
    if loan.lkmm_id != request.user.staff.lkmm_id or loan.status != LoanStatus.DIAJUKAN:
        raise PermissionDenied
    form = LoanEditForm(
        request.POST or None,
        lkmm=loan.lkmm,
        initial={"product": loan.product_id, "principal": loan.principal, "purpose": loan.purpose},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.loan_application_update(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pengajuan %(code)s diperbarui.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    return render(request, "loans/loan_edit.html", {"form": form, "loan": loan})


@recorder_required
def loan_create(request, member_pk):
    """The application form. "Lihat jadwal" (a submit named `preview`) re-renders the form with the
    schedule the chosen product gives the amount, saving nothing: a server round trip, no JavaScript."""
    member = get_object_or_404(Member.objects.for_user(request.user), pk=member_pk)
    other_loans = member.loans.filter(status__in=services.OPEN_LOAN_STATUSES).order_by("number")
    with contextlib.suppress(ValueError):  # the same form posted again is not a second application
        other_loans = other_loans.exclude(token=uuid.UUID(request.POST.get("token", "")))
    form = LoanApplyForm(request.POST or None, lkmm=member.lkmm, other_loans=other_loans)
    previewing = "preview" in request.POST
    context = {"form": form, "member": member, "other_loans": form.other_loans}
    if request.method == "POST" and previewing:
        if form.is_valid():
            context["preview"] = _application_preview(form, member)
    elif request.method == "POST" and form.is_valid():
        try:
            loan = services.loan_apply(member=member, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Pengajuan %(code)s dicatat.") % {"code": loan.code})
            return redirect("loans:detail", pk=loan.pk)
    products = list(form.fields["product"].queryset)
    chosen = _chosen_product(form, products)
    for product in [chosen] if chosen else products:
        product.effective_rate = _effective_rate(product)
    context["chosen_product"] = chosen
    context["products"] = products
    return render(request, "loans/loan_form.html", context)


def _chosen_product(form, products):
    """The product picked on the form (or the only one there is)."""
    picked = form.data.get("product") if form.is_bound else None
    for product in products:
        if str(product.pk) == picked:
            return product
    return products[0] if len(products) == 1 else None


def _application_preview(form, member):
    """The schedule, fee and effective rate the application would get, or None with the reasons added to
    the form (the same eligibility checks as recording)."""
    data = form.cleaned_data
    product, principal = data["product"], data["principal"]
    errors = services._check_eligible(member=member, product=product, principal=principal)
    if errors:
        add_service_errors(form, ValidationError(errors))
        return None
    try:
        lines = schedule.build_schedule(
            principal=principal,
            rate_per_month=product.rate_per_month,
            count=product.installment_count,
            frequency=product.frequency,
            method=product.interest_method,
            rounding_unit=product.rounding_unit,
            first_due=schedule.first_due_after(data["applied_on"], product.frequency),
        )
    except schedule.ScheduleError as exc:
        form.add_error("principal", str(exc))
        return None
    fee = services.admin_fee_for(product, principal)
    received = principal - fee if product.admin_fee_mode == "deducted" else principal
    return {
        "lines": lines,
        "admin_fee": fee,
        "received": received,
        "total_interest": sum(line.interest for line in lines),
        "total": sum(line.total for line in lines),
        "effective_rate": schedule.effective_annual_rate(
            received=received, installments=[line.total for line in lines], frequency=product.frequency
        ),
    }


PAYMENTS_PER_PAGE = 20


def _loan_for(request, pk):
    return get_object_or_404(Loan.objects.for_user(request.user).for_list(), pk=pk)


def _schedule_rows(loan, today):
    """Installments with what each has received and still owes today (late fees included)."""
    rows = list(loan.installments.order_by("seq"))
    position = services.loan_position(loan=loan, at=today, rows=rows)
    for row in rows:
        state = position["states"][row.pk]
        fee, interest, principal = position["owed"][row.pk]
        row.paid = state.principal + state.interest + state.late_fee
        row.paid_fee = state.late_fee
        row.fee_owed = fee
        row.remaining = fee + interest + principal
        row.overdue = row.remaining > 0 and row.due_date < today
    return rows, position


@staff_required
def loan_detail(request, pk):
    today = timezone.localdate()
    loan = get_object_or_404(Loan.objects.for_user(request.user).for_list().with_standing(today), pk=pk)
    staff = request.user.staff
    mine = staff.records and staff.lkmm_id == loan.lkmm_id
    context = {"loan": loan, "today": today, "mine": mine}
    context["may_approve"] = (
        mine
        and loan.status == LoanStatus.DIAJUKAN
        and may_decide(request.user, lkmm=loan.lkmm, recorded_by=services.application_recorders(loan))
    )
    # Decisions that act at once: taken now, or under four eyes proposed for another approver.
    mode = decision_mode(request.user, lkmm=loan.lkmm) if mine else None
    context["decision_mode"] = mode
    context["may_restructure"] = mode is not None
    if loan.status in (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI, LoanStatus.DITOLAK, LoanStatus.DIBATALKAN):
        context["preview"] = schedule.build_schedule(
            first_due=schedule.first_due_after(today, loan.frequency), **loan.schedule_terms()
        )
        if loan.status == LoanStatus.DIAJUKAN and context["may_approve"]:
            context["reject_form"] = ReasonForm(prefix="reject")
        if mine and loan.status == LoanStatus.DISETUJUI:
            context["disburse_form"] = DisburseForm(initial={"disbursed_on": today})
        if mine and loan.status in (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI):
            context["cancel_form"] = CancelForm()
        if loan.status in (LoanStatus.DIAJUKAN, LoanStatus.DISETUJUI):
            context["borrower_record"] = selectors.borrower_record(loan=loan, at=today)
    else:
        # The schedule reads the kept standing (one query, whatever the loan's history); the payments
        # are shown newest first, a page at a time.
        rows, position = _schedule_rows(loan, today)
        context["installments"] = rows
        context["payoff"] = position["payoff"]
        context["early_payoff"] = position["early_payoff"] if loan.waive_interest_on_payoff else None
        context["fees_owed"] = sum(row.fee_owed for row in rows)
        page = Paginator(
            loan.repayments.select_related("recorded_by", "reversed_by", "paid_by").order_by(
                "-paid_on", "-receipt_no"
            ),
            PAYMENTS_PER_PAGE,
        ).get_page(request.GET.get("page"))
        repayments = list(page)
        context["page"] = page
        movable = mode is not None and not standing.is_moved(loan)
        for repayment in repayments:
            repayment.may_reverse = movable and repayment.reversed_on is None
        context["repayments"] = repayments
        context["waivers"] = loan.waivers.select_related("installment", "approved_by")
        if mode is not None and loan.status == LoanStatus.AKTIF and context["fees_owed"]:
            context["waive_form"] = WaiveForm(initial={"on": today})
    if loan.lkmm.four_eyes:
        targets = [f"loan:{loan.pk}"] + [f"repayment:{r.pk}" for r in context.get("repayments", [])]
        context["waiting_requests"] = (
            DecisionRequest.objects.waiting()
            .filter(lkmm=loan.lkmm, target__in=targets)
            .select_related("requested_by")
        )
    lines = context.get("preview") or context.get("installments") or []
    context["total_interest"] = sum(line.interest for line in lines)
    context["schedule_total"] = sum(line.total for line in lines)
    context["received_total"] = sum(row.paid for row in context.get("installments", []))
    deducted = loan.admin_fee if loan.admin_fee_mode == "deducted" else 0
    context["received_by_member"] = loan.principal - deducted
    context["effective_rate"] = schedule.effective_annual_rate(
        received=loan.principal - deducted,
        installments=[line.total for line in lines],
        frequency=loan.frequency,
    )
    context["status_changes"] = loan.status_changes.select_related("by")
    if loan.status == LoanStatus.DIAJUKAN or loan.status == LoanStatus.DISETUJUI:
        context["edits"] = AuditLog.objects.filter(
            object_type="loans.loan", object_id=loan.pk, action="loan.edit"
        ).select_related("actor")
    return render(request, "loans/loan_detail.html", context)


def _loan_action(request, pk, *, form, service, done):
    """Run a lifecycle service from a small POST form on the loan page; errors come back as messages."""
    loan = _loan_for(request, pk)
    if form.is_valid():
        try:
            service(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done % {"code": loan.code})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("loans:detail", pk=loan.pk)


@require_POST
@recorder_required
def loan_approve_view(request, pk):
    return _loan_action(
        request,
        pk,
        form=EmptyForm(request.POST),
        service=services.loan_approve,
        done=_("Pinjaman %(code)s disetujui."),
    )


@require_POST
@recorder_required
def loan_reject_view(request, pk):
    return _loan_action(
        request,
        pk,
        form=ReasonForm(request.POST, prefix="reject"),
        service=services.loan_reject,
        done=_("Pengajuan %(code)s ditolak."),
    )


@require_POST
@recorder_required
def loan_disburse_view(request, pk):
    return _loan_action(
        request,
        pk,
        form=DisburseForm(request.POST),
        service=services.loan_disburse,
        done=_("Pinjaman %(code)s dicairkan."),
    )


@require_POST
@recorder_required
def loan_cancel_view(request, pk):
    return _loan_action(
        request,
        pk,
        form=CancelForm(request.POST),
        service=services.loan_cancel,
        done=_("Pengajuan %(code)s dibatalkan."),
    )


@require_POST
@recorder_required
def late_fees_waive_view(request, pk):
    loan = _loan_for(request, pk)
    mode = decision_mode(request.user, lkmm=loan.lkmm)
    if mode is None:
        raise PermissionDenied
    form = WaiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("loans:detail", pk=loan.pk)
    try:
        _done, waiting = act_or_request(
            mode=mode,
            kind=RequestKind.WAIVER,
            lkmm=loan.lkmm,
            actor=request.user,
            target=f"loan:{loan.pk}",
            summary=loan_summary(loan),
            loan=loan,
            **form.cleaned_data,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        announce(request, waiting, _("Denda %(code)s dibebaskan.") % {"code": loan.code})
    return redirect("loans:detail", pk=loan.pk)


@recorder_required
def repayment_reverse_view(request, pk):
    repayment = get_object_or_404(
        Repayment.objects.for_user(request.user).select_related("loan__member", "recorded_by"), pk=pk
    )
    mode = decision_mode(request.user, lkmm=repayment.lkmm)
    if mode is None:
        raise PermissionDenied
    # An action the loan's state does not allow shows why, in place of its form (no button to press).
    refusal = services.reversal_refusal(loan=repayment.loan, repayment=repayment)
    form = ReverseForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.REVERSAL,
                lkmm=repayment.lkmm,
                actor=request.user,
                target=f"repayment:{repayment.pk}",
                summary=" ".join(
                    [repayment.receipt_code, format_rupiah(repayment.amount), loan_summary(repayment.loan)]
                ),
                recorded_by=repayment.recorded_by,
                repayment=repayment,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            announce(
                request,
                waiting,
                _("Pembayaran %(receipt)s dibatalkan.") % {"receipt": repayment.receipt_code},
            )
            return redirect("loans:detail", pk=repayment.loan_id)
    return render(
        request,
        "loans/reverse_form.html",
        {"form": form, "repayment": repayment, "decides": mode == DECIDE, "refusal": refusal},
    )


@recorder_required
def repayment_create(request, loan_pk):
    today = timezone.localdate()
    loan = get_object_or_404(Loan.objects.for_user(request.user).for_list().with_standing(today), pk=loan_pk)
    refusal = services.state_refusal(loan=loan, action="repay")
    if refusal:
        # Nothing to pay on a loan that is not active: say why, with no form to fill in.
        return render(request, "loans/repayment_form.html", {"loan": loan, "refusal": refusal})
    if request.method != "POST":
        page = _repayment_page(loan, today)
        restored = form_data(request)  # posted when the session had ended: shown again, not recorded
        form = (
            RepaymentForm(restored, loan=loan)
            if restored is not None
            else RepaymentForm(
                loan=loan,
                initial={"paid_on": today, "token": uuid.uuid4(), "amount": page["suggested"] or None},
            )
        )
        return render(request, "loans/repayment_form.html", {"form": form, "loan": loan, **page})
    form = RepaymentForm(request.POST, loan=loan)
    if form.is_valid():
        try:
            repayment = services.repayment_record(loan=loan, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Pembayaran %(amount)s dicatat, kuitansi %(receipt)s.")
                % {"amount": format_rupiah(repayment.amount), "receipt": repayment.receipt_code},
            )
            receipts.mark_original(request.session, repayment)
            return redirect("loans:receipt", pk=repayment.pk)
    # The form comes back with its errors: the schedule as it stands now, read only for this page.
    context = {"form": form, "loan": loan, **_repayment_page(loan, today)}
    return render(request, "loans/repayment_form.html", context)


def _repayment_page(loan, today):
    """What the payment page shows beside the form: the payoff, the next installment due and the amount
    suggested (what is overdue, else the next installment)."""
    rows, position = _schedule_rows(loan, today)
    next_due = next((row for row in rows if row.remaining > 0), None)
    return {
        "payoff": position["payoff"],
        "early_payoff": position["early_payoff"] if loan.waive_interest_on_payoff else None,
        "next_due": next_due,
        "suggested": (loan.overdue_amount + loan.overdue_fees) or (next_due.remaining if next_due else 0),
    }


def render_shared_receipt(request, *, shared, viewed, fmt):
    """A kuitansi carrying a member's installments and deposits of one collection sheet save, opened from
    any of its lines (the repayment's or the savings movement's receipt address)."""
    member = shared["member"]
    whatsapp = None
    if member.whatsapp_consent and member.phone and not shared["reversed"]:
        whatsapp = receipts.whatsapp_url(member.phone, receipts.shared_receipt_text(shared))
    return render(
        request,
        "loans/receipt_combined_58.html" if fmt == "58" else "loans/receipt_combined.html",
        {
            "receipt": shared,
            "member": member,
            "original": receipts.take_original(request.session, viewed),
            "whatsapp": whatsapp,
            "format": fmt,
        },
    )


@staff_required
def repayment_receipt(request, pk):
    """The receipt on A4 or, with ?format=58, on a 58 mm thermal printer's roll. The first view after
    recording is the original; every later one is marked SALINAN. A member who agreed to WhatsApp gets a
    "Kirim lewat WhatsApp" link with the receipt's text."""
    repayment = get_object_or_404(
        Repayment.objects.for_user(request.user).select_related(
            "loan__member", "lkmm", "recorded_by", "paid_by", "reversed_by"
        ),
        pk=pk,
    )
    fmt = request.GET.get("format") or request.session.get(receipts.FORMAT_KEY, "a4")
    if fmt not in receipts.FORMATS:
        raise Http404
    request.session[receipts.FORMAT_KEY] = fmt
    shared = receipts.shared_receipt(lkmm_id=repayment.lkmm_id, receipt_no=repayment.receipt_no)
    if shared is not None:
        return render_shared_receipt(request, shared=shared, viewed=repayment, fmt=fmt)
    allocations, outstanding_after, next_due = receipts.repayment_details(repayment)
    member = repayment.loan.member
    whatsapp = None
    if member.whatsapp_consent and member.phone and repayment.reversed_on is None:
        text = receipts.receipt_text(
            repayment=repayment, outstanding_after=outstanding_after, next_due=next_due
        )
        whatsapp = receipts.whatsapp_url(member.phone, text)
    return render(
        request,
        "loans/receipt_58.html" if fmt == "58" else "loans/receipt.html",
        {
            "repayment": repayment,
            "allocations": allocations,
            "outstanding_after": outstanding_after,
            "next_due": next_due,
            "original": receipts.take_original(request.session, repayment),
            "whatsapp": whatsapp,
            "format": fmt,
        },
    )


@recorder_required
def loan_restructure_view(request, pk):
    """Restructure: the ketua sees what moves and what is waived before confirming."""
    loan = _loan_for(request, pk)
    mode = decision_mode(request.user, lkmm=loan.lkmm)
    if mode is None:
        raise PermissionDenied
    today = timezone.localdate()
    form = RestructureForm(request.POST or None, lkmm=loan.lkmm, initial={"on": today})
    refusal = services.state_refusal(loan=loan, action="restructure")
    on = form.cleaned_data["on"] if form.is_bound and form.is_valid() else today
    preview = (
        services.restructure_preview(loan=loan, on=max(on, loan.disbursed_on))
        if loan.disbursed_on and not refusal
        else None
    )
    if request.method == "POST" and not refusal and form.is_valid() and request.POST.get("confirm"):
        try:
            new, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.RESTRUCTURE,
                lkmm=loan.lkmm,
                actor=request.user,
                target=f"loan:{loan.pk}",
                summary=loan_summary(loan),
                loan=loan,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if waiting:
                messages.info(request, requested_message(waiting))
                return redirect("loans:detail", pk=loan.pk)
            messages.success(
                request, _("%(old)s direstrukturisasi menjadi %(new)s.") % {"old": loan.code, "new": new.code}
            )
            return redirect("loans:detail", pk=new.pk)
    return render(
        request,
        "loans/restructure_form.html",
        {
            "form": form,
            "loan": loan,
            "preview": preview,
            "waived_interest": sum(preview["interest"].values()) if preview else 0,
            "waived_fees": sum(preview["fees"].values()) if preview else 0,
            "checked": form.is_bound and form.is_valid(),
            "decides": mode == DECIDE,
            "refusal": refusal,
        },
    )
