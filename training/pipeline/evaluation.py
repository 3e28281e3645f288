"""Evaluation of a model version on a test split: loss, perplexity, ROUGE-L and the gate's quality.

- loss and perplexity: teacher forcing on the reference answers, loss on answer tokens only
  (the same encoding as training, so the figures compare with the training curve);
- ROUGE-L: greedy answers from the assistant's engine against the references;
- the gate: an answer is "good" when the cosine similarity of its all-MiniLM-L6-v2
  embedding to the reference's reaches the good bar; for the version's trained gate (when it
  has one) and each raw confidence score: AUROC (how well it tells good answers from bad),
  the coverage at the target accuracy (the lowest threshold whose Clopper-Pearson lower
  bound reaches it), the expected calibration error, and a risk-coverage plot; coverage and
  accuracy at the version's own threshold, and a reliability plot of its gate.

Answers are made the production way (retrieval, grounded prompt) when a grounder is given,
so the trained gate sees the evidence it was fitted on. `evaluate_spec` needs no database;
`evaluate_version` grounds on the knowledge and stores the report for the admin.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.confidence import GATE_SCORES
from assistant.gate import answer_evidence, feature_values

from . import metrics

if TYPE_CHECKING:
    from assistant.engine import Engine, Generation, ModelSpec
    from assistant.gate import TrainedGate
    from assistant.models import ModelVersion
    from knowledge.grounding import Grounding

DEFAULT_GOOD_BAR = 0.6  # MiniLM cosine at which an answer says what the reference says
DEFAULT_TARGET_ACCURACY = 0.8  # share of passed answers that must be good
DEFAULT_CONFIDENCE = 0.95  # that the target accuracy holds, one-sided
TRAINED = "trained"  # the trained gate's column beside the raw scores
GENERATION_BATCH = 8  # answers per engine call: bounded memory, visible progress

Grounder = Callable[[list[list[dict[str, str]]]], list["Grounding"]]
Report = Callable[[float], None]


@dataclass
class Gate:
    score: str  # which confidence score the gate reads ("trained": the trained gate's P(right))
    threshold: float


def read_test_split(path: str | Path, limit: int = 0) -> list[list[dict[str, str]]]:
    from .finetune import read_chat_jsonl

    return read_chat_jsonl(path, limit)


def teacher_forced_loss(
    spec: ModelSpec, conversations: list[list[dict[str, str]]], max_length: int = 512
) -> dict[str, float]:
    """Mean answer-token NLL and perplexity of the spec's model on the reference answers:
    the model the engine serves (assistant.loading), encoded as training encodes."""
    from assistant.loading import load_spec
    from assistant.scoring import conversation_loss

    loss, tokens = conversation_loss(load_spec(spec), spec, conversations, max_length)
    return {"loss": loss, "perplexity": metrics.perplexity(loss), "answer_tokens": tokens}


@dataclass
class Answered:
    """One answer as production would have made and gated it."""

    generation: Generation
    retrieval: dict[str, Any]  # Grounding.features(), agreement and relevance, as stored

    def features(self) -> dict[str, float]:
        g = self.generation
        return feature_values(
            retrieval=self.retrieval, scores=g.scores, token_count=g.token_count, text=g.text
        )


@dataclass
class ThresholdChoice:
    threshold: float
    coverage: float  # share of the answers it passes
    accuracy: float  # share of those that are good
    lower_bound: float  # one-sided Clopper-Pearson lower bound on that accuracy
    passed: int
    examples: int


def answer_like_production(
    spec: ModelSpec,
    conversations: list[list[dict[str, str]]],
    engine: Engine,
    grounder: Grounder | None = None,
    report: Report | None = None,
    batch_size: int = GENERATION_BATCH,
) -> list[Answered]:
    """Answer as the answer job does: knowledge for the question, the grounded prompt, the
    engine, the answers' agreement with their best note and relevance to their question.
    Without a grounder the bare conversation is answered (no knowledge, no database)."""
    answered: list[Answered] = []
    for start in range(0, len(conversations), batch_size):
        batch = conversations[start : start + batch_size]
        questions = [c[-1]["content"] for c in batch]
        retrievals: list[dict[str, Any]]
        if grounder is None:
            generations = engine.generate(spec, batch)
            retrievals = [{} for _ in batch]
            evidence = answer_evidence([g.text for g in generations], [""] * len(batch), questions)
        else:
            from knowledge.grounding import grounded_evidence, with_notes

            groundings = grounder(batch)
            prompts = [with_notes(c, g) for c, g in zip(batch, groundings, strict=True)]
            generations = engine.generate(spec, prompts)
            retrievals = [g.features() for g in groundings]
            evidence = grounded_evidence([g.text for g in generations], groundings, questions)
        answered += [
            Answered(generation, {**retrieval, **found})
            for generation, retrieval, found in zip(generations, retrievals, evidence, strict=True)
        ]
        if report:
            report(len(answered) / len(conversations))
    return answered


def gate_quality(
    scores_by_name: dict[str, list[float]],
    good: list[bool],
    gate: Gate,
    target_accuracy: float,
) -> dict[str, Any]:
    """AUROC per score; coverage and accuracy of the gate; the threshold for the target."""
    gate_scores = scores_by_name[gate.score]
    at_threshold = metrics.gate_at(gate_scores, good, gate.threshold)
    for_target = metrics.threshold_for_accuracy(gate_scores, good, target_accuracy)
    return {
        "auroc": {name: metrics.auroc(values, good) for name, values in scores_by_name.items()},
        "gate": asdict(gate),
        "at_threshold": asdict(at_threshold),
        "target_accuracy": target_accuracy,
        "for_target_accuracy": asdict(for_target) if for_target else None,
    }


def gates_compared(
    scores_by_name: dict[str, list[float]],
    good: list[bool],
    target_accuracy: float,
    confidence: float,
) -> dict[str, dict[str, Any]]:
    """For each gate (the trained one and every raw score): AUROC, the coverage it reaches
    at the target accuracy with the stated confidence, and its calibration error."""
    return {
        name: gate_figures(values, good, target_accuracy, confidence)
        for name, values in scores_by_name.items()
    }


def clopper_pearson_lower(successes: Any, trials: Any, confidence: float) -> Any:
    """One-sided lower bound on a success rate: below it with probability 1 - confidence.
    Exact (Beta quantile), so it holds for the few dozen answers a small desk has."""
    import numpy as np
    from scipy.stats import beta

    successes, trials = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore"):
        bound = beta.ppf(1 - confidence, successes, trials - successes + 1)
    return np.where(successes > 0, np.nan_to_num(bound), 0.0)


def choose_threshold(
    scores: Sequence[float], good: Sequence[bool], target: float, confidence: float
) -> ThresholdChoice | None:
    """The lowest threshold (the most answers shown) whose passed answers' accuracy has a
    lower bound >= target; None when no threshold has.

    Every threshold between the last score it passes and the next lower one passes the same
    answers; the midpoint leaves new answers a margin on both sides, where the last passed
    score itself would turn away a right answer that scores a hair lower."""
    import numpy as np

    if not len(scores):
        return None
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    ranked = np.asarray(scores, dtype=float)[order]
    passed = np.arange(1, len(ranked) + 1)
    right = np.cumsum(np.asarray(good, dtype=float)[order])
    # A threshold passes every answer tied with it: only the last of a tie is a cut.
    cuts = np.append(ranked[1:] != ranked[:-1], True)
    lower = clopper_pearson_lower(right, passed, confidence)
    meets = np.nonzero(cuts & (lower >= target))[0]
    if not len(meets):
        return None
    i = int(meets[-1])
    threshold = (ranked[i] + ranked[i + 1]) / 2 if i + 1 < len(ranked) else ranked[i]
    return ThresholdChoice(
        threshold=float(threshold),
        coverage=float(passed[i] / len(ranked)),
        accuracy=float(right[i] / passed[i]),
        lower_bound=float(lower[i]),
        passed=int(passed[i]),
        examples=len(ranked),
    )


def gate_figures(
    values: list[float], good: list[bool], target_accuracy: float, confidence: float
) -> dict[str, Any]:
    """How well one gate's scores tell good answers from bad, and how many it can show."""
    choice = choose_threshold(values, good, target_accuracy, confidence)
    return {
        "auroc": metrics.auroc(values, good),
        "ece": expected_calibration_error(values, good),
        "at_target": asdict(choice) if choice else None,
    }


def expected_calibration_error(values: list[float], good: list[bool]) -> float | None:
    """Expected calibration error; only a probability can be calibrated."""
    if not values or min(values) < 0.0 or max(values) > 1.0:
        return None
    return metrics.expected_calibration_error(metrics.reliability_bins(values, good, bins=10))


def evaluate_spec(
    spec: ModelSpec,
    conversations: list[list[dict[str, str]]],
    gate: Gate,
    out_dir: str | Path,
    engine: Engine,
    good_bar: float = DEFAULT_GOOD_BAR,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    grounder: Grounder | None = None,
    trained_gate: TrainedGate | None = None,
) -> dict[str, Any]:
    """Every figure for one model on one test set; writes report.json and the plots."""
    from assistant.embeddings import pairwise_cosine
    from assistant.gate import feature_row

    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loss = teacher_forced_loss(spec, conversations)
    answered = answer_like_production(spec, [c[:-1] for c in conversations], engine, grounder)
    generations = [a.generation for a in answered]
    references = [c[-1]["content"] for c in conversations]
    answers = [g.text for g in generations]
    rouge = [metrics.rouge_l(a, r) for a, r in zip(answers, references, strict=True)]
    similarity = pairwise_cosine(answers, references)
    good = [s >= good_bar for s in similarity]
    scores_by_name: dict[str, list[float]] = {
        name: [g.scores[name] for g in generations]
        for name in GATE_SCORES
        if all(name in g.scores for g in generations)
    }
    if trained_gate is not None:
        rows = [feature_row(a.features()) for a in answered]
        scores_by_name = {TRAINED: trained_gate.probabilities(rows), **scores_by_name}
    report = {
        "examples": len(conversations),
        "teacher_forcing": loss,
        "rouge_l": _mean(rouge),
        "similarity": {"mean": _mean(similarity), "good_bar": good_bar, "good_rate": _mean(good)},
        **gate_quality(scores_by_name, good, gate, target_accuracy),
        "confidence": confidence,
        "gates": gates_compared(scores_by_name, good, target_accuracy, confidence),
        "seconds": round(time.monotonic() - started, 1),
        "samples": [
            {"reference": r, "answer": a, "similarity": s, "rouge_l": rl, "good": g}
            for r, a, s, rl, g in list(
                zip(references, answers, similarity, rouge, good, strict=True)
            )[:20]
        ],
    }
    report["calibration"] = plot_reliability(
        scores_by_name[gate.score], good, gate, out / "reliability.png"
    )
    plot_risk_coverage(scores_by_name, good, target_accuracy, out / "risk_coverage.png")
    report["plots"] = ["reliability.png", "risk_coverage.png"]
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_json_default))
    return report


def risk_coverage(scores: list[float], good: list[bool]) -> tuple[list[float], list[float]]:
    """Coverage and risk (share of wrong answers among those passed) of every threshold,
    from the surest answer down."""
    ranked = sorted(zip(scores, good, strict=True), key=lambda pair: -pair[0])
    coverage, risk, right = [], [], 0
    for passed, (_, is_good) in enumerate(ranked, start=1):
        right += is_good
        coverage.append(passed / len(ranked))
        risk.append(1 - right / passed)
    return coverage, risk


def plot_risk_coverage(
    scores_by_name: dict[str, list[float]], good: list[bool], target_accuracy: float, path: Path
) -> None:
    """One curve per gate: the further right under the target line, the more answers the
    gate can show at that accuracy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))
    for name, scores in scores_by_name.items():
        coverage, risk = risk_coverage(scores, good)
        width = 2.5 if name == TRAINED else 1.0
        ax.plot(coverage, risk, linewidth=width, label=name)
    ax.axhline(1 - target_accuracy, color="red", linestyle="--", label="target risk")
    if good:
        ax.axhline(1 - sum(good) / len(good), color="grey", linestyle=":", label="show all")
    ax.set_xlabel("coverage (share of answers shown)")
    ax.set_ylabel("risk (share of shown answers that are wrong)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reliability(
    scores: list[float], good: list[bool], gate: Gate, path: Path
) -> dict[str, Any]:
    """Mean gate score against the share of good answers per bin: on the diagonal the score
    reads as a probability of a good answer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low = min([0.0, *scores])
    high = max([1.0, *scores])
    table = metrics.reliability_bins(scores, good, bins=10, low=low, high=high)
    filled = [b for b in table if b.count]
    fig, ax = plt.subplots(figsize=(5, 5))
    if (low, high) == (0.0, 1.0):  # a diagonal only means something for probabilities
        ax.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    # A bin with answers in it has both means: neither list holds a None.
    means, rates = [b.mean_score for b in filled], [b.good_rate for b in filled]
    ax.plot(means, rates, "o-", label=gate.score)  # type: ignore[arg-type]
    if math.isfinite(gate.threshold):
        ax.axvline(
            gate.threshold, color="red", linestyle="--", label=f"threshold {gate.threshold:.2f}"
        )
    for b in filled:
        ax.annotate(str(b.count), (b.mean_score, b.good_rate), fontsize=7)
    ax.set_xlabel(f"{gate.score} (bin mean)")
    ax.set_ylabel("share of good answers")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return {
        "bins": [asdict(b) for b in table],
        "ece": metrics.expected_calibration_error(table),
    }


def _mean(values: list[float] | list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"not JSON: {value!r}")


# --- with the registry --------------------------------------------------------------


def report_dir(version: ModelVersion) -> Path:
    from django.conf import settings

    return Path(settings.MODELS_DIR) / "reports" / version.name


def summary_of(report: dict[str, Any]) -> dict[str, Any]:
    """The figures the admin lists; the full report stays in its file."""
    gate = report["gate"]["score"]
    at_target = report.get("gates", {}).get(gate, {}).get("at_target") or {}
    trained = report.get("gates", {}).get(TRAINED)
    return {
        "examples": report["examples"],
        "loss": report["teacher_forcing"]["loss"],
        "perplexity": report["teacher_forcing"]["perplexity"],
        "rouge_l": report["rouge_l"],
        "good_rate": report["similarity"]["good_rate"],
        "gate": gate,
        "gate_auroc": report["auroc"].get(gate),
        "coverage": report["at_threshold"]["coverage"],
        "accuracy": report["at_threshold"]["accuracy"],
        "threshold_for_target": (report["for_target_accuracy"] or {}).get("threshold"),
        "coverage_at_target": at_target.get("coverage"),
        "trained_gate_auroc": trained["auroc"] if trained else None,
        "best_raw_auroc": max(
            (
                q["auroc"]
                for name, q in report.get("gates", {}).items()
                if name != TRAINED and q["auroc"] is not None
            ),
            default=None,
        ),
    }


def evaluate_version(
    version: ModelVersion,
    test_path: str | Path,
    limit: int = 0,
    good_bar: float = DEFAULT_GOOD_BAR,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    out_dir: str | Path | None = None,
    engine: Engine | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> dict[str, Any]:
    """Evaluate a version, save the report under MODELS_DIR/reports/<name>/ (or out_dir) and
    record its path and summary in version.evaluation."""
    from assistant.models import ModelVersion
    from assistant.registry import get_engine, spec_for
    from tickets.answering import ground_batch

    out = Path(out_dir) if out_dir else report_dir(version)
    trained_gate = _trained_gate_of(version)
    report = evaluate_spec(
        spec_for(version),
        read_test_split(test_path, limit),
        _gate_of(version, trained_gate),
        out,
        engine or get_engine(),
        good_bar,
        target_accuracy,
        confidence=confidence,
        grounder=ground_batch,
        trained_gate=trained_gate,
    )
    plots = [str(out / name) for name in report["plots"]]
    if version.adapter_path:
        loss_curve = Path(version.adapter_path).parent / "loss_curve.png"
        plots += [str(loss_curve)] if loss_curve.exists() else []
    evaluation = {
        "report": str(out / "report.json"),
        "plots": plots,
        "test_path": str(test_path),
        "summary": summary_of(report),
        "evaluated_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    ModelVersion.objects.filter(pk=version.pk).update(evaluation=evaluation)
    version.evaluation = evaluation
    return report


def _trained_gate_of(version: ModelVersion) -> TrainedGate | None:
    """The version's fitted gate, whether it decides today or not: the report compares it."""
    from assistant.gate import TrainedGate

    return TrainedGate.load(version.gate_model_path) if version.gate_model_path else None


def _gate_of(version: ModelVersion, trained_gate: TrainedGate | None) -> Gate:
    """The gate that decides for the version in production."""
    if version.has_trained_gate and trained_gate is not None:
        threshold = trained_gate.threshold
        # No certified threshold: the trained gate passes nothing.
        return Gate(TRAINED, math.inf if threshold is None else threshold)
    return Gate(version.gate_score, version.gate_threshold)
