"""Fitting: a separable gate tells right from wrong, its threshold's accuracy has the stated
lower bound on the held-out answers, and the calibration follows the size of the data."""

import pytest
from scipy.stats import beta

from assistant.gate import TrainedGate
from training.pipeline.evaluation import choose_threshold, clopper_pearson_lower
from training.pipeline.gate import GateFitConfig, GateFitError, LabelledAnswer, fit_gate

from .helpers import separable


def _bound(right: int, passed: int, confidence: float = 0.95) -> float:
    return beta.ppf(1 - confidence, right, passed - right + 1)


def test_a_gate_fitted_on_separable_answers_tells_right_from_wrong() -> None:
    fitted = fit_gate(separable(400), GateFitConfig(), groups=list(range(400)))

    figures = fitted.metrics
    assert figures["auroc"] > 0.95
    assert figures["ece"] < 0.1
    # The raw scores are noise here: the trained gate is what separates.
    assert max(q["auroc"] for q in figures["raw_scores"].values()) < 0.75
    assert figures["held_out_examples"] + figures["fit_examples"] == 400


def test_its_threshold_is_the_lowest_whose_accuracy_bound_meets_the_target() -> None:
    config = GateFitConfig(target_accuracy=0.8, confidence=0.95)
    fitted = fit_gate(separable(400, gap=2.0), config, groups=list(range(400)))

    threshold = fitted.gate.threshold
    scores, good = fitted.held_out_scores["trained"], fitted.held_out_good
    passed = [g for s, g in zip(scores, good, strict=True) if s >= threshold]
    assert _bound(sum(passed), len(passed)) >= 0.8
    assert fitted.metrics["held_out"]["passed"] == len(passed)
    assert fitted.metrics["held_out"]["lower_bound"] == pytest.approx(
        _bound(sum(passed), len(passed))
    )
    # The next lower score would pass more answers, and miss the bound.
    lower = max(s for s in scores if s < threshold)
    more = [g for s, g in zip(scores, good, strict=True) if s >= lower]
    assert _bound(sum(more), len(more)) < 0.8


def test_the_bound_is_clopper_pearsons() -> None:
    # All n right: the one-sided 95 % bound is 0.05 ** (1 / n); 14 right clear 0.8, 13 do not.
    assert clopper_pearson_lower(14, 14, 0.95) == pytest.approx(0.05 ** (1 / 14))
    assert clopper_pearson_lower(14, 14, 0.95) >= 0.8 > clopper_pearson_lower(13, 13, 0.95)
    assert clopper_pearson_lower(0, 10, 0.95) == 0.0


def test_it_picks_no_threshold_when_too_few_answers_could_prove_the_target() -> None:
    thirteen_right = [0.9] * 13

    assert choose_threshold(thirteen_right, [True] * 13, 0.8, 0.95) is None
    choice = choose_threshold([*thirteen_right, 0.85, 0.1], [True] * 14 + [False], 0.8, 0.95)
    # Halfway between the last answer it passes (0.85) and the first it turns away (0.1).
    assert (choice.threshold, choice.passed) == (pytest.approx(0.475), 14)
    assert choice.lower_bound == pytest.approx(0.05 ** (1 / 14))


def test_tied_scores_pass_or_fail_together() -> None:
    # 14 right at 0.9 and one wrong also at 0.9: no cut separates the wrong one.
    choice = choose_threshold([0.9] * 15, [True] * 14 + [False], 0.9, 0.95)

    assert choice is None


@pytest.mark.parametrize(
    ("answers", "fitted_on", "method"), [(1428, 999, "sigmoid"), (1429, 1000, "isotonic")]
)
def test_platt_scaling_below_a_thousand_answers_isotonic_from_there(
    answers: int, fitted_on: int, method: str
) -> None:
    # 30 % of the groups held out (rounded up): these totals leave 999 and 1000 to fit on.
    fitted = fit_gate(separable(answers), GateFitConfig(), groups=list(range(answers)))

    assert fitted.metrics["fit_examples"] == fitted_on
    assert fitted.metrics["calibration"] == method
    assert fitted.gate.calibration["method"] == method


def test_it_refuses_answers_that_are_all_right() -> None:
    answers = [
        LabelledAnswer(f"q{i}", a.features, True, "synthetic") for i, a in enumerate(separable(40))
    ]

    with pytest.raises(GateFitError, match="all good"):
        fit_gate(answers, GateFitConfig(), groups=list(range(40)))


def test_the_fitted_gate_survives_its_file(tmp_path) -> None:
    fitted = fit_gate(separable(200), GateFitConfig(), groups=list(range(200)))

    loaded = TrainedGate.from_dict(fitted.gate.to_dict())

    assert loaded == fitted.gate
    assert loaded.metrics["threshold"] == loaded.threshold
