"""Placeholders in macros: the few names an agent may write, and their safe rendering.

Not Django's template engine: agent-written text run by it could reach any attribute of
the objects in its context (and every filter and tag). Here a placeholder is one name from
a fixed table, replaced by plain text; anything else in braces is refused when the macro is
saved.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from tickets.models import Ticket

# Any {{ ... }} or {% ... %}: what is not a known placeholder is an error, never left as is.
_BRACES = re.compile(r"\{\{(?P<name>.*?)\}\}|\{%.*?%\}", re.S)


@dataclass(frozen=True)
class Subject:
    """What a macro is rendered for: the ticket, its user, the agent replying."""

    ticket: Ticket
    agent: User


def _first_name(user: User) -> str:
    # "Hi ," reads worse than the account's name.
    return user.first_name or user.get_username()


def _full_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


PLACEHOLDERS: dict[str, tuple[str, Callable[[Subject], str]]] = {
    "user.first_name": (
        "the user's first name (else their user name)",
        lambda s: _first_name(s.ticket.requester),
    ),
    "user.full_name": (
        "the user's full name (else their user name)",
        lambda s: _full_name(s.ticket.requester),
    ),
    "user.username": ("the user's user name", lambda s: s.ticket.requester.get_username()),
    "ticket.id": ("the ticket's number", lambda s: str(s.ticket.pk)),
    "ticket.subject": ("the ticket's subject", lambda s: s.ticket.subject),
    "ticket.category": ("the ticket's category", lambda s: s.ticket.get_category_display()),
    "agent.first_name": ("your first name (else your user name)", lambda s: _first_name(s.agent)),
    "agent.full_name": ("your full name (else your user name)", lambda s: _full_name(s.agent)),
}


def _normal(name: str) -> str:
    return name.strip()


def unknown_placeholders(body: str) -> list[str]:
    """Every {{ ... }} or {% ... %} in `body` that is not a known placeholder, as written."""
    found = []
    for match in _BRACES.finditer(body):
        name = match.group("name")
        if name is None or _normal(name) not in PLACEHOLDERS:
            found.append(match.group(0))
    return found


def validate_placeholders(body: str) -> None:
    unknown = unknown_placeholders(body)
    if unknown:
        known = ", ".join(f"{{{{ {name} }}}}" for name in PLACEHOLDERS)
        raise ValidationError(
            "Unknown placeholder%(s)s %(unknown)s. A macro may use only: %(known)s.",
            code="unknown_placeholder",
            params={
                "s": "s" if len(unknown) > 1 else "",
                "unknown": ", ".join(dict.fromkeys(unknown)),
                "known": known,
            },
        )


def render(body: str, subject: Subject) -> str:
    """The macro's text for this ticket: each placeholder replaced by plain text. A body that
    slipped past validation (edited in the database) keeps its unknown braces as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        known = PLACEHOLDERS.get(_normal(name)) if name is not None else None
        return known[1](subject) if known else match.group(0)

    return _BRACES.sub(replace, body)


def render_generic(body: str) -> str:
    """The text with each placeholder named in words, for a knowledge article drafted from it."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("name")
        known = PLACEHOLDERS.get(_normal(name)) if name is not None else None
        return f"[{known[0]}]" if known else match.group(0)

    return _BRACES.sub(replace, body)
