"""The answer job gates by the version's trained classifier when it has one: the answer's
confidence is the calibrated P(right), and the classifier, not the raw score, decides."""

import math
from pathlib import Path

import pytest

from assistant.gate import FEATURES, GateKind, TrainedGate
from tests.factories import ModelVersionFactory
from tests.fake_engine import HIGH
from tickets import answering, lifecycle
from tickets.models import AnswerRequest, EscalationReason, Message, Role, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _deterministic(settings, monkeypatch):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.ASSISTANT_ENABLED = True
    monkeypatch.setattr("tickets.enqueue.enqueue_answer", lambda request_id: False)


def _gate(path: Path, weights: dict[str, float], threshold: float | None = 0.5) -> Path:
    """A gate by hand: logistic in the named features (unscaled), Platt map the identity."""
    return TrainedGate(
        features=FEATURES,
        mean=tuple(0.0 for _ in FEATURES),
        scale=tuple(1.0 for _ in FEATURES),
        coef=tuple(weights.get(name, 0.0) for name in FEATURES),
        intercept=weights.get("intercept", 0.0),
        calibration={"method": "sigmoid", "a": -1.0, "b": 0.0},
        threshold=threshold,
        metrics={},
    ).save(path)


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _answer(user, question: str) -> tuple[Message, object]:
    ticket = lifecycle.open_ticket(user, question)
    answering.answer_request(AnswerRequest.objects.get(ticket=ticket).pk, "w:1")
    ticket.refresh_from_db()
    return Message.objects.get(ticket=ticket, role=Role.ASSISTANT), ticket


def test_a_trained_gate_hands_off_what_the_raw_score_would_have_shown(user, agent, tmp_path):
    # The fake engine is sure (0.95) of every plain question; this gate distrusts exactly
    # that, so only the trained gate can have decided.
    path = _gate(tmp_path / "gate.json", {"mean_top_prob": -10.0, "intercept": 2.0})
    ModelVersionFactory(
        is_default=True,
        gate_threshold=0.75,
        gate_kind=GateKind.TRAINED,
        gate_model_path=str(path),
    )

    answer, ticket = _answer(user, "How do I reset my password?")

    assert answer.confidence_scores["mean_top_prob"] == pytest.approx(HIGH)
    assert answer.confidence == pytest.approx(_expit(2.0 - 10.0 * HIGH))
    assert answer.confidence < 0.5 and answer.passed_gate is False
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE


def test_a_trained_gate_shows_what_it_finds_right(user, tmp_path):
    path = _gate(tmp_path / "gate.json", {"mean_top_prob": 10.0, "intercept": -5.0})
    ModelVersionFactory(is_default=True, gate_kind=GateKind.TRAINED, gate_model_path=str(path))

    sure, sure_ticket = _answer(user, "How do I reset my password?")
    unsure, unsure_ticket = _answer(user, "[low] Kernel panic after update")

    assert sure.passed_gate and sure_ticket.status == Status.ANSWERED
    assert sure.confidence == pytest.approx(_expit(10.0 * HIGH - 5.0))
    assert not unsure.passed_gate and unsure_ticket.status != Status.ANSWERED


def test_the_answer_keeps_the_features_the_gate_read(user, tmp_path):
    path = _gate(tmp_path / "gate.json", {"intercept": 5.0})
    ModelVersionFactory(is_default=True, gate_kind=GateKind.TRAINED, gate_model_path=str(path))

    answer, _ = _answer(user, "Wifi drops every hour")

    assert answer.retrieval["agreement"] == 0.0  # no knowledge: nothing to agree with
    assert 0.0 < answer.retrieval["relevance"] <= 1.0  # the answer's cosine to the question
    assert {"best_similarity", "margin"} <= set(answer.retrieval)
    assert answer.passed_gate


def test_a_version_whose_gate_file_is_gone_hands_every_answer_to_people(user, agent, tmp_path):
    ModelVersionFactory(
        is_default=True,
        gate_threshold=0.0,
        gate_kind=GateKind.TRAINED,
        gate_model_path=str(tmp_path / "deleted.json"),
    )

    answer, ticket = _answer(user, "How do I reset my password?")

    assert answer.confidence == 0.0 and answer.passed_gate is False
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE


def test_the_raw_score_gate_is_still_there_to_compare(user):
    ModelVersionFactory(is_default=True, gate_kind=GateKind.SCORE, gate_threshold=0.75)

    answer, ticket = _answer(user, "How do I reset my password?")

    assert answer.confidence == pytest.approx(HIGH) and ticket.status == Status.ANSWERED


def test_an_answer_grounded_on_knowledge_keeps_its_agreement_with_the_best_note(user):
    from tests.knowledge.helpers import published

    published("Install a .deb file from the terminal", "Run `sudo apt install ./file.deb`.")
    ModelVersionFactory(is_default=True, gate_threshold=0.0)

    answer, _ = _answer(user, "How can I install a .deb file from the terminal?")

    # The fake engine echoes the grounded prompt, notes included: it agrees with the note.
    assert answer.retrieval["best_similarity"] > 0.5
    assert 0.3 < answer.retrieval["agreement"] <= 1.0
