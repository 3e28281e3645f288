"""Agents' corrections as training examples, their exports and erasures."""

from django.conf import settings
from django.db import models

from jobs.models import Job
from tickets.models import CorrectionReason


class ExampleSource(models.TextChoices):
    LOW_CONFIDENCE = "low_confidence", "Low-confidence draft"
    THUMBS_DOWN = "thumbs_down", "Thumbs-down answer"
    ANSWER = "answer", "Any answer"
    NO_DRAFT = "no_draft", "Agent reply without draft"


class ReviewState(models.TextChoices):
    PENDING = "pending", "Pending review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class TrainingExample(models.Model):
    """A question with its context, the model's draft and the agent's final answer."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="training_examples"
    )
    question_message = models.ForeignKey(
        "tickets.Message", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    draft_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer_message = models.ForeignKey(
        "tickets.Message", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Earlier turns as [{"role": ..., "content": ...}], oldest first.
    context = models.JSONField(default=list, blank=True)
    question = models.TextField()
    draft = models.TextField(blank=True)
    correction = models.TextField()
    model_version = models.ForeignKey(
        "assistant.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL
    )
    confidence = models.FloatField(null=True, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=12, choices=CorrectionReason.choices)
    source = models.CharField(max_length=16, choices=ExampleSource.choices)
    review_state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING, db_index=True
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"example {self.pk} from #{self.ticket_id}"


class DataExport(Job):
    """Every export is recorded: who, when, filters, rows, file hash, what was redacted.

    Started from the admin it is a job: the row is pending until the exports worker has
    written the file; from the command line it is written at once, already succeeded.
    """

    time_limit_kind = "export"

    filters = models.JSONField(default=dict)
    format = models.CharField(max_length=8, default="jsonl")
    path = models.CharField(max_length=500)
    row_count = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    redaction_report = models.JSONField(default=dict)
    # Ticket ids the file holds, so an erasure can say which exports held a ticket.
    ticket_ids = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"export {self.pk} ({self.row_count} rows)"


class Erasure(models.Model):
    """A ticket erased at a user's request, and the earlier exports that held it."""

    ticket_id = models.BigIntegerField(db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    exports = models.ManyToManyField(DataExport, blank=True, related_name="erasures")
