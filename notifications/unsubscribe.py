"""One-click unsubscribe (RFC 8058): a signed token names the person and the event, so the
link works without signing in and turns off only that event's e-mail."""

from django.contrib.auth.models import User
from django.core import signing
from django.urls import reverse

from . import preferences
from .models import Channel, Event

_SALT = "notifications.unsubscribe"


def token_for(user: User, event: str) -> str:
    # No expiry: an unsubscribe link in an old e-mail must still work.
    return signing.dumps([user.pk, str(event)], salt=_SALT)


def read_token(token: str) -> tuple[User, Event] | None:
    """The person and event a token names, or None for a forged or garbled one."""
    try:
        user_id, event = signing.loads(token, salt=_SALT)
        return User.objects.get(pk=user_id), Event(event)
    except (signing.BadSignature, ValueError, TypeError, User.DoesNotExist):
        return None


def unsubscribe_path(user: User, event: str) -> str:
    return reverse("notifications:unsubscribe", args=[token_for(user, event)])


def unsubscribe(user: User, event: Event) -> None:
    preferences.choose(user, event, Channel.EMAIL, False)
