"""The trained gate's file: what scikit-learn fitted, read once per process, refused when
it was fitted on other features."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from assistant.gate import FEATURES, GateFileError, TrainedGate, feature_row
from training.pipeline.gate import (
    GateFitConfig,
    _fit_calibrated,
    exported_gate,
)

from .helpers import fitted_gate_file, separable


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_the_file_gives_the_probabilities_scikit_learn_fitted(method: str) -> None:
    answers = separable(400)
    X = np.array([feature_row(a.features) for a in answers])
    y = np.array([int(a.good) for a in answers])
    model, _ = _fit_calibrated(X, y, np.arange(len(y)), method, GateFitConfig())

    gate = TrainedGate.from_dict(json.loads(json.dumps(exported_gate(model, method).to_dict())))

    assert gate.calibration["method"] == method
    assert gate.probabilities(X.tolist()) == pytest.approx(
        model.predict_proba(X)[:, 1].tolist(), abs=1e-9
    )


def test_it_reads_the_file_once_and_again_when_it_changes(tmp_path: Path) -> None:
    path = fitted_gate_file(tmp_path)
    first = TrainedGate.load(path)

    assert TrainedGate.load(path) is first
    data = json.loads(path.read_text())
    data["threshold"] = 0.99
    path.write_text(json.dumps(data))
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10**9))

    assert TrainedGate.load(path).threshold == 0.99


def test_it_refuses_a_gate_fitted_on_other_features(tmp_path: Path) -> None:
    path = fitted_gate_file(tmp_path)
    data = json.loads(path.read_text())
    data["features"] = list(reversed(FEATURES))
    path.write_text(json.dumps(data))

    with pytest.raises(GateFileError, match="fitted on features"):
        TrainedGate.load(path)


def test_a_missing_file_is_an_error_not_a_guess(tmp_path: Path) -> None:
    with pytest.raises(GateFileError):
        TrainedGate.load(tmp_path / "nothing.json")


def test_without_a_threshold_it_passes_nothing(tmp_path: Path) -> None:
    gate = TrainedGate.load(fitted_gate_file(tmp_path))
    unsure = TrainedGate(**{**gate.__dict__, "threshold": None})

    assert gate.passes(1.0) and not unsure.passes(1.0)
