"""Tickets, their messages, the audit trail, agents' availability and answer jobs."""

from django.conf import settings
from django.db import models
from django.urls import reverse


class Status(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_ASSISTANT = "awaiting_assistant", "Awaiting assistant"
    ANSWERED = "answered", "Answered"
    ESCALATED = "escalated", "Escalated"
    ASSIGNED = "assigned", "Assigned"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Category(models.TextChoices):
    GENERAL = "general", "General"
    ACCOUNTS = "accounts", "Accounts and access"
    HARDWARE = "hardware", "Hardware"
    NETWORK = "network", "Network"
    SOFTWARE = "software", "Software"


class EscalationReason(models.TextChoices):
    NO_MODEL = "no_model", "No model available"
    LOW_CONFIDENCE = "low_confidence", "Low confidence"
    MODEL_ERROR = "model_error", "Model failed"
    TIMEOUT = "timeout", "Model too slow"
    USER_REQUEST = "user_request", "User asked for a human"
    NOT_HELPFUL = "not_helpful", "User said it did not help"
    STALE = "stale", "Answer never arrived"


class CorrectionReason(models.TextChoices):
    """Why an agent changed the model's draft; the training side keeps it with the example."""

    WRONG = "wrong", "Wrong"
    INCOMPLETE = "incomplete", "Incomplete"
    UNSAFE = "unsafe", "Unsafe"
    TONE = "tone", "Tone"
    OTHER = "other", "Other"
    NO_DRAFT = "no_draft", "No draft (agent's own answer)"


class Role(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"
    # An agent's or manager's internal note: for the desk only, never visible_to_user.
    NOTE = "note", "Internal note"


# How each role reads as a turn of a chat for the model: agents answer on the assistant's
# side; system notices (hand-offs) and internal notes are no part of the conversation.
CHAT_ROLES: dict[str, str] = {
    Role.USER: "user",
    Role.ASSISTANT: "assistant",
    Role.AGENT: "assistant",
}

# Statuses in which a ticket still needs work; they count towards an agent's load.
ACTIVE_STATUSES = (
    Status.OPEN,
    Status.AWAITING_ASSISTANT,
    Status.ANSWERED,
    Status.ESCALATED,
    Status.ASSIGNED,
    Status.REOPENED,
)


class Ticket(models.Model):
    subject = models.CharField(max_length=settings.SUBJECT_MAX_CHARS)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tickets"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.GENERAL)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    model_version = models.ForeignKey(
        "assistant.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
        help_text="The model the user chose; blank means the default version.",
    )
    escalation_reason = models.CharField(
        max_length=20, choices=EscalationReason.choices, blank=True
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["requester", "-updated_at"]),
            models.Index(fields=["assigned_to", "status"]),
            models.Index(fields=["status", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:detail", args=[self.pk])

    @property
    def is_with_humans(self) -> bool:
        return self.status in (Status.ESCALATED, Status.ASSIGNED)

    @property
    def is_finished(self) -> bool:
        return self.status in (Status.RESOLVED, Status.CLOSED)


class MessageQuerySet(models.QuerySet["Message"]):
    def visible_to_requester(self) -> "MessageQuerySet":
        return self.filter(visible_to_user=True)

    def as_chat(self) -> list[dict[str, str]]:
        """The turns of these messages the user saw, oldest first, as chat messages
        ({"role": "user" | "assistant", "content": ...}).

        Hidden drafts and system notices are left out: the user never saw them, so a model
        answering from them or trained on them would see a conversation that did not happen.
        """
        turns = (
            self.visible_to_requester()
            .filter(role__in=CHAT_ROLES)
            .order_by("created_at", "pk")
            .values_list("role", "body")
        )
        return [{"role": CHAT_ROLES[role], "content": body} for role, body in turns]


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    body = models.TextField()
    # A low-confidence draft is kept for the agent but never shown to the user.
    visible_to_user = models.BooleanField(default=True)
    model_version = models.ForeignKey(
        "assistant.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL
    )
    # Every confidence score of an assistant answer, by assistant.confidence.ScoreName.
    confidence_scores = models.JSONField(default=dict, blank=True)
    confidence = models.FloatField(null=True, blank=True, help_text="The gating score.")
    passed_gate = models.BooleanField(null=True, blank=True)
    token_count = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    # Knowledge articles the answer was grounded on ([{"title", "slug"}]), shown as its
    # sources; solved cases it used are never listed (they are other users' tickets).
    sources = models.JSONField(default=list, blank=True)
    # What retrieval found for the question (best similarity, margin, notes): the gate's
    # evidence, kept with the answer so the gate can be fitted on it later.
    retrieval = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = MessageQuerySet.as_manager()
    # Not a column: the portal's chat sets the reader's rating here for its templates.
    my_rating: bool | None

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]
        constraints = [
            # Whatever writes a note, the database keeps it from the user's side.
            models.CheckConstraint(
                condition=~models.Q(role="note") | models.Q(visible_to_user=False),
                name="notes_never_visible_to_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} on #{self.ticket_id}"

    @property
    def is_note(self) -> bool:
        return self.role == Role.NOTE


class EventKind(models.TextChoices):
    """What an audit row records: a status change (named by its cause where there is one)
    or an action that leaves the status as it was."""

    OPENED = "opened", "Opened"
    STATUS = "status", "Status changed"
    ANSWERED = "answered", "Answered by the assistant"
    ESCALATED = "escalated", "Escalated"
    QUEUED = "queued", "Queued: no agent available"
    ASSIGNED = "assigned", "Assigned"
    REASSIGNED = "reassigned", "Reassigned"
    UNASSIGNED = "unassigned", "Given back to the queue"
    AGENT_REPLY = "agent_reply", "Agent replied"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    MODEL_CHOSEN = "model_chosen", "Model chosen"
    NOTE = "note", "Internal note added"
    TAKEN_OVER = "taken_over", "Taken over from another agent"


class TicketEvent(models.Model):
    """One audit row per transition, assignment or notable action."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"


class MessageRating(models.Model):
    """A thumbs up or down by the ticket's requester on a non-user message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="one_rating_per_user")
        ]


class AgentProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile"
    )
    available = models.BooleanField(default=True)
    # Ties on load go to the agent assigned least recently.
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        state = "available" if self.available else "away"
        return f"{self.user.get_username()} ({state})"


class AnswerStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AnswerRequest(models.Model):
    """One status row per answer job: the user message waiting for the assistant."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="answer_requests")
    question = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    model_version = models.ForeignKey(
        "assistant.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=AnswerStatus.choices, default=AnswerStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    answer = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # "host:pid" of the worker process that claimed it, so a redelivery can tell a dead claim.
    claimed_by = models.CharField(max_length=200, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "model_version", "created_at"])]

    def __str__(self) -> str:
        return f"answer for #{self.ticket_id} ({self.status})"
