"""Coaching (pembinaan) pages. Reviewers record visits, trainings and quarterly meetings and their
follow-ups; a follow-up's owner or a reviewer marks it done; LKMM staff read their own LKMM's records.
Another LKMM's record or follow-up answers 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from coaching import services
from coaching.forms import CoachingRecordForm, FollowUpDoneForm, FollowUpForm
from coaching.models import CoachingRecord, FollowUp
from institutions.access import _role_required, staff_required
from institutions.forms import add_service_errors
from institutions.models import Lkmm
from institutions.templatetags.lkmm_format import person
from reports import exports

# Dinas reviewers: the only ones who record coaching (DOMAIN.md).
reviewer_required = _role_required(lambda staff: staff.is_dinas)


def dinas_writes(view):
    """Marks a view where a Dinas reviewer may POST (coaching is the reviewer's to write), for any check
    that refuses the Dinas's POSTs elsewhere: such a check reads `view.dinas_writes`."""
    view.dinas_writes = True
    return view


RECORDS_PER_PAGE = 30


def _download(fmt, filename, title, blocks):
    if fmt not in exports.FORMATS:
        raise Http404
    today = timezone.localdate()
    return exports.download(
        fmt,
        filename=f"{filename}-{today:%Y-%m-%d}",
        title=[title, _("Per %(d)s") % {"d": f"{today:%d/%m/%Y}"}],
        blocks=blocks,
    )


@staff_required
def record_list(request):
    records = CoachingRecord.objects.for_user(request.user).select_related("recorded_by")
    lkmm = None
    if request.GET.get("lkmm"):
        lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=request.GET["lkmm"])
        records = records.filter(lkmms=lkmm)
    records = records.prefetch_related(Prefetch("lkmms", queryset=Lkmm.objects.only("code", "name")))
    fmt = request.GET.get("format")
    if fmt:
        return _download(
            fmt,
            "pembinaan" + (f"-{lkmm.code}" if lkmm else ""),
            _("Catatan pembinaan"),
            [
                exports.Block(
                    [
                        _("Tanggal"),
                        _("Jenis"),
                        _("LKMM"),
                        _("Topik"),
                        _("Yang hadir"),
                        _("Temuan"),
                        _("Dicatat oleh"),
                    ],
                    [
                        [
                            record.held_on,
                            record.get_kind_display(),
                            ", ".join(item.name for item in record.lkmms.all()),
                            record.topic,
                            record.attendees,
                            record.findings,
                            person(record.recorded_by),
                        ]
                        for record in records
                    ],
                )
            ],
        )
    page = Paginator(records, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    follow_ups = FollowUp.objects.for_user(request.user).for_box()
    if lkmm is not None:
        follow_ups = follow_ups.filter(lkmm=lkmm)
    return render(
        request,
        "coaching/record_list.html",
        {"page": page, "records": page.object_list, "lkmm": lkmm, "follow_ups": follow_ups},
    )


@staff_required
def follow_up_list(request):
    """Open follow-ups (?status=terlambat: only the overdue ones), the most overdue first."""
    follow_ups = FollowUp.objects.for_user(request.user).for_box()
    overdue_only = request.GET.get("status") == "terlambat"
    if overdue_only:
        follow_ups = follow_ups.filter(due_on__lt=timezone.localdate())
    fmt = request.GET.get("format")
    if fmt:
        return _download(
            fmt,
            "tindak-lanjut",
            _("Tindak lanjut pembinaan yang terbuka"),
            [
                exports.Block(
                    [
                        _("Batas waktu"),
                        _("LKMM"),
                        _("Tindak lanjut"),
                        _("Penanggung jawab"),
                        _("Pembinaan"),
                        _("Terlambat"),
                    ],
                    [
                        [
                            item.due_on,
                            item.lkmm.name,
                            item.action,
                            person(item.owner),
                            f"{item.record.held_on:%d/%m/%Y} {item.record.topic}",
                            _("ya") if item.is_overdue else _("tidak"),
                        ]
                        for item in follow_ups
                    ],
                )
            ],
        )
    page = Paginator(follow_ups, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "coaching/follow_up_list.html",
        {"page": page, "follow_ups": page.object_list, "overdue_only": overdue_only},
    )


@dinas_writes
@reviewer_required
def record_create(request):
    initial = {"held_on": timezone.localdate()}
    if request.GET.get("lkmm"):
        initial["lkmms"] = Lkmm.objects.for_user(request.user).filter(code=request.GET["lkmm"])
    form = CoachingRecordForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.coaching_record_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Catatan pembinaan disimpan. Tambahkan tindak lanjutnya di bawah."))
            return redirect("coaching:detail", pk=record.pk)
    return render(request, "coaching/record_form.html", {"form": form})


def _record(request, pk):
    return get_object_or_404(
        CoachingRecord.objects.for_user(request.user).select_related("recorded_by"), pk=pk
    )


@staff_required
def record_detail(request, pk):
    record = _record(request, pk)
    follow_ups = list(
        FollowUp.objects.for_user(request.user)
        .filter(record=record)
        .select_related("lkmm", "owner", "done_by")
        .order_by("lkmm__name", "due_on", "pk")
    )
    for item in follow_ups:
        item.may_mark_done = services.may_mark_done(request.user, item)
    reviewer = services.is_reviewer(request.user)
    return render(
        request,
        "coaching/record_detail.html",
        {
            "record": record,
            "lkmms": record.lkmms.for_user(request.user).order_by("name"),
            "follow_ups": follow_ups,
            "add_form": FollowUpForm(record=record, user=request.user) if reviewer else None,
        },
    )


@dinas_writes
@reviewer_required
def follow_up_add(request, pk):
    record = _record(request, pk)
    form = FollowUpForm(request.POST or None, record=record, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_create(actor=request.user, record=record, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tindak lanjut dicatat."))
            return redirect("coaching:detail", pk=record.pk)
    return render(request, "coaching/follow_up_form.html", {"record": record, "form": form})


@dinas_writes
@staff_required
def follow_up_done(request, pk):
    follow_up = get_object_or_404(
        FollowUp.objects.for_user(request.user).select_related("record", "lkmm", "owner"), pk=pk
    )
    if request.user.pk != follow_up.owner_id and not services.is_reviewer(request.user):
        raise PermissionDenied
    form = FollowUpDoneForm(request.POST or None, initial={"done_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_done(actor=request.user, follow_up=follow_up, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Tindak lanjut ditandai selesai."))
            return redirect("coaching:detail", pk=follow_up.record_id)
    return render(request, "coaching/follow_up_done.html", {"follow_up": follow_up, "form": form})
