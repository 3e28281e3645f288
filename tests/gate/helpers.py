"""Labelled answers for the gate's tests: synthetic features where one of them tells good
answers from bad, and a fitted gate's file."""

from pathlib import Path

import numpy as np

from assistant.gate import FEATURES
from training.pipeline.gate import GateFitConfig, LabelledAnswer, fit_gate, save_fitted


def separable(n: int, seed: int = 0, gap: float = 3.0) -> list[LabelledAnswer]:
    """Answers whose agreement with their note tells right from wrong; other features noise."""
    rng = np.random.default_rng(seed)
    answers = []
    for i in range(n):
        good = bool(i % 2)
        values = {name: float(rng.normal()) for name in FEATURES}
        values["agreement"] = float(rng.normal(gap / 2 if good else -gap / 2))
        answers.append(LabelledAnswer(f"question {i}", values, good, "synthetic"))
    return answers


def fitted_gate_file(tmp_path: Path, n: int = 300) -> Path:
    """A gate fitted on `separable` answers, saved as the fit job saves it."""
    fitted = fit_gate(separable(n), GateFitConfig(), groups=list(range(n)))
    return save_fitted(fitted, tmp_path / "gate")
