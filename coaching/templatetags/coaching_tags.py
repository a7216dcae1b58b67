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


@register.inclusion_tag("coaching/_followups_box.html", takes_context=True)
def dinas_followups_box(context):
    """The open follow-ups of every LKMM the reviewer sees, each naming its LKMM (the Dinas home)."""
    user = context["request"].user
    return {
        "follow_ups": FollowUp.objects.for_user(user).for_box(),
        "show_lkmm": True,
        "request": context["request"],
    }
