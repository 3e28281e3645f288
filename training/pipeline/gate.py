"""Fitting a version's gate: P(answer is right) from labelled answers, and the threshold that
keeps the answers it lets through right often enough, with a stated confidence.

1. Labelled answers, from two places:
   - a labelled chat JSONL (a registered Dataset the version did not train on), answered by
     the version the production way (retrieval, grounded prompt, engine.generate, agreement
     and relevance);
     good = MiniLM similarity to the reference answer >= the good bar;
   - the desk's own outcomes for the version's stored answers: a thumbs-down, a draft an
     agent had to change a lot (draft vs reply below the bar), or the answer that ended a
     ticket the assistant resolved alone and its requester rated 1 or 2 (satisfaction.labels)
     is bad; a draft the agent sent (nearly) unchanged, a thumbs-up, or a shown answer whose
     ticket was resolved without reopening or anyone else replying, is good. Escalated drafts count too: a gate fitted
     only on the answers it let through would never learn what it hands off.
2. Near-duplicate questions (MiniLM cosine >= 0.9) form one group; groups, never questions,
   are split between fitting and the held-out part (GroupShuffleSplit).
3. Standardised logistic regression, calibrated on out-of-fold decision values (grouped
   folds): Platt's sigmoid below 1000 training answers, isotonic regression from there.
4. On the held-out part: the lowest threshold whose one-sided Clopper-Pearson lower bound on
   the accuracy of the answers it passes reaches the target (0.8 at 95 % by default).

    python manage.py fit_gate --version smollm2-135m-instruct --dataset seed-test --limit 300
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.confidence import GATE_SCORES
from assistant.gate import FEATURES, TrainedGate, feature_row, feature_values

from . import metrics
from .evaluation import (
    DEFAULT_CONFIDENCE,
    DEFAULT_GOOD_BAR,
    DEFAULT_TARGET_ACCURACY,
    Grounder,
    Report,
    answer_like_production,
    choose_threshold,
    expected_calibration_error,
    gate_figures,
    plot_risk_coverage,
    read_test_split,
)

if TYPE_CHECKING:
    from assistant.engine import Engine
    from assistant.models import ModelVersion

    from .models import GateFit


class GateFitError(ValueError):
    """Too few or one-sided labelled answers to fit and check a gate on."""


@dataclass
class GateFitConfig:
    target_accuracy: float = DEFAULT_TARGET_ACCURACY  # share of passed answers that must be good
    confidence: float = DEFAULT_CONFIDENCE  # of the lower bound on that share
    good_bar: float = DEFAULT_GOOD_BAR  # MiniLM similarity at which an answer counts as right
    held_out: float = 0.3  # share of question groups kept out of fitting, to set the threshold
    duplicate_similarity: float = 0.9  # MiniLM cosine at which two questions count as one
    # Isotonic regression has a step per distinct score: below this many training answers
    # those steps follow the noise, and Platt's two parameters calibrate better.
    isotonic_from: int = 1000
    max_folds: int = 5  # grouped folds whose out-of-fold values the calibration is fitted on
    regularisation: float = 1.0  # logistic regression's C: smaller is a stronger L2 penalty
    seed: int = 0  # the split and the folds


@dataclass
class LabelledAnswer:
    question: str
    features: dict[str, float]  # by assistant.gate.FEATURES
    good: bool
    # "dataset", "thumbs_down", "low_rating", "correction", "thumbs_up" or "resolved"
    source: str
    ref: str = ""  # the dataset row or the message, for the report


@dataclass
class FittedGate:
    gate: TrainedGate
    metrics: dict[str, Any]
    held_out_rows: list[int] = field(default_factory=list)  # indices into the examples
    held_out_scores: dict[str, list[float]] = field(default_factory=dict)  # "trained" + raw
    held_out_good: list[bool] = field(default_factory=list)


# --- labelled answers ---------------------------------------------------------------------


def label_dataset(
    version: ModelVersion,
    path: str | Path,
    *,
    limit: int = 0,
    good_bar: float = DEFAULT_GOOD_BAR,
    engine: Engine | None = None,
    grounder: Grounder | None = None,
    report: Report | None = None,
) -> list[LabelledAnswer]:
    """The version answers the file's questions the production way; the references judge."""
    from django.conf import settings

    from assistant.embeddings import pairwise_cosine
    from assistant.registry import get_engine, spec_for
    from tickets.answering import ground_batch

    conversations = read_test_split(path, limit)
    questions = [c[:-1] for c in conversations]
    answered = answer_like_production(
        spec_for(version),
        questions,
        engine or get_engine(),
        grounder or ground_batch,
        report,
        batch_size=settings.ANSWER_BATCH_SIZE,
    )
    references = [c[-1]["content"] for c in conversations]
    similarity = pairwise_cosine([a.generation.text for a in answered], references)
    return [
        LabelledAnswer(
            question=question[-1]["content"],
            features=a.features(),
            good=s >= good_bar,
            source="dataset",
            ref=f"row {row}",
        )
        for row, (question, a, s) in enumerate(zip(questions, answered, similarity, strict=True))
    ]


def label_desk(
    version: ModelVersion, *, good_bar: float = DEFAULT_GOOD_BAR
) -> list[LabelledAnswer]:
    """The version's stored answers whose outcome says whether they were right."""
    from assistant.embeddings import pairwise_cosine

    answers = list(_desk_answers(version))
    corrections = _corrections_of(version)
    corrected = [a for a in answers if a.pk in corrections]
    similarity = dict(
        zip(
            [a.pk for a in corrected],
            pairwise_cosine([a.body for a in corrected], [corrections[a.pk] for a in corrected]),
            strict=True,
        )
    )
    labelled = []
    for answer in answers:
        label = _desk_label(answer, similarity.get(answer.pk), good_bar)
        if label is None:
            continue
        good, source = label
        values = feature_values(
            retrieval=answer.retrieval,
            scores=answer.confidence_scores,
            token_count=answer.token_count,
            text=answer.body,
        )
        labelled.append(
            LabelledAnswer(answer.question or "", values, good, source, f"message {answer.pk}")
        )
    return labelled


def _desk_answers(version: ModelVersion) -> Any:
    """The version's answers, each with its question and the signals of its outcome, in one
    query. Only answers stored with their relevance: older ones lack a feature of the gate."""
    from django.db.models import Exists, F, OuterRef, Subquery

    from satisfaction.labels import rated_low
    from tickets.models import Message, MessageRating, Role, Status, TicketEvent

    same_ticket = {"ticket": OuterRef("ticket")}
    after = {**same_ticket, "created_at__gt": OuterRef("created_at")}
    question = (
        Message.objects.filter(
            **same_ticket, role=Role.USER, created_at__lte=OuterRef("created_at")
        )
        .order_by("-created_at", "-pk")
        .values("body")[:1]
    )
    return (
        Message.objects.filter(
            role=Role.ASSISTANT, model_version=version, retrieval__has_key="relevance"
        )
        .annotate(
            question=Subquery(question),
            thumbs_up=Exists(MessageRating.objects.filter(message=OuterRef("pk"), helpful=True)),
            thumbs_down=Exists(MessageRating.objects.filter(message=OuterRef("pk"), helpful=False)),
            low_rating=rated_low(OuterRef("pk")),
            # Anyone's later word (a follow-up, an agent's reply) means this answer did not
            # settle the ticket on its own; hand-off notices are no one's word, and internal
            # notes no word to the user.
            followed=Exists(
                Message.objects.filter(**after).exclude(role__in=(Role.SYSTEM, Role.NOTE))
            ),
            resolved=Exists(TicketEvent.objects.filter(**after, to_status=Status.RESOLVED)),
            reopened=Exists(TicketEvent.objects.filter(**after, to_status=Status.REOPENED)),
            handed_off=Exists(TicketEvent.objects.filter(**after, to_status=Status.ESCALATED)),
            ticket_status=F("ticket__status"),
        )
        .order_by("pk")
    )


def _corrections_of(version: ModelVersion) -> dict[int, str]:
    """The agent's reply for each of the version's drafts that an agent answered instead;
    a correction a reviewer rejected says nothing reliable about the draft."""
    from ..feedback.models import ReviewState, TrainingExample

    examples = (
        TrainingExample.objects.filter(draft_message__model_version=version)
        .exclude(review_state=ReviewState.REJECTED)
        .exclude(correction="")
        .order_by("created_at", "pk")
        .values_list("draft_message_id", "correction")
    )
    return dict(examples)  # the latest reply to a draft wins


def _desk_label(
    answer: Any, corrected_similarity: float | None, good_bar: float
) -> tuple[bool, str] | None:
    from tickets.models import Status

    if answer.thumbs_down:
        return False, "thumbs_down"
    if answer.low_rating:
        # Given once the ticket was over, it outweighs a thumbs-up given on first reading.
        return False, "low_rating"
    if corrected_similarity is not None:
        return corrected_similarity >= good_bar, "correction"
    if answer.thumbs_up:
        return True, "thumbs_up"
    settled = answer.resolved and answer.ticket_status in (Status.RESOLVED, Status.CLOSED)
    if (
        answer.visible_to_user
        and settled
        and not (answer.followed or answer.reopened or answer.handed_off)
    ):
        return True, "resolved"
    return None


# --- groups and the split -----------------------------------------------------------------

_BLOCK = 1024  # questions compared at a time: a 1024 x n block of cosines, not n x n


def duplicate_groups(
    questions: list[str], threshold: float = 0.9, vectors: Any = None
) -> list[int]:
    """A group number per question: questions linked by a chain of MiniLM cosines >=
    `threshold` share one (union-find over the pairs)."""
    import numpy as np

    if not questions:
        return []
    if vectors is None:
        from assistant.embeddings import embed_array

        vectors = embed_array(questions)
    parent = list(range(len(questions)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(questions), _BLOCK):
        similar = vectors[start : start + _BLOCK] @ vectors.T >= threshold
        for row, col in zip(*np.nonzero(similar), strict=True):
            a, b = root(start + int(row)), root(int(col))
            if a != b:
                parent[max(a, b)] = min(a, b)
    numbers: dict[int, int] = {}
    return [numbers.setdefault(root(i), len(numbers)) for i in range(len(questions))]


def split_by_group(groups: Sequence[int], held_out: float, seed: int = 0) -> tuple[Any, Any]:
    """Row indices to fit on and to hold out; every group lies wholly on one side."""
    import numpy as np
    from sklearn.model_selection import GroupShuffleSplit

    group_ids = np.asarray(groups)
    if len(set(group_ids.tolist())) < 2:
        raise GateFitError(
            "all the questions are near-duplicates of one another: nothing to hold out"
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=held_out, random_state=seed)
    fit_rows, held_rows = next(splitter.split(np.zeros(len(group_ids)), groups=group_ids))
    return fit_rows, held_rows


# --- the classifier and its threshold ---------------------------------------------------


def calibration_method(training_examples: int, config: GateFitConfig) -> str:
    return "isotonic" if training_examples >= config.isotonic_from else "sigmoid"


def fit_gate(
    examples: list[LabelledAnswer], config: GateFitConfig, groups: Sequence[int] | None = None
) -> FittedGate:
    """Fit, calibrate and set the threshold of a gate on `examples` (see the module's steps)."""
    import numpy as np

    if not examples:
        raise GateFitError("no labelled answers to fit a gate on")
    X = np.array([feature_row(e.features) for e in examples], dtype=float)
    y = np.array([int(e.good) for e in examples])
    if groups is None:
        groups = duplicate_groups([e.question for e in examples], config.duplicate_similarity)
    group_ids = np.asarray(groups)
    fit_rows, held_rows = split_by_group(groups, config.held_out, config.seed)
    _require_both_classes(y[fit_rows], "the answers to fit on")
    method = calibration_method(len(fit_rows), config)
    model, folds = _fit_calibrated(X[fit_rows], y[fit_rows], group_ids[fit_rows], method, config)
    gate = exported_gate(model, method)
    probabilities = gate.probabilities(X[held_rows].tolist())
    _check_export(model, gate, X[held_rows], probabilities)

    good = [bool(v) for v in y[held_rows]]
    held_scores = {"trained": probabilities}
    held_scores |= {
        str(name): X[held_rows, FEATURES.index(str(name))].tolist() for name in GATE_SCORES
    }
    choice = choose_threshold(probabilities, good, config.target_accuracy, config.confidence)
    figures: dict[str, Any] = {
        "features": list(FEATURES),
        "examples": len(examples),
        "fit_examples": len(fit_rows),
        "held_out_examples": len(held_rows),
        "question_groups": len(set(group_ids.tolist())),
        "good_rate": float(y.mean()),
        "sources": _counts(e.source for e in examples),
        "calibration": method,
        "folds": folds,
        "good_bar": config.good_bar,
        "target_accuracy": config.target_accuracy,
        "confidence": config.confidence,
        "threshold": choice.threshold if choice else None,
        "held_out": asdict(choice) if choice else None,
        "auroc": metrics.auroc(probabilities, good),
        "ece": expected_calibration_error(probabilities, good),
        "raw_scores": {
            name: gate_figures(values, good, config.target_accuracy, config.confidence)
            for name, values in held_scores.items()
            if name != "trained"
        },
        "fitted_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    gate = replace(gate, threshold=figures["threshold"], metrics=figures)
    return FittedGate(gate, figures, held_rows.tolist(), held_scores, good)


def _require_both_classes(y: Any, what: str) -> None:
    good = int(y.sum())
    if good == 0 or good == len(y):
        kind = "good" if good else "bad"
        raise GateFitError(
            f"{what} are all {kind} ({len(y)}): a gate needs right and wrong answers to learn from"
        )


def _fit_calibrated(
    X: Any, y: Any, groups: Any, method: str, config: GateFitConfig
) -> tuple[Any, int]:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = min(config.max_folds, int(np.bincount(y).min()), len(set(groups.tolist())))
    if folds < 2:
        raise GateFitError("too few good or bad answers to calibrate on out-of-fold scores")
    splits = list(
        StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=config.seed).split(
            X, y, groups
        )
    )
    classifier = make_pipeline(
        StandardScaler(), LogisticRegression(C=config.regularisation, max_iter=1000)
    )
    # ensemble=False: one classifier fitted on all of the fitting part, one calibration map
    # fitted on the out-of-fold decision values (never on values it was fitted to).
    model = CalibratedClassifierCV(classifier, method=method, cv=splits, ensemble=False)
    try:
        model.fit(X, y)
    except ValueError as exc:  # a fold left with one class, most often
        raise GateFitError(f"could not fit the gate: {exc}") from exc
    return model, folds


def exported_gate(model: Any, method: str) -> TrainedGate:
    """The fitted scikit-learn model as the plain numbers of a gate file."""
    (calibrated,) = model.calibrated_classifiers_
    scaler, regression = calibrated.estimator[0], calibrated.estimator[-1]
    if list(regression.classes_) != [0, 1]:
        raise GateFitError(f"unexpected classes {regression.classes_!r}")
    (calibrator,) = calibrated.calibrators
    if method == "sigmoid":
        calibration = {"method": "sigmoid", "a": float(calibrator.a_), "b": float(calibrator.b_)}
    else:
        calibration = {
            "method": "isotonic",
            "x": calibrator.X_thresholds_.tolist(),
            "y": calibrator.y_thresholds_.tolist(),
        }
    return TrainedGate(
        features=FEATURES,
        mean=tuple(scaler.mean_.tolist()),
        scale=tuple(scaler.scale_.tolist()),
        coef=tuple(regression.coef_[0].tolist()),
        intercept=float(regression.intercept_[0]),
        calibration=calibration,
        threshold=None,
        metrics={},
    )


def _check_export(model: Any, gate: TrainedGate, X: Any, probabilities: list[float]) -> None:
    """The file must say what scikit-learn fitted: a new scikit-learn that computed it
    differently would otherwise gate every answer on numbers nobody checked."""
    import numpy as np

    if len(X) and not np.allclose(model.predict_proba(X)[:, 1], probabilities, atol=1e-9):
        raise GateFitError("the exported gate disagrees with the fitted model")


def _counts(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


# --- beside the version -------------------------------------------------------------------


def gates_dir(version: ModelVersion) -> Path:
    from django.conf import settings

    return Path(settings.MODELS_DIR) / "gates" / version.name


def save_fitted(fitted: FittedGate, out_dir: str | Path) -> Path:
    """gate.json (the classifier, its features, threshold and metrics), metrics.json and the
    held-out risk-coverage plot; returns the gate file's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(fitted.metrics, indent=2))
    if fitted.held_out_good:
        plot_risk_coverage(
            fitted.held_out_scores,
            fitted.held_out_good,
            fitted.gate.metrics["target_accuracy"],
            out / "risk_coverage.png",
        )
    return fitted.gate.save(out / "gate.json")


def apply_gate(version: ModelVersion, path: Path, figures: dict[str, Any]) -> None:
    """Gate the version with the file from now on. A plain update: the version's own
    updated_at (its engine key) stays, so workers keep the model loaded and only re-read
    the gate file."""
    from assistant.gate import GateKind
    from assistant.models import ModelVersion

    fields = {
        "gate_kind": GateKind.TRAINED.value,
        "gate_model_path": str(path),
        "gate_metrics": {**figures, "path": str(path)},
    }
    ModelVersion.objects.filter(pk=version.pk).update(**fields)
    for name, value in fields.items():
        setattr(version, name, value)


# --- the job --------------------------------------------------------------------------


def fit_run(fit: GateFit, progress: Any, engine: Engine | None = None) -> dict[str, Any]:
    """The work of a gate fit job: label, fit, save beside the version, gate it when a
    threshold met the target; returns the row's outcome."""
    from jobs.runner import finite

    config = GateFitConfig(target_accuracy=fit.target_accuracy, confidence=fit.confidence)
    examples: list[LabelledAnswer] = []
    if fit.dataset is not None:
        examples += label_dataset(
            fit.version,
            fit.dataset.path,
            limit=fit.limit,
            good_bar=config.good_bar,
            engine=engine,
            report=lambda done: progress(0.9 * done),
        )
    if fit.desk_outcomes:
        examples += label_desk(fit.version, good_bar=config.good_bar)
    progress.raise_if_cancelled()
    fitted = fit_gate(examples, config)
    fitted.metrics["dataset"] = fit.dataset.name if fit.dataset else None
    fitted.gate = replace(fitted.gate, metrics=fitted.metrics)
    path = save_fitted(fitted, gates_dir(fit.version) / f"fit-{fit.pk}")
    applied = fitted.gate.threshold is not None
    if applied:
        apply_gate(fit.version, path, fitted.metrics)
    return {
        "gate_path": str(path),
        "metrics": finite({**fitted.metrics, "applied": applied}),
    }


def fit_gate_here(
    version: ModelVersion,
    dataset: Any = None,
    *,
    limit: int = 0,
    desk_outcomes: bool = True,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    confidence: float = DEFAULT_CONFIDENCE,
    engine: Engine | None = None,
) -> GateFit:
    """Fit in this process (the command line): the row ends as the job's would."""
    from jobs.runner import run_job

    from .models import GateFit

    fit = GateFit.objects.create(
        version=version,
        dataset=dataset,
        limit=limit,
        desk_outcomes=desk_outcomes,
        target_accuracy=target_accuracy,
        confidence=confidence,
    )
    run_job(GateFit, fit.pk, lambda row, progress: fit_run(row, progress, engine=engine))
    fit.refresh_from_db()
    return fit
