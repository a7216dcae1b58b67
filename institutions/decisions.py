"""Four-eyes requests: a decision proposed by one person and taken, or refused, by another approver.

Each kind names the service that acts at once without four eyes and the types of its inputs. A request
is checked when it is made by running that service in a transaction that is rolled back (so whoever
proposes sees every problem next to the field at once), and runs the same service again, with the
approver as actor, when it is approved: the books, the loan and the audit rows are the same either way.
"""

import datetime

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from institutions.access import DECIDE, check_decider, checking_request, deciders_of
from institutions.models import DecisionRequest, Lkmm, RequestKind, RequestStatus
from institutions.services import audit_record

# kind -> (service, {input: type}); a type is "date", "int", "str" or a model label (passed by id).
KINDS = {
    RequestKind.REVERSAL: (
        "loans.services.repayment_reverse",
        {"repayment": "loans.Repayment", "on": "date", "reason": "str"},
    ),
    RequestKind.WAIVER: (
        "loans.services.late_fees_waive",
        {"loan": "loans.Loan", "on": "date", "reason": "str"},
    ),
    RequestKind.RESTRUCTURE: (
        "loans.services.loan_restructure",
        {
            "loan": "loans.Loan",
            "on": "date",
            "product": "loans.LoanProduct",
            "reason": "str",
            "first_due": "date",
        },
    ),
    RequestKind.WRITE_OFF: (
        "risk.services.loan_write_off",
        {"loan": "loans.Loan", "on": "date", "reason": "str"},
    ),
    RequestKind.RECOVERY: (
        "risk.services.recovery_record",
        {"loan": "loans.Loan", "amount": "int", "received_on": "date", "note": "str"},
    ),
    RequestKind.RESERVE: (
        "risk.services.reserve_allocate",
        {"lkmm": "institutions.Lkmm", "on": "date", "amount": "int", "note": "str"},
    ),
    RequestKind.CLOSE: ("risk.services.month_close", {"lkmm": "institutions.Lkmm", "month": "date"}),
    RequestKind.REOPEN: ("risk.services.month_reopen", {"close": "ledger.PeriodClose", "reason": "str"}),
    RequestKind.WITHDRAWAL: (
        "savings.services.savings_withdraw",
        {"account": "savings.SavingsAccount", "amount": "int", "on": "date", "note": "str"},
    ),
    RequestKind.SAVINGS_REVERSAL: (
        "savings.services.savings_reverse",
        {"movement": "savings.SavingsMovement", "on": "date", "reason": "str"},
    ),
    RequestKind.SAVINGS_RETURN: (
        "savings.services.savings_return_all",
        {"member": "members.Member", "on": "date"},
    ),
    RequestKind.YEAR_CLOSE: ("shu.services.year_close", {"lkmm": "institutions.Lkmm", "year": "int"}),
    RequestKind.SHU_DISTRIBUTION: (
        "shu.services.shu_distribute",
        {
            "shu_year": "shu.ShuYear",
            "decided_on": "date",
            "decision": "str",
            "minutes_no": "str",
            "note": "str",
        },
    ),
    RequestKind.SHU_REVERSAL: (
        "shu.services.shu_reverse",
        {"shu_year": "shu.ShuYear", "on": "date", "reason": "str"},
    ),
    RequestKind.SHU_COLLECT: ("shu.services.share_collect", {"share": "shu.ShuShare", "on": "date"}),
    RequestKind.FUND_SPEND: (
        "shu.services.sosial_spend",
        {
            "lkmm": "institutions.Lkmm",
            "fund": "str",
            "on": "date",
            "purpose": "str",
            "description": "str",
            "amount": "int",
        },
    ),
    RequestKind.FUND_REVERSAL: (
        "shu.services.sosial_reverse",
        {"spending": "shu.FundSpending", "on": "date", "reason": "str"},
    ),
}


class _RollBack(Exception):
    pass


def _encode(kind, inputs):
    payload = {}
    for name, kind_of in KINDS[kind][1].items():
        value = inputs.get(name)
        if value is None:
            payload[name] = None
        elif kind_of == "date":
            payload[name] = value.isoformat()
        elif kind_of in ("int", "str"):
            payload[name] = value
        else:
            payload[name] = value.pk
    return payload


def _decode(kind, payload):
    inputs = {}
    for name, kind_of in KINDS[kind][1].items():
        value = payload.get(name)
        if value is None:
            inputs[name] = None if kind_of != "str" else ""
        elif kind_of == "date":
            inputs[name] = datetime.date.fromisoformat(value)
        elif kind_of in ("int", "str"):
            inputs[name] = value
        else:
            inputs[name] = apps.get_model(kind_of)._default_manager.get(pk=value)
    return inputs


def _service(kind):
    return import_string(KINDS[kind][0])


def _with_lkmm(kind, lkmm, inputs):
    """Decisions about the LKMM itself (reserve, close) take it as an input too."""
    return {**inputs, "lkmm": lkmm} if "lkmm" in KINDS[kind][1] else inputs


def _reason_of(inputs):
    return inputs.get("reason") or inputs.get("note") or inputs.get("description") or ""


@transaction.atomic
def request_create(*, kind, lkmm, actor, target, summary, recorded_by=None, **inputs):
    """Propose a decision under four eyes. Checked at once against the service; waits for another
    approver. `target` names what it is about (one waiting request per target and kind)."""
    staff = getattr(actor, "staff", None)
    if staff is None or not staff.records or staff.lkmm_id != lkmm.pk:
        raise PermissionDenied(_("Hanya pengurus LKMM ini yang dapat mengajukan keputusan."))
    lkmm = Lkmm.objects.select_for_update().get(pk=lkmm.pk)
    inputs = _with_lkmm(kind, lkmm, inputs)
    if not lkmm.four_eyes:
        raise ValidationError(_("LKMM ini tidak memakai empat mata: ketua memutuskan langsung."))
    try:
        with transaction.atomic(), checking_request():
            _service(kind)(actor=actor, requested_by=actor, **inputs)
            raise _RollBack
    except _RollBack:
        pass
    request = DecisionRequest(
        lkmm=lkmm,
        kind=kind,
        target=target,
        summary=summary[:200],
        payload=_encode(kind, inputs),
        reason=_reason_of(inputs),
        requested_by=actor,
        recorded_by=recorded_by,
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise ValidationError(_("Permintaan yang sama sudah menunggu keputusan.")) from None
    audit_record(
        actor=actor,
        action="request.create",
        obj=request,
        lkmm=lkmm,
        reason=request.reason,
        data={"kind": kind, "target": target, **request.payload},
    )
    return request


@transaction.atomic
def request_decide(*, request, actor, approve, note=""):
    """Approve (the service runs now, with `actor` as the approver) or refuse a waiting request."""
    request = (
        DecisionRequest.objects.select_for_update().select_related("lkmm", "requested_by").get(pk=request.pk)
    )
    if request.status != RequestStatus.WAITING:
        raise ValidationError(
            _("Permintaan ini sudah %(status)s.") % {"status": request.get_status_display().lower()}
        )
    check_decider(
        actor,
        lkmm=request.lkmm,
        what=request.get_kind_display().lower(),
        recorded_by=[request.recorded_by_id],
        requested_by=request.requested_by,
    )
    note = (note or "").strip()
    if approve:
        _service(request.kind)(
            actor=actor, requested_by=request.requested_by, **_decode(request.kind, request.payload)
        )
    elif not note:
        raise ValidationError({"note": _("Tulis alasan penolakan.")})
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit_record(
        actor=actor,
        action="request.approve" if approve else "request.reject",
        obj=request,
        lkmm=request.lkmm,
        reason=note,
        data={"kind": request.kind, "target": request.target},
    )
    return request


@transaction.atomic
def request_withdraw(*, request, actor):
    """Whoever proposed a request may take it back while it waits."""
    request = DecisionRequest.objects.select_for_update().get(pk=request.pk)
    if request.requested_by_id != actor.pk:
        raise PermissionDenied(_("Hanya yang mengajukan yang dapat menarik permintaan."))
    if request.status != RequestStatus.WAITING:
        raise ValidationError(_("Permintaan ini sudah diputuskan."))
    request.status = RequestStatus.WITHDRAWN
    request.save(update_fields=["status"])
    audit_record(actor=actor, action="request.withdraw", obj=request, lkmm=request.lkmm)
    return request


def act_or_request(*, mode, kind, lkmm, actor, target, summary, recorded_by=None, **inputs):
    """Take the decision now (DECIDE) or, under four eyes, propose it (REQUEST).

    Returns (the service's result, None) or (None, the waiting request).
    """
    if mode == DECIDE:
        return _service(kind)(actor=actor, **_with_lkmm(kind, lkmm, inputs)), None
    request = request_create(
        kind=kind, lkmm=lkmm, actor=actor, target=target, summary=summary, recorded_by=recorded_by, **inputs
    )
    return None, request


def loan_summary(loan):
    """How a request about a loan is named in the inbox: its code and its member."""
    return f"{loan.code} {loan.member.full_name}"


def announce(http_request, waiting, done):
    """The message after a decision page's confirm: the request now waiting, or `done`."""
    from django.contrib import messages

    if waiting:
        messages.info(http_request, requested_message(waiting))
    else:
        messages.success(http_request, done)


def requested_message(request):
    return _("%(kind)s diajukan; menunggu keputusan penyetuju lain (%(names)s).") % {
        "kind": request.get_kind_display(),
        "names": ", ".join(deciders_of(request.lkmm, excluded=request.excluded_ids)) or "-",
    }


def _labels():
    return {
        "repayment": _("Kuitansi"),
        "close": _("Bulan"),
        "loan": _("Pinjaman"),
        "on": _("Tanggal"),
        "received_on": _("Tanggal diterima"),
        "month": _("Bulan"),
        "product": _("Produk baru"),
        "first_due": _("Jatuh tempo pertama"),
        "amount": _("Jumlah"),
        "reason": _("Alasan"),
        "note": _("Catatan"),
        "account": _("Rekening simpanan"),
        "movement": _("Kuitansi"),
        "member": _("Anggota"),
        "year": _("Tahun"),
        "shu_year": _("SHU tahun"),
        "decided_on": _("Tanggal rapat anggota"),
        "decision": _("Keputusan rapat anggota"),
        "minutes_no": _("Nomor berita acara"),
        "share": _("SHU anggota"),
        "fund": _("Dana"),
        "purpose": _("Untuk"),
        "description": _("Keterangan"),
        "spending": _("Penggunaan dana"),
    }


def _choice_label(name, value):
    """A proposed choice (the rapat anggota's decision, a fund, a purpose) as its label."""
    from shu.models import Decision, Fund, SosialPurpose

    choices = {"decision": Decision, "fund": Fund, "purpose": SosialPurpose}.get(name)
    if choices is None or value not in choices.values:
        return value
    return choices(value).label


def _object_label(name, obj):
    """How a proposed decision's object is named on its page."""
    from institutions.templatetags.lkmm_format import format_rupiah

    if obj is None:
        return "-"
    if name == "shu_year":
        return obj.year
    if name == "share":
        return f"{obj.member.full_name} ({obj.member.code}), {obj.shu_year.year}: {format_rupiah(obj.total)}"
    if name == "spending":
        return f"{obj.get_fund_display()}: {obj}, {format_rupiah(obj.amount)}"
    return getattr(obj, "receipt_code", None) or getattr(obj, "code", None) or str(obj)


def request_details(request):
    """The proposed decision's inputs as (label, value) pairs for its page; objects as their codes."""
    from institutions.templatetags.lkmm_format import format_rupiah

    labels, rows = _labels(), []
    for name, kind_of in KINDS[request.kind][1].items():
        value = request.payload.get(name)
        if name == "lkmm" or value in (None, ""):
            continue
        if kind_of == "date":
            value = datetime.date.fromisoformat(value)
            value = value.strftime("%m/%Y") if name == "month" else value.strftime("%d/%m/%Y")
        elif kind_of == "int":
            value = value if name == "year" else format_rupiah(value)
        elif kind_of == "str":
            value = _choice_label(name, value)
        else:
            obj = apps.get_model(kind_of)._default_manager.filter(pk=value).first()
            value = _object_label(name, obj)
            if name == "close":
                value = obj.month.strftime("%m/%Y")
        rows.append((labels[name], value))
    return rows
