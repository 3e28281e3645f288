"""The e-mail of a notification, sent by a task on the default queue after the commit."""

import logging

from celery import Task, shared_task
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from jobs.runner import TaskLimits

from . import emails

log = logging.getLogger(__name__)

EMAIL_TASK = "notifications.tasks.send_notification_email"

_SHORT: TaskLimits = {
    "soft_time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    "time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S + settings.JOB_HARD_LIMIT_GRACE_S,
}


def enqueue_email(notification_id: int) -> None:
    # With the broker down the row stays pending; the sweep sends it later.
    try:
        send_notification_email.apply_async(args=(notification_id,), retry=False)
    except (OperationalError, KombuError, RedisError, OSError) as exc:
        log.warning("Could not enqueue the e-mail of notification %s: %s", notification_id, exc)


@shared_task(
    bind=True,
    name=EMAIL_TASK,
    acks_late=True,
    max_retries=settings.NOTIFICATION_EMAIL_MAX_RETRIES,
    **_SHORT,
)
def send_notification_email(self: Task, notification_id: int) -> bool:
    try:
        return emails.send_email(notification_id)
    except emails.DeliveryFailed as exc:
        if self.request.retries >= settings.NOTIFICATION_EMAIL_MAX_RETRIES:
            emails.give_up(notification_id, str(exc))
            return False
        # A mail server that is down for a minute gets a minute or more before the next try.
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(name="notifications.tasks.sweep_pending_emails", acks_late=True, **_SHORT)
def sweep_pending_emails() -> int:
    """E-mails whose task never reached the broker (Redis was down) go now."""
    ids = emails.stale_pending_ids()
    for notification_id in ids:
        enqueue_email(notification_id)
    return len(ids)
