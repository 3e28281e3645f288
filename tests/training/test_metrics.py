"""Evaluation figures on crafted cases whose answer is known by hand."""

import math

import pytest

from training.pipeline import metrics


def test_it_gives_auroc_one_for_perfect_separation() -> None:
    assert metrics.auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0


def test_it_gives_auroc_zero_when_the_score_is_reversed() -> None:
    assert metrics.auroc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0


def test_it_counts_ties_as_half() -> None:
    assert metrics.auroc([0.5, 0.5, 0.5, 0.5], [False, True, False, True]) == 0.5


def test_it_matches_the_pairwise_count_on_a_mixed_case() -> None:
    # Positives 0.35 and 0.8 against negatives 0.1 and 0.4: pairs won 1 + 2 of 4.
    assert metrics.auroc([0.1, 0.4, 0.35, 0.8], [False, False, True, True]) == 0.75


def test_it_counts_a_tie_between_classes_as_half_a_pair() -> None:
    # Positive 0.5 ties negative 0.5 (0.5) and beats 0.1 (1): 1.5 of 2 pairs.
    assert metrics.auroc([0.1, 0.5, 0.5], [False, False, True]) == 0.75


def test_it_has_no_auroc_with_one_class() -> None:
    assert metrics.auroc([0.2, 0.3], [True, True]) is None


def test_it_computes_rouge_l_from_the_longest_common_subsequence() -> None:
    # LCS "the cat on the mat" = 5 of 6 tokens on each side: F1 = 5/6.
    score = metrics.rouge_l("The cat sat on the mat", "the cat is on the mat")
    assert score == pytest.approx(5 / 6)


def test_it_gives_rouge_l_one_for_identical_and_zero_for_disjoint_text() -> None:
    assert metrics.rouge_l("sudo apt update", "sudo apt update") == 1.0
    assert metrics.rouge_l("reboot now", "check the cable") == 0.0
    assert metrics.rouge_l("", "anything") == 0.0


def test_it_weighs_precision_and_recall_in_rouge_l() -> None:
    # LCS 2; precision 2/2, recall 2/4: F1 = 2 * 1 * 0.5 / 1.5 = 2/3.
    assert metrics.rouge_l("apt update", "run apt update now") == pytest.approx(2 / 3)


def test_it_computes_perplexity_as_exp_of_the_mean_nll() -> None:
    # Token probabilities 1/2 and 1/4: mean NLL = 1.5 ln 2, perplexity = 2 ** 1.5.
    nll = metrics.mean_nll([math.log(0.5), math.log(0.25)])
    assert nll == pytest.approx(1.5 * math.log(2))
    assert metrics.perplexity(nll) == pytest.approx(2**1.5)


def test_it_reports_coverage_and_accuracy_at_a_threshold() -> None:
    at = metrics.gate_at([0.9, 0.8, 0.3, 0.7], [True, False, False, True], 0.75)
    assert at.coverage == 0.5
    assert at.accuracy == 0.5


def test_it_finds_the_lowest_threshold_reaching_the_target_accuracy() -> None:
    scores = [0.95, 0.9, 0.6, 0.5, 0.2]
    good = [True, True, False, True, False]
    at = metrics.threshold_for_accuracy(scores, good, target=0.75)
    # At 0.5 three of four passed answers are good (0.75); at 0.2 only three of five.
    assert at is not None and at.threshold == 0.5 and at.coverage == 0.8


def test_it_has_no_threshold_when_the_target_is_out_of_reach() -> None:
    assert metrics.threshold_for_accuracy([0.9, 0.1], [False, False], target=0.8) is None


def test_it_bins_scores_for_the_reliability_plot() -> None:
    table = metrics.reliability_bins([0.05, 0.15, 0.95, 1.0], [False, True, True, True], bins=10)
    assert [b.count for b in table] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert table[9].good_rate == 1.0
    assert metrics.expected_calibration_error(table) == pytest.approx(
        (0.05 + 0.85 + 2 * (1 - 0.975)) / 4
    )
