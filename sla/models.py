"""Service levels: business calendars, SLA policies, each ticket's clock and its alerts."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models

from tickets.models import Category, Priority, Ticket

from . import calendar
from .clock import Target


def _validate_timezone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessCalendar(models.Model):
    """When the desk works: weekly hours and holidays, in one time zone."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, validators=[_validate_timezone])
    # Touched whenever its hours or holidays change, so cached calendars know they are stale.
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    def to_calendar(self) -> calendar.Calendar:
        """The plain calendar the arithmetic works on (two queries: hours and holidays)."""
        week: dict[int, list[tuple[int, int]]] = {}
        for hours in self.hours.all():
            week.setdefault(hours.weekday, []).append(hours.minutes())
        return calendar.Calendar(
            timezone=ZoneInfo(self.timezone),
            week=week,
            holidays=frozenset(self.holidays.values_list("date", flat=True)),
        )


def _minute(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class WorkingHours(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.IntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"

    def minutes(self) -> tuple[int, int]:
        closes = _minute(self.closes) or calendar.MINUTES_PER_DAY
        return _minute(self.opens), closes

    def clean(self) -> None:
        opens, closes = self.minutes()
        if closes <= opens:
            raise ValidationError("The desk must close after it opens (00:00 for midnight).")


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="one_holiday_per_date")
        ]

    def __str__(self) -> str:
        day: date = self.date
        return f"{day:%Y-%m-%d} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets in business minutes for the tickets of a priority (and, optionally, of one
    category: a policy with a category wins over the priority's general one)."""

    name = models.CharField(max_length=100)
    priority = models.IntegerField(choices=Priority.choices)
    category = models.CharField(
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text="Blank: every category without a policy of its own.",
    )
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies"
    )
    first_response_minutes = models.PositiveIntegerField(
        help_text="Business minutes from opening to the first visible answer."
    )
    next_response_minutes = models.PositiveIntegerField(
        help_text="Business minutes from a user's message (or escalation) to the next answer."
    )
    resolution_minutes = models.PositiveIntegerField(
        help_text="Business minutes from opening to resolution, not counting waits on the user."
    )

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["-priority", "category"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "category"], name="one_policy_per_scope")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for name in ("first_response_minutes", "next_response_minutes", "resolution_minutes"):
            if getattr(self, name) == 0:
                raise ValidationError({name: "A target is at least one business minute."})


# The sort key of a clock with nothing due: after every real due time.
NOTHING_DUE = datetime(9999, 1, 1, tzinfo=UTC)


class TicketSla(models.Model):
    """A ticket's clock, recomputed from its messages and events (sla.sync)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="+")
    first_response_due = models.DateTimeField(null=True)
    first_response_at = models.DateTimeField(null=True)
    next_response_due = models.DateTimeField(null=True)
    resolution_due = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    waiting_since = models.DateTimeField(null=True, help_text="The user waits on the desk.")
    paused_since = models.DateTimeField(null=True, help_text="The desk waits on the user.")
    # The earliest due time still ahead of the desk (blank when paused or finished) and its
    # target: what the changelist shows, sorts and filters on, and what the alerts watch.
    next_due_at = models.DateTimeField(null=True, db_index=True)
    # next_due_at, or NOTHING_DUE: the changelist's sort key, never null, so one index
    # serves "most urgent first" on SQLite and PostgreSQL alike (they order nulls apart).
    urgency = models.DateTimeField(default=NOTHING_DUE, db_index=True)
    next_target = models.CharField(max_length=20, choices=[(t, t) for t in Target], blank=True)
    breached_at = models.DateTimeField(null=True, db_index=True)
    first_response_minutes = models.FloatField(null=True)
    resolution_minutes = models.FloatField(null=True)
    first_response_met = models.BooleanField(null=True)
    resolution_met = models.BooleanField(null=True)
    # Escalated with nobody assigned since then, and when that wait alerts the managers.
    unassigned_since = models.DateTimeField(null=True)
    unassigned_alert_at = models.DateTimeField(null=True, db_index=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "ticket SLA"
        # The alert sweep's look-ups: a target still pending, due before a time.
        indexes = [
            models.Index(fields=["first_response_at", "first_response_due"]),
            models.Index(fields=["next_response_due"]),
            models.Index(fields=["resolved_at", "resolution_due"]),
        ]

    def __str__(self) -> str:
        return f"SLA of #{self.ticket_id}"


class AlertTarget(models.TextChoices):
    FIRST_RESPONSE = Target.FIRST_RESPONSE, "First response"
    NEXT_RESPONSE = Target.NEXT_RESPONSE, "Next response"
    RESOLUTION = Target.RESOLUTION, "Resolution"
    UNASSIGNED = "unassigned", "Waiting unassigned"


class AlertKind(models.TextChoices):
    WARNING = "warning", "Warning before the breach"
    BREACH = "breach", "Breached"


class SlaAlert(models.Model):
    """One row per alert occasion, claimed before anyone is told: its unique key is what
    makes each warning and breach go out once, across retries, restarts and two beats."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_alerts")
    target = models.CharField(max_length=20, choices=AlertTarget.choices)
    kind = models.CharField(max_length=10, choices=AlertKind.choices)
    due_at = models.DateTimeField()
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "target", "kind", "due_at"], name="one_alert_per_occasion"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} on #{self.ticket_id}"
