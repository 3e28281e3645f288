"""The security trail: who changed roles, group membership, others' availability, the
default model, or erased or exported data, and when.

Our own small model rather than a generic change log (django-auditlog, simple-history):
those record field diffs per model; this records a handful of domain events, each with
its actor and the account it concerned, in one list managers read."""

from django.conf import settings
from django.db import models


class SecurityEventKind(models.TextChoices):
    SUPERUSER_STATUS = "superuser_status", "Superuser status changed"
    STAFF_STATUS = "staff_status", "Staff status changed"
    ACCOUNT_ACTIVE = "account_active", "Account activated or deactivated"
    GROUP_JOINED = "group_joined", "Added to a group"
    GROUP_LEFT = "group_left", "Removed from a group"
    PERMISSIONS = "permissions", "Permissions changed"
    PASSWORD_SET = "password_set", "Password set by someone else"
    AVAILABILITY = "availability", "Availability set by someone else"
    DEFAULT_VERSION = "default_version", "Default model version switched"
    ERASURE = "erasure", "Ticket erased"
    EXPORT = "export", "Training data exported"


class SecurityEvent(models.Model):
    kind = models.CharField(max_length=24, choices=SecurityEventKind.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who did it; blank for the system (a command, a migration).",
    )
    # Names stay readable after an account is deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account the change concerned, if any.",
    )
    target = models.CharField(max_length=300, help_text="What changed, in words.")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target}"
