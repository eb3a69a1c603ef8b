"""What the admin's index shows first: what waits for a curator, each count linking to its list."""
from django import template

from calls.curation.review_queue import WAITING_LISTS

register = template.Library()


@register.simple_tag(takes_context=True)
def waiting_for_curators(context):
    """[(label, count, link)] for a curator who may change calls; nothing for anyone else."""
    user = context["request"].user
    if not user.has_perm("calls.change_call"):
        return []
    return [(waiting.label, waiting.count(), waiting.link()) for waiting in WAITING_LISTS]
