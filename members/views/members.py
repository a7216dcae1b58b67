from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.access import recorder_required, staff_required
from institutions.forms import add_service_errors
from loans.models import Loan
from members.forms.members import MemberFilterForm, MemberForm
from members.models import Member
from members.services import member_register


@staff_required
def member_list(request):
    today = timezone.localdate()
    form = MemberFilterForm(request.GET or None)
    members = Member.objects.for_user(request.user).select_related("lkmm")
    if form.is_valid():
        members = members.search(form.cleaned_data["q"])
        if form.cleaned_data["status"]:
            members = members.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["arrears"]:
            members = members.in_arrears(today)
    members = members.annotate(in_arrears=Exists(Loan.objects.past_due(today).filter(member=OuterRef("pk"))))
    page = Paginator(members, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "members/member_list.html",
        {"page": page, "form": form, "query": query.urlencode()},
    )


@staff_required
def member_detail(request, pk):
    member = get_object_or_404(Member.objects.for_user(request.user).select_related("lkmm"), pk=pk)
    loans = Loan.objects.filter(member=member).select_related("product").with_standing(timezone.localdate())
    return render(request, "members/member_detail.html", {"member": member, "loans": loans})


@recorder_required
def member_create(request):
    lkmm = request.user.staff.lkmm
    form = MemberForm(
        request.POST or None,
        lkmm=lkmm,
        initial={"joined_on": timezone.localdate(), "desa": lkmm.desa},
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            member = member_register(lkmm=lkmm, actor=request.user, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Anggota %(name)s terdaftar sebagai %(code)s.")
                % {"name": member.full_name, "code": member.code},
            )
            return redirect("members:detail", pk=member.pk)
    return render(request, "members/member_form.html", {"form": form})
