"""The evaluation compares the trained gate with each raw score: AUROC, coverage at the
target accuracy, calibration error, and a risk-coverage plot."""

from pathlib import Path

import pytest

from assistant.gate import FEATURES, GateKind, TrainedGate
from tests.factories import ModelVersionFactory
from tests.fake_engine import DeterministicEngine
from training.pipeline import evaluation
from training.pipeline.evaluation import Gate, evaluate_spec, evaluate_version, risk_coverage

from .test_fit_gate_command import labelled_set

SCORES = ("mean_top_prob", "mean_chosen_prob", "min_chosen_prob", "geomean_chosen_prob")


@pytest.fixture(autouse=True)
def _no_teacher_forcing(monkeypatch):
    # The loss needs real weights; the gate's figures do not.
    monkeypatch.setattr(
        evaluation,
        "teacher_forced_loss",
        lambda spec, conversations: {"loss": 1.0, "perplexity": 2.7, "answer_tokens": 10},
    )


def _inverted_gate(path: Path) -> Path:
    """A trained gate that trusts exactly the answers the engine is unsure of."""
    return TrainedGate(
        features=FEATURES,
        mean=(0.0,) * len(FEATURES),
        scale=(1.0,) * len(FEATURES),
        coef=tuple(-10.0 if name == "mean_top_prob" else 0.0 for name in FEATURES),
        intercept=5.0,
        calibration={"method": "sigmoid", "a": -1.0, "b": 0.0},
        threshold=0.5,
        metrics={},
    ).save(path)


def test_it_reports_every_gate_side_by_side(tmp_path: Path) -> None:
    from assistant.engine import ModelSpec
    from training.pipeline.evaluation import read_test_split

    conversations = read_test_split(labelled_set(tmp_path / "set.jsonl"))
    gate = TrainedGate.load(_inverted_gate(tmp_path / "gate.json"))

    report = evaluate_spec(
        ModelSpec(key="k", base_model_path="/nowhere"),
        conversations,
        Gate("mean_top_prob", 0.5),
        tmp_path / "report",
        DeterministicEngine(),
        target_accuracy=0.6,
        confidence=0.9,
        trained_gate=gate,
    )

    gates = report["gates"]
    assert set(gates) >= {"trained", *SCORES}
    assert gates["mean_top_prob"]["auroc"] == 1.0 and gates["trained"]["auroc"] == 0.0
    assert gates["mean_top_prob"]["at_target"]["coverage"] == 0.5
    assert gates["trained"]["at_target"] is None  # it trusts the wrong half
    assert gates["mean_top_prob"]["ece"] == pytest.approx(0.5 * 0.05 + 0.5 * 0.2)
    assert gates["neg_mean_entropy"]["ece"] is not None
    assert (tmp_path / "report" / "risk_coverage.png").stat().st_size > 1000
    assert report["plots"] == ["reliability.png", "risk_coverage.png"]


@pytest.mark.django_db
def test_a_version_gated_by_its_classifier_is_evaluated_by_it(tmp_path, settings, client, manager):
    settings.MODELS_DIR = tmp_path / "models"
    path = _inverted_gate(tmp_path / "gate.json")
    version = ModelVersionFactory(
        name="gated", gate_kind=GateKind.TRAINED, gate_model_path=str(path)
    )

    report = evaluate_version(
        version, labelled_set(tmp_path / "set.jsonl"), engine=DeterministicEngine()
    )

    assert report["gate"] == {"score": "trained", "threshold": 0.5}
    assert report["at_threshold"]["coverage"] == 0.5 and report["at_threshold"]["accuracy"] == 0.0
    summary = version.evaluation["summary"]
    assert summary["gate"] == "trained" and summary["trained_gate_auroc"] == 0.0
    assert summary["best_raw_auroc"] == 1.0
    client.force_login(manager)
    plot = client.get(f"/admin/training/trainingrun/evaluation/{version.pk}/risk_coverage.png")
    assert plot.status_code == 200 and plot["Content-Type"] == "image/png"


def test_risk_coverage_runs_from_the_surest_answer_down() -> None:
    coverage, risk = risk_coverage([0.9, 0.1, 0.8, 0.7], [True, False, True, False])

    assert coverage == [0.25, 0.5, 0.75, 1.0]
    assert risk == pytest.approx([0.0, 0.0, 1 / 3, 0.5])
