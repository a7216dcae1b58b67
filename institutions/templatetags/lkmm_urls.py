"""{% code_url name code %}: {% url name code %} for pages that link every one of many rows (the Dinas home
links 50 LKMMs four ways each); pk_url the same for an integer id. Django's reverse() matches the
pattern anew on every call (about 36 µs); here each name is reversed once, with a placeholder, and the
row's code or id is put in its place."""

import functools
from urllib.parse import quote

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()

_PLACEHOLDER = "zzcodezz"  # a slug that no LKMM code or kecamatan name contains
# What reverse() leaves unquoted in an argument (django.urls.resolvers: RFC 3986 sub-delimiters and /~:@).
_SAFE = "!$&'()*+,;=/~:@"


@functools.lru_cache(maxsize=64)
def _pattern(name, prefix):
    url = reverse(name, args=[_PLACEHOLDER])
    if url.count(_PLACEHOLDER) != 1:  # pragma: no cover - a pattern that repeats its argument
        raise ValueError(f"{name} does not take one code")
    return url


@register.simple_tag
def code_url(name, code):
    """The URL of `name` for `code`, as {% url name code %} gives it."""
    return _pattern(name, get_script_prefix()).replace(_PLACEHOLDER, quote(str(code), safe=_SAFE))


_PK = 987654321  # an id no page reaches, so it occurs once in the reversed URL


@functools.lru_cache(maxsize=64)
def _pk_pattern(name, prefix):
    url = reverse(name, args=[_PK])
    if url.count(str(_PK)) != 1:  # pragma: no cover - a pattern that repeats its argument
        raise ValueError(f"{name} does not take one id")
    return url


def pk_url(name, pk):
    """The URL of `name` for the integer id `pk`, as {% url name pk %} gives it, for rows written in
    Python (the collection sheet, the LKMM home's lists)."""
    return _pk_pattern(name, get_script_prefix()).replace(str(_PK), str(int(pk)))
