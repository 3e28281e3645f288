"""The signed tokens of the e-mail's rating links: they name the ticket and its requester, so
the rating page works without signing in, and expire after CSAT_LINK_MAX_AGE_DAYS."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tickets.models import Ticket

# Signatures made for one purpose are never valid for another (e.g. an unsubscribe link).
SALT = "satisfaction.rating-link"


@dataclass(frozen=True)
class RatingLink:
    ticket_id: int
    requester_id: int


class BadRatingLink(Exception):
    """A token that was altered, made with another key or salt, or has expired."""


def make_token(ticket: Ticket) -> str:
    return signing.dumps({"t": ticket.pk, "u": ticket.requester_id}, salt=SALT)


def read_token(token: str) -> RatingLink:
    max_age = settings.CSAT_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
        return RatingLink(ticket_id=int(payload["t"]), requester_id=int(payload["u"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        # SignatureExpired is a BadSignature: an old link reads like a broken one.
        raise BadRatingLink(str(exc)) from exc


def rating_path(ticket: Ticket, score: int | None = None) -> str:
    """The rating page's path for the ticket, with `score` preselected when given."""
    path = reverse("satisfaction:rate_by_link", args=[make_token(ticket)])
    return f"{path}?score={score}" if score is not None else path
