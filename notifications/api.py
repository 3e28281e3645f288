"""The one way to tell a person something: `notify(Event.X, recipient, ticket=..., key=...)`.

It records the in-app notification and, after the transaction commits, sends the e-mail
(notifications.tasks), as the recipient's preferences say; once per (recipient, key).
"""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from tickets.models import Ticket

from . import content, preferences
from .models import Channel, EmailState, Event, Notification
from .tasks import enqueue_email


def notify(
    event: Event,
    recipient: User,
    *,
    ticket: Ticket | None,
    key: str,
    context: dict[str, Any] | None = None,
) -> None:
    """Tell `recipient` about `event`, at most once for `key` (the occasion, e.g.
    f"sla-breach:{ticket.pk}:{target}:{due_at:%s}"), on the channels they chose.

    Safe inside a transaction: the row goes with it and the e-mail leaves only after the
    commit. `context` (JSON-serialisable values) reaches the templates of the text and the
    e-mail; "title" and "link" in it replace the event's own.
    """
    event = Event(event)
    context = dict(context or {})
    channels = preferences.channels_for(recipient, event) if recipient.is_active else set()
    by_email = Channel.EMAIL in channels and bool(recipient.email)
    in_app = Channel.IN_APP in channels
    if not (by_email or in_app):
        return
    said = content.compose(event, recipient, ticket, context)
    notification, created = Notification.objects.get_or_create(
        recipient=recipient,
        key=key,
        defaults={
            "event": event,
            "ticket": ticket,
            "title": said.title,
            "body": said.body,
            "link": said.link,
            "context": context,
            "in_app": in_app,
            "email_state": EmailState.PENDING if by_email else EmailState.NOT_WANTED,
            "email_to": recipient.email if by_email else "",
        },
    )
    if not created:
        return  # told already: a retry, a second run or a restart of the sender
    if by_email:
        transaction.on_commit(lambda: enqueue_email(notification.pk))
