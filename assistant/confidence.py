"""Confidence scores of an answer, computed from the model's raw logits.

Raw logits (`generate(..., output_logits=True)`) and not the processed scores: logit
processors such as the repetition penalty change the probabilities, so a score taken after
them would not say how sure the model itself was. Every score is "higher is more confident",
so one gate rule (score >= threshold) serves all of them.
"""

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class ScoreName(StrEnum):
    """The name of each score in `Generation.scores`, the gate's choices and the reports.

    The one list of them: the model version's `gate_score` field takes its choices from
    `GATE_SCORES`, and everyone else imports these names.
    """

    # The seed's score: mean over generated tokens of the highest softmax probability.
    MEAN_TOP = "mean_top_prob"
    MEAN_CHOSEN = "mean_chosen_prob"
    MIN_CHOSEN = "min_chosen_prob"
    GEOMEAN_CHOSEN = "geomean_chosen_prob"
    MEAN_ENTROPY = "mean_entropy"  # nats; higher is less sure, so reports only, no gate
    NEG_MEAN_ENTROPY = "neg_mean_entropy"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    ScoreName.MEAN_TOP: "Mean top-token probability (seed)",
    ScoreName.MEAN_CHOSEN: "Mean chosen-token probability",
    ScoreName.MIN_CHOSEN: "Minimum chosen-token probability",
    ScoreName.GEOMEAN_CHOSEN: "Geometric mean chosen-token probability",
    ScoreName.MEAN_ENTROPY: "Mean entropy",
    ScoreName.NEG_MEAN_ENTROPY: "Negative mean entropy",
}

# The scores a gate may read: those where higher means more confident.
GATE_SCORES = tuple(name for name in ScoreName if name != ScoreName.MEAN_ENTROPY)


def gate_score(scores: Mapping[str, float], name: str) -> float:
    """The score a version's gate reads from an answer's scores.

    A missing score reads as 0, the least confident value, so the answer goes to people.
    That is what production has always done: an engine that did not compute the gate's
    score gave no evidence the answer is right, and a stand-in (such as the mean token
    probability) would pass answers the gate was never calibrated on.
    """
    return float(scores.get(name, 0.0))


@dataclass(frozen=True)
class TokenStats:
    """Per generated token: probability of the chosen token, of the top token, and the
    entropy of the next-token distribution (nats)."""

    chosen_probs: list[float]
    top_probs: list[float]
    entropies: list[float]


@dataclass(frozen=True)
class AnswerConfidence:
    token_probs: list[float]
    scores: dict[str, float]


def step_stats(
    logits: "torch.Tensor",
    chosen_ids: "torch.Tensor",
    work: tuple["torch.Tensor", "torch.Tensor"] | None = None,
) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"]:
    """Chosen-token probability, top probability and entropy for logits of shape [..., vocab].

    With z the logits shifted so their maximum is 0 and s = sum(exp z): p = exp(z) / s,
    the top probability is 1 / s and the entropy is log s - sum(p z). This reads the
    vocabulary a few times instead of materialising log-probabilities. `work`: two buffers
    shaped like `logits` for z and exp(z), reused from step to step by `batch_confidence`:
    fresh 6 MB tensors at every step of a batch of 32 (new pages, cold caches) made scoring
    it three times slower.
    """
    import torch

    logits = logits.float()
    shifted, weights = work if work is not None else (None, None)
    # amax, not max: max(dim=) also finds the indices, 3x the time of the reduction alone.
    shifted = torch.sub(logits, logits.amax(dim=-1, keepdim=True), out=shifted)
    weights = torch.exp(shifted, out=weights)
    total = weights.sum(dim=-1)
    weighted = torch.linalg.vecdot(weights, shifted)
    if weighted.isnan().any():
        # Masked (-inf) logits: exp gave 0, and 0 * (-inf) is NaN; a huge finite negative
        # gives 0 * x = 0. Only then: clamping every step cost a sixth of the scoring.
        shifted.clamp_(min=torch.finfo(torch.float32).min)
        weighted = torch.linalg.vecdot(weights, shifted)
    log_total = total.log()
    chosen_logit = shifted.gather(-1, chosen_ids.long().unsqueeze(-1)).squeeze(-1)
    chosen = (chosen_logit - log_total).exp()
    top = total.reciprocal()
    entropy = (log_total - weighted / total).clamp(min=0.0)
    return chosen.double(), top.double(), entropy.double()


def scores_from_stats(stats: TokenStats) -> dict[str, float]:
    """Every answer-level score from the per-token figures."""
    if not stats.chosen_probs:
        # Nothing generated: no evidence of confidence at all.
        return dict.fromkeys(ScoreName, 0.0)
    count = len(stats.chosen_probs)
    mean_entropy = sum(stats.entropies) / count
    # A probability of exactly 0 (masked token forced by a processor) makes the geomean 0.
    log_sum = sum(math.log(p) if p > 0 else -math.inf for p in stats.chosen_probs)
    return {
        ScoreName.MEAN_TOP: sum(stats.top_probs) / count,
        ScoreName.MEAN_CHOSEN: sum(stats.chosen_probs) / count,
        ScoreName.MIN_CHOSEN: min(stats.chosen_probs),
        ScoreName.GEOMEAN_CHOSEN: math.exp(log_sum / count),
        ScoreName.MEAN_ENTROPY: mean_entropy,
        ScoreName.NEG_MEAN_ENTROPY: -mean_entropy,
    }


def answer_length(chosen_ids: Sequence[int], eos_ids: Collection[int]) -> int:
    """Generated tokens up to and including the first end-of-sequence token.

    In a batch, a finished row keeps receiving padding until the longest row ends; those
    steps are not part of its answer.
    """
    for index, token in enumerate(chosen_ids):
        if token in eos_ids:
            return index + 1
    return len(chosen_ids)


def batch_confidence(
    step_logits: Sequence["torch.Tensor"],
    generated_ids: "torch.Tensor",
    lengths: Sequence[int],
) -> list[AnswerConfidence]:
    """Scores for each row of a batch, over its first `lengths[row]` tokens.

    `step_logits` is generate()'s `logits`: one [batch, vocab] tensor per step;
    `generated_ids` [batch, steps] are the tokens it chose; a row's length leaves out the
    padding after it ended (see `answer_length`). Works step by step so a batch never holds
    all its logits in float64 at once.
    """
    import torch

    if not step_logits:
        empty = TokenStats([], [], [])
        return [AnswerConfidence([], scores_from_stats(empty)) for _ in range(len(generated_ids))]
    first = step_logits[0]
    work = (
        torch.empty_like(first, dtype=torch.float32),
        torch.empty_like(first, dtype=torch.float32),
    )
    columns = [
        step_stats(logits, generated_ids[:, step], work) for step, logits in enumerate(step_logits)
    ]
    chosen = torch.stack([c[0] for c in columns], dim=1).tolist()
    top = torch.stack([c[1] for c in columns], dim=1).tolist()
    entropy = torch.stack([c[2] for c in columns], dim=1).tolist()
    results = []
    for row, length in enumerate(lengths):
        stats = TokenStats(chosen[row][:length], top[row][:length], entropy[row][:length])
        results.append(
            AnswerConfidence(token_probs=stats.chosen_probs, scores=scores_from_stats(stats))
        )
    return results
