"""The helpdesk's own knowledge: articles (with revisions), the passages they are cut into,
solved cases from agents' answers, and the version counter workers watch to refresh."""

from django.conf import settings
from django.db import models
from django.db.models import F

from jobs.models import Job


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    category = models.CharField(max_length=60, blank=True, db_index=True)
    body = models.TextField(help_text="Markdown.")
    status = models.CharField(
        max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Where it came from: "starter:<file>", "import:<file>", "reply:<message id>",
    # "macro:<macro id>", or blank.
    origin = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "title"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleRevision(models.Model):
    """The article as it was after each save: who changed what, and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=60, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=ArticleStatus.choices)
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="one_revision_number")
        ]


class Passage(models.Model):
    """A few sentences of a published article, with their embedding."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="passages")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    # all-MiniLM-L6-v2, float32, unit length: 384 x 4 bytes.
    embedding = models.BinaryField()

    class Meta:
        ordering = ["article", "ordinal"]


class CaseSource(models.TextChoices):
    CORRECTION = "correction", "Approved correction"
    RESOLVED = "resolved", "Resolved ticket"
    IMPORTED = "imported", "Imported question-answer pair"


class SolvedCase(models.Model):
    """A question and the answer that solved it, redacted. The model may answer from it; no
    user is ever shown or linked another user's case."""

    # Erasing a ticket erases its cases with it.
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=10, choices=CaseSource.choices)
    # The training example, message or import line it came from, unique per source.
    source_key = models.CharField(max_length=200)
    question = models.TextField()
    answer = models.TextField()
    embedding = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_key"], name="one_case_per_source")
        ]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.question[:60]}"


class IndexVersion(models.Model):
    """One row: bumped whenever passages or cases change, so workers reload their matrix."""

    version = models.PositiveBigIntegerField(default=0)

    @classmethod
    def current(cls) -> int:
        row = cls.objects.filter(pk=1).values_list("version", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(version=F("version") + 1):
            cls.objects.get_or_create(pk=1, defaults={"version": 1})


class ReindexRun(Job):
    """A rebuild of every vector (after a change of embedding model), as a job."""

    time_limit_kind = "evaluation"

    counts = models.JSONField(default=dict, blank=True)
