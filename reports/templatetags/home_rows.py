"""{% due_row row %} and {% overdue_row loan %}: the LKMM home's lists written in Python.

The largest LKMM's home lists about 130 installments due this week and the 100 loans most past due;
through Django's template machinery those rows cost about 40 ms a request. The markup is the one the
templates wrote: amounts by the rupiah filter's function, dates by the active language's format, links
by pk_url, each text from the database escaped (tests/test_views_reports.py reads the rows)."""

from html import escape

from django import template
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah
from institutions.templatetags.lkmm_urls import pk_url

register = template.Library()

DASH = "–"


@register.simple_tag
def due_row(row):
    """An installment due (reports.selectors.installments_due_between): when, the group, the member,
    what is unpaid, the loan and the installment's number."""
    loan = row.loan
    return mark_safe(  # nosec B308 B703  # texts escaped, numbers formatted
        f"<tr><td>{date_format(row.due_date)}</td><td>{escape(row.group_name or DASH)}</td>"
        f'<td><a href="{pk_url("members:detail", loan.member_id)}">{escape(loan.member.full_name)}</a></td>'
        f'<td class="num">{format_rupiah(row.remaining)}</td>'
        f'<td class="wide-only nowrap"><a href="{pk_url("loans:detail", row.loan_id)}">'
        f"{escape(loan.code)}</a> #{int(row.seq)}</td></tr>"
    )


@register.simple_tag
def overdue_row(loan):
    """A loan past due (reports.selectors.overdue_loans): the member with a WhatsApp reminder, days past
    due, what is overdue with its late fees, the group, the phone and the principal outstanding."""
    reminder = ""
    if loan.whatsapp:
        # Outside the f-string: makemessages does not read a gettext call inside one.
        label = escape(_("Ingatkan lewat WhatsApp"))
        reminder = (
            f'<br><a class="wa" href="{escape(loan.whatsapp)}" target="_blank" rel="noopener">{label}</a>'
        )
    member = loan.member
    return mark_safe(  # nosec B308 B703  # texts escaped, numbers formatted
        f'<tr>\n      <td><a href="{pk_url("loans:detail", loan.pk)}">{escape(member.full_name)}</a>'
        f' <small class="muted nowrap">{escape(loan.code)}</small>{reminder}</td>\n'
        f'      <td class="num"><span class="badge bad">{int(loan.days_past_due)}</span></td>\n'
        f'      <td class="num">{format_rupiah(loan.overdue_amount + loan.overdue_fees)}</td>\n'
        f'      <td class="wide-only">{escape(loan.group_name or DASH)}</td>\n'
        f'      <td class="wide-only">{escape(member.phone)}</td>\n'
        f'      <td class="num wide-only">{format_rupiah(loan.outstanding)}</td>\n    </tr>'
    )
