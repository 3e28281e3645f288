"""Evaluation figures in plain Python: perplexity, ROUGE-L, AUROC, gate coverage, calibration."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)


def perplexity(mean_nll: float) -> float:
    """exp of the mean negative log-likelihood per token (natural log)."""
    return math.exp(mean_nll)


def mean_nll(token_log_probs: list[float]) -> float:
    """Mean negative log-likelihood of the tokens that were to be predicted."""
    if not token_log_probs:
        raise ValueError("no tokens")
    return -sum(token_log_probs) / len(token_log_probs)


def rouge_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def lcs_length(a: list[str], b: list[str]) -> int:
    """Longest common subsequence, one row of the table at a time."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens."""
    c, r = rouge_tokens(candidate), rouge_tokens(reference)
    if not c or not r:
        return 0.0
    common = lcs_length(c, r)
    if common == 0:
        return 0.0
    precision, recall = common / len(c), common / len(r)
    return 2 * precision * recall / (precision + recall)


def auroc(scores: list[float], positives: list[bool]) -> float | None:
    """Probability that a random positive scores above a random negative, ties counted half
    (the Mann-Whitney U statistic over the product of class sizes). None with one class."""
    ranked = sorted(zip(scores, positives, strict=True), key=lambda pair: pair[0])
    n_pos = sum(positives)
    n_neg = len(positives) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    # Average ranks over tied scores, then U = rank sum of positives - n_pos(n_pos+1)/2.
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for _, p in ranked[i:j] if p)
        i = j
    u = rank_sum - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


@dataclass
class GateAt:
    threshold: float
    coverage: float  # share of answers the gate lets through
    accuracy: float | None  # share of those that are good; None when none pass


def gate_at(scores: list[float], good: list[bool], threshold: float) -> GateAt:
    passed = [g for s, g in zip(scores, good, strict=True) if s >= threshold]
    coverage = len(passed) / len(scores) if scores else 0.0
    accuracy = sum(passed) / len(passed) if passed else None
    return GateAt(threshold, coverage, accuracy)


def threshold_for_accuracy(scores: list[float], good: list[bool], target: float) -> GateAt | None:
    """The lowest threshold (most coverage) whose passed answers reach the target accuracy."""
    for threshold in sorted(set(scores)):
        at = gate_at(scores, good, threshold)
        if at.accuracy is not None and at.accuracy >= target:
            return at
    return None


@dataclass
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_score: float | None
    good_rate: float | None


def reliability_bins(
    scores: list[float], good: list[bool], bins: int = 10, low: float = 0.0, high: float = 1.0
) -> list[CalibrationBin]:
    """Equal-width bins over [low, high]: the mean score against the share of good answers."""
    width = (high - low) / bins
    table = []
    for b in range(bins):
        start, end = low + b * width, low + (b + 1) * width
        last = b == bins - 1
        inside = [
            (s, g)
            for s, g in zip(scores, good, strict=True)
            if start <= s < end or (last and s == end)
        ]
        table.append(
            CalibrationBin(
                low=start,
                high=end,
                count=len(inside),
                mean_score=sum(s for s, _ in inside) / len(inside) if inside else None,
                good_rate=sum(g for _, g in inside) / len(inside) if inside else None,
            )
        )
    return table


def expected_calibration_error(table: list[CalibrationBin]) -> float | None:
    total = sum(b.count for b in table)
    if not total:
        return None
    return sum(
        b.count / total * abs(b.mean_score - b.good_rate)
        for b in table
        if b.count and b.mean_score is not None and b.good_rate is not None
    )
