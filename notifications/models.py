"""Notifications: what happened for whom (the bell's rows, each e-mail's state) and each
person's choice of events and channels."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class Event(models.TextChoices):
    """The occasions a person is told about. The first six are for agents and managers,
    the last two for the requester of a ticket."""

    TICKET_ASSIGNED = "ticket_assigned", "A ticket was assigned to you"
    TICKET_TAKEN = "ticket_taken", "A ticket you held went to a colleague"
    USER_REPLIED = "user_replied", "The user replied on your ticket"
    SLA_WARNING = "sla_warning", "A ticket is close to breaching its SLA"
    SLA_BREACHED = "sla_breached", "A ticket breached its SLA"
    UNASSIGNED_WAITING = "unassigned_waiting", "A ticket waits unassigned"
    AGENT_REPLIED = "agent_replied", "An agent replied on your ticket"
    TICKET_RESOLVED = "ticket_resolved", "Your ticket was resolved"


STAFF_EVENTS = (
    Event.TICKET_ASSIGNED,
    Event.TICKET_TAKEN,
    Event.USER_REPLIED,
    Event.SLA_WARNING,
    Event.SLA_BREACHED,
    Event.UNASSIGNED_WAITING,
)
REQUESTER_EVENTS = (Event.AGENT_REPLIED, Event.TICKET_RESOLVED)


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    IN_APP = "in_app", "In the app"


class EmailState(models.TextChoices):
    """Where a notification's e-mail is: the task claims PENDING -> SENDING, so it goes at
    most once whatever the retries."""

    NOT_WANTED = "not_wanted", "Not wanted"  # preference off, or no address
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def in_bell_of(self, user: object) -> "NotificationQuerySet":
        """The person's own notifications shown in the app, newest first."""
        return self.filter(recipient=user, in_app=True).order_by("-created_at", "-pk")

    def unread(self) -> "NotificationQuerySet":
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=30, choices=Event.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # Names the occasion (e.g. "agent-replied:<message id>"): one notification per person
    # and occasion, however often the trigger runs.
    key = models.CharField(max_length=200)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Path of the page it is about.")
    # What the sender passed to notify(), for the e-mail's templates (rendered later).
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    in_app = models.BooleanField(default=True, help_text="Shown in the person's bell.")
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    email_state = models.CharField(
        max_length=12, choices=EmailState.choices, default=EmailState.NOT_WANTED
    )
    email_to = models.EmailField(blank=True)
    email_attempts = models.PositiveIntegerField(default=0)
    email_sent_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="one_notification_per_key")
        ]
        indexes = [
            models.Index(fields=["recipient", "in_app", "read_at"]),
            models.Index(fields=["email_state", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} for {self.recipient_id}: {self.title}"


class Preference(models.Model):
    """A person's choice for one event on one channel; without a row the role's default
    applies (notifications.preferences)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=30, choices=Event.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "channel"], name="one_preference_per_event_channel"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.user_id}: {self.event} by {self.channel} {state}"
