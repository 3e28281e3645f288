"""The gate's features: each computed from the answer, in the one order of FEATURES."""

import pytest

from assistant.confidence import GATE_SCORES, ScoreName
from assistant.gate import FEATURES, answer_evidence, feature_row, feature_values, repetition


def test_the_features_are_retrieval_agreement_relevance_token_scores_length_and_repetition() -> (
    None
):
    assert FEATURES[:4] == ("best_similarity", "margin", "agreement", "relevance")
    assert FEATURES[4:-2] == tuple(str(name) for name in GATE_SCORES)
    assert FEATURES[-2:] == ("answer_tokens", "repetition")
    assert ScoreName.MEAN_ENTROPY not in FEATURES  # its negation is there already


def test_it_reads_each_feature_from_where_the_answer_keeps_it() -> None:
    scores = {name: 0.1 * (i + 1) for i, name in enumerate(GATE_SCORES)}

    values = feature_values(
        retrieval={
            "best_similarity": 0.71,
            "margin": 0.2,
            "agreement": 0.65,
            "relevance": 0.8,
            "notes": [],
        },
        scores=scores,
        token_count=42,
        text="Run sudo apt update.",
    )

    assert list(values) == list(FEATURES)
    assert (values["best_similarity"], values["margin"], values["agreement"]) == (0.71, 0.2, 0.65)
    assert values["relevance"] == 0.8
    assert [values[str(name)] for name in GATE_SCORES] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert values["answer_tokens"] == 42.0 and values["repetition"] == 0.0
    assert feature_row(values) == [values[name] for name in FEATURES]


def test_missing_evidence_reads_as_none_found() -> None:
    values = feature_values(
        retrieval={"agreement": None, "relevance": None}, scores={}, token_count=None, text=""
    )

    assert set(values.values()) == {0.0}


def test_repetition_is_the_share_of_repeated_word_trigrams() -> None:
    assert repetition("open the terminal and run top") == 0.0
    # 6 trigrams: "a b c" three times, "b c a" twice, "c a b" once: 3 of them repeat.
    assert repetition("a b c a b c a b") == pytest.approx(3 / 6)
    assert repetition("Run it. RUN it, run it") == pytest.approx(
        2 / 4
    )  # case and punctuation aside
    assert repetition("too short") == 0.0


def test_agreement_is_the_answers_cosine_to_its_best_note() -> None:
    note = "To free disk space, run sudo apt clean and remove old kernels."

    close, far, none = answer_evidence(
        [
            "Free disk space with sudo apt clean and by removing old kernels.",
            "Bake the cake at 180 degrees for forty minutes.",
            "Anything at all.",
        ],
        [note, note, ""],
        ["How do I free disk space?"] * 3,
    )

    assert close["agreement"] > 0.7 and far["agreement"] < 0.3
    assert none["agreement"] == 0.0


def test_relevance_is_the_answers_cosine_to_its_question_reusing_its_vector() -> None:
    from assistant.embeddings import embed_array

    question = "How do I free disk space?"
    answers = ["Free disk space with sudo apt clean.", "Bake the cake at 180 degrees."]
    [vector] = embed_array([question])

    embedded_here = answer_evidence(answers, ["", ""], [question, question])
    reused = answer_evidence(answers, ["", ""], ["not read", "not read"], [vector, vector])

    assert embedded_here[0]["relevance"] > 0.5 > embedded_here[1]["relevance"]
    # Alone or in a padded batch, bfloat16 rounds a text's vector a hair differently.
    for got, expected in zip(reused, embedded_here, strict=True):
        assert got == pytest.approx(expected, abs=2e-3)


def test_agreement_reads_a_passage_vector_retrieval_holds_instead_of_embedding_it() -> None:
    from assistant.embeddings import embed_array

    note = "To free disk space, run sudo apt clean and remove old kernels."
    answers = ["Free disk space with sudo apt clean.", "Bake the cake at 180 degrees."]
    [vector] = embed_array([note])

    embedded_here = answer_evidence(answers, [note, note], ["q", "q"])
    reused = answer_evidence(answers, ["not read", "not read"], ["q", "q"], None, [vector, vector])
    # No passage text is no knowledge, whatever vector comes with it.
    [nothing] = answer_evidence(answers[:1], [""], ["q"], None, [vector])

    assert embedded_here[0]["agreement"] > 0.6 > embedded_here[1]["agreement"]
    for got, expected in zip(reused, embedded_here, strict=True):
        assert got["agreement"] == pytest.approx(expected["agreement"], abs=2e-3)
    assert nothing["agreement"] == 0.0
