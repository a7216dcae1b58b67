"""Presentation of money and rates, loaded into every template (see TEMPLATES builtins)."""

from decimal import Decimal

from django import template
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
