"""Grounded prompts: the best passages and solved cases for a question go into the user's
turn as notes the model is told to answer from, within a word budget; the articles among
them become the answer's sources. Cases inform the answer but are never named or linked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .search import Hit, search_vectors

HITS_PER_QUESTION = 3
# MiniLM cosine under which a passage is about something else: measured on seed questions,
# unrelated IT passages score 0.1-0.35 and a passage on the same task 0.5 and up.
MIN_SIMILARITY = 0.4
# Words of notes per prompt, about 320 tokens. A CPU prefills about 2.4 ms a token per row,
# and a longer context slows every decoding step too. On bench/grounding.py's setup (48
# seed test rows, one run, 1 Dec 2026) grounded batches took +77% time at 240 words (good
# answers 37.5% against 25% plain), +41% at 120 (31%) and +29% at 60 (35%). 240 it is:
# it keeps the good-rate gain above 10 points, and at 60 the default version's seed gate
# (mean top-token probability >= 0.75) passed none of the covered starter questions tried
# (tests/browser/test_grounded_answers.py's 0.79 at 240 fell to 0.73).
NOTES_WORDS = 240


@dataclass
class Grounding:
    notes: list[Hit] = field(default_factory=list)
    best: float = 0.0  # similarity of the best hit, kept or not: a feature for the gate
    margin: float = 0.0  # best minus second best
    best_text: str = ""
    # The question's MiniLM vector, kept for the gate's relevance feature (not embedded
    # twice); None for a grounding that never looked.
    question_vector: Any = field(default=None, compare=False, repr=False)

    @property
    def sources(self) -> list[dict[str, Any]]:
        """The articles the notes came from, once each, in rank order."""
        seen: dict[int | None, dict[str, Any]] = {}
        for hit in self.notes:
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


def with_notes(conversation: list[dict[str, str]], grounding: Grounding) -> list[dict[str, str]]:
    """The conversation with its last user turn carrying the notes, question last (a prompt
    cut to fit the context loses notes from the left, never the question)."""
    if not grounding.notes:
        return conversation
    *earlier, question = conversation
    notes = "\n\n".join(_budgeted([hit.text for hit in grounding.notes]))
    content = (
        # The same opening in every grounded prompt: a batch whose prompts all carry notes
        # prefills it once with the system turn (assistant.prefill). The instruction stays
        # next to the question: put first, the good rate fell from 35% to 25% at 60 words
        # (48 seed test rows, one run each, 1 Dec 2026).
        "Notes from the helpdesk's knowledge base:\n"
        f"{notes}\n\n"
        "Answer the question below from these notes, briefly and with the exact commands. "
        "If the notes do not cover it, say what you know and suggest asking support.\n\n"
        f"Question: {question['content']}"
    )
    return [*earlier, {"role": "user", "content": content}]


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
