"""The pipeline's records: registered datasets, training runs, evaluation runs and gate
fits (jobs)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from jobs.models import Job


class DatasetSplit(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"
    ALL = "all", "All rows (replay, evaluation)"


class DatasetSource(models.TextChoices):
    CURATED = "curated", "Curated (curate_dataset)"
    EXPORT = "export", "Export of reviewed corrections"
    RETRAIN = "retrain", "Retraining mix of corrections and replay"
    REGISTERED = "registered", "Registered by hand (register_dataset)"


class Dataset(models.Model):
    """A chat JSONL file on the workers' disk, registered so people pick it from a list
    instead of typing server paths, with what it holds and where it came from."""

    name = models.CharField(max_length=200, unique=True)
    path = models.CharField(max_length=500, unique=True)
    split = models.CharField(max_length=10, choices=DatasetSplit.choices)
    source = models.CharField(max_length=10, choices=DatasetSource.choices)
    rows = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Tickets whose corrections the file holds: a version trained on it has seen them, so a
    # shadow comparison must not score it on them.
    ticket_ids = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_split_display().lower()}, {self.rows} rows)"


class TrainingRun(Job):
    """One status row per training run, whether started from the admin or the shell. A
    retraining run first prepares its data (config["retrain"]), on the worker too."""

    time_limit_kind = "training"

    config = models.JSONField(default=dict)
    base_version = models.ForeignKey(
        "assistant.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    train_dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    validation_dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    produced_version = models.ForeignKey(
        "assistant.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="training_runs",
    )
    metrics = models.JSONField(default=dict, blank=True)
    output_dir = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"training run {self.pk} ({self.status})"


class EvaluationRun(Job):
    """A version answers a held-out dataset; the report lands on the version."""

    time_limit_kind = "evaluation"

    version = models.ForeignKey(
        "assistant.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    limit = models.PositiveIntegerField(default=200, help_text="Rows of the dataset answered.")
    summary = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.version_id} ({self.status})"


class GateFit(Job):
    """A version's gate fitted on labelled answers (training/pipeline/gate.py): the gate file
    lands beside the version, which is gated by it when a threshold met the target."""

    time_limit_kind = "evaluation"

    version = models.ForeignKey(
        "assistant.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    dataset = models.ForeignKey(
        Dataset,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Labelled chat JSONL the version answers (one it did not train on); blank "
        "to learn from the desk's outcomes only.",
    )
    limit = models.PositiveIntegerField(
        default=500, help_text="Rows of the dataset answered (0 = all)."
    )
    desk_outcomes = models.BooleanField(
        default=True,
        help_text="Also learn from the version's answers on the desk: ratings, agents' "
        "corrections of its drafts, tickets resolved without reopening.",
    )
    target_accuracy = models.FloatField(
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of the answers shown that must be right.",
    )
    confidence = models.FloatField(
        default=0.95,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
        help_text="Confidence that the target accuracy holds (one-sided lower bound).",
    )
    metrics = models.JSONField(default=dict, blank=True)
    gate_path = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"gate fit {self.pk} of {self.version_id} ({self.status})"
