"""Exact nearest-neighbour search over the knowledge, in memory in each worker process.

The matrix of every passage and case vector is loaded once and reloaded when the index
version changes (an article published, a correction approved), so the next question is
answered from it without a restart. Only ids and vectors are held; the texts of the few
hits are read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .models import IndexVersion, Passage, SolvedCase

DIMENSIONS = 384  # all-MiniLM-L6-v2
ARTICLE, CASE = 0, 1
# Exact search reads every vector for each query: about 150 MB at 100k passages, 30-70 ms on
# two shared cores (bench/retrieval.py), over the 20 ms a question may spend here. Past this
# many rows an IVF index (FAISS, inner product) scans only the nearest lists instead.
EXACT_LIMIT = 20_000
IVF_PROBES = 24  # lists scanned per query (of 4 * sqrt(rows)): see bench/retrieval.py
IVF_TRAIN_ROWS_PER_LIST = 39  # k-means sample: what FAISS asks for (it warns below), no more
IVF_TRAIN_ITERATIONS = 10


@dataclass(frozen=True)
class Hit:
    kind: str  # "article" or "case"
    ref_id: int  # the passage's or the case's id
    score: float  # cosine similarity of the question to the passage or case question
    text: str
    article_id: int | None = None
    title: str = ""
    slug: str = ""
    # A case's own question and answer (`text` holds both, for the gate's agreement).
    question: str = ""
    answer: str = ""
    # An article hit's passage vector from the index: exactly the embedding of `text`, so the
    # gate's agreement reads it instead of embedding the passage again. None for a case (its
    # vector is its question's, and agreement compares against question and answer).
    vector: Any = field(default=None, compare=False, repr=False)


class Ranked(NamedTuple):
    kind: int  # ARTICLE or CASE
    pk: int
    score: float
    row: int  # the row of the matrix: its vector is `matrix.vectors[row]`


@dataclass
class _Matrix:
    version: int
    vectors: Any  # float32 (n, 384), unit rows
    kinds: Any  # int8 (n,): ARTICLE or CASE
    ids: Any  # int64 (n,)
    index: Any = None  # a FAISS IVF index over `vectors` past EXACT_LIMIT rows, else None


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
    matrix = matrix or current_matrix()
    return _with_texts(rank(query_vectors, k, matrix), matrix)


def rank(query_vectors: Any, k: int, matrix: _Matrix) -> list[list[Ranked]]:
    """The `k` best rows for each query: one matrix product, then a
    partial sort of each row (argpartition: no full sort of a million scores)."""
    import numpy as np

    k = min(k, len(matrix.ids))
    if k == 0:
        return [[] for _ in query_vectors]
    if matrix.index is not None:
        scores, rows = matrix.index.search(np.ascontiguousarray(query_vectors), k)
        # FAISS pads a short result with -1.
        return [
            [
                _ranked(matrix, int(j), float(score))
                for j, score in zip(found, found_scores, strict=True)
                if j >= 0
            ]
            for found, found_scores in zip(rows, scores, strict=True)
        ]
    scores = query_vectors @ matrix.vectors.T
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    ranked = [row[np.argsort(-scores[i, row])] for i, row in enumerate(best)]
    return [
        [_ranked(matrix, int(j), float(scores[i, j])) for j in row] for i, row in enumerate(ranked)
    ]


def _ranked(matrix: _Matrix, row: int, score: float) -> Ranked:
    return Ranked(int(matrix.kinds[row]), int(matrix.ids[row]), score, row)


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
    # Cases without an embedding are excluded above; the test says so to the type checker.
    rows += [(CASE, pk, v) for pk, v in cases.iterator(chunk_size=2000) if v is not None]
    vectors = np.empty((len(rows), DIMENSIONS), dtype=np.float32)
    for i, (_, _, vector) in enumerate(rows):
        vectors[i] = np.frombuffer(vector, dtype=np.float32)
    kinds = np.array([kind for kind, _, _ in rows], dtype=np.int8)
    ids = np.array([pk for _, pk, _ in rows], dtype=np.int64)
    return with_index(_Matrix(version=version, vectors=vectors, kinds=kinds, ids=ids))


def with_index(matrix: _Matrix, exact_limit: int = EXACT_LIMIT) -> _Matrix:
    """The matrix with an IVF index when it is too large to scan for every question."""
    if len(matrix.ids) <= exact_limit:
        return matrix
    import faiss
    import numpy as np

    rows = len(matrix.ids)
    lists = max(1, int(4 * rows**0.5))
    index = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(DIMENSIONS), DIMENSIONS, lists, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.niter = IVF_TRAIN_ITERATIONS
    sample = np.random.default_rng(0).choice(
        rows, min(rows, lists * IVF_TRAIN_ROWS_PER_LIST), replace=False
    )
    index.train(matrix.vectors[np.sort(sample)])
    index.add(matrix.vectors)
    index.nprobe = IVF_PROBES
    matrix.index = index
    return matrix


def _with_texts(found: list[list[Ranked]], matrix: _Matrix) -> list[list[Hit]]:
    """Two queries for the texts of every hit of the batch."""
    passage_ids = {hit.pk for row in found for hit in row if hit.kind == ARTICLE}
    case_ids = {hit.pk for row in found for hit in row if hit.kind == CASE}
    passages = {
        p.pk: p for p in Passage.objects.filter(pk__in=passage_ids).select_related("article")
    }
    cases = {c.pk: c for c in SolvedCase.objects.filter(pk__in=case_ids)}
    hits = []
    for row in found:
        kept = []
        for kind, pk, score, j in row:
            if kind == ARTICLE and pk in passages:
                passage = passages[pk]
                article = passage.article
                kept.append(
                    Hit(
                        "article",
                        pk,
                        score,
                        passage.text,
                        article.pk,
                        article.title,
                        article.slug,
                        vector=matrix.vectors[j],
                    )
                )
            elif kind == CASE and pk in cases:
                case = cases[pk]
                text = f"Q: {case.question}\nA: {case.answer}"
                kept.append(
                    Hit("case", pk, score, text, question=case.question, answer=case.answer)
                )
        hits.append(kept)
    return hits
