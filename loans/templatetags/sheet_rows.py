"""{% sheet_row row number form %}: one member's <tr> on the collection sheet, written in Python.

A sheet has a row per member with up to 13 cells, a block per loan in seven of them and three inputs;
through Django's template machinery an LKMM of 700 members spent about 300 ms a request there (a
context lookup and a filter call per value). The markup is the one the template wrote: amounts by the
rupiah filter's function, dates by the active language's format, each input by {% plain_input %},
each text from the database escaped (tests/test_collection.py reads the page's cells)."""

import functools
from html import escape

from django import template
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah, plain_input
from institutions.templatetags.lkmm_urls import pk_url

register = template.Library()

DASH = "–"


@functools.lru_cache(maxsize=8)
def _words(language):
    """The sheet's own words in `language`, escaped once."""
    return {
        key: escape(text)
        for key, text in {
            "only_savings": _("hanya simpanan"),
            "installment": _("angsuran"),
            "arrears": _("tunggakan"),
            "late_fee": _("denda"),
            "payoff": _("pelunasan"),
        }.items()
    }


def _days(n):
    return escape(ngettext("%(n)s hari", "%(n)s hari", n) % {"n": n})


def _seqs(line):
    if line.last_seq != line.first_seq:
        return escape(_("ke-%(a)s s.d. %(b)s") % {"a": line.first_seq, "b": line.last_seq})
    return escape(_("ke-%(a)s, %(d)s") % {"a": line.first_seq, "d": date_format(line.first_due)})


def _input(field):
    errors = "".join(f'<p class="error" role="alert">{escape(str(error))}</p>' for error in field.errors)
    return f"{plain_input(field)}{errors}"


def _amount(value):
    return format_rupiah(value) if value else DASH


def _stack(lines, cell):
    """A cell with one block per loan, or a dash for a member who only saves."""
    if not lines:
        return DASH
    return '<div class="stack">' + "".join(f"<div>{cell(line)}</div>" for line in lines) + "</div>"


@register.simple_tag
def sheet_row(row, number, form):
    """Member `row` (loans.collection.Row) as the `number`th row of the sheet; its inputs when `form`."""
    words = _words(get_language())
    lines = row.lines
    many = len(lines) > 1
    no_loan = "" if lines else " no-loan"
    codes = {line.loan.pk: escape(line.loan.code) for line in lines}
    links = {pk: f'<a href="{pk_url("loans:detail", pk)}">{code}</a>' for pk, code in codes.items()}
    if row.has_error:
        css = ' class="has-error"'
    elif row.days_past_due:
        css = ' class="overdue"'
    else:
        css = ""

    def under_name(line):
        badge = f' <span class="badge bad">{_days(line.days_past_due)}</span>' if line.days_past_due else ""
        return f'<small class="muted code-under"><br>{links[line.loan.pk]}</small>{badge}'

    def due(line):
        if not line.due_in_period:
            return DASH
        return f'{format_rupiah(line.due_in_period)}<br><small class="muted nowrap">{_seqs(line)}</small>'

    def amount_due(line):
        parts = [
            f"<strong>{format_rupiah(line.amount_due)}</strong>",
            '<small class="muted narrow-only breakdown">',
        ]
        if many:
            parts.append(f"<br>{codes[line.loan.pk]}")
        for key, value in (
            ("installment", line.due_in_period),
            ("arrears", line.arrears),
            ("late_fee", line.late_fees),
        ):
            if value:
                parts.append(f'<br>{words[key]} <span class="nowrap">{format_rupiah(value)}</span>')
        parts.append(
            f'<br>{words["payoff"]} <span class="nowrap">{format_rupiah(line.payoff)}</span></small>'
        )
        return "".join(parts)

    def paid(line):
        code = f'<small class="muted nowrap">{codes[line.loan.pk]}</small>' if many else ""
        return f'{code}{_input(line.field) if form else ""}<span class="blank"></span>'

    def saving(field):
        if not row.saves:
            return DASH
        return f'<div>{_input(field) if form else ""}<span class="blank"></span></div>'

    name = escape(row.member.full_name)
    under = (
        "".join(under_name(line) for line in lines)
        or f'<small class="muted"><br>{words["only_savings"]}</small>'
    )
    cells = [
        f"<tr{css}>",
        f'<td class="num wide-only">{int(number)}</td>',
        f"<td><div>{name}{under}</div></td>",
        f'<td class="wide-only code nowrap{no_loan}">{_stack(lines, lambda line: links[line.loan.pk])}</td>',
        f'<td class="num wide-only{no_loan}">{_stack(lines, due)}</td>',
        f'<td class="num wide-only{no_loan}">{_stack(lines, lambda line: _amount(line.arrears))}</td>',
        f'<td class="num wide-only{no_loan}">{_stack(lines, lambda line: _amount(line.late_fees))}</td>',
        f'<td class="num{no_loan}">{_stack(lines, amount_due)}</td>',
        f'<td class="num wide-only{no_loan}">{_stack(lines, lambda line: format_rupiah(line.payoff))}</td>',
        f'<td class="paid{no_loan}">{_stack(lines, paid)}</td>',
        f'<td class="num">{format_rupiah(row.wajib_due) if row.saves else DASH}</td>',
        f'<td class="num wajib-owed">{_amount(row.wajib_owed)}</td>',
        f'<td class="paid">{saving(getattr(row, "wajib_field", None))}</td>',
        f'<td class="paid">{saving(getattr(row, "sukarela_field", None))}</td>',
        "</tr>",
    ]
    return mark_safe("".join(cells))  # nosec B308 B703  # texts escaped above, numbers formatted
