"""Evaluation of a model version on a test split: loss, perplexity, ROUGE-L and the gate's quality.

- loss and perplexity: teacher forcing on the reference answers, loss on answer tokens only
  (the same encoding as training, so the figures compare with the training curve);
- ROUGE-L: greedy answers from the assistant's engine against the references;
- the gate: an answer is "good" when the cosine similarity of its all-MiniLM-L6-v2
  embedding to the reference's reaches the good bar; each confidence score's AUROC says how
  well it tells good answers from bad; coverage and accuracy at the version's threshold,
  the threshold that reaches a target accuracy, and a reliability plot.

`evaluate_spec` needs no database; `evaluate_version` stores the report for the admin.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.confidence import GATE_SCORES

from . import metrics

if TYPE_CHECKING:
    from assistant.engine import Engine, Generation, ModelSpec
    from assistant.models import ModelVersion

DEFAULT_GOOD_BAR = 0.6  # MiniLM cosine at which an answer says what the reference says
DEFAULT_TARGET_ACCURACY = 0.8  # share of passed answers that must be good
GENERATION_BATCH = 8  # answers per engine call: bounded memory, visible progress


@dataclass
class Gate:
    score: str  # which confidence score the gate reads
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


def generate_answers(
    spec: ModelSpec, conversations: list[list[dict[str, str]]], engine: Engine
) -> list[Generation]:
    from tqdm.auto import tqdm

    questions = [c[:-1] for c in conversations]
    answers: list[Generation] = []
    for start in tqdm(range(0, len(questions), GENERATION_BATCH), desc="generate", unit="batch"):
        answers.extend(engine.generate(spec, questions[start : start + GENERATION_BATCH]))
    return answers


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


def evaluate_spec(
    spec: ModelSpec,
    conversations: list[list[dict[str, str]]],
    gate: Gate,
    out_dir: str | Path,
    engine: Engine,
    good_bar: float = DEFAULT_GOOD_BAR,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
) -> dict[str, Any]:
    """Every figure for one model on one test set; writes report.json and the plots."""
    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    loss = teacher_forced_loss(spec, conversations)
    generations = generate_answers(spec, conversations, engine)
    references = [c[-1]["content"] for c in conversations]
    answers = [g.text for g in generations]
    rouge = [metrics.rouge_l(a, r) for a, r in zip(answers, references, strict=True)]
    from assistant.embeddings import pairwise_cosine

    similarity = pairwise_cosine(answers, references)
    good = [s >= good_bar for s in similarity]
    scores_by_name = {
        name: [g.scores[name] for g in generations]
        for name in GATE_SCORES
        if all(name in g.scores for g in generations)
    }
    report = {
        "examples": len(conversations),
        "teacher_forcing": loss,
        "rouge_l": _mean(rouge),
        "similarity": {"mean": _mean(similarity), "good_bar": good_bar, "good_rate": _mean(good)},
        **gate_quality(scores_by_name, good, gate, target_accuracy),
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
    report["plots"] = ["reliability.png"]
    (out / "report.json").write_text(json.dumps(report, indent=2, default=_json_default))
    return report


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
    ax.plot([b.mean_score for b in filled], [b.good_rate for b in filled], "o-", label=gate.score)
    ax.axvline(gate.threshold, color="red", linestyle="--", label=f"threshold {gate.threshold:.2f}")
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
    return {
        "examples": report["examples"],
        "loss": report["teacher_forcing"]["loss"],
        "perplexity": report["teacher_forcing"]["perplexity"],
        "rouge_l": report["rouge_l"],
        "good_rate": report["similarity"]["good_rate"],
        "gate_auroc": report["auroc"].get(report["gate"]["score"]),
        "coverage": report["at_threshold"]["coverage"],
        "accuracy": report["at_threshold"]["accuracy"],
        "threshold_for_target": (report["for_target_accuracy"] or {}).get("threshold"),
    }


def evaluate_version(
    version: ModelVersion,
    test_path: str | Path,
    limit: int = 0,
    good_bar: float = DEFAULT_GOOD_BAR,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    out_dir: str | Path | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Evaluate a version, save the report under MODELS_DIR/reports/<name>/ (or out_dir) and
    record its path and summary in version.evaluation."""
    from assistant.models import ModelVersion
    from assistant.registry import get_engine, spec_for

    out = Path(out_dir) if out_dir else report_dir(version)
    report = evaluate_spec(
        spec_for(version),
        read_test_split(test_path, limit),
        Gate(version.gate_score, version.gate_threshold),
        out,
        engine or get_engine(),
        good_bar,
        target_accuracy,
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
