"""fit_gate end to end: a registered labelled set answered the production way, the gate
fitted, saved beside the version and gating its next answers."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assistant.gate import FEATURES, GateKind, TrainedGate
from jobs.models import JobStatus
from tests.factories import ModelVersionFactory
from tickets import answering, lifecycle
from tickets.models import AnswerRequest, Message, Role, Status
from training.pipeline.datasets import register_dataset
from training.pipeline.models import DatasetSplit, GateFit

from .test_split import TOPICS

pytestmark = pytest.mark.django_db

SMOLLM2 = Path(__file__).resolve().parents[2] / "var" / "models" / "SmolLM2-135M-Instruct"


def _chat(question: str, answer: str) -> str:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": messages}) + "\n"


def labelled_set(path: Path) -> Path:
    """Per topic: a question the fake engine is sure of, whose reference is its own answer
    (right), and one it is unsure of ("[low]"), whose reference says something else (wrong)."""
    rows = []
    for topic in TOPICS:
        sure = f"How do I {topic}?"
        rows.append(_chat(sure, f"Answer from base to: {sure} (turns seen: 1)"))
        rows.append(_chat(f"[low] I cannot {topic}", "Reinstall the operating system."))
    path.write_text("".join(rows))
    return path


@pytest.fixture
def fake_engine(settings, tmp_path):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.ASSISTANT_ENABLED = True
    settings.MODELS_DIR = tmp_path / "models"


def test_it_fits_saves_and_gates_the_version_with_it(
    fake_engine, tmp_path, monkeypatch, agent, user
):
    monkeypatch.setattr("tickets.enqueue.enqueue_answer", lambda request_id: False)
    version = ModelVersionFactory(name="desk-model", is_default=True, gate_threshold=0.0)
    dataset = register_dataset(labelled_set(tmp_path / "labelled.jsonl"), split=DatasetSplit.TEST)
    out = StringIO()

    call_command(
        "fit_gate",
        "--version=desk-model",
        f"--dataset={dataset.name}",
        "--target-accuracy=0.6",
        "--confidence=0.9",
        stdout=out,
    )

    version.refresh_from_db()
    fit = GateFit.objects.get()
    assert fit.status == JobStatus.SUCCEEDED and fit.metrics["applied"] is True
    assert version.gate_kind == GateKind.TRAINED
    path = Path(version.gate_model_path)
    assert path.parent.parent == tmp_path / "models" / "gates" / "desk-model"
    assert (path.parent / "metrics.json").exists() and (path.parent / "risk_coverage.png").exists()
    figures = version.gate_metrics
    assert figures["features"] == list(FEATURES)
    assert figures["examples"] == 40 and figures["sources"] == {"dataset": 40}
    assert figures["good_rate"] == 0.5 and figures["auroc"] == 1.0
    assert (figures["target_accuracy"], figures["confidence"]) == (0.6, 0.9)
    assert figures["calibration"] == "sigmoid"
    assert figures["held_out"]["lower_bound"] >= 0.6
    assert TrainedGate.load(path).threshold == figures["threshold"]
    assert "now gated by" in out.getvalue()

    # The next answers go through it: sure ones shown, unsure ones handed off, even though
    # the version's raw threshold (0.0) would show everything.
    shown = lifecycle.open_ticket(user, "How do I print double-sided?")
    handed = lifecycle.open_ticket(user, "[low] My monitor flickers")
    for ticket in (shown, handed):
        answering.answer_request(AnswerRequest.objects.get(ticket=ticket).pk, "w:1")
        ticket.refresh_from_db()
    assert shown.status == Status.ANSWERED and handed.status != Status.ANSWERED
    answer = Message.objects.get(ticket=shown, role=Role.ASSISTANT)
    assert answer.confidence == pytest.approx(TrainedGate.load(path).probability(_row(answer)))


def _row(answer: Message) -> list[float]:
    from assistant.gate import feature_row, feature_values

    return feature_row(
        feature_values(
            retrieval=answer.retrieval,
            scores=answer.confidence_scores,
            token_count=answer.token_count,
            text=answer.body,
        )
    )


def test_a_threshold_it_cannot_prove_leaves_the_version_as_it_was(fake_engine, tmp_path):
    version = ModelVersionFactory(name="small-desk")
    dataset = register_dataset(labelled_set(tmp_path / "labelled.jsonl"), split=DatasetSplit.TEST)
    out = StringIO()

    # 99 % with 99 % confidence needs hundreds of right answers in a row; this set has ~12.
    call_command(
        "fit_gate",
        "--version=small-desk",
        f"--dataset={dataset.name}",
        "--target-accuracy=0.99",
        "--confidence=0.99",
        stdout=out,
    )

    version.refresh_from_db()
    assert version.gate_kind == GateKind.SCORE and version.gate_model_path == ""
    fit = GateFit.objects.get()
    assert fit.status == JobStatus.SUCCEEDED and fit.metrics["applied"] is False
    assert fit.metrics["threshold"] is None and Path(fit.gate_path).exists()
    assert "keeps its gate" in out.getvalue()


def test_it_names_what_it_cannot_find(fake_engine) -> None:
    ModelVersionFactory(name="known")

    with pytest.raises(CommandError, match="No model version"):
        call_command("fit_gate", "--version=unknown", "--dataset=x")
    with pytest.raises(CommandError, match="No registered dataset"):
        call_command("fit_gate", "--version=known", "--dataset=missing")


def test_a_fit_with_nothing_to_learn_from_fails_with_the_reason(fake_engine) -> None:
    ModelVersionFactory(name="new")

    with pytest.raises(CommandError, match="no labelled answers"):
        call_command("fit_gate", "--version=new")

    assert GateFit.objects.get().status == JobStatus.FAILED


@pytest.mark.slow
def test_it_fits_a_gate_for_the_real_model_on_a_dozen_rows(settings, tmp_path) -> None:
    """SmolLM2 answers through the real engine: half the references are its own answers
    (so right), half are about something else (so wrong)."""
    from assistant.registry import get_engine, spec_for
    from training.pipeline.evaluation import answer_like_production

    settings.MODELS_DIR = tmp_path / "models"
    version = ModelVersionFactory(
        name="smol",
        base_model_path=str(SMOLLM2),
        generation={"max_new_tokens": 24, "repetition_penalty": 1.1},
    )
    questions = [f"How do I {topic}?" for topic in TOPICS[:12]]
    answered = answer_like_production(
        spec_for(version),
        [[{"role": "user", "content": q}] for q in questions],
        get_engine(),
        batch_size=settings.ANSWER_BATCH_SIZE,
    )
    path = tmp_path / "labelled.jsonl"
    path.write_text(
        "".join(
            _chat(q, a.generation.text if i % 2 else "Bake the bread at 220 degrees for an hour.")
            for i, (q, a) in enumerate(zip(questions, answered, strict=True))
        )
    )
    dataset = register_dataset(path, split=DatasetSplit.TEST)

    call_command("fit_gate", "--version=smol", f"--dataset={dataset.name}", stdout=StringIO())

    fit = GateFit.objects.get()
    assert fit.status == JobStatus.SUCCEEDED, fit.error
    assert fit.metrics["examples"] == 12 and fit.metrics["good_rate"] == 0.5
    assert fit.metrics["calibration"] == "sigmoid"
    gate = TrainedGate.load(fit.gate_path)
    assert gate.features == FEATURES and 0.0 <= gate.probability([0.0] * len(FEATURES)) <= 1.0
