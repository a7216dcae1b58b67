from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Max, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions import services
from institutions.access import ketua_required, staff_required
from institutions.forms import BoardMeetingForm, BoardSeatFormSet, add_service_errors
from institutions.models import BoardMember, BoardRole, CommunityMeeting, ElectionMethod, Lkmm

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


@ketua_required
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
