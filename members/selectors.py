"""Reads the member pages share; each aggregates in the database."""

from django.db.models import Count, Exists, OuterRef, Subquery

from loans.models import Loan, LoanStatus
from members.models import IncomeRecord, Member, MemberStatus

# Who counts as someone's membership elsewhere: rejected applicants and members who left do not.
CURRENT_STATUSES = (MemberStatus.PENDAFTAR, MemberStatus.AKTIF, MemberStatus.DIBLOKIR)


def nik_elsewhere(*, nik, lkmm, at):
    """Where else this NIK is a member, and whether that membership is in arrears: nothing more, so a
    manager learns what trust needs without seeing another LKMM's member data."""
    return list(
        Member.objects.filter(nik=nik, status__in=CURRENT_STATUSES)
        .exclude(lkmm=lkmm)
        .annotate(in_arrears=Exists(Loan.objects.past_due(at).filter(member=OuterRef("pk"))))
        .values("lkmm__name", "in_arrears")
        .order_by("lkmm__name")
    )


def members_in_several_lkmms(*, at, user=None):
    """Members whose NIK is a member in more than one LKMM (for the Dinas), grouped by NIK; with `user`,
    among the LKMMs that user may see (a Dinas reviewer: their Dinas's)."""
    members = Member.objects.all() if user is None else Member.objects.for_user(user)
    shared = (
        members.filter(status__in=CURRENT_STATUSES)
        .values("nik")
        .annotate(n=Count("lkmm", distinct=True))
        .filter(n__gt=1)
        .values("nik")
    )
    return (
        members.filter(nik__in=Subquery(shared), status__in=CURRENT_STATUSES)
        .select_related("lkmm")
        .annotate(in_arrears=Exists(Loan.objects.past_due(at).filter(member=OuterRef("pk"))))
        .order_by("nik", "lkmm__name")
    )


def income_trend(*, member):
    """Admission figures and every follow-up, with the change since admission for the latest one."""
    records = list(IncomeRecord.objects.filter(member=member).select_related("created_by"))
    latest = records[-1] if records else None
    change = None
    if latest is not None and member.net_income_at_admission is not None:
        change = {
            "turnover": latest.turnover - (member.turnover_at_admission or 0),
            "net_income": latest.net_income - member.net_income_at_admission,
            "net_income_percent": (
                round(
                    (latest.net_income - member.net_income_at_admission)
                    * 100
                    / member.net_income_at_admission
                )
                if member.net_income_at_admission > 0
                else None
            ),
        }
    return {"records": records, "latest": latest, "change": change}


def group_members_with_standing(*, group, at):
    """The group's current members, each with their active loan's standing at `at` (one query)."""
    active_loan = (
        Loan.objects.filter(member=OuterRef("pk"), status=LoanStatus.AKTIF)
        .with_standing(at)
        .order_by("-disbursed_on")
    )
    return (
        Member.objects.in_group(group)
        .annotate(
            loan_id=Subquery(active_loan.values("pk")[:1]),
            loan_outstanding=Subquery(active_loan.values("outstanding")[:1]),
            loan_overdue=Subquery(active_loan.values("overdue_amount")[:1]),
            loan_oldest_overdue_on=Subquery(active_loan.values("oldest_overdue_on")[:1]),
        )
        .order_by("full_name")
    )
