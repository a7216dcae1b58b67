from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions import decisions, services
from institutions.access import decider_required, deciders_of, may_decide, staff_required
from institutions.forms import BoardMeetingForm, BoardSeatFormSet, DecisionNoteForm, add_service_errors
from institutions.inbox import inbox
from institutions.models import (
    BoardMember,
    BoardRole,
    CommunityMeeting,
    DecisionRequest,
    ElectionMethod,
    Lkmm,
    RequestStatus,
)

_ROLE_RANK = {role: rank for rank, role in enumerate(BoardRole.values)}


def _by_role(seats):
    return sorted(seats, key=lambda seat: (_ROLE_RANK.get(seat.role, len(_ROLE_RANK)), seat.name))


@staff_required
def board_home(request):
    """LKMM staff go to their own board; Dinas reviewers choose an LKMM."""
    staff = request.user.staff
    if staff.lkmm_id is not None:
        return redirect("board:detail", code=staff.lkmm.code)
    today = timezone.localdate()
    lkmms = list(
        Lkmm.objects.for_user(request.user)
        .annotate(last_meeting_on=Max("meetings__held_on"))
        .prefetch_related(
            Prefetch(
                "board",
                queryset=BoardMember.objects.current(today).filter(role=BoardRole.KETUA),
                to_attr="current_ketua",
            )
        )
    )
    return render(request, "institutions/board_list.html", {"lkmms": lkmms})


@staff_required
def board_detail(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    today = timezone.localdate()
    current = _by_role(
        BoardMember.objects.filter(lkmm=lkmm).current(today).select_related("meeting", "member", "user")
    )
    chosen_by = sorted({seat.meeting for seat in current}, key=lambda m: (m.held_on, m.pk), reverse=True)
    past = list(
        CommunityMeeting.objects.filter(lkmm=lkmm)
        .exclude(pk__in=[meeting.pk for meeting in chosen_by])
        .prefetch_related(
            Prefetch("board_members", queryset=BoardMember.objects.select_related("member", "user"))
        )
    )
    for meeting in past:
        meeting.seats = _by_role(meeting.board_members.all())
    return render(
        request,
        "institutions/board_detail.html",
        {"lkmm": lkmm, "current": current, "chosen_by": chosen_by, "past": past, "today": today},
    )


@decider_required
def board_elect(request, code):
    lkmm = get_object_or_404(Lkmm.objects.for_user(request.user), code=code)
    form = BoardMeetingForm(
        request.POST or None, initial={"held_on": timezone.localdate(), "method": ElectionMethod.MUSYAWARAH}
    )
    formset = BoardSeatFormSet(request.POST or None, lkmm=lkmm, prefix="seats")
    if request.method == "POST":
        # Validate both, so every mistake shows at once.
        meeting_valid, seats_valid = form.is_valid(), formset.is_valid()
        if meeting_valid and seats_valid:
            try:
                services.board_elect(lkmm=lkmm, actor=request.user, seats=formset.seats, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Pengurus baru %(lkmm)s dicatat.") % {"lkmm": lkmm.name})
                return redirect("board:detail", code=lkmm.code)
    return render(request, "institutions/board_form.html", {"lkmm": lkmm, "form": form, "formset": formset})


@staff_required
def request_list(request):
    """The decision inbox: for LKMM staff everything that waits at their LKMM (member and loan
    applications, approved loans to disburse, four-eyes requests); for Dinas reviewers the four-eyes
    requests of every LKMM they see. Then what was decided lately."""
    staff = request.user.staff
    requests = DecisionRequest.objects.for_user(request.user).select_related(
        "lkmm", "requested_by", "decided_by"
    )
    context = {"decided": list(requests.exclude(status=RequestStatus.WAITING)[:30])}
    if staff.lkmm_id:
        context["box"] = inbox(lkmm=staff.lkmm)
    else:
        context["waiting"] = list(requests.waiting()[:200])
    return render(request, "institutions/request_list.html", context)


def _borrower_record(item):
    """For a request about a loan (restructure, write-off, recovery, waiver), the decider sees the
    member's other loans, arrears and repayment record, as on a loan application."""
    from loans import selectors
    from loans.models import Loan

    kind, _sep, pk = item.target.partition(":")
    if kind != "loan" or not pk.isdigit():
        return None
    loan = Loan.objects.filter(lkmm=item.lkmm, pk=int(pk)).select_related("member").first()
    if loan is None:
        return None
    record = selectors.borrower_record(loan=loan, at=timezone.localdate())
    record["loan"] = loan
    return record


def _about_link(item):
    """(label, url) of the SHU page a request about the year's surplus or its funds is about, or None."""
    from django.urls import reverse

    kind, _sep, pk = item.target.partition(":")
    code = item.lkmm.code
    if kind == "shu_year" and pk.isdigit():
        from shu.models import ShuYear

        year = ShuYear.objects.filter(lkmm=item.lkmm, pk=int(pk)).values_list("year", flat=True).first()
        if year is not None:
            return _("Buka SHU tahun %(y)s") % {"y": year}, reverse("shu:year", args=[code, year])
    if kind == "shu_share" and pk.isdigit():
        from shu.models import ShuShare

        year = (
            ShuShare.objects.filter(shu_year__lkmm=item.lkmm, pk=int(pk))
            .values_list("shu_year__year", flat=True)
            .first()
        )
        if year is not None:
            return _("Buka SHU tahun %(y)s") % {"y": year}, reverse("shu:year", args=[code, year])
    if kind in ("fund", "fund_spending"):
        return _("Buka dana sosial dan dana pengurus"), reverse("shu:sosial", args=[code])
    return None


@staff_required
def request_detail(request, pk):
    item = get_object_or_404(
        DecisionRequest.objects.for_user(request.user).select_related("lkmm", "requested_by", "decided_by"),
        pk=pk,
    )
    waiting = item.status == RequestStatus.WAITING
    decides = waiting and may_decide(
        request.user, lkmm=item.lkmm, recorded_by=[item.recorded_by_id], requested_by=item.requested_by
    )
    withdraws = waiting and item.requested_by_id == request.user.pk
    form = DecisionNoteForm(request.POST or None)
    if request.method == "POST":
        if not (decides or withdraws):
            raise PermissionDenied
        action = request.POST.get("action")
        allowed = ("approve", "reject") * decides + ("withdraw",) * withdraws
        if form.is_valid() and action not in allowed:
            form.add_error(None, _("Pilih salah satu tombol keputusan."))
        if form.is_valid():
            try:
                if action == "withdraw":
                    decisions.request_withdraw(request=item, actor=request.user)
                else:
                    decisions.request_decide(
                        request=item,
                        actor=request.user,
                        approve=action == "approve",
                        note=form.cleaned_data["note"],
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                done = {
                    "approve": _("%(kind)s disetujui dan dijalankan."),
                    "reject": _("%(kind)s ditolak."),
                    "withdraw": _("%(kind)s ditarik."),
                }[action]
                messages.success(request, done % {"kind": item.get_kind_display()})
                return redirect("requests:detail", pk=item.pk)
    return render(
        request,
        "institutions/request_detail.html",
        {
            "item": item,
            "details": decisions.request_details(item),
            "borrower_record": _borrower_record(item),
            "about": _about_link(item),
            "form": form if (decides or withdraws) else None,
            "decides": decides,
            "withdraws": withdraws,
            "deciders": deciders_of(item.lkmm, excluded=item.excluded_ids) if waiting and not decides else [],
        },
    )
