"""The worker hook loads the model and sets torch's threads before the first ticket."""

from pathlib import Path

import pytest

from assistant.engine import ModelSpec


@pytest.mark.slow
def test_it_loads_the_model_and_sets_threads_at_warm_up(smollm2_path: Path, monkeypatch) -> None:
    import torch

    from assistant import loading
    from assistant.worker import warm_up

    spec = ModelSpec(key="warm:1", base_model_path=str(smollm2_path))
    monkeypatch.setattr(loading, "_models", {})  # a process that has loaded nothing yet

    warm_up(spec, threads=1)

    assert torch.get_num_threads() == 1
    assert [key[:2] for key in loading._models] == [(str(smollm2_path), "none")]


def test_it_fails_loudly_on_a_missing_model_folder(tmp_path: Path) -> None:
    from assistant.worker import warm_up

    with pytest.raises(OSError):
        warm_up(ModelSpec(key="x", base_model_path=str(tmp_path / "missing")), threads=1)
