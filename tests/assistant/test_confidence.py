"""Confidence scores from raw logits, checked against arithmetic done by hand."""

import math
from pathlib import Path

import pytest
import torch

from assistant import confidence
from assistant.confidence import GATE_SCORES, ScoreName
from assistant.models import ModelVersion

ROOT = Path(__file__).resolve().parents[2]

EOS = 2
# Step 1: probabilities [1/4, 1/2, 1/4]; step 2: [3/4, 1/4, 0] (token 2 masked with -inf).
STEP_1 = [0.0, math.log(2), 0.0]
STEP_2 = [math.log(3), 0.0, -math.inf]
ENTROPY_1 = 1.5 * math.log(2)
ENTROPY_2 = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))


def _alone(logits: torch.Tensor, chosen_ids: torch.Tensor) -> confidence.AnswerConfidence:
    """The scores of one answer from its [steps, vocab] logits, step by step as a batch row."""
    chosen, top, entropy = confidence.step_stats(logits, chosen_ids)
    stats = confidence.TokenStats(chosen.tolist(), top.tolist(), entropy.tolist())
    return confidence.AnswerConfidence(stats.chosen_probs, confidence.scores_from_stats(stats))


def _answer(chosen: list[int]) -> confidence.AnswerConfidence:
    logits = torch.tensor([STEP_1, STEP_2], dtype=torch.float32)
    return _alone(logits, torch.tensor(chosen))


def test_it_gives_the_probability_of_each_chosen_token() -> None:
    # Token 1 at step 2 is not the top token (a repetition penalty may pick it); its raw
    # probability is still what counts.
    result = _answer([1, 1])

    assert result.token_probs == pytest.approx([0.5, 0.25], rel=1e-6)


def test_it_computes_every_score_by_hand() -> None:
    scores = _answer([1, 1]).scores

    assert scores[ScoreName.MEAN_TOP] == pytest.approx((0.5 + 0.75) / 2, rel=1e-6)
    assert scores[ScoreName.MEAN_CHOSEN] == pytest.approx((0.5 + 0.25) / 2, rel=1e-6)
    assert scores[ScoreName.MIN_CHOSEN] == pytest.approx(0.25, rel=1e-6)
    assert scores[ScoreName.GEOMEAN_CHOSEN] == pytest.approx(math.sqrt(0.5 * 0.25), rel=1e-6)
    mean_entropy = (ENTROPY_1 + ENTROPY_2) / 2
    assert scores[ScoreName.MEAN_ENTROPY] == pytest.approx(mean_entropy, rel=1e-6)
    assert scores[ScoreName.NEG_MEAN_ENTROPY] == pytest.approx(-mean_entropy, rel=1e-6)


def test_it_uses_softmax_so_shifting_all_logits_changes_nothing() -> None:
    logits = torch.tensor([STEP_1, STEP_2]) + 7.0
    shifted = _alone(logits, torch.tensor([1, 0]))

    assert shifted.scores == pytest.approx(_answer([1, 0]).scores, rel=1e-6)


def test_it_ranks_a_peaked_distribution_above_a_flat_one_on_every_score() -> None:
    peaked = _alone(torch.tensor([[10.0, 0.0, 0.0]]), torch.tensor([0]))
    flat = _alone(torch.tensor([[1.0, 0.9, 0.8]]), torch.tensor([0]))

    for name in GATE_SCORES:
        assert peaked.scores[name] > flat.scores[name], name


def test_it_has_a_score_for_every_name() -> None:
    assert set(_answer([0, 0]).scores) == set(ScoreName)
    assert set(confidence.scores_from_stats(confidence.TokenStats([], [], []))) == set(ScoreName)


def test_the_gate_offers_every_score_where_higher_means_surer() -> None:
    field = ModelVersion._meta.get_field("gate_score")

    assert [value for value, _label in field.choices] == list(GATE_SCORES)
    assert ScoreName.MEAN_ENTROPY not in GATE_SCORES
    assert field.default == ScoreName.MEAN_TOP


def test_score_names_are_spelled_out_only_where_they_are_defined() -> None:
    # Everyone else imports ScoreName; migrations keep the values they were written with.
    owner = ROOT / "assistant" / "confidence.py"
    sources = [
        path
        for part in ("assistant", "tickets", "training", "helpdesk")
        for path in (ROOT / part).rglob("*.py")
        if path != owner and "migrations" not in path.parts
    ]
    spelled = [
        f"{path.relative_to(ROOT)}: {name.value}"
        for path in sources
        for name in ScoreName
        if f'"{name.value}"' in path.read_text() or f"'{name.value}'" in path.read_text()
    ]
    assert spelled == []


def test_it_counts_tokens_up_to_and_including_the_first_eos() -> None:
    assert confidence.answer_length([5, 7, EOS, EOS, EOS], {EOS}) == 3
    assert confidence.answer_length([5, 7, 9], {EOS}) == 3
    assert confidence.answer_length([5, 3, 9], {EOS, 3}) == 2


def test_it_leaves_out_the_padding_after_eos_in_a_batch() -> None:
    # Row 0 stops at step 2; its step 3 is padding, whose flat logits must not lower its
    # scores. Row 1 runs all three steps.
    step_logits = [
        torch.tensor([STEP_1, STEP_2]),
        torch.tensor([STEP_1, STEP_1]),
        torch.tensor([[0.0, 0.0, 0.0], STEP_2]),
    ]
    generated = torch.tensor([[1, EOS, EOS], [0, 1, 0]])

    lengths = [confidence.answer_length(row, {EOS}) for row in generated.tolist()]

    row_0, row_1 = confidence.batch_confidence(step_logits, generated, lengths)

    assert row_0.token_probs == pytest.approx([0.5, 0.25], rel=1e-6)
    assert row_0.scores[ScoreName.MEAN_TOP] == pytest.approx(0.5, rel=1e-6)
    assert row_1.token_probs == pytest.approx([0.75, 0.5, 0.75], rel=1e-6)


def test_it_scores_a_batch_row_like_the_same_answer_alone() -> None:
    generator = torch.Generator().manual_seed(0)
    step_logits = [torch.randn(3, 11, generator=generator) for _ in range(4)]
    generated = torch.tensor([[1, 4, 2, 2], [3, 3, 3, 3], [0, 2, 2, 2]])

    lengths = [confidence.answer_length(row, {2}) for row in generated.tolist()]

    batched = confidence.batch_confidence(step_logits, generated, lengths)

    stacked = torch.stack(step_logits, dim=1)  # [batch, steps, vocab]
    for row, (result, length) in enumerate(zip(batched, lengths, strict=True)):
        alone = _alone(stacked[row, :length], generated[row, :length])
        assert result.token_probs == pytest.approx(alone.token_probs, rel=1e-12)
        assert result.scores == pytest.approx(alone.scores, rel=1e-12)


def test_the_gate_reads_the_score_it_names() -> None:
    scores = {ScoreName.MEAN_TOP: 0.8, ScoreName.MIN_CHOSEN: 0.3}

    assert confidence.gate_score(scores, ScoreName.MIN_CHOSEN) == 0.3
    assert confidence.gate_score({"mean_top_prob": 0.8}, ScoreName.MEAN_TOP) == 0.8


def test_a_missing_gate_score_reads_as_the_least_confident() -> None:
    assert confidence.gate_score({ScoreName.MEAN_TOP: 0.99}, ScoreName.MIN_CHOSEN) == 0.0
