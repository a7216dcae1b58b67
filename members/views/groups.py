import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from institutions.access import recorder_required, staff_required
from institutions.forms import add_service_errors
from institutions.models import AuditLog
from members import services
from members.forms.groups import GroupAddMemberForm, GroupCreateForm, GroupForm, GroupRemoveMemberForm
from members.models import Group
from members.selectors import group_members_with_standing


def _group_for(request, pk):
    return get_object_or_404(Group.objects.for_user(request.user).select_related("lkmm", "leader"), pk=pk)


@staff_required
def group_list(request):
    groups = (
        Group.objects.for_user(request.user)
        .with_size()
        .select_related("lkmm", "leader")
        .order_by("-is_active", "lkmm__name", "name")
    )
    return render(request, "members/group_list.html", {"groups": groups})


def _edits(group):
    """Changes to the group's name, meeting and leader, newest first, from the audit trail."""
    edits = list(
        AuditLog.objects.filter(
            object_type="members.group", object_id=group.pk, action="group.update"
        ).select_related("actor")[:20]
    )
    for edit in edits:
        edit.rows = [
            (Group._meta.get_field(name).verbose_name, old, new)
            for name, (old, new) in edit.data.get("changes", {}).items()
        ]
    return [edit for edit in edits if edit.rows]


def _render_detail(request, group, *, add_form=None, remove_form=None):
    today = timezone.localdate()
    members = list(group_members_with_standing(group=group, at=today))
    for member in members:
        due = member.loan_oldest_overdue_on
        member.days_past_due = (today - due).days if due is not None else 0
    context = {
        "group": group,
        "members": members,
        "today": today,
        "size": len(members),
        "too_small": len(members) < group.lkmm.group_min_size,
        "outstanding_total": sum(m.loan_outstanding or 0 for m in members),
        "overdue_total": sum(m.loan_overdue or 0 for m in members),
        "in_arrears": sum(1 for m in members if m.days_past_due),
        "edits": _edits(group),
    }
    staff = request.user.staff
    if staff.records and staff.lkmm_id == group.lkmm_id and group.is_active:
        context["add_form"] = add_form or GroupAddMemberForm(group=group)
        context["remove_form"] = remove_form or GroupRemoveMemberForm(group=group)
    return render(request, "members/group_detail.html", context)


@staff_required
def group_detail(request, pk):
    return _render_detail(request, _group_for(request, pk))


@recorder_required
def group_create(request):
    lkmm = request.user.staff.lkmm
    form = GroupCreateForm(request.POST or None, lkmm=lkmm)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(lkmm=lkmm, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Kelompok %(name)s dibentuk.") % {"name": group.name})
            return redirect("members:group_detail", pk=group.pk)
    return render(request, "members/group_form.html", {"form": form, "lkmm": lkmm})


@recorder_required
def group_edit(request, pk):
    group = _group_for(request, pk)
    # The form works on a copy, so the page keeps showing the saved name if saving fails.
    form = GroupForm(request.POST or None, instance=copy.copy(group))
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Kelompok %(name)s disimpan.") % {"name": form.cleaned_data["name"]})
            return redirect("members:group_detail", pk=group.pk)
    return render(request, "members/group_form.html", {"form": form, "group": group})


@require_POST
@recorder_required
def group_add_member(request, pk):
    group = _group_for(request, pk)
    form = GroupAddMemberForm(request.POST, group=group)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            services.group_add_member(group=group, member=member, actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s masuk kelompok ini.") % {"name": member.full_name})
            return redirect("members:group_detail", pk=group.pk)
    return _render_detail(request, group, add_form=form)


@require_POST
@recorder_required
def group_remove_member(request, pk):
    group = _group_for(request, pk)
    form = GroupRemoveMemberForm(request.POST, group=group)
    if form.is_valid():
        member = form.cleaned_data["member"]
        try:
            services.group_remove_member(group=group, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s keluar dari kelompok ini.") % {"name": member.full_name})
            return redirect("members:group_detail", pk=group.pk)
    return _render_detail(request, group, remove_form=form)
