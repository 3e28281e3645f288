"""Exact nearest-neighbour search over the knowledge, in memory in each worker process.

The matrix of every passage and case vector is loaded once and reloaded when the index
version changes (an article published, a correction approved), so the next question is
answered from it without a restart. Only ids and vectors are held; the texts of the few
hits are read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import IndexVersion, Passage, SolvedCase

DIMENSIONS = 384  # all-MiniLM-L6-v2
ARTICLE, CASE = 0, 1


@dataclass(frozen=True)
class Hit:
    kind: str  # "article" or "case"
    ref_id: int  # the passage's or the case's id
    score: float  # cosine similarity of the question to the passage or case question
    text: str
    article_id: int | None = None
    title: str = ""
    slug: str = ""


@dataclass
class _Matrix:
    version: int
    vectors: Any  # float32 (n, 384), unit rows
    kinds: Any  # int8 (n,): ARTICLE or CASE
    ids: Any  # int64 (n,)


_loaded: _Matrix | None = None


def search(queries: list[str], k: int = 3) -> list[list[Hit]]:
    """The `k` best passages or cases for each query, best first."""
    from assistant.embeddings import embed_array

    if not queries:
        return []
    matrix = current_matrix()
    if len(matrix.ids) == 0:
        return [[] for _ in queries]
    return search_vectors(embed_array(queries), k, matrix)


def search_vectors(query_vectors: Any, k: int, matrix: _Matrix | None = None) -> list[list[Hit]]:
    import numpy as np

    matrix = matrix or current_matrix()
    k = min(k, len(matrix.ids))
    if k == 0:
        return [[] for _ in query_vectors]
    scores = query_vectors @ matrix.vectors.T
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    ranked = [row[np.argsort(-scores[i, row])] for i, row in enumerate(best)]
    found = [
        [(int(matrix.kinds[j]), int(matrix.ids[j]), float(scores[i, j])) for j in row]
        for i, row in enumerate(ranked)
    ]
    return _with_texts(found)


def current_matrix() -> _Matrix:
    """This process's matrix, reloaded when the index version moved on."""
    global _loaded
    version = IndexVersion.current()
    if _loaded is None or _loaded.version != version:
        _loaded = _load(version)
    return _loaded


def _load(version: int) -> _Matrix:
    import numpy as np

    passages = Passage.objects.values_list("pk", "embedding")
    cases = SolvedCase.objects.exclude(embedding=None).values_list("pk", "embedding")
    rows = [(ARTICLE, pk, vector) for pk, vector in passages.iterator(chunk_size=2000)]
    rows += [(CASE, pk, vector) for pk, vector in cases.iterator(chunk_size=2000)]
    vectors = np.empty((len(rows), DIMENSIONS), dtype=np.float32)
    for i, (_, _, vector) in enumerate(rows):
        vectors[i] = np.frombuffer(vector, dtype=np.float32)
    kinds = np.array([kind for kind, _, _ in rows], dtype=np.int8)
    ids = np.array([pk for _, pk, _ in rows], dtype=np.int64)
    return _Matrix(version=version, vectors=vectors, kinds=kinds, ids=ids)


def _with_texts(found: list[list[tuple[int, int, float]]]) -> list[list[Hit]]:
    """Two queries for the texts of every hit of the batch."""
    passage_ids = {pk for row in found for kind, pk, _ in row if kind == ARTICLE}
    case_ids = {pk for row in found for kind, pk, _ in row if kind == CASE}
    passages = {
        p.pk: p for p in Passage.objects.filter(pk__in=passage_ids).select_related("article")
    }
    cases = {c.pk: c for c in SolvedCase.objects.filter(pk__in=case_ids)}
    hits = []
    for row in found:
        kept = []
        for kind, pk, score in row:
            if kind == ARTICLE and pk in passages:
                passage = passages[pk]
                article = passage.article
                kept.append(
                    Hit("article", pk, score, passage.text, article.pk, article.title, article.slug)
                )
            elif kind == CASE and pk in cases:
                case = cases[pk]
                kept.append(Hit("case", pk, score, f"Q: {case.question}\nA: {case.answer}"))
        hits.append(kept)
    return hits
