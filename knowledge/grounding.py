"""Grounded prompts: the best passage or solved case for a question goes into the prompt as
an earlier exchange of the conversation (a case: its question and its answer; an article:
its title asked about and the passage as the reply), and the model answers the user's
question after it. The article, if that is what it was, becomes the answer's source. Cases
inform the answer but are never named or linked.

Why an exchange and not notes to answer from: a 135M model imitates the turn before far
better than it follows an instruction about a block of text. On 160 curated validation
questions (bench/grounding.py's setup, 1 Dec 2026, one run each) the answers were good
(MiniLM >= 0.6 to the reference) 40.6% of the time with the best hit as an exchange
(prompt 155 tokens), against 30.6% with no knowledge (48 tokens) and 29-32% with 60-240
words of notes and an instruction (166-367 tokens): notes often got a reply about "the
information provided above" instead of an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .search import Hit, search_vectors

HITS_PER_QUESTION = 3  # looked at: the best and the margin to the next are gate features
HITS_IN_PROMPT = 1  # put in the prompt: the best one (see the module's measurements)
# MiniLM cosine under which a passage is about something else: measured on seed questions,
# unrelated IT passages score 0.1-0.35 and a passage on the same task 0.5 and up. (Grounding
# only from 0.5 or 0.6 up did no better on the validation questions: 38-40% good.)
MIN_SIMILARITY = 0.4
# Words of the exchange's reply at most: a solved case's answer is mostly well under it,
# a long one is cut after its last whole sentence that fits.
NOTES_WORDS = 200


@dataclass
class Grounding:
    notes: list[Hit] = field(default_factory=list)
    best: float = 0.0  # similarity of the best hit, kept or not: a feature for the gate
    margin: float = 0.0  # best minus second best
    best_text: str = ""
    # The question's MiniLM vector, kept for the gate's relevance feature (not embedded
    # twice); None for a grounding that never looked.
    question_vector: Any = field(default=None, compare=False, repr=False)

    # The best hit's vector where the index holds it (an article passage), else None.
    best_vector: Any = field(default=None, compare=False, repr=False)

    @property
    def in_prompt(self) -> list[Hit]:
        return self.notes[:HITS_IN_PROMPT]

    @property
    def sources(self) -> list[dict[str, Any]]:
        """The articles the prompt's knowledge came from, once each, in rank order."""
        seen: dict[int | None, dict[str, Any]] = {}
        for hit in self.in_prompt:
            if hit.kind == "article" and hit.article_id not in seen:
                seen[hit.article_id] = {"title": hit.title, "slug": hit.slug}
        return list(seen.values())

    def features(self) -> dict[str, Any]:
        return {
            "best_similarity": round(self.best, 4),
            "margin": round(self.margin, 4),
            "notes": [
                {"kind": h.kind, "id": h.ref_id, "score": round(h.score, 4)} for h in self.notes
            ],
        }


def ground(questions: list[str]) -> list[Grounding]:
    from assistant.embeddings import embed_array

    if not questions:
        return []
    vectors = embed_array(questions)
    found = search_vectors(vectors, HITS_PER_QUESTION)
    return [_grounding(hits, vector) for hits, vector in zip(found, vectors, strict=True)]


def grounded_evidence(
    answers: list[str], groundings: list[Grounding], questions: list[str]
) -> list[dict[str, float]]:
    """The gate's agreement and relevance of each answer, from the vectors its grounding
    already holds: only the answers (and a best case's text) are embedded."""
    from assistant.gate import answer_evidence

    return answer_evidence(
        answers,
        [g.best_text for g in groundings],
        questions,
        [g.question_vector for g in groundings],
        [g.best_vector for g in groundings],
    )


def with_notes(conversation: list[dict[str, str]], grounding: Grounding) -> list[dict[str, str]]:
    """The conversation after the exchanges its knowledge makes (oldest first: a prompt cut
    to fit the context loses them before any of the user's turns)."""
    exchanges = [turn for hit in grounding.in_prompt for turn in _exchange(hit)]
    return [*exchanges, *conversation]


def _exchange(hit: Hit) -> list[dict[str, str]]:
    """A solved case as it was asked and answered; a passage as the reply to a question
    about its article."""
    if hit.kind == "case":
        question, reply = hit.question, hit.answer
    else:
        question, reply = f'What does the help article "{hit.title}" say?', hit.text
    return [
        {"role": "user", "content": question},
        {"role": "assistant", "content": "\n\n".join(_budgeted([reply]))},
    ]


def _grounding(hits: list[Hit], question_vector: Any = None) -> Grounding:
    if not hits:
        return Grounding(question_vector=question_vector)
    best = hits[0].score
    second = hits[1].score if len(hits) > 1 else 0.0
    kept = [hit for hit in hits if hit.score >= MIN_SIMILARITY]
    return Grounding(
        notes=kept,
        best=best,
        margin=best - second,
        best_text=hits[0].text,
        question_vector=question_vector,
        best_vector=hits[0].vector,
    )


_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")


def _budgeted(texts: list[str], budget: int | None = None) -> list[str]:
    """The notes, best first, within `budget` words: the last one that fits in part is cut
    after its last whole sentence (a half sentence reads as a wrong instruction); only a
    first note with no sentence short enough is cut mid-sentence."""
    room = NOTES_WORDS if budget is None else budget
    kept: list[str] = []
    for text in texts:
        words = len(text.split())
        if words <= room:
            kept.append(text)
            room -= words
            continue
        head = _whole_sentences(text, room)
        if head:
            kept.append(head)
        elif not kept:
            kept.append(" ".join(text.split()[:room]))
        break
    return kept


def _whole_sentences(text: str, words: int) -> str:
    """The longest run of `text`'s first sentences within `words` words ("" if none)."""
    kept: list[str] = []
    used = 0
    for sentence in _SENTENCE_END.split(text.strip()):
        length = len(sentence.split())
        if used + length > words:
            break
        kept.append(sentence)
        used += length
    return " ".join(kept)
