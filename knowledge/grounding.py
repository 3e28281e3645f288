"""Grounded prompts: the best passages and solved cases for a question go into the user's
turn as notes the model is told to answer from, within a word budget; the articles among
them become the answer's sources. Cases inform the answer but are never named or linked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .search import Hit, search

HITS_PER_QUESTION = 3
# MiniLM cosine under which a passage is about something else: measured on seed questions,
# unrelated IT passages score 0.1-0.35 and a passage on the same task 0.5 and up.
MIN_SIMILARITY = 0.4
NOTES_WORDS = 240  # about 320 tokens: with the question and the answer it fits 1k context


@dataclass
class Grounding:
    notes: list[Hit] = field(default_factory=list)
    best: float = 0.0  # similarity of the best hit, kept or not: a feature for the gate
    margin: float = 0.0  # best minus second best
    best_text: str = ""

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
    return [_grounding(hits) for hits in search(questions, HITS_PER_QUESTION)]


def with_notes(conversation: list[dict[str, str]], grounding: Grounding) -> list[dict[str, str]]:
    """The conversation with its last user turn carrying the notes, question last (a prompt
    cut to fit the context loses notes from the left, never the question)."""
    if not grounding.notes:
        return conversation
    *earlier, question = conversation
    notes = "\n\n".join(_budgeted([hit.text for hit in grounding.notes]))
    content = (
        "Notes from the helpdesk's knowledge base:\n"
        f"{notes}\n\n"
        "Answer the question below from these notes, briefly and with the exact commands. "
        "If the notes do not cover it, say what you know and suggest asking support.\n\n"
        f"Question: {question['content']}"
    )
    return [*earlier, {"role": "user", "content": content}]


def _grounding(hits: list[Hit]) -> Grounding:
    if not hits:
        return Grounding()
    best = hits[0].score
    second = hits[1].score if len(hits) > 1 else 0.0
    kept = [hit for hit in hits if hit.score >= MIN_SIMILARITY]
    return Grounding(notes=kept, best=best, margin=best - second, best_text=hits[0].text)


def _budgeted(texts: list[str]) -> list[str]:
    kept: list[str] = []
    used = 0
    for text in texts:
        words = text.split()
        if used + len(words) > NOTES_WORDS:
            if not kept:
                kept.append(" ".join(words[:NOTES_WORDS]))
            break
        kept.append(text)
        used += len(words)
    return kept
