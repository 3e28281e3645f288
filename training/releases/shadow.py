"""Shadow comparison: a candidate and the active version answer the same corrected tickets.

Both answer the latest corrected questions (with their context) that neither trained on,
through the assistant's engine, on a worker of the evaluation queue; the agents' answers
are the references. For each version: MiniLM similarity to the agents' answers,
completion-only loss of those answers under the model, the share the gate would escalate,
and how well the confidence tells good answers (similarity at the bar) from bad (AUROC).
The candidate is "not worse" when none of these is worse beyond a tolerance.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User

from assistant.models import ModelVersion
from assistant.registry import get_engine, spec_for
from jobs.runner import Progress, finite, run_job

from ..feedback.models import ReviewState, TrainingExample
from ..pipeline import metrics
from ..pipeline.datasets import trained_ticket_ids
from ..pipeline.evaluation import DEFAULT_GOOD_BAR
from .models import ShadowComparison

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 50  # recent corrected tickets per comparison: minutes on two CPU cores
SIMILARITY_TOLERANCE = 0.02  # mean cosine the candidate may lose and still count as not worse
LOSS_TOLERANCE = 0.02  # nats of completion loss the candidate may add
ESCALATION_TOLERANCE = 0.10  # extra share of tickets the candidate may hand to people
# AUROC the candidate's gate may lose: on a few dozen tickets it moves by a few hundredths.
AUROC_TOLERANCE = 0.05
SAMPLES_KEPT = 20  # side-by-side answers stored with the report

Similarity = Callable[[list[str], list[str]], list[float]]


class NoActiveVersion(Exception):
    """There is no default version to compare the candidate with."""


def unseen_corrections(
    candidate: ModelVersion, active: ModelVersion, limit: int = DEFAULT_LIMIT
) -> list[TrainingExample]:
    """The latest corrected questions that a reviewer has not rejected and that neither
    version trained on, newest first: scoring a version on its own training rows flatters it."""
    seen = trained_ticket_ids(candidate) | trained_ticket_ids(active)
    return list(
        TrainingExample.objects.exclude(review_state=ReviewState.REJECTED)
        .exclude(correction="")
        .exclude(ticket_id__in=seen)
        .order_by("-created_at", "-pk")[:limit]
    )


def conversation_for(example: TrainingExample) -> list[dict[str, str]]:
    return [*example.context, {"role": "user", "content": example.question}]


def start_shadow_comparison(
    candidate: ModelVersion,
    active: ModelVersion | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    user: User | None = None,
) -> ShadowComparison:
    """The pending row of a comparison against `active` (default: the default version)."""
    active = active or ModelVersion.default()
    if active is None:
        raise NoActiveVersion("No default version to compare with.")
    return ShadowComparison.objects.create(
        candidate=candidate, active=active, limit=limit, started_by=user
    )


def run_shadow_comparison(
    candidate: ModelVersion,
    active: ModelVersion | None = None,
    *,
    limit: int = DEFAULT_LIMIT,
    user: User | None = None,
    similarity: Similarity | None = None,
    good_bar: float = DEFAULT_GOOD_BAR,
) -> ShadowComparison:
    """Compare in this process (the command line, benches): the row ends as the job's would."""
    comparison = start_shadow_comparison(candidate, active, limit=limit, user=user)
    run_job(
        ShadowComparison,
        comparison.pk,
        lambda row, progress: compare(row, progress, similarity=similarity, good_bar=good_bar),
    )
    comparison.refresh_from_db()
    return comparison


def compare(
    comparison: ShadowComparison,
    progress: Progress,
    *,
    similarity: Similarity | None = None,
    good_bar: float = DEFAULT_GOOD_BAR,
) -> dict[str, Any]:
    """The work of a comparison job: both versions answer; returns the row's outcome."""
    candidate, active = comparison.candidate, comparison.active
    examples = unseen_corrections(candidate, active, comparison.limit)
    conversations = [conversation_for(e) for e in examples]
    references = [e.correction for e in examples]
    similarity = similarity or _minilm_similarity
    sides = {"candidate": _side(candidate, conversations, references, similarity, good_bar)}
    progress(0.5)
    sides["active"] = _side(active, conversations, references, similarity, good_bar)
    not_worse, reasons = judge(sides["candidate"], sides["active"])
    report = {
        "examples": len(examples),
        "example_ids": [e.pk for e in examples],
        "good_bar": good_bar,
        "candidate": {k: v for k, v in sides["candidate"].items() if k != "answers"},
        "active": {k: v for k, v in sides["active"].items() if k != "answers"},
        "verdict": reasons,
        "samples": _samples(examples, sides),
    }
    return {"report": finite(report), "candidate_not_worse": not_worse}


def judge(candidate: dict[str, Any], active: dict[str, Any]) -> tuple[bool, list[str]]:
    """Not worse on similarity, loss (when both have one) and escalations; the reasons why."""
    reasons = []
    if candidate["examples"] == 0:
        return False, ["no corrected tickets to compare on"]
    if candidate["similarity_mean"] < active["similarity_mean"] - SIMILARITY_TOLERANCE:
        reasons.append("answers further from the agents' answers")
    if (
        candidate["loss"] is not None
        and active["loss"] is not None
        and candidate["loss"] > active["loss"] + LOSS_TOLERANCE
    ):
        reasons.append("higher loss on the agents' answers")
    if candidate["escalation_share"] > active["escalation_share"] + ESCALATION_TOLERANCE:
        reasons.append("escalates more tickets")
    if (
        candidate.get("gate_auroc") is not None
        and active.get("gate_auroc") is not None
        and candidate["gate_auroc"] < active["gate_auroc"] - AUROC_TOLERANCE
    ):
        reasons.append("its confidence tells good answers from bad less well")
    return not reasons, reasons or ["not worse on any measure"]


def _side(
    version: ModelVersion,
    conversations: list[list[dict[str, str]]],
    references: list[str],
    similarity: Similarity,
    good_bar: float,
) -> dict[str, Any]:
    answered = _answer(version, conversations)
    answers = [a.generation.text for a in answered]
    decisions = [_decision(version, a) for a in answered]
    confidences = [d.confidence for d in decisions]
    similarities = similarity(answers, references) if answers else []
    good = [s >= good_bar for s in similarities]
    escalated = [not d.passed for d in decisions]
    return {
        "version": version.name,
        "examples": len(answers),
        "similarity_mean": _mean(similarities),
        "good_share": _mean(good),
        "loss": _completion_loss(version, conversations, references),
        "escalation_share": _mean(escalated),
        "gate": {"score": version.gate_score, "threshold": version.gate_threshold},
        "gate_auroc": metrics.auroc(confidences, good) if answers else None,
        "confidence_mean": _mean(confidences),
        "answers": [
            {"text": a, "confidence": c, "similarity": s}
            for a, c, s in zip(answers, confidences, similarities, strict=True)
        ],
    }


def _answer(version: ModelVersion, conversations: list[list[dict[str, str]]]) -> list[Any]:
    """Both sides answer as the answer job would: grounded on the knowledge, in batches."""
    from tickets.answering import ground_batch

    from ..pipeline.evaluation import answer_like_production

    return answer_like_production(
        spec_for(version),
        conversations,
        get_engine(),
        ground_batch,
        batch_size=settings.ANSWER_BATCH_SIZE,
    )


def _decision(version: ModelVersion, answered: Any) -> Any:
    """The production gate's verdict on an answer, a trained gate's included."""
    from assistant.gate import decide

    generation = answered.generation
    return decide(
        version,
        retrieval=answered.retrieval,
        scores=generation.scores,
        token_count=generation.token_count,
        text=generation.text,
    )


def _completion_loss(
    version: ModelVersion, conversations: list[list[dict[str, str]]], references: list[str]
) -> float | None:
    """Loss of the agents' answers under the version's weights, from the engine that answers;
    None when it has no weights to score with (see Engine.answer_loss)."""
    if not conversations:
        return None
    answered = [
        [*c, {"role": "assistant", "content": r}]
        for c, r in zip(conversations, references, strict=True)
    ]
    try:
        return get_engine().answer_loss(spec_for(version), answered)
    except Exception:  # a broken adapter must not hide the rest of the comparison
        log.exception("Completion loss failed for %s", version.name)
        return None


def _minilm_similarity(answers: list[str], references: list[str]) -> list[float]:
    from assistant.embeddings import pairwise_cosine

    return pairwise_cosine(answers, references)


def _samples(examples: list[TrainingExample], sides: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, example in enumerate(examples[:SAMPLES_KEPT]):
        rows.append(
            {
                "example_id": example.pk,
                "ticket_id": example.ticket_id,
                "question": example.question,
                "agent_answer": example.correction,
                "candidate": sides["candidate"]["answers"][i],
                "active": sides["active"]["answers"][i],
            }
        )
    return rows


def _mean(values: list[float] | list[bool]) -> float:
    return float(sum(values) / len(values)) if values else 0.0
