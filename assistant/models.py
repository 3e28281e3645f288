"""The registry of model versions: which base model, adapter and gate answer tickets."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q

from .confidence import GATE_SCORES, ScoreName
from .gate import GateKind


class Quantization(models.TextChoices):
    NONE = "none", "None (full precision)"
    INT8 = "8bit", "8-bit (bitsandbytes)"
    INT4 = "4bit", "4-bit NF4 (bitsandbytes)"


class PromptFormat(models.TextChoices):
    # The tokenizer's chat template when it has one, else the seed's plain format.
    AUTO = "auto", "Chat template if the tokenizer has one, else plain"
    CHAT_TEMPLATE = "chat_template", "Tokenizer chat template"
    PLAIN = "plain", "Plain 'User: ...\\nAssistant:' (GPT-Neo, seed format)"


class VersionStage(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


def default_generation() -> dict[str, float]:
    return {"max_new_tokens": 96, "repetition_penalty": 1.1}


class ModelVersion(models.Model):
    name = models.CharField(max_length=100, unique=True)
    base_model_path = models.CharField(
        max_length=500,
        help_text="Folder of a HuggingFace causal LM (config.json, weights, tokenizer).",
    )
    adapter_path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Folder of a PEFT LoRA adapter; blank for the bare base.",
    )
    quantization = models.CharField(
        max_length=8, choices=Quantization.choices, default=Quantization.NONE
    )
    prompt_format = models.CharField(
        max_length=16, choices=PromptFormat.choices, default=PromptFormat.AUTO
    )
    system_prompt = models.TextField(
        blank=True,
        default="You are a helpful IT helpdesk assistant. Answer briefly and concretely.",
    )
    generation = models.JSONField(
        default=default_generation,
        help_text="Generation settings: max_new_tokens, repetition_penalty.",
    )
    gate_score = models.CharField(
        max_length=24,
        choices=[(name.value, name.label) for name in GATE_SCORES],
        default=ScoreName.MEAN_TOP.value,
    )
    gate_threshold = models.FloatField(
        default=0.75, help_text="The raw score's threshold (a trained gate has its own)."
    )
    gate_kind = models.CharField(
        max_length=10,
        choices=[(kind.value, kind.label) for kind in GateKind],
        default=GateKind.SCORE.value,
    )
    # Written by the gate fit (fit_gate, or the job in the admin), never by hand: the file
    # holds the classifier and its threshold, the metrics say what it was fitted on.
    gate_model_path = models.CharField(
        max_length=500, blank=True, help_text="The trained gate's file (gate.json)."
    )
    gate_metrics = models.JSONField(default=dict, blank=True)
    queue = models.CharField(
        max_length=100,
        blank=True,
        help_text="Celery queue of the workers that serve this version; blank for the shared "
        "inference queue.",
    )
    enabled = models.BooleanField(default=True, help_text="Offered in the chat's model switcher.")
    is_default = models.BooleanField(
        default=False, help_text="Answers tickets whose user did not choose a model."
    )
    stage = models.CharField(
        max_length=10, choices=VersionStage.choices, default=VersionStage.CANDIDATE
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="The version this one was trained from or replaced.",
    )
    evaluation = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_version"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.gate_kind == GateKind.TRAINED and not self.gate_model_path:
            raise ValidationError(
                {"gate_kind": "This version has no trained gate yet: fit one (fit_gate) first."}
            )

    @property
    def has_trained_gate(self) -> bool:
        return self.gate_kind == GateKind.TRAINED

    @property
    def max_new_tokens(self) -> int:
        return int(self.generation.get("max_new_tokens", 96))

    @classmethod
    def default(cls) -> "ModelVersion | None":
        return cls.objects.filter(is_default=True, enabled=True).first()

    @classmethod
    def offered(cls) -> models.QuerySet["ModelVersion"]:
        return cls.objects.filter(enabled=True)

    def make_default(self) -> None:
        """Switch the default atomically: never zero or two defaults visible."""
        with transaction.atomic():
            ModelVersion.objects.select_for_update().filter(is_default=True).exclude(
                pk=self.pk
            ).update(is_default=False)
            ModelVersion.objects.filter(pk=self.pk).update(is_default=True, enabled=True)
        self.is_default = True
        self.enabled = True
