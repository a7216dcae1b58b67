"""Presentation of money and rates, loaded into every template (see TEMPLATES builtins)."""

import html
from decimal import Decimal

from django import template
from django.utils.safestring import mark_safe
from num2words import num2words

register = template.Library()


def format_rupiah(value):
    """1250000 -> "Rp 1.250.000"; negative amounts keep their sign before "Rp"."""
    if value is None or value == "":
        return ""
    amount = int(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


@register.filter
def rupiah(value):
    return format_rupiah(value)


@register.filter
def terbilang(value):
    """An amount in words in Bahasa Indonesia, as a receipt writes it: 1250000 -> "satu juta dua ratus
    lima puluh ribu rupiah" (num2words' Indonesian, which says seribu, seratus and sebelas)."""
    if value is None or value == "":
        return ""
    amount = int(value)
    words = num2words(abs(amount), lang="id")
    return f"{'minus ' if amount < 0 else ''}{words} rupiah"


@register.filter
def percent(value, places=2):
    """Decimal("1.5") -> "1,5%" (Indonesian decimal comma, trailing zeros trimmed)."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(value):.{int(places)}f}".rstrip("0").rstrip(".")
    return f"{text.replace('.', ',')}%"


@register.filter
def person(user):
    """A user's full name, else their username; "–" when nobody (a system or demo import)."""
    if user is None:
        return "–"
    return user.get_full_name() or user.get_username()


def _attribute(value):
    """An attribute's value escaped as format_html escapes it (conditional_escape, without its lazy
    wrappers: a sheet writes thousands)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


@register.simple_tag
def plain_input(field):
    """The <input> Django's widget would render for a text-like form field (`{{ field }}`), written
    without going through the widget templates: the collection sheet renders three per member, and a
    sheet of 700 members spent half its time there. The same attributes in the same order: the value as
    the widget formats it, the widget's attributes, then required, aria-invalid and the id
    (tests/test_presentation.py compares both)."""
    widget = field.field.widget
    extra = field.build_widget_attrs({})  # required, disabled, aria-invalid, aria-describedby
    if field.auto_id and "id" not in widget.attrs:
        extra.setdefault("id", field.auto_id)
    attrs = {**widget.attrs, **extra}
    value = widget.format_value(field.value())
    parts = "".join(
        f" {_attribute(name)}" if given is True else f' {_attribute(name)}="{_attribute(given)}"'
        for name, given in attrs.items()
        if given is not False
    )
    shown = f' value="{_attribute(value)}"' if value is not None else ""
    return mark_safe(  # nosec B308 B703  # every part escaped above
        f'<input type="{_attribute(widget.input_type)}" name="{_attribute(field.html_name)}"{shown}{parts}>'
    )
