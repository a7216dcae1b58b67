"""SHU pages: the year's page (rules in force, the preview or the distributed shares, the remainders),
the rules, the year-end close, the rapat anggota's decision and its reversal, a left member's share
collected, dana sosial spending and its reversal, and the printable report and member slip with their
XLSX and CSV. Each decision acts at once for the ketua (or a named approver) and becomes a request for
another approver under four eyes (institutions.decisions.act_or_request). LKMM staff see their own LKMM
(another's: 404); Dinas reviewers read every LKMM they may see and change nothing."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from institutions.access import DECIDE, deciders_of, decision_mode, may_decide, staff_required
from institutions.decisions import act_or_request, announce
from institutions.forms import add_service_errors
from institutions.models import DecisionRequest, Lkmm, RequestKind, RequestStatus
from institutions.templatetags.lkmm_format import format_rupiah
from ledger.models import AccountCode, PeriodClose
from reports import exports
from shu import selectors, services
from shu.forms import (
    CollectForm,
    DistributeForm,
    RuleForm,
    ShuReverseForm,
    SosialReverseForm,
    SosialSpendForm,
    YearCloseForm,
)
from shu.models import Fund, FundSpending, ShuReversal, ShuRule, ShuShare, ShuYear


def _lkmm(request, code):
    return get_object_or_404(Lkmm.objects.for_user(request.user), code=code)


def _own(request, lkmm):
    """The LKMM's own recorder (ketua or pengelola): the only ones offered changes."""
    staff = request.user.staff
    return staff.records and staff.lkmm_id == lkmm.pk


def _mode(request, lkmm):
    """DECIDE (act now), REQUEST (propose it under four eyes) or None (not this person's to touch)."""
    return decision_mode(request.user, lkmm=lkmm) if _own(request, lkmm) else None


def _act(form, **kwargs):
    """Run or propose the decision; a refusal goes next to the form's fields. Returns (done, waiting)
    or None when refused."""
    try:
        return act_or_request(**kwargs)
    except ValidationError as exc:
        add_service_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def _four_eyes_context(request, lkmm, mode, *, excluded=()):
    """What a decision page tells whoever will only propose it: who may decide."""
    if mode == DECIDE or mode is None:
        return {"decides": mode == DECIDE, "deciders": []}
    return {"decides": False, "deciders": deciders_of(lkmm, excluded={request.user.pk, *excluded})}


def _year(year):
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404
    return year


@staff_required
def home(request):
    """The LKMM's SHU of last year; a Dinas reviewer chooses the LKMM."""
    staff = request.user.staff
    last = timezone.localdate().year - 1
    if staff.lkmm_id:
        return redirect("shu:year", code=staff.lkmm.code, year=last)
    lkmms = Lkmm.objects.for_user(request.user).filter(is_active=True).order_by("name")
    return render(request, "shu/home.html", {"lkmms": lkmms, "year": last})


def _closable_years(lkmm):
    """Years whose December is closed and which are not closed yet (two queries)."""
    decembers = PeriodClose.objects.filter(lkmm=lkmm, month__month=12, reopened_at__isnull=True).values_list(
        "month__year", flat=True
    )
    closed = set(ShuYear.objects.filter(lkmm=lkmm).values_list("year", flat=True))
    return sorted({y for y in decembers if y not in closed}, reverse=True)


def _rows_block(preview):
    header = [
        _("No. anggota"),
        _("Nama"),
        _("Status"),
        _("Rata-rata simpanan"),
        _("Bunga dibayar"),
        _("Jasa simpanan"),
        _("Jasa pinjaman"),
        _("Jumlah SHU"),
    ]
    rows = [
        [
            r.member.code,
            r.member.full_name,
            r.member.get_status_display(),
            r.average_savings,
            r.interest_paid,
            r.jasa_simpanan,
            r.jasa_pinjaman,
            r.total,
        ]
        for r in preview.rows
    ]
    footer = [
        [
            "",
            _("Jumlah"),
            "",
            sum(r.average_savings for r in preview.rows),
            sum(r.interest_paid for r in preview.rows),
            sum(r.jasa_simpanan for r in preview.rows),
            sum(r.jasa_pinjaman for r in preview.rows),
            preview.members_total,
        ]
    ]
    return exports.Block(header, rows, footer)


def _pools_block(preview):
    pools = preview.pools
    return exports.Block(
        [_("Pos"), _("Jumlah")],
        [
            [_("SHU tahun %(y)s") % {"y": preview.year}, preview.result],
            [_("Cadangan (modal)"), pools["reserve"]],
            [_("Jasa simpanan"), pools["jasa_simpanan"]],
            [_("Jasa pinjaman"), pools["jasa_pinjaman"]],
            [_("Dana sosial"), pools["dana_sosial"]],
            [_("Dana pengurus"), pools["pengurus"]],
            [_("Sisa pembulatan jasa simpanan"), preview.remainder_simpanan],
            [_("Sisa pembulatan jasa pinjaman"), preview.remainder_pinjaman],
        ],
        [[_("Cadangan diterima"), preview.reserve_total]],
    )


@staff_required
def year_page(request, code, year):
    lkmm = _lkmm(request, code)
    year = _year(year)
    preview = selectors.preview(lkmm=lkmm, year=year)
    fmt = request.GET.get("format", "html")
    if fmt != "html":
        if fmt not in exports.FORMATS:
            raise Http404
        return exports.download(
            fmt,
            filename=f"shu-{lkmm.code}-{year}",
            title=[_("SHU tahun %(y)s") % {"y": year}, lkmm.name],
            blocks=[_pools_block(preview), _rows_block(preview)],
        )
    own, today = _own(request, lkmm), timezone.localdate()
    shu_year = preview.shu_year
    # The four-eyes requests about this year waiting for a decision (close, sharing, its reversal).
    targets = Q(target=f"year:{year}", kind=RequestKind.YEAR_CLOSE)
    if shu_year is not None:
        targets |= Q(target=f"shu_year:{shu_year.pk}")
    waiting_requests = (
        list(
            DecisionRequest.objects.filter(targets, lkmm=lkmm, status=RequestStatus.WAITING).select_related(
                "requested_by"
            )
        )
        if own
        else []
    )
    waiting_kinds = {item.kind for item in waiting_requests}
    mode = _mode(request, lkmm)
    closable = (
        mode is not None
        and shu_year is None
        and RequestKind.YEAR_CLOSE not in waiting_kinds
        and year in _closable_years(lkmm)
    )
    decides = own and may_decide(request.user, lkmm=lkmm)
    return render(
        request,
        "shu/year.html",
        {
            "lkmm": lkmm,
            "year": year,
            # The last few years (an older one is reached by its address).
            "years": list(range(today.year, max(lkmm.founded_on.year, today.year - 5) - 1, -1)),
            "preview": preview,
            "shu_year": shu_year,
            "own": own,
            "decides": decides,
            "mode": mode,
            "closable": closable,
            "waiting_requests": waiting_requests,
            "may_distribute": mode is not None
            and shu_year is not None
            and shu_year.result > 0
            and not shu_year.distributed
            and RequestKind.SHU_DISTRIBUTION not in waiting_kinds,
            "may_reverse": mode is not None
            and shu_year is not None
            and shu_year.distributed
            and RequestKind.SHU_REVERSAL not in waiting_kinds,
            # Held shares may be paid out by whoever may decide or propose it.
            "may_collect": mode is not None,
            "reversals": ShuReversal.objects.filter(shu_year=shu_year).select_related("reversed_by")
            if shu_year is not None
            else [],
            "rules": ShuRule.objects.filter(lkmm=lkmm).select_related("created_by")[:10],
            "fund": selectors.fund_balance(lkmm=lkmm),
        },
    )


@staff_required
def rules(request, code):
    lkmm = _lkmm(request, code)
    if not _own(request, lkmm) or not may_decide(request.user, lkmm=lkmm):
        raise PermissionDenied
    current = selectors.rule_in_force(lkmm=lkmm, year=timezone.localdate().year)
    initial = {"from_year": timezone.localdate().year}
    if current is not None:
        initial.update(current.percents)
    form = RuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.rule_set(lkmm=lkmm, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Aturan pembagian SHU disimpan sebagai versi baru."))
            year = min(form.cleaned_data["from_year"], timezone.localdate().year)
            return redirect("shu:year", code=lkmm.code, year=year)
    history = ShuRule.objects.filter(lkmm=lkmm).select_related("created_by")
    return render(request, "shu/rules.html", {"lkmm": lkmm, "form": form, "history": history})


@require_POST
@staff_required
def close(request, code):
    """Tutup tahun: the ketua closes at once; under four eyes it becomes a request for another approver."""
    lkmm = _lkmm(request, code)
    if not _own(request, lkmm):
        raise PermissionDenied
    mode = decision_mode(request.user, lkmm=lkmm)
    if mode is None:
        raise PermissionDenied
    form = YearCloseForm(request.POST, years=_closable_years(lkmm))
    if form.is_valid():
        year = form.cleaned_data["year"]
        try:
            _done, waiting = act_or_request(
                mode=mode,
                kind=RequestKind.YEAR_CLOSE,
                lkmm=lkmm,
                actor=request.user,
                target=f"year:{year}",
                summary=_("Tutup tahun %(y)s") % {"y": year},
                year=year,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            announce(request, waiting, _("Tahun %(y)s ditutup.") % {"y": year})
        return redirect("shu:year", code=lkmm.code, year=year)
    messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("shu:home")


@staff_required
def distribute(request, code, year):
    """The rapat anggota's decision recorded and carried out; under four eyes, proposed."""
    lkmm = _lkmm(request, code)
    mode = _mode(request, lkmm)
    if mode is None:
        raise PermissionDenied
    shu_year = get_object_or_404(ShuYear, lkmm=lkmm, year=_year(year))
    if shu_year.distributed or shu_year.result <= 0:
        return redirect("shu:year", code=lkmm.code, year=year)
    form = DistributeForm(request.POST or None, initial={"decided_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        acted = _act(
            form,
            mode=mode,
            kind=RequestKind.SHU_DISTRIBUTION,
            lkmm=lkmm,
            actor=request.user,
            target=f"shu_year:{shu_year.pk}",
            summary=_("Pembagian SHU %(y)s, berita acara %(no)s")
            % {"y": year, "no": form.cleaned_data["minutes_no"]},
            shu_year=shu_year,
            **form.cleaned_data,
        )
        if acted is not None:
            announce(
                request, acted[1], _("Keputusan rapat anggota dicatat dan SHU %(y)s dibagikan.") % {"y": year}
            )
            return redirect("shu:year", code=lkmm.code, year=year)
    preview = selectors.preview(lkmm=lkmm, year=year)
    return render(
        request,
        "shu/distribute.html",
        {
            "lkmm": lkmm,
            "year": year,
            "form": form,
            "preview": preview,
            **_four_eyes_context(request, lkmm, mode),
        },
    )


@staff_required
def distribution_reverse(request, code, year):
    """A recorded distribution reversed from a date, with a reason; under four eyes, proposed."""
    lkmm = _lkmm(request, code)
    mode = _mode(request, lkmm)
    if mode is None:
        raise PermissionDenied
    shu_year = get_object_or_404(
        ShuYear.objects.select_related("distributed_by"), lkmm=lkmm, year=_year(year)
    )
    if not shu_year.distributed:
        return redirect("shu:year", code=lkmm.code, year=year)
    form = ShuReverseForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        acted = _act(
            form,
            mode=mode,
            kind=RequestKind.SHU_REVERSAL,
            lkmm=lkmm,
            actor=request.user,
            target=f"shu_year:{shu_year.pk}",
            summary=_("Pembatalan pembagian SHU %(y)s, berita acara %(no)s")
            % {"y": year, "no": shu_year.minutes_no},
            recorded_by=shu_year.distributed_by,
            shu_year=shu_year,
            **form.cleaned_data,
        )
        if acted is not None:
            announce(request, acted[1], _("Pembagian SHU %(y)s dibatalkan.") % {"y": year})
            return redirect("shu:year", code=lkmm.code, year=year)
    preview = selectors.preview(lkmm=lkmm, year=year)
    return render(
        request,
        "shu/reverse.html",
        {
            "lkmm": lkmm,
            "year": year,
            "shu_year": shu_year,
            "form": form,
            "preview": preview,
            **_four_eyes_context(request, lkmm, mode, excluded={shu_year.distributed_by_id}),
        },
    )


@staff_required
def collect(request, pk):
    share = get_object_or_404(
        ShuShare.objects.select_related("shu_year__lkmm", "member").filter(
            shu_year__lkmm__in=Lkmm.objects.for_user(request.user)
        ),
        pk=pk,
    )
    lkmm = share.shu_year.lkmm
    mode = _mode(request, lkmm)
    if mode is None:
        raise PermissionDenied
    if not share.waiting:
        return redirect("shu:year", code=lkmm.code, year=share.shu_year.year)
    form = CollectForm(request.POST or None, initial={"on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        acted = _act(
            form,
            mode=mode,
            kind=RequestKind.SHU_COLLECT,
            lkmm=lkmm,
            actor=request.user,
            target=f"shu_share:{share.pk}",
            summary=_("SHU %(y)s %(name)s %(amount)s")
            % {
                "y": share.shu_year.year,
                "name": share.member.full_name,
                "amount": format_rupiah(share.total),
            },
            share=share,
            **form.cleaned_data,
        )
        if acted is not None:
            announce(request, acted[1], _("SHU %(name)s dibayarkan.") % {"name": share.member.full_name})
            return redirect("shu:year", code=lkmm.code, year=share.shu_year.year)
    return render(
        request,
        "shu/collect.html",
        {"share": share, "form": form, "lkmm": lkmm, **_four_eyes_context(request, lkmm, mode)},
    )


@staff_required
def sosial(request, code):
    """Dana sosial and dana pengurus: their balances, what was spent from them, and (whoever may decide
    it or, under four eyes, propose it) a new spending."""
    lkmm = _lkmm(request, code)
    mode = _mode(request, lkmm)
    form = None
    if mode is not None:
        form = SosialSpendForm(request.POST or None, initial={"on": timezone.localdate(), "fund": "sosial"})
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            acted = _act(
                form,
                mode=mode,
                kind=RequestKind.FUND_SPEND,
                lkmm=lkmm,
                actor=request.user,
                target=f"fund:{data['fund']}:{data['on']:%Y%m%d}:{data['amount']}"[:40],
                summary=f"{Fund(data['fund']).label}: {data['description']}, {format_rupiah(data['amount'])}",
                **data,
            )
            if acted is not None:
                announce(request, acted[1], _("Penggunaan dana sosial dicatat."))
                return redirect("shu:sosial", code=lkmm.code)
    spendings = FundSpending.objects.filter(lkmm=lkmm).select_related("recorded_by", "reversed_by")
    waiting_reversals = set()
    if mode is not None:
        waiting_reversals = {
            int(target.partition(":")[2])
            for target in DecisionRequest.objects.filter(
                lkmm=lkmm, kind=RequestKind.FUND_REVERSAL, status=RequestStatus.WAITING
            ).values_list("target", flat=True)
        }
    return render(
        request,
        "shu/sosial.html",
        {
            "lkmm": lkmm,
            "form": form,
            "mode": mode,
            "spendings": spendings,
            "waiting_reversals": waiting_reversals,
            "fund": selectors.fund_balance(lkmm=lkmm),
            "pengurus": selectors.fund_balance(lkmm=lkmm, code=AccountCode.DANA_PENGURUS),
            **_four_eyes_context(request, lkmm, mode),
        },
    )


@staff_required
def sosial_reverse(request, pk):
    spending = get_object_or_404(
        FundSpending.objects.for_user(request.user).select_related("lkmm", "recorded_by"), pk=pk
    )
    lkmm = spending.lkmm
    mode = _mode(request, lkmm)
    if mode is None:
        raise PermissionDenied
    if spending.reversed_on is not None:
        return redirect("shu:sosial", code=lkmm.code)
    form = SosialReverseForm(request.POST or None, initial={"on": timezone.localdate()})
    amount = format_rupiah(spending.amount)
    if request.method == "POST" and form.is_valid():
        acted = _act(
            form,
            mode=mode,
            kind=RequestKind.FUND_REVERSAL,
            lkmm=lkmm,
            actor=request.user,
            target=f"fund_spending:{spending.pk}",
            summary=f"{spending.get_fund_display()}: {spending.description}, {amount}",
            recorded_by=spending.recorded_by,
            spending=spending,
            **form.cleaned_data,
        )
        if acted is not None:
            announce(request, acted[1], _("Penggunaan dana sosial dibatalkan."))
            return redirect("shu:sosial", code=lkmm.code)
    return render(
        request,
        "shu/sosial_reverse.html",
        {
            "spending": spending,
            "form": form,
            "lkmm": lkmm,
            **_four_eyes_context(request, lkmm, mode, excluded={spending.recorded_by_id}),
        },
    )


@staff_required
def report(request, code, year):
    """The LKMM's SHU report on A4."""
    lkmm = _lkmm(request, code)
    preview = selectors.preview(lkmm=lkmm, year=_year(year))
    return render(
        request,
        "shu/report.html",
        {"lkmm": lkmm, "year": year, "preview": preview, "today": timezone.localdate()},
    )


@staff_required
def slip(request, code, year, member_pk):
    """One member's SHU slip on A4: the figures their share was computed from."""
    lkmm = _lkmm(request, code)
    preview = selectors.preview(lkmm=lkmm, year=_year(year))
    row = next((r for r in preview.rows if r.member.pk == member_pk), None)
    if row is None:
        raise Http404
    return render(
        request,
        "shu/slip.html",
        {"lkmm": lkmm, "year": year, "preview": preview, "row": row, "today": timezone.localdate()},
    )
