"""Canned responses (macros): personal or shared, with placeholders, and each use counted."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Q

from tickets.models import Category, Message

from .placeholders import validate_placeholders


class MacroQuerySet(models.QuerySet["Macro"]):
    def usable_by(self, agent: User) -> "MacroQuerySet":
        """What an agent may insert into a reply: their own personal macros and the shared."""
        return self.filter(Q(owner__isnull=True) | Q(owner=agent))

    def with_use_count(self) -> "MacroQuerySet":
        return self.annotate(use_count=models.Count("uses"))


class Macro(models.Model):
    title = models.CharField(max_length=120)
    body = models.TextField(
        max_length=settings.MESSAGE_MAX_CHARS,
        validators=[validate_placeholders],
        help_text="Markdown, as a reply. Placeholders such as {{ user.first_name }}, "
        "{{ ticket.id }} and {{ agent.first_name }} are filled in for the ticket.",
    )
    category = models.CharField(
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text="Listed first on tickets of this category; blank for any.",
    )
    # Blank: shared with every agent (managers keep those); else the agent's own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Blank: shared with every agent.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MacroQuerySet.as_manager()

    class Meta:
        ordering = ["category", "title"]
        indexes = [models.Index(fields=["owner", "category"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None


class MacroUse(models.Model):
    """A reply sent from a macro: one row per reply, so a retried request counts once."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="uses")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="macro_use")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.macro} in message {self.message_id}"


def record_use(macro_id: int, message: Message, agent: User) -> MacroUse | None:
    """Count a reply made from a macro the agent may use; None for one they may not (or gone)."""
    macro = Macro.objects.usable_by(agent).filter(pk=macro_id).first()
    if macro is None:
        return None
    use, _ = MacroUse.objects.get_or_create(
        message=message, defaults={"macro": macro, "agent": agent}
    )
    return use
