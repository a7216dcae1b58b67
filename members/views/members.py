from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import download_recorded
from institutions.access import deciders_of, may_decide, recorder_required, staff_required
from institutions.forms import add_service_errors, strip_control_characters
from institutions.models import AuditLog
from institutions.security import form_data
from loans.models import Loan
from members import services
from members.forms.members import (
    DecisionForm,
    IncomeForm,
    MemberApplicationForm,
    MemberEditForm,
    MemberFilterForm,
    ReapplyForm,
    StatusForm,
    nik_digits,
)
from members.models import Member, MembershipApplication, MemberStatus
from members.selectors import income_trend, members_in_several_lkmms, nik_elsewhere
from savings import selectors as savings_selectors
from savings.models import SavingsAccount

FORM_SECTIONS = [
    (
        gettext_lazy("Identitas"),
        [
            "full_name",
            "nik",
            "kk_number",
            "gender",
            "birth_place",
            "birth_date",
            "phone",
            "whatsapp_consent",
            "household_size",
        ],
    ),
    (gettext_lazy("Alamat"), ["provinsi", "kabupaten", "kecamatan", "desa", "dusun", "rt", "rw", "address"]),
    (gettext_lazy("DTSEN (data kesejahteraan)"), ["dtsen_listed", "dtsen_decile", "dtsen_verified_on"]),
    (
        gettext_lazy("Usaha"),
        [
            "business_type",
            "business",
            "business_started",
            "business_location",
            "turnover_at_admission",
            "net_income_at_admission",
        ],
    ),
    (gettext_lazy("Permohonan"), ["referee", "business_plan", "requested_amount", "joined_on", "photo"]),
]


def _may_decide(user, application, edits=None):
    return may_decide(
        user, lkmm=application.member.lkmm, recorded_by=services.application_recorders(application, edits)
    )


def _edits(member):
    """Corrections of the member's details, newest first, each field named as the form names it."""
    edits = list(
        AuditLog.objects.filter(
            object_type="members.member", object_id=member.pk, action="member.edit"
        ).select_related("actor")
    )
    for edit in edits:
        edit.rows = [
            (Member._meta.get_field(name).verbose_name, old, new)
            for name, (old, new) in edit.data.get("changes", {}).items()
        ]
    return edits


def _member_for(request, pk):
    return get_object_or_404(Member.objects.for_user(request.user).select_related("lkmm"), pk=pk)


@staff_required
def member_list(request):
    today = timezone.localdate()
    form = MemberFilterForm(request.GET or None, user=request.user)
    members = Member.objects.for_user(request.user).select_related("lkmm")
    filters = {}
    if form.is_bound:
        # Apply every filter that is valid: a stale group id in the address must not drop the search.
        form.is_valid()
        filters = form.cleaned_data
    members = members.search(filters.get("q"))
    if filters.get("status"):
        members = members.filter(status=filters["status"])
    if filters.get("group"):
        members = members.in_group(filters["group"])
    if filters.get("arrears"):
        members = members.in_arrears(today)
    members = members.with_current_group().annotate(
        in_arrears=Exists(Loan.objects.past_due(today).filter(member=OuterRef("pk")))
    )
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "members/member_list.html", {"page": page, "form": form, "query": query.urlencode()}
    )


@staff_required
def member_detail(request, pk):
    member = _member_for(request, pk)
    today = timezone.localdate()
    loans = Loan.objects.filter(member=member).select_related("product").with_standing(today)
    staff = request.user.staff
    context = {
        "member": member,
        "loans": loans,
        "savings": SavingsAccount.objects.filter(member=member).order_by("kind"),
        # Missed wajib is owed to the member's own savings, shown beside them, never as loan arrears.
        "wajib_owed": savings_selectors.wajib_owed(lkmm=member.lkmm, at=today, member_ids=[member.pk]).get(
            member.pk
        ),
        "today": today,
        "group": Member.objects.filter(pk=member.pk)
        .with_current_group()
        .values("current_group_id", "current_group_name")
        .get(),
        "applications": list(
            member.applications.select_related(
                "referee_member", "referee_board", "submitted_by", "decided_by"
            ).order_by("-submitted_at", "-id")
        ),
        "status_changes": member.status_changes.select_related("by"),
        "income": income_trend(member=member),
        # Corrections of the member's details: who, when, why, old -> new (from the audit trail).
        "edits": _edits(member),
    }
    if staff.records:
        pending = next((a for a in context["applications"] if not a.decision), None)
        if member.status == MemberStatus.PENDAFTAR and pending is not None:
            if _may_decide(request.user, pending):
                context["decision_form"] = DecisionForm()
            else:
                context["deciders"] = deciders_of(
                    member.lkmm, excluded=set(services.application_recorders(pending))
                )
        status_form = StatusForm(member=member)
        if status_form.fields["to"].choices:
            context["status_form"] = status_form
    return render(request, "members/member_detail.html", context)


@staff_required
def member_photo(request, pk):
    member = _member_for(request, pk)
    if not member.photo:
        raise Http404
    try:
        photo = member.photo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    download_recorded(request, what="foto-anggota", lkmm=member.lkmm, obj=member)
    response = FileResponse(photo)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@recorder_required
def member_create(request):
    lkmm = request.user.staff.lkmm
    today = timezone.localdate()
    elsewhere = (
        nik_elsewhere(nik=nik_digits(strip_control_characters(request.POST.get("nik"))), lkmm=lkmm, at=today)
        if request.method == "POST"
        else []
    )
    form = MemberApplicationForm(
        form_data(request) or None,  # on a GET, what was posted when the session had ended
        request.FILES or None,
        lkmm=lkmm,
        elsewhere=elsewhere,
        initial={
            "joined_on": today,
            "desa": lkmm.desa,
            "kecamatan": lkmm.kecamatan,
            "kabupaten": lkmm.kabupaten,
            "provinsi": lkmm.dinas.provinsi,
        },
    )
    if request.method == "POST" and form.is_valid():
        if elsewhere and not form.cleaned_data.get("confirm_elsewhere"):
            form.add_error(
                "confirm_elsewhere", _("Baca peringatan NIK di atas, lalu centang untuk melanjutkan.")
            )
        else:
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
            try:
                member = services.member_apply(
                    lkmm=lkmm, actor=request.user, application=form.application_data(), **fields
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s terdaftar sebagai pendaftar %(code)s; menunggu keputusan ketua.")
                    % {"name": member.full_name, "code": member.code},
                )
                return redirect("members:detail", pk=member.pk)
    sections = [
        (title, [form[name] for name in names if name in form.fields]) for title, names in FORM_SECTIONS
    ]
    return render(
        request, "members/member_form.html", {"form": form, "sections": sections, "elsewhere": elsewhere}
    )


@staff_required
def application_queue(request):
    applications = (
        MembershipApplication.objects.for_user(request.user)
        .pending()
        .select_related(
            "member__lkmm", "member__business_type", "referee_member", "referee_board", "submitted_by"
        )
        .order_by("submitted_at")
    )
    applications = list(applications)
    # One form per card, each with its own ids, so a label checks the radio of its own card.
    edits = services.member_edits(application.member_id for application in applications)
    for application in applications:
        if _may_decide(request.user, application, edits):
            application.decision_form = DecisionForm(auto_id=f"id_{application.pk}_%s")
    return render(request, "members/application_queue.html", {"applications": applications})


@require_POST
@recorder_required
def member_decide(request, pk):
    member = _member_for(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.member_transition(
                member=member,
                to=form.cleaned_data["decision"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            approved = form.cleaned_data["decision"] == MemberStatus.AKTIF
            messages.success(
                request,
                (_("%(name)s diterima sebagai anggota.") if approved else _("Permohonan %(name)s ditolak."))
                % {"name": member.full_name},
            )
    else:
        messages.error(request, _("Pilih setujui atau tolak."))
    if request.POST.get("next") == "queue":
        return redirect("members:applications")
    return redirect("members:detail", pk=member.pk)


@require_POST
@recorder_required
def member_status(request, pk):
    member = _member_for(request, pk)
    form = StatusForm(request.POST, member=member)
    if form.is_valid():
        try:
            services.member_transition(
                member=member,
                to=form.cleaned_data["to"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Status %(name)s diubah.") % {"name": member.full_name})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("members:detail", pk=member.pk)


@recorder_required
def member_reapply(request, pk):
    member = _member_for(request, pk)
    if member.status not in (MemberStatus.DITOLAK, MemberStatus.KELUAR):
        messages.error(
            request, _("Hanya pendaftar yang ditolak atau anggota yang sudah keluar dapat mendaftar ulang.")
        )
        return redirect("members:detail", pk=member.pk)
    form = ReapplyForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_transition(
                member=member,
                to=MemberStatus.PENDAFTAR,
                actor=request.user,
                application=form.application_data(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Permohonan baru %(name)s dicatat.") % {"name": member.full_name})
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/reapply_form.html", {"form": form, "member": member})


@recorder_required
def income_create(request, pk):
    member = _member_for(request, pk)
    form = IncomeForm(request.POST or None, initial={"recorded_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.income_record(member=member, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Catatan pendapatan disimpan."))
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/income_form.html", {"form": form, "member": member})


@staff_required
def duplicates(request):
    """People who are members of several LKMMs: for the Dinas only."""
    if not request.user.staff.is_dinas:
        raise PermissionDenied
    rows = members_in_several_lkmms(at=timezone.localdate(), user=request.user)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "members/duplicates.html", {"page": page})


@recorder_required
def member_edit(request, pk):
    """Correct a member's details with a reason; the member page shows the history."""
    member = _member_for(request, pk)
    if member.lkmm_id != request.user.staff.lkmm_id:
        raise PermissionDenied
    form = MemberEditForm(
        request.POST or None,
        request.FILES or None,
        instance=member,
        lkmm=member.lkmm,
        may_change_identity=request.user.staff.approves,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(
                member=member, actor=request.user, reason=form.cleaned_data["reason"], changes=form.changes()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Data %(name)s diperbarui.") % {"name": member.full_name})
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/member_edit.html", {"form": form, "member": member})
