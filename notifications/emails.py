"""A notification's e-mail: built from its templates and sent once (the row is claimed
PENDING -> SENDING first, so a retry or a second run finds nothing to send)."""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from . import content, preferences
from .models import Channel, EmailState, Notification
from .unsubscribe import unsubscribe_path

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The mail server refused the message or could not be reached: nothing was delivered,
    so it may be tried again."""


def send_email(notification_id: int) -> bool:
    """Send the notification's e-mail if nobody has; True if this call sent it."""
    claimed = Notification.objects.filter(
        pk=notification_id, email_state=EmailState.PENDING
    ).update(email_state=EmailState.SENDING, email_attempts=F("email_attempts") + 1)
    if not claimed:
        return False  # sent already, given up, or another worker has it
    notification = Notification.objects.select_related("recipient", "ticket").get(
        pk=notification_id
    )
    # The person may have switched the e-mail off since: the latest choice wins.
    if not preferences.wants(notification.recipient, notification.event, Channel.EMAIL):
        _set_state(notification_id, EmailState.NOT_WANTED)
        return False
    try:
        build_message(notification).send()
    except (smtplib.SMTPException, OSError) as exc:
        _set_state(notification_id, EmailState.PENDING, error=f"{type(exc).__name__}: {exc}")
        raise DeliveryFailed(str(exc)) from exc
    _set_state(notification_id, EmailState.SENT, sent_at=timezone.now())
    return True


def give_up(notification_id: int, why: str) -> None:
    """After the last retry: the e-mail stays unsent, with the reason."""
    Notification.objects.filter(pk=notification_id, email_state=EmailState.PENDING).update(
        email_state=EmailState.FAILED, email_error=why
    )


def build_message(notification: Notification) -> EmailMultiAlternatives:
    unsubscribe_url = absolute(unsubscribe_path(notification.recipient, notification.event))
    context = {
        **notification.context,
        "notification": notification,
        "recipient": notification.recipient,
        "ticket": notification.ticket,
        "link_url": absolute(notification.link) if notification.link else "",
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": absolute(reverse("notifications:preferences")),
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject=notification.title,
        body=content.render_email_part("message.txt", notification.event, context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.email_to],
        headers={
            # RFC 8058: mail clients show an unsubscribe button that POSTs to the link.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # RFC 3834: no out-of-office replies to a machine.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        content.render_email_part("message.html", notification.event, context), "text/html"
    )
    return message


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _set_state(
    notification_id: int,
    state: EmailState,
    *,
    error: str = "",
    sent_at: object = None,
) -> None:
    fields: dict[str, object] = {"email_state": state, "email_error": error}
    if sent_at is not None:
        fields["email_sent_at"] = sent_at
    Notification.objects.filter(pk=notification_id).update(**fields)


def stale_pending_ids() -> list[int]:
    """E-mails never tried a while after they were due: their task was lost (the broker was
    down), so the sweep sends them. Those waiting for a retry have their task already; and
    were both to run, the claim keeps it to one e-mail."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATION_EMAIL_SWEEP_AFTER_S)
    return list(
        Notification.objects.filter(
            email_state=EmailState.PENDING, email_attempts=0, created_at__lt=cutoff
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )
