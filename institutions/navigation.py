"""The navigation every page shows: which section a page belongs to (one highlighted item) and, for the
ketua, how many things wait for a decision (one aggregate query, made only when the bar is rendered)."""

from django.utils.functional import SimpleLazyObject

from institutions.models import Role

# (app_name, url_name or None for any) -> section; the first match wins.
SECTIONS = (
    ("reports", "menu", "menu"),
    ("reports", "home", "home"),
    ("reports", "lkmm", "home"),
    ("reports", None, "reports"),
    ("oversight", "trend", "trends"),
    ("oversight", "impact", "impact"),
    ("coaching", None, "coaching"),
    ("members", "groups", "groups"),
    ("members", "group_", "groups"),
    ("members", None, "members"),
    ("loans", "collection", "collection"),
    ("loans", "products", "products"),
    ("loans", "product_", "products"),
    ("loans", None, "loans"),
    ("board", None, "board"),
    ("requests", None, "decisions"),
    ("risk", "closes", "closes"),
    ("risk", "reopen", "closes"),
    ("risk", None, "reserve"),
    ("ledger", "statements", "statements"),
    ("ledger", "package", "statements"),
    ("ledger", None, "books"),
    ("audit", None, "audit"),
    ("savings", "products", "savings"),
    ("savings", None, "members"),
    ("shu", None, "shu"),
    ("dinas", None, "dinas"),
)


# section -> the bottom bar item that stands for it, per role.
PENGELOLA_BAR = {"home": "home", "collection": "collection", "members": "members", "loans": "loans"}
KETUA_BAR = {"home": "home", "decisions": "decisions", "members": "members", "loans": "loans"}
DINAS_BAR = {
    "home": "home",
    "closes": "reports",
    "reports": "reports",
    "reserve": "reports",
    "books": "reports",
    "trends": "reports",
    "impact": "reports",
    "statements": "reports",
    "shu": "reports",
}


def section_of(match):
    """The one navigation section a resolved URL belongs to ("" when none)."""
    if match is None:
        return ""
    for app_name, prefix, section in SECTIONS:
        if match.app_name == app_name and (prefix is None or (match.url_name or "").startswith(prefix)):
            return section
    return ""


def waiting_decisions(lkmm_id):
    """Four-eyes requests waiting, member applications pending, loan applications submitted and approved
    loans not yet disbursed, in one query."""
    from institutions.inbox import waiting_counts

    return sum(waiting_counts(lkmm_id).values())


def nav(request):
    user = getattr(request, "user", None)
    staff = getattr(user, "staff", None) if user is not None and user.is_authenticated else None
    if staff is None:
        return {}
    section = section_of(getattr(request, "resolver_match", None))
    context = {"nav_section": section}
    if staff.is_dinas:
        bar = DINAS_BAR
    elif staff.role == Role.KETUA:
        bar = KETUA_BAR
        context["nav_waiting"] = SimpleLazyObject(lambda: waiting_decisions(staff.lkmm_id))
    else:
        bar = PENGELOLA_BAR
    # Exactly one item of the bottom bar is highlighted: the page's own, or "Menu" for the rest.
    context["nav_bar"] = bar.get(section, "menu")
    return context
