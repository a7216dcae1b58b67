"""The audit trail that the database keeps (PostgreSQL): who, when, where, before and after.

django-pghistory installs a trigger on each table below, so every INSERT, UPDATE and DELETE is copied
into an event table, whatever wrote it: the app, Django admin, a management command or raw SQL. The
acting user, IP and request path come from audit.middleware.HistoryContextMiddleware, set
transaction-locally, so they stay right behind PgBouncer in transaction mode. On SQLite the triggers
are not installed (pgtrigger skips other databases) and these tables stay empty.

The triggers hang on proxy models in this app, so their migrations live here and the tracked apps (and
django.contrib.auth) need none. The kept standing (`*_derived` columns, allocations, stored month
figures) is derived from the facts and is not tracked: the derived columns are left out of the
snapshots, and an update that changes only them records nothing.
"""

import pghistory
from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from pghistory.models import Events, EventsQuerySet

from institutions.models import Dinas, Lkmm, Staff, lkmm_scope
from ledger.models import JournalEntry, JournalLine
from loans.models import Installment, Loan, LoanProduct, Repayment, Waiver
from members.models import Group, GroupMembership, Member, MembershipApplication
from savings.models import SavingsAccount, SavingsMovement, SavingsProduct
from shu.models import FundSpending, ShuReversal, ShuRule, ShuShare, ShuYear


def history_label(model):
    """The `pgh_obj_model` of `model`'s history rows: the label of the proxy that carries its triggers."""
    return f"audit.{model.__name__}Tracked"


def _derived(model):
    return [field.name for field in model._meta.concrete_fields if field.name.endswith("_derived")]


def _trackers():
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


def _tracked(model, *, exclude=()):
    """A proxy of `model` carrying its history triggers, and its event model `<Model>Event`."""
    name = model.__name__
    proxy = type(
        f"{name}Tracked",
        (model,),
        {
            "__module__": __name__,
            "Meta": type("Meta", (), {"proxy": True, "app_label": "audit"}),
        },
    )
    pghistory.track(
        *_trackers(),
        exclude=[*_derived(model), *exclude],
        model_name=f"{name}Event",
        obj_field=pghistory.ObjForeignKey(related_name="+", db_index=True),
    )(proxy)
    return proxy


# Members and their admission, groups.
MemberTracked = _tracked(Member)
MembershipApplicationTracked = _tracked(MembershipApplication)
GroupTracked = _tracked(Group)
GroupMembershipTracked = _tracked(GroupMembership)
# Loans (terms and schedule, not the kept standing), repayments, waivers and products.
LoanProductTracked = _tracked(LoanProduct)
LoanTracked = _tracked(Loan)
InstallmentTracked = _tracked(Installment)
RepaymentTracked = _tracked(Repayment)
WaiverTracked = _tracked(Waiver)

SavingsProductTracked = _tracked(SavingsProduct)
SavingsAccountTracked = _tracked(SavingsAccount)
SavingsMovementTracked = _tracked(SavingsMovement)
# The year's surplus: rules, closed years with the rapat anggota's decision, shares, dana sosial spending.
ShuRuleTracked = _tracked(ShuRule)
ShuYearTracked = _tracked(ShuYear)
ShuShareTracked = _tracked(ShuShare)
ShuReversalTracked = _tracked(ShuReversal)
FundSpendingTracked = _tracked(FundSpending)
# The books.
JournalEntryTracked = _tracked(JournalEntry)
JournalLineTracked = _tracked(JournalLine)
# LKMM settings (four eyes among them), staff and logins. A password hash never enters the history,
# and last_login changes at every login (the login events record those).
LkmmTracked = _tracked(Lkmm)
# The Dinas's settings (health thresholds, cash limit).
DinasTracked = _tracked(Dinas)
StaffTracked = _tracked(Staff)
UserTracked = _tracked(User, exclude=["password", "last_login"])

TRACKED = [
    MemberTracked,
    MembershipApplicationTracked,
    GroupTracked,
    GroupMembershipTracked,
    LoanProductTracked,
    LoanTracked,
    InstallmentTracked,
    RepaymentTracked,
    WaiverTracked,
    JournalEntryTracked,
    JournalLineTracked,
    LkmmTracked,
    DinasTracked,
    StaffTracked,
    UserTracked,
]


def _ref(key):
    """An id held in the event's snapshot, as a number."""
    return Cast(KT(f"pgh_data__{key}"), models.BigIntegerField())


def _lkmm_via(model, ref):
    return Subquery(model.objects.filter(pk=OuterRef(ref)).values("lkmm_id")[:1])


class AuditEventQuerySet(EventsQuerySet):
    def for_user(self, user):
        """The history rows of the LKMMs `user` may see (institutions.models.lkmm_scope).

        Most tracked rows hold their LKMM; a schedule row, a waiver, a journal line, a group membership,
        an application and a login reach it through the row they belong to (as it is now).
        """
        scope = lkmm_scope(user)
        if scope is None:
            return self
        if isinstance(scope, list) and not scope:
            return self.none()
        return (
            self.annotate(
                _loan=_ref("loan_id"),
                _entry=_ref("entry_id"),
                _group=_ref("group_id"),
                _member=_ref("member_id"),
                _obj=Cast("pgh_obj_id", models.BigIntegerField()),
            )
            .annotate(
                event_lkmm=Case(
                    When(pgh_obj_model=history_label(Lkmm), then=F("_obj")),
                    When(pgh_obj_model=history_label(User), then=_lkmm_via_user()),
                    When(pgh_obj_model__in=_LABELS_VIA["loan"], then=_lkmm_via(Loan, "_loan")),
                    When(pgh_obj_model__in=_LABELS_VIA["entry"], then=_lkmm_via(JournalEntry, "_entry")),
                    When(pgh_obj_model__in=_LABELS_VIA["group"], then=_lkmm_via(Group, "_group")),
                    When(pgh_obj_model__in=_LABELS_VIA["member"], then=_lkmm_via(Member, "_member")),
                    default=_ref("lkmm_id"),
                    output_field=models.BigIntegerField(),
                )
            )
            .filter(self._own_dinas(user) | Q(event_lkmm__in=scope))
        )

    @staticmethod
    def _own_dinas(user):
        """A Dinas reviewer also sees the history of their Dinas's settings."""
        staff = getattr(user, "staff", None)
        if staff is None or not staff.is_dinas:
            return Q(pgh_obj_model__in=[])
        return Q(pgh_obj_model=history_label(Dinas), pgh_obj_id=str(staff.dinas_id))


def _lkmm_via_user():
    return Subquery(Staff.objects.filter(user_id=OuterRef("_obj")).values("lkmm_id")[:1])


_LABELS_VIA = {
    "loan": [history_label(Installment), history_label(Waiver)],
    "entry": [history_label(JournalLine)],
    "group": [history_label(GroupMembership)],
    "member": [history_label(MembershipApplication)],
}


class AuditEvent(Events):
    """Every tracked model's history as one list (pghistory's Events), with the request's context."""

    user = pghistory.ProxyField(
        "pgh_context__user",
        models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, related_name="+"),
    )
    ip = pghistory.ProxyField("pgh_context__ip", models.TextField(null=True))
    url = pghistory.ProxyField("pgh_context__url", models.TextField(null=True))

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        proxy = True
