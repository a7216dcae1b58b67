"""Reads of the audit trail: the app's audit log (the why) and the database's history (every change)."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _

from institutions.models import AuditLog, Dinas, Lkmm, Staff
from ledger.models import JournalEntry, JournalLine
from loans.models import Installment, Loan, LoanProduct, Repayment, Waiver
from members.models import Group, GroupMembership, Member, MembershipApplication

# The kinds of object the audit pages filter on: the app log's object_type (label_lower) -> model, label.
OBJECT_TYPES = {
    model._meta.label_lower: (model, label)
    for model, label in [
        (Member, _("Anggota")),
        (MembershipApplication, _("Permohonan anggota")),
        (Group, _("Kelompok")),
        (GroupMembership, _("Keanggotaan kelompok")),
        (Loan, _("Pinjaman")),
        (Installment, _("Angsuran (jadwal)")),
        (Repayment, _("Pembayaran angsuran")),
        (Waiver, _("Pembebasan bunga/denda")),
        (LoanProduct, _("Produk pinjaman")),
        (JournalEntry, _("Jurnal")),
        (JournalLine, _("Baris jurnal")),
        (Lkmm, _("LKMM")),
        (Dinas, _("Dinas")),
        (Staff, _("Staf")),
        (get_user_model(), _("Akun pengguna")),
    ]
}
_LABEL_BY_MODEL = {f"audit.{model.__name__}Tracked": label for model, label in OBJECT_TYPES.values()}
EVENT_LABELS = {"insert": _("dibuat"), "update": _("diubah"), "delete": _("dihapus")}


def history_available():
    """The database keeps history only on PostgreSQL (the triggers of audit/models.py)."""
    return connection.vendor == "postgresql"


def object_label(object_type):
    """A readable name for an app-log object_type (label_lower) or a history pgh_obj_model (label)."""
    if object_type in OBJECT_TYPES:
        return OBJECT_TYPES[object_type][1]
    return _LABEL_BY_MODEL.get(object_type, object_type)


def _date_range(queryset, field, start, end):
    if start:
        queryset = queryset.filter(**{f"{field}__date__gte": start})
    if end:
        queryset = queryset.filter(**{f"{field}__date__lte": end})
    return queryset


def _own_dinas(user):
    """The Dinas of a Dinas reviewer (its settings' changes are theirs to see), else None."""
    staff = getattr(user, "staff", None)
    return staff.dinas_id if staff is not None and staff.is_dinas else None


def app_log(user, *, account=None, object_type=None, object_id=None, start=None, end=None):
    rows = AuditLog.objects.for_user(user)
    dinas_id = _own_dinas(user)
    if dinas_id is not None:
        rows = rows | AuditLog.objects.filter(object_type=Dinas._meta.label_lower, object_id=dinas_id)
    rows = rows.select_related("actor", "lkmm")
    if account is not None:
        rows = rows.filter(actor=account)
    if object_type:
        rows = rows.filter(object_type=object_type)
    if object_id:
        rows = rows.filter(object_id=object_id)
    return _date_range(rows, "created_at", start, end).order_by("-created_at", "-id")


def db_history(user, *, account=None, object_type=None, object_id=None, start=None, end=None):
    """The database's history rows (PostgreSQL only), newest first."""
    from audit.models import AuditEvent, history_label

    rows = AuditEvent.objects.for_user(user)
    if account is not None:
        rows = rows.filter(user=account.pk)
    if object_type:
        rows = rows.filter(pgh_obj_model=history_label(OBJECT_TYPES[object_type][0]))
    if object_id:
        rows = rows.filter(pgh_obj_id=str(object_id))
    return _date_range(rows, "pgh_created_at", start, end).order_by("-pgh_created_at", "-pgh_id")


def changes(event):
    """[(field, old, new)] of one history row: an update's changed fields; an insert's or a delete's
    values that are set (new for an insert, old for a delete)."""
    if event.pgh_label == "update" and event.pgh_diff:
        return [(name, pair[0], pair[1]) for name, pair in sorted(event.pgh_diff.items())]
    data = sorted((k, v) for k, v in (event.pgh_data or {}).items() if v not in (None, ""))
    if event.pgh_label == "delete":
        return [(name, value, None) for name, value in data]
    return [(name, None, value) for name, value in data]


def with_usernames(events):
    """Attach `username` to each history row (one query for the page)."""
    events = list(events)
    ids = {event.user_id for event in events if event.user_id}
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    for event in events:
        event.username = names.get(event.user_id, "")
        event.changes = changes(event)
        event.object_label = object_label(event.pgh_obj_model)
        event.label_display = EVENT_LABELS.get(event.pgh_label, event.pgh_label)
    return events
