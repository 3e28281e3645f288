"""Near-duplicate questions stay on one side of every split: a gate checked on questions it
was fitted on (reworded) would look surer than it is."""

import numpy as np

from training.pipeline.gate import GateFitConfig, LabelledAnswer, duplicate_groups, fit_gate

from .helpers import separable

TOPICS = [
    "reset my password",
    "connect to the office wifi",
    "install a printer driver",
    "free up disk space on ubuntu",
    "mount a usb drive",
    "change the screen resolution",
    "update all packages with apt",
    "find which process uses port 8080",
    "set up ssh keys for github",
    "recover a deleted file",
    "check the battery health of my laptop",
    "make a bootable usb stick",
    "add a user to the sudo group",
    "stop bluetooth from turning on at boot",
    "see my ip address",
    "schedule a job with cron",
    "unlock my account after too many attempts",
    "share a folder over the network",
    "fix no sound after an update",
    "open a zip file from the terminal",
]


def _paraphrases() -> list[str]:
    """Each topic asked twice, worded a little differently, in shuffled order."""
    questions = [f"How do I {t}?" for t in TOPICS] + [f"how can i {t}" for t in TOPICS]
    order = np.random.default_rng(3).permutation(len(questions))
    return [questions[i] for i in order]


def test_reworded_questions_share_a_group_and_different_ones_do_not() -> None:
    questions = _paraphrases()

    groups = duplicate_groups(questions, threshold=0.9)

    by_topic = {t: {g for q, g in zip(questions, groups, strict=True) if t in q} for t in TOPICS}
    assert all(len(found) == 1 for found in by_topic.values())
    assert len(set(groups)) == len(TOPICS)


def test_a_chain_of_near_duplicates_is_one_group() -> None:
    # a ~ b and b ~ c, though a and c are further apart: all three are one question.
    vectors = np.array([[1.0, 0.0], [0.95, 0.3122], [0.8, 0.6]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    assert duplicate_groups(["a", "b", "c"], 0.94, vectors) == [0, 0, 0]
    assert duplicate_groups(["a", "b", "c"], 0.99, vectors) == [0, 1, 2]


def test_near_duplicates_never_straddle_the_split() -> None:
    questions = _paraphrases()
    features = separable(len(questions))
    answers = [
        LabelledAnswer(q, a.features, a.good, "synthetic")
        for q, a in zip(questions, features, strict=True)
    ]

    for seed in range(3):
        fitted = fit_gate(answers, GateFitConfig(seed=seed, max_folds=3))

        held = {questions[i] for i in fitted.held_out_rows}
        for topic in TOPICS:
            sides = {q in held for q in questions if topic in q}
            assert len(sides) == 1, (seed, topic)
        assert 0 < len(held) < len(questions)
