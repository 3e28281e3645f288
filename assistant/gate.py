"""The hand-off gate: an answer's features, a version's trained classifier of P(answer is
right), and the decision that shows an answer or hands it to people.

Raw token probabilities of a small model do not tell right answers from wrong (AUROC
0.44-0.60), so a version may instead be gated by a logistic regression over retrieval
evidence, the answer's agreement with the knowledge it was grounded on, the token scores and
the answer's shape, calibrated on labelled answers (training/pipeline/gate.py fits it). The
fitted file is plain JSON (scaler, coefficients, calibration map, threshold): no pickle to
trust on the workers and no scikit-learn needed to read it. No Django here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from .confidence import GATE_SCORES, gate_score

log = logging.getLogger(__name__)

GATE_FILE_FORMAT = 1


class GateKind(StrEnum):
    """What decides a version's hand-off: one raw score against its threshold (the seed's
    rule, kept for comparison), or the version's trained, calibrated classifier."""

    SCORE = "score"
    TRAINED = "trained"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {
    GateKind.SCORE: "One raw confidence score >= the gate threshold",
    GateKind.TRAINED: "Trained, calibrated classifier: P(answer is right) >= its fitted threshold",
}

# The classifier's inputs, in the order of every feature row and of every gate file's
# coefficients. Changing it makes earlier gate files unreadable (they are refused, not
# misread): refit them.
FEATURES: tuple[str, ...] = (
    "best_similarity",  # MiniLM cosine of the question to the best passage or solved case
    "margin",  # best minus second best: one clear match or several vague ones
    "agreement",  # MiniLM cosine of the answer to that best passage or case
    # MiniLM cosine of the answer to the question: an answer about something else is wrong
    # whatever its tokens say (bench/grounding.py: AUROC 0.90-0.98 alone on 48 seed rows,
    # against 0.5-0.68 for any other single feature).
    "relevance",
    *(str(name) for name in GATE_SCORES),  # the token scores, higher is surer
    "answer_tokens",  # generated tokens: cut-off rambling and one-word answers stand out
    "repetition",  # share of repeated word 3-grams: a looping answer is a wrong one
)

_WORD = re.compile(r"\w+", re.UNICODE)


def repetition(text: str) -> float:
    """Share of the answer's word 3-grams that repeat an earlier one (0 with fewer than 3 words)."""
    words = _WORD.findall(text.lower())
    grams = list(zip(words, words[1:], words[2:], strict=False))
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def feature_values(
    *,
    retrieval: Mapping[str, Any],
    scores: Mapping[str, float],
    token_count: int | None,
    text: str,
) -> dict[str, float]:
    """Every feature of one answer by name. Missing evidence reads as 0: no knowledge found,
    nothing to agree with, a score the engine did not compute (the least confident)."""
    values = {
        "best_similarity": _number(retrieval.get("best_similarity")),
        "margin": _number(retrieval.get("margin")),
        "agreement": _number(retrieval.get("agreement")),
        "relevance": _number(retrieval.get("relevance")),
        **{str(name): gate_score(scores, name) for name in GATE_SCORES},
        "answer_tokens": float(token_count or 0),
        "repetition": repetition(text),
    }
    return {name: values[name] for name in FEATURES}


def feature_row(values: Mapping[str, float], features: Sequence[str] = FEATURES) -> list[float]:
    return [float(values[name]) for name in features]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else 0.0


def answer_evidence(
    answers: list[str],
    passages: list[str],
    questions: list[str],
    question_vectors: Sequence[Any] | None = None,
    passage_vectors: Sequence[Any] | None = None,
    model_path: str | None = None,
) -> list[dict[str, float]]:
    """Each answer's `agreement` (MiniLM cosine to its grounding's best passage or case, 0
    where the question found no knowledge) and `relevance` (cosine to its question), in one
    embedding call for the batch. A vector retrieval already holds (the question's, an
    article passage's from the index) is reused, not embedded again."""
    from .embeddings import embed_array

    questions_at = _given(question_vectors, len(answers))
    passages_at = _given(passage_vectors, len(answers))
    unembedded_passages = [
        i for i, p in enumerate(passages) if p.strip() and passages_at[i] is None
    ]
    unembedded_questions = [i for i, vector in enumerate(questions_at) if vector is None]
    texts = [
        *answers,
        *(passages[i] for i in unembedded_passages),
        *(questions[i] for i in unembedded_questions),
    ]
    if not texts:
        return []
    embedded = iter(embed_array(texts, model_path))
    answer_vectors = [next(embedded) for _ in answers]
    for i in unembedded_passages:
        passages_at[i] = next(embedded)
    for i in unembedded_questions:
        questions_at[i] = next(embedded)
    return [
        {
            "agreement": _cosine(answer, passages_at[i] if passages[i].strip() else None),
            "relevance": _cosine(answer, questions_at[i]),
        }
        for i, answer in enumerate(answer_vectors)
    ]


def _given(vectors: Sequence[Any] | None, count: int) -> list[Any]:
    return list(vectors) if vectors is not None else [None] * count


def _cosine(a: Any, b: Any) -> float:
    return 0.0 if b is None else round(float(a @ b), 4)


# --- the trained classifier -----------------------------------------------------------


class GateFileError(ValueError):
    """The gate file is missing, unreadable, or fitted on other features."""


@dataclass(frozen=True)
class TrainedGate:
    """Standardise, logistic regression's decision value, then the calibration map (Platt's
    sigmoid or isotonic steps) to P(answer is right): what scikit-learn's
    CalibratedClassifierCV(ensemble=False) over StandardScaler + LogisticRegression computes."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    calibration: Mapping[
        str, Any
    ]  # {"method": "sigmoid", "a", "b"} or {"method": "isotonic", "x", "y"}
    threshold: float | None  # None: no threshold reached the target at the stated confidence
    metrics: Mapping[str, Any]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainedGate:
        if data.get("format") != GATE_FILE_FORMAT:
            raise GateFileError(f"unknown gate file format {data.get('format')!r}")
        features = tuple(data["features"])
        if features != FEATURES:
            raise GateFileError(f"fitted on features {list(features)}, not {list(FEATURES)}")
        model = data["model"]
        gate = cls(
            features=features,
            mean=tuple(model["mean"]),
            scale=tuple(model["scale"]),
            coef=tuple(model["coef"]),
            intercept=float(model["intercept"]),
            calibration=dict(model["calibration"]),
            threshold=data.get("threshold"),
            metrics=dict(data.get("metrics", {})),
        )
        if not len(gate.mean) == len(gate.scale) == len(gate.coef) == len(features):
            raise GateFileError("coefficients do not match the features")
        if gate.calibration.get("method") not in ("sigmoid", "isotonic"):
            raise GateFileError(f"unknown calibration {gate.calibration.get('method')!r}")
        return gate

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": GATE_FILE_FORMAT,
            "features": list(self.features),
            "threshold": self.threshold,
            "model": {
                "mean": list(self.mean),
                "scale": list(self.scale),
                "coef": list(self.coef),
                "intercept": self.intercept,
                "calibration": dict(self.calibration),
            },
            "metrics": dict(self.metrics),
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(self.to_dict(), indent=2))
        # A worker reading the file mid-write would refuse it; the rename is atomic.
        partial.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TrainedGate:
        """The gate in `path`, read once per process and again only when the file changes."""
        key = os.fspath(path)
        try:
            mtime = os.stat(key).st_mtime_ns
        except OSError as exc:
            raise GateFileError(f"gate file {key} cannot be read: {exc}") from exc
        cached = _loaded.get(key)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            gate = cls.from_dict(json.loads(Path(key).read_text()))
        except (OSError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise GateFileError(f"gate file {key} is not a gate: {exc!r}") from exc
        _loaded[key] = (mtime, gate)
        return gate

    def decision_value(self, row: Sequence[float]) -> float:
        return self.intercept + sum(
            c * (x - m) / s
            for c, x, m, s in zip(self.coef, row, self.mean, self.scale, strict=True)
        )

    def probability(self, row: Sequence[float]) -> float:
        """Calibrated P(answer is right) for one feature row in FEATURES order."""
        value = self.decision_value(row)
        if self.calibration["method"] == "sigmoid":
            return _expit(-(self.calibration["a"] * value + self.calibration["b"]))
        return _interpolate(value, self.calibration["x"], self.calibration["y"])

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        return [self.probability(row) for row in rows]

    def passes(self, probability: float) -> bool:
        return self.threshold is not None and probability >= self.threshold


_loaded: dict[str, tuple[int, TrainedGate]] = {}


def _expit(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _interpolate(x: float, xs: Sequence[float], ys: Sequence[float]) -> float:
    """Isotonic regression's prediction: linear between its steps, clipped at both ends."""
    if x <= xs[0]:
        return float(ys[0])
    if x >= xs[-1]:
        return float(ys[-1])
    i = bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return float(y0 + (y1 - y0) * (x - x0) / (x1 - x0)) if x1 > x0 else float(y1)


# --- the decision ---------------------------------------------------------------------


class GateSettings(Protocol):
    """What a model version says about its gate (assistant.models.ModelVersion)."""

    gate_kind: str
    gate_score: str
    gate_threshold: float
    gate_model_path: str


@dataclass(frozen=True)
class Decision:
    confidence: float  # the calibrated P(right) of a trained gate, else the raw score
    passed: bool


def decide(
    version: GateSettings,
    *,
    retrieval: Mapping[str, Any],
    scores: Mapping[str, float],
    token_count: int | None,
    text: str,
) -> Decision:
    """Show the answer or hand it to people, by the version's gate."""
    if version.gate_kind != GateKind.TRAINED:
        confidence = gate_score(scores, version.gate_score)
        return Decision(confidence, confidence >= version.gate_threshold)
    try:
        gate = TrainedGate.load(version.gate_model_path)
    except GateFileError:
        # The version trusts only its trained gate: without it, nothing is known to be right.
        log.exception("Trained gate unavailable; the answer goes to people")
        return Decision(0.0, False)
    values = feature_values(retrieval=retrieval, scores=scores, token_count=token_count, text=text)
    probability = gate.probability(feature_row(values))
    return Decision(probability, gate.passes(probability))
