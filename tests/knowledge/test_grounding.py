"""Grounded prompts and answers: notes in the question's turn, sources on the answer."""

import pytest

from knowledge.grounding import Grounding, _budgeted, ground, grounded_evidence, with_notes
from knowledge.search import Hit
from tests.factories import ModelVersionFactory, UserFactory
from tickets import answering, lifecycle
from tickets.models import AnswerRequest, Message, Role

from .helpers import case, published

pytestmark = pytest.mark.django_db


def test_the_best_case_goes_before_the_conversation_as_its_own_exchange() -> None:
    case_hit = Hit("case", 7, 0.8, "Q: deb?\nA: apt it.", question="deb?", answer="Run apt.")
    second = Hit("article", 1, 0.7, "Install a .deb\nRun `sudo apt install ./x.deb`.", 1, "T", "t")
    conversation = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "how do I install a deb?"},
    ]

    grounded = with_notes(conversation, Grounding(notes=[case_hit, second]))

    assert grounded == [
        {"role": "user", "content": "deb?"},
        {"role": "assistant", "content": "Run apt."},
        *conversation,  # the user's turns untouched, the question last
    ]


def test_a_passage_is_the_reply_to_a_question_about_its_article() -> None:
    hit = Hit("article", 1, 0.8, "Run `sudo apt install ./x.deb`.", 1, "Install a .deb", "deb")
    question = [{"role": "user", "content": "how do I install a deb?"}]

    grounded = with_notes(question, Grounding(notes=[hit]))

    assert grounded[0] == {
        "role": "user",
        "content": 'What does the help article "Install a .deb" say?',
    }
    assert grounded[1] == {"role": "assistant", "content": "Run `sudo apt install ./x.deb`."}
    assert grounded[2:] == question
    assert Grounding(notes=[hit]).sources == [{"title": "Install a .deb", "slug": "deb"}]


def test_only_the_article_in_the_prompt_is_a_source() -> None:
    first = Hit("case", 7, 0.8, "Q: a\nA: b", question="a", answer="b")
    second = Hit("article", 1, 0.7, "Run it.", 1, "T", "t")

    assert Grounding(notes=[first, second]).sources == []  # a case is never a source


def test_a_long_reply_is_cut_to_the_budget_after_a_whole_sentence(monkeypatch) -> None:
    from knowledge import grounding

    monkeypatch.setattr(grounding, "NOTES_WORDS", 6)
    hit = Hit("case", 7, 0.8, "", question="q", answer="Do this first. Then do that, and more.")

    [_, reply, _] = with_notes([{"role": "user", "content": "q?"}], Grounding(notes=[hit]))

    assert reply["content"] == "Do this first."


def test_without_notes_the_conversation_is_unchanged() -> None:
    conversation = [{"role": "user", "content": "what is the meaning of life"}]
    assert with_notes(conversation, Grounding()) == conversation


def test_notes_past_the_budget_are_cut_after_their_last_whole_sentence() -> None:
    best = "Install it. Run `sudo apt install ./x.deb` in the folder."  # 10 words
    second = "Check it first. Then run dpkg -i on the file and fix what it lacks."  # 15 words

    assert _budgeted([best, second], budget=30) == [best, second]
    assert _budgeted([best, second], budget=16) == [best, "Check it first."]
    assert _budgeted([best, second], budget=12) == [best]  # no whole sentence of 2 fits
    # Only a first note with no sentence short enough is cut mid-sentence.
    assert _budgeted([second], budget=2) == ["Check it"]


def test_the_question_vector_is_kept_for_the_gates_relevance() -> None:
    published("See which process uses a port", "Run `sudo ss -ltnp | grep :8080`.", slug="port")

    [found] = ground(["what is using port 8080"])

    assert found.question_vector is not None and found.question_vector.shape == (384,)
    assert "question_vector" not in found.features()  # not stored with the answer


def test_grounded_evidence_embeds_only_the_answer_for_an_article_and_agrees_with_embedding_all(
    monkeypatch,
) -> None:
    from assistant import embeddings
    from assistant.gate import answer_evidence

    published("See which process uses a port", "Run `sudo ss -ltnp | grep :8080`.", slug="port")
    question, answer = "what is using port 8080", "Run sudo ss -ltnp and look for :8080."
    [found] = ground([question])
    embedded: list[str] = []
    real = embeddings.embed_array
    monkeypatch.setattr(
        embeddings, "embed_array", lambda texts, *a: embedded.extend(texts) or real(texts, *a)
    )

    [reused] = grounded_evidence([answer], [found], [question])
    assert embedded == [answer] and found.best_vector is not None
    [from_texts] = answer_evidence([answer], [found.best_text], [question])
    assert reused == pytest.approx(from_texts, abs=2e-3)


def test_only_relevant_hits_become_notes_and_only_articles_become_sources() -> None:
    published("See which process uses a port", "Run `sudo ss -ltnp | grep :8080`.", slug="port")
    case("which app holds port 3000", "Run `sudo lsof -i :3000`.")

    [near], [far] = ground(["what is using port 8080"]), ground(["bake a chocolate cake"])

    assert near.notes and near.best >= near.notes[-1].score
    assert near.sources == [{"title": "See which process uses a port", "slug": "port"}]
    assert far.notes == [] and far.sources == []
    assert far.features()["best_similarity"] < near.features()["best_similarity"]


def test_an_answer_is_stored_with_its_sources_and_retrieval(settings) -> None:
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.ASSISTANT_ENABLED = True
    published(
        "Install a .deb file from the terminal", "Run `sudo apt install ./file.deb`.", slug="deb"
    )
    version = ModelVersionFactory(gate_threshold=0.0)
    version.make_default()
    ticket = lifecycle.open_ticket(
        UserFactory(), "How can I install a .deb file from the terminal?"
    )
    request = AnswerRequest.objects.get(ticket=ticket)

    answering.answer_request(request.pk, worker_id="test:1")

    answer = Message.objects.get(ticket=ticket, role=Role.ASSISTANT)
    assert answer.sources == [{"title": "Install a .deb file from the terminal", "slug": "deb"}]
    assert answer.retrieval["best_similarity"] > 0.5
    assert answer.retrieval["notes"][0]["kind"] == "article"
