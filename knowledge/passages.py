"""Cutting an article into passages: a few sentences each, under its title, so one passage
answers one step of a question and fits a small model's prompt beside others."""

import re

# Words per passage: about 120 tokens, so three fit a 512-token notes budget with the question.
PASSAGE_WORDS = 90
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def cut(title: str, body: str, words: int = PASSAGE_WORDS) -> list[str]:
    """Passages of the body's paragraphs, packed up to `words`, each led by the title (the
    question it answers is usually in the title, not in step 3)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    passages: list[str] = []
    current: list[str] = []
    for paragraph in paragraphs:
        if current and _count(current) + len(paragraph.split()) > words:
            passages.append(_join(title, current))
            current = []
        current.append(paragraph)
    if current:
        passages.append(_join(title, current))
    return passages


def _count(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def _join(title: str, paragraphs: list[str]) -> str:
    return f"{title}\n" + "\n".join(paragraphs)
