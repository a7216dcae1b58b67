from django import template

from coaching.models import FollowUp

register = template.Library()


@register.inclusion_tag("coaching/_followups_box.html", takes_context=True)
def followups_box(context, lkmm):
    """The open follow-ups of one LKMM's coaching, for its home page (one query, the first 10)."""
    user = context["request"].user
    return {
        "follow_ups": FollowUp.objects.for_user(user).filter(lkmm=lkmm).for_box(),
        "show_lkmm": False,
        "request": context["request"],
    }
