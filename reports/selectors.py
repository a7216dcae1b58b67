"""Reads for the dashboards: what is due, who is behind. Portfolio measures live in risk.selectors."""

import datetime
from urllib.parse import quote

from django.conf import settings
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah
from loans.models import Allocation, Installment, Loan, LoanStatus
from members.models import GroupMembership
from risk import figures

# What the home's rows show of an installment due and of a loan past due (reports.templatetags.home_rows,
# whatsapp_reminder, crossed_30_days) besides their sums: the loan and member tables are wide, and
# building every column for each of a hundred rows was a fifth of the home page's time.
DUE_FIELDS = ("seq", "due_date", "loan__number", "loan__member__full_name")
OVERDUE_FIELDS = (
    "number",
    "standing_as_of_derived",
    "member__full_name",
    "member__phone",
    "member__whatsapp_consent",
)


def installments_due_between(*, lkmm, start, end, at):
    """Installments of active loans due in [start, end] with what is still unpaid on them at `at`: from
    the kept standing from today on (only open installments), from the allocation before."""
    return (
        _due_between(lkmm=lkmm, start=start, end=end, at=at).select_related("loan__member").only(*DUE_FIELDS)
    )


def _due_between(*, lkmm, start, end, at):
    if at >= timezone.localdate():
        return (
            Installment.objects.filter(
                loan__lkmm=lkmm,
                loan__status=LoanStatus.AKTIF,
                open_derived=True,
                due_date__gte=start,
                due_date__lte=end,
            )
            .annotate(
                remaining=F("principal")
                + F("interest")
                - F("interest_waived_derived")
                - F("principal_paid_derived")
                - F("interest_paid_derived")
            )
            .filter(remaining__gt=0)
            .annotate(group_name=Subquery(_current_group("loan__member")))
            .order_by("due_date", "group_name", "loan__member__full_name")
        )
    paid = (
        Allocation.objects.counting_at(at)
        .filter(installment=OuterRef("pk"))
        .values("installment")
        .annotate(s=Sum(F("principal") + F("interest")))
        .values("s")
    )
    return (
        Installment.objects.filter(
            loan__lkmm=lkmm, loan__status=LoanStatus.AKTIF, due_date__gte=start, due_date__lte=end
        )
        .annotate(remaining=F("principal") + F("interest") - Coalesce(Subquery(paid), 0))
        .filter(remaining__gt=0)
        .annotate(group_name=Subquery(_current_group("loan__member")))
        .order_by("due_date", "group_name", "loan__member__full_name")
    )


def _current_group(member_path):
    return GroupMembership.objects.filter(member=OuterRef(member_path), left_on__isnull=True).values(
        "group__name"
    )[:1]


def overdue_loans(*, lkmm, at, limit=100):
    """Loans past due at `at`, most days past due first, with the member's group and phone (all of them
    when `limit` is None)."""
    loans = (
        Loan.objects.past_due(at)
        .filter(lkmm=lkmm)
        .select_related("member")
        .only(*OVERDUE_FIELDS)
        .annotate(group_name=Subquery(_current_group("member")))
        .order_by("oldest_overdue_on", "number")
    )
    return loans if limit is None else loans[:limit]


def crossed_30_days(*, lkmm, at, past_due=None):
    """Loans more than 30 days past due at `at` that were not a week earlier. `past_due`: the loans past
    due at `at` (overdue_loans without a limit), when the caller has them already.

    A loan with no event since the week before (its kept standing holds from then) had the same oldest
    unpaid installment then; only the loans with a later event are read back at that date."""
    week_ago = at - datetime.timedelta(days=7)
    limit_then = week_ago - datetime.timedelta(days=30)
    if past_due is None:
        past_due = Loan.objects.past_due(at).filter(lkmm=lkmm).select_related("member")
    now = [loan for loan in past_due if loan.oldest_overdue_on < at - datetime.timedelta(days=30)]
    if at < timezone.localdate():
        moved_since = [loan.pk for loan in now]
    else:
        moved_since = [loan.pk for loan in now if loan.standing_as_of_derived > week_ago]
    then = figures.loan_figures(week_ago, loans=moved_since, past_due_only=True) if moved_since else {}
    then_past = {pk for pk, figure in then.items() if figure.oldest_overdue_on < limit_then}
    return [
        loan
        for loan in now
        if loan.pk not in then_past and (loan.pk in moved_since or loan.oldest_overdue_on >= limit_then)
    ]


def whatsapp_reminder(*, loan, lkmm):
    """A wa.me link opening a polite reminder with the amount and due date filled in (None: no phone, or
    the member has not agreed to be contacted on WhatsApp)."""
    phone = (loan.member.phone or "").lstrip("+")
    if not phone or not loan.member.whatsapp_consent:
        return None
    amount = loan.overdue_amount + getattr(loan, "overdue_fees", 0)
    # The member reads the message, so it is in Bahasa Indonesia whatever language the manager uses.
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "Selamat pagi Ibu/Bapak %(name)s. Kami dari %(lkmm)s mengingatkan dengan hormat: "
            "angsuran pinjaman %(code)s sebesar %(amount)s yang jatuh tempo %(date)s belum kami "
            "terima. Mohon dibayarkan pada pertemuan kelompok berikutnya atau di kantor LKMM. "
            "Bila sudah membayar, mohon abaikan pesan ini. Terima kasih."
        ) % {
            "name": loan.member.full_name,
            "lkmm": lkmm.name,
            "code": loan.code,
            "amount": format_rupiah(amount),
            "date": loan.oldest_overdue_on.strftime("%d/%m/%Y"),
        }
    return f"https://wa.me/{phone}?text={quote(text)}"
