"""The chat's rating block, so the portal's templates ask for a rating without the tickets
app knowing about satisfaction."""

from django import template
from django.urls import reverse

from tickets.models import Ticket

from ..ratings import rating_of
from ..views import BLOCK, block_context

register = template.Library()


@register.inclusion_tag(BLOCK)
def rating_request(ticket: Ticket) -> dict[str, object]:
    """The 1-5 choice and comment box of a resolved ticket, or the rating it has; nothing
    for a ticket still being worked on (at no query) or closed without a resolution."""
    if not ticket.is_finished:
        return {"hidden": True}
    action = reverse("satisfaction:rate", args=[ticket.pk])
    context = block_context(ticket, action, rating=rating_of(ticket))
    return context if context["rateable"] else {"hidden": True}
