"""The rating's place in other apps' templates: the chat's block, and the five links of the
resolved ticket's e-mail, without the tickets or notifications apps knowing about it."""

from django import template
from django.urls import reverse

from tickets.models import Ticket

from ..models import Score
from ..ratings import rating_of
from ..tokens import rating_path
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


@register.simple_tag
def rating_links(ticket: Ticket, site_url: str) -> list[dict[str, object]]:
    """For an e-mail: one link per score, each opening the rating page with it chosen.

    `{% rating_links ticket site_url as links %}`; the token in them is signed when the
    e-mail is built, so they stay valid CSAT_LINK_MAX_AGE_DAYS from its sending.
    """
    base = site_url.rstrip("/")
    return [
        {"score": score, "label": label, "url": base + rating_path(ticket, score)}
        for score, label in Score.choices
    ]
