"""Writing the index: passages of published articles and solved cases, embedded with
all-MiniLM-L6-v2 and stored in the database. Runs in Celery tasks and commands, never in a
web request (the embedding model is not loaded there)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

from .models import Article, IndexVersion, Passage, SolvedCase
from .passages import cut

EMBED_BATCH = 64  # texts per MiniLM call: enough to keep both cores busy


def embed_texts(texts: list[str]) -> list[bytes]:
    from assistant.embeddings import embed_array

    return [row.tobytes() for row in embed_array(texts)] if texts else []


def index_article(article_id: int) -> int:
    """Passages for a published article, none for a draft or a deleted one; their count."""
    article = Article.objects.filter(pk=article_id).first()
    texts = cut(article.title, article.body) if article and article.is_published else []
    vectors = embed_texts(texts)
    with transaction.atomic():
        Passage.objects.filter(article_id=article_id).delete()
        if article is not None:
            Passage.objects.bulk_create(
                Passage(article=article, ordinal=i, text=text, embedding=vector)
                for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
            )
        IndexVersion.bump()
    return len(texts)


def index_cases(case_ids: Iterable[int]) -> int:
    """Embed the cases' questions: a new question is matched to the questions solved before."""
    cases = list(SolvedCase.objects.filter(pk__in=list(case_ids)))
    for start in range(0, len(cases), EMBED_BATCH):
        chunk = cases[start : start + EMBED_BATCH]
        for case, vector in zip(chunk, embed_texts([c.question for c in chunk]), strict=True):
            case.embedding = vector
        SolvedCase.objects.bulk_update(chunk, ["embedding"])
    if cases:
        IndexVersion.bump()
    return len(cases)


def reindex_all(progress: Callable[[float], None] | None = None) -> dict[str, int]:
    """Rebuild every passage and case vector (after a change of embedding model)."""
    article_ids = list(Article.objects.values_list("pk", flat=True))
    case_ids = list(SolvedCase.objects.values_list("pk", flat=True))
    total = max(1, len(article_ids) + len(case_ids))
    passages = 0
    for done, article_id in enumerate(article_ids, start=1):
        passages += index_article(article_id)
        if progress:
            progress(done / total)
    for start in range(0, len(case_ids), EMBED_BATCH):
        index_cases(case_ids[start : start + EMBED_BATCH])
        if progress:
            progress((len(article_ids) + start + EMBED_BATCH) / total)
    return {"articles": len(article_ids), "passages": passages, "cases": len(case_ids)}
