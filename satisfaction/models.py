"""Satisfaction ratings: the requester's 1-5 score of a resolved ticket, one per ticket."""

from django.conf import settings
from django.db import models


class Score(models.IntegerChoices):
    VERY_DISSATISFIED = 1, "Very dissatisfied"
    DISSATISFIED = 2, "Dissatisfied"
    NEUTRAL = 3, "Neutral"
    SATISFIED = 4, "Satisfied"
    VERY_SATISFIED = 5, "Very satisfied"


# The usual CSAT reading: 4 and 5 are satisfied customers, 1 and 2 unhappy ones; a low
# score on a ticket the assistant resolved alone is a wrong answer for the gate to learn.
SATISFIED_SCORES = (Score.SATISFIED, Score.VERY_SATISFIED)
LOW_SCORES = (Score.VERY_DISSATISFIED, Score.DISSATISFIED)
# A few sentences about the service, not a second ticket: the conversation is for that.
COMMENT_MAX_CHARS = 2000


class Channel(models.TextChoices):
    PORTAL = "portal", "Portal"
    EMAIL = "email", "E-mail link"


class Rating(models.Model):
    """The requester's rating of a resolved ticket, with who resolved it and when, as it
    stood when they rated it (a later reopening does not rewrite what they were rating)."""

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    score = models.PositiveSmallIntegerField(choices=Score.choices)
    comment = models.TextField(blank=True, max_length=COMMENT_MAX_CHARS)
    resolved_by_ai = models.BooleanField(
        help_text="The assistant resolved the ticket alone (tickets.outcomes.with_resolver)."
    )
    resolved_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Recorded once: a second rating (a double click, the e-mail after the portal,
            # two tabs at once) fails here instead of replacing the first.
            models.UniqueConstraint(fields=["ticket"], name="one_rating_per_ticket"),
            models.CheckConstraint(
                condition=models.Q(score__gte=Score.VERY_DISSATISFIED)
                & models.Q(score__lte=Score.VERY_SATISFIED),
                name="rating_score_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for #{self.ticket_id}"

    @property
    def is_low(self) -> bool:
        return self.score in LOW_SCORES
