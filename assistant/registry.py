"""From a model version row to what the engine needs; which engine answers."""

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .engine import Engine, ModelSpec
from .models import ModelVersion


def spec_for(version: ModelVersion) -> ModelSpec:
    """The engine's view of a version; its key changes whenever the row does, so workers
    reload a changed adapter on their next task without a restart."""
    generation = version.generation or {}
    return ModelSpec(
        key=f"{version.pk}:{version.updated_at.isoformat()}",
        base_model_path=version.base_model_path,
        adapter_path=version.adapter_path,
        adapter_name=f"v{version.pk}" if version.adapter_path else "",
        quantization=version.quantization,
        prompt_format=version.prompt_format,
        system_prompt=version.system_prompt,
        max_new_tokens=int(generation.get("max_new_tokens", 96)),
        repetition_penalty=float(generation.get("repetition_penalty", 1.0)),
    )


@cache
def _engine(path: str) -> Engine:
    engine: Engine = import_string(path)()
    return engine


def get_engine() -> Engine:
    """One engine per process (it caches loaded models), chosen by settings."""
    return _engine(settings.ASSISTANT_ENGINE)
