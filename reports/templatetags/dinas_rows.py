"""The Dinas home's table rows, written in Python: {% overview_row row %} for an LKMM,
{% overview_cells figures %} for a kecamatan's or the city's totals and {% cash_row item %} for an LKMM
over its cash limit.

Fifty LKMM rows of fourteen columns and the kecamatan rows cost a Django template about 20 ms a request
(a context lookup and a filter call per value), more than the page's statements together. The markup
is the one the template wrote: each value formatted by the same functions as the rupiah and percent
filters, each text from the database escaped as the template escaped it, each link from {% code_url %}
(tests/test_dinas_home.py reads the page's cells)."""

import functools
from html import escape

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from institutions.templatetags.lkmm_format import format_rupiah, percent
from institutions.templatetags.lkmm_urls import code_url

register = template.Library()

DASH = "–"


def _percent(value):
    return percent(value) or DASH


def _bad(crossed):
    return " bad" if crossed else ""


def _cells(f, bars):
    """The figures' cells, each past a Dinas threshold marked bad (as health() compares them)."""
    npl_bar, par30_bar, coverage_bar = bars
    par30, npl, coverage = f["par30_ratio"], f["npl_ratio"], f["coverage"]
    return [
        f'<td class="num wide-only">{int(f["members"])}</td>',
        f'<td class="num wide-only">{int(f["borrowers"])}</td>',
        f'<td class="num"><span class="nowrap">{format_rupiah(f["outstanding"])}</span></td>',
        f'<td class="num wide-only"><span class="nowrap">{format_rupiah(f["disbursed"])}</span></td>',
        f'<td class="num wide-only"><span class="nowrap">{format_rupiah(f["collected"])}</span></td>',
        f'<td class="num wide-only">{_percent(f["repayment_rate"])}</td>',
        f'<td class="num wide-only{_bad(par30 is not None and par30 > par30_bar)}">{_percent(par30)}</td>',
        f'<td class="num{_bad(npl is not None and npl > npl_bar)}">{_percent(npl)}</td>',
        '<td class="num wide-only{}">{}</td>'.format(
            _bad(f["required"] and coverage is not None and coverage < coverage_bar), _percent(coverage)
        ),
        f'<td class="num wide-only"><span class="nowrap">{format_rupiah(f["savings"])}</span></td>',
    ]


def _bars(context):
    return context["npl_bar"], context["par30_bar"], context["coverage_bar"]


@register.simple_tag(takes_context=True)
def overview_cells(context, figures):
    """A kecamatan's or the city's figures as cells (the columns the LKMM rows share)."""
    return mark_safe("".join(_cells(figures, _bars(context))))  # nosec B308 B703  # numbers formatted above


@functools.lru_cache(maxsize=8)
def _words(language):
    """The rows' own words in `language`, escaped once (a page writes them 50 times)."""
    return {
        key: escape(text)
        for key, text in {
            "bermasalah": _("Bermasalah"),
            "perhatian": _("Perlu perhatian"),
            "sehat": _("Sehat"),
            "provisional": _("sementara"),
            "arrears": _("tunggakan"),
            "quality": _("PPAP"),
            "trend": _("tren"),
            "rate": _("Pengembalian"),
            "today": _("Hari ini"),
            "closed": _("ditutup"),
            "open": _("belum"),
            "since": _("sejak"),
        }.items()
    }


BADGES = {"bermasalah": "bad", "perhatian": "warn", "sehat": "good"}
LINKS = ("reports:lkmm", "reports:arrears", "reports:quality", "oversight:trend_lkmm")


@register.simple_tag(takes_context=True)
def overview_row(context, row):
    """One LKMM's <tr>: its name, flag and reasons, place and links; its figures for the month; its
    last activity and close; its outstanding and NPL today. Texts from the database are escaped."""
    lkmm, f, now = row["lkmm"], row["figures"], row["today"]
    words = _words(get_language())
    at = context["month_end"].isoformat()
    code = lkmm.code
    links = {name: escape(code_url(name, code)) for name in LINKS}
    reasons = f'<br><small class="muted">{escape(row["reasons_text"])}</small>' if row["reasons"] else ""
    provisional = f' <span title="{words["provisional"]}">*</span>' if f["provisional"] else ""
    flag = row["flag"]
    last = f["last_activity"]
    closed = f["closed"]
    if closed:
        close = (
            f'{words["closed"]} <span class="nowrap">{timezone.localtime(closed.closed_at):%d/%m/%Y}</span>'
        )
    else:
        close = words["open"]
    cells = [
        f'<tr>\n      <td><a href="{links["reports:lkmm"]}">{escape(lkmm.name)}</a>{provisional}\n'
        f'        <span class="badge {BADGES[flag]}">{words[flag]}</span>{reasons}\n'
        f'        <br><small class="muted">{escape(lkmm.desa)}, {escape(lkmm.kecamatan)}'
        f'<span class="no-print"> · <a href="{links["reports:arrears"]}?at={at}">{words["arrears"]}</a>'
        f' · <a href="{links["reports:quality"]}?at={at}">{words["quality"]}</a>'
        f' · <a href="{links["oversight:trend_lkmm"]}">{words["trend"]}</a></span></small>\n'
        f'        <span class="narrow-only"><br><small class="muted">{words["rate"]}'
        f" {_percent(f['repayment_rate'])} · PAR30 {_percent(f['par30_ratio'])} · {words['today']}:"
        f' <span class="nowrap">{format_rupiah(now["outstanding"])}</span></small></span></td>',
        *_cells(f, _bars(context)),
        f'<td class="wide-only nowrap{_bad("quiet" in row["reasons"])}">'
        f"{f'{last:%d/%m/%Y}' if last else DASH}</td>",
        f'<td class="wide-only{_bad("close" in row["reasons"])}">{close}</td>',
        '<td class="num wide-only no-print">'
        f'<span class="nowrap">{format_rupiah(now["outstanding"])}</span><br>'
        f'<small class="muted nowrap">NPL {_percent(now["npl_ratio"])}</small></td>\n    </tr>',
    ]
    return mark_safe("".join(cells))  # nosec B308 B703  # texts escaped above, numbers formatted


@register.simple_tag
def cash_row(item):
    """An LKMM whose kas at the end of yesterday exceeded the limit (ledger.selectors.CashOverLimit, with
    its `lkmm`): kas, the excess and the days in a row since the run began ("> n" when it began before
    the lookback). A Dinas of 2,000 LKMMs may list a hundred."""
    words = _words(get_language())
    capped = "&gt; " if item.capped else ""
    link = escape(code_url("reports:lkmm", item.lkmm.code))
    return mark_safe(  # nosec B308 B703  # texts escaped, numbers and dates formatted
        f'<tr>\n      <td><a href="{link}">{escape(item.lkmm.name)}</a></td>\n'
        f'      <td class="num">{format_rupiah(item.balance)}</td>\n'
        f'      <td class="num">{format_rupiah(item.excess)}</td>\n'
        f'      <td class="num">{capped}{int(item.days)} <small class="muted">({words["since"]}'
        f" {date_format(item.since)})</small></td>\n    </tr>"
    )
