from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import selectors
from audit.forms import AuditFilterForm
from audit.services import download_recorded
from institutions.access import staff_required
from reports import exports

PER_PAGE = 50
# An export holds at most this many rows of each list; the file says so when it was cut.
EXPORT_LIMIT = 20_000


def _may_audit(staff):
    return staff.approves or staff.is_dinas


@staff_required
def audit_trail(request):
    """The audit trail of the LKMMs the user may see: the app's log (with reasons) and, on PostgreSQL,
    every change the database recorded. For the ketua (own LKMM) and the Dinas reviewer."""
    if not _may_audit(request.user.staff):
        raise PermissionDenied
    fmt = request.GET.get("format", "html")
    if fmt not in ("html", *exports.FORMATS):
        raise Http404
    form = AuditFilterForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    filters = {k: v for k, v in (form.cleaned_data if form.is_bound and valid else {}).items() if v}
    history_available = selectors.history_available()
    log = selectors.app_log(request.user, **filters) if valid else []
    history = selectors.db_history(request.user, **filters) if valid and history_available else []
    if fmt != "html":
        if not valid:
            raise Http404
        download_recorded(request, what="jejak-audit", lkmm=request.user.staff.lkmm, fmt=fmt)
        return _export(fmt, log=log, history=history, history_available=history_available)
    query = request.GET.copy()
    for key in ("page", "hpage", "format"):
        query.pop(key, None)
    log_page = Paginator(log, PER_PAGE).get_page(request.GET.get("page"))
    for row in log_page.object_list:
        row.ip = row.data.get("ip", "") if isinstance(row.data, dict) else ""
        row.details = _data_text(row.data)
        row.object_label = selectors.object_label(row.object_type)
    context = {
        "form": form,
        "log_page": log_page,
        "history_available": history_available,
        "query": query.urlencode(),
    }
    if history_available and valid:
        page = Paginator(history, PER_PAGE).get_page(request.GET.get("hpage"))
        page.object_list = selectors.with_usernames(page.object_list)
        context["history_page"] = page
    return render(request, "audit/audit_trail.html", context)


def _cut(rows):
    rows = list(rows[: EXPORT_LIMIT + 1])
    return rows[:EXPORT_LIMIT], len(rows) > EXPORT_LIMIT


def _when(moment):
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M:%S")


def _export(fmt, *, log, history, history_available):
    log_rows, log_cut = _cut(log)
    title = [_("Jejak audit"), _("Dibuat %(at)s") % {"at": _when(timezone.now())}]
    blocks = [
        exports.Block(
            [
                _("Waktu"),
                _("Akun"),
                _("LKMM"),
                _("Tindakan"),
                _("Jenis objek"),
                _("Id objek"),
                _("Alasan"),
                _("Alamat IP"),
                _("Data"),
            ],
            [
                [
                    _when(row.created_at),
                    row.actor.username if row.actor else "",
                    row.lkmm.name if row.lkmm else "",
                    row.action,
                    str(selectors.object_label(row.object_type)),
                    row.object_id,
                    row.reason,
                    row.data.get("ip", "") if isinstance(row.data, dict) else "",
                    _data_text(row.data),
                ]
                for row in log_rows
            ],
        )
    ]
    if log_cut:
        title.append(_("Catatan audit aplikasi dipotong pada %(n)s baris.") % {"n": EXPORT_LIMIT})
    if history_available:
        events, history_cut = _cut(history)
        events = selectors.with_usernames(events)
        if history_cut:
            title.append(_("Riwayat basis data dipotong pada %(n)s baris.") % {"n": EXPORT_LIMIT})
        blocks.append(
            exports.Block(
                [
                    _("Waktu"),
                    _("Akun"),
                    _("Alamat IP"),
                    _("Alamat halaman"),
                    _("Kejadian"),
                    _("Jenis objek"),
                    _("Id objek"),
                    _("Kolom"),
                    _("Sebelum"),
                    _("Sesudah"),
                ],
                [
                    [
                        _when(event.pgh_created_at),
                        event.username,
                        event.ip or "",
                        event.url or "",
                        str(event.label_display),
                        str(event.object_label),
                        event.pgh_obj_id,
                        name,
                        _value_text(old),
                        _value_text(new),
                    ]
                    for event in events
                    for name, old, new in event.changes
                ],
            )
        )
    else:
        title.append(_("Riwayat basis data hanya tersedia di PostgreSQL."))
    return exports.download(
        fmt, filename=f"jejak-audit-{timezone.localdate():%Y-%m-%d}", title=title, blocks=blocks
    )


def _value_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("ya") if value else _("tidak")
    if isinstance(value, int):
        return value
    return str(value)


def _data_text(data):
    if not isinstance(data, dict):
        return str(data)
    return "; ".join(f"{key}={value}" for key, value in data.items() if key != "ip")
