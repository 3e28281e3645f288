"""prepare_models registers the shipped model once and leaves managers' choices alone."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from assistant.management.commands.prepare_models import SHIPPED_VERSION
from assistant.models import ModelVersion
from tests.factories import ModelVersionFactory


@pytest.fixture
def models_dir(settings, smollm2_path: Path) -> Path:
    # The folder already exists there, so the slow GGUF conversion never runs.
    settings.MODELS_DIR = smollm2_path.parent
    return smollm2_path


def _prepare() -> str:
    out = StringIO()
    call_command("prepare_models", stdout=out)
    return out.getvalue()


def test_it_registers_the_shipped_model_as_the_active_default(db: None, models_dir: Path) -> None:
    _prepare()

    version = ModelVersion.objects.get(name=SHIPPED_VERSION)
    assert version.base_model_path == str(models_dir)
    assert version.is_default and version.enabled
    assert version.stage == "active"
    assert version.prompt_format == "auto"
    assert (version.gate_score, version.gate_threshold) == ("mean_top_prob", 0.75)
    assert version.max_new_tokens == 96
    assert ModelVersion.default() == version


def test_it_changes_nothing_when_run_twice(db: None, models_dir: Path) -> None:
    _prepare()
    before = ModelVersion.objects.values().get(name=SHIPPED_VERSION)

    output = _prepare()

    assert ModelVersion.objects.values().get(name=SHIPPED_VERSION) == before
    assert ModelVersion.objects.count() == 1
    assert "nothing to change" in output


def test_it_keeps_a_promoted_default_and_a_calibrated_gate(db: None, models_dir: Path) -> None:
    _prepare()
    ModelVersion.objects.filter(name=SHIPPED_VERSION).update(gate_threshold=0.6)
    promoted = ModelVersionFactory(name="smollm2-lora-v2")
    promoted.make_default()

    _prepare()

    assert ModelVersion.default() == promoted
    assert ModelVersion.objects.get(name=SHIPPED_VERSION).gate_threshold == 0.6


def test_it_points_the_version_at_a_moved_models_folder(db: None, models_dir: Path) -> None:
    ModelVersionFactory(name=SHIPPED_VERSION, base_model_path="/old/place")

    _prepare()

    assert ModelVersion.objects.get(name=SHIPPED_VERSION).base_model_path == str(models_dir)
