"""Knowledge search at scale: 100,000 and 1,000,000 passage vectors, exact and through the
IVF index that the search switches to past knowledge.search.EXACT_LIMIT rows.

Clustered unit vectors of MiniLM's 384 dimensions stand in for passages (topics with
passages around them, as real embeddings are; uniform random vectors would be the worst
case for an IVF index and nothing like text), and queries lie near some passage. Queries are
timed one at a time, as a worker answers; recall@k is the share of the exact top k found:

    python bench/retrieval.py                       # 100k and 1M rows, 200 queries each
    python bench/retrieval.py --sizes 100000 --queries 500

Prints p50/p95 per size and the matrix's memory, then
`RESULT retrieval_p95_ms_100k=... retrieval_p95_ms_1m=... matrix_mb_1m=...`.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIMENSIONS = 384


TOPIC_ROWS = 50  # passages per topic
SPREAD = 0.6  # how far a passage lies from its topic (cosine to it about 0.85)


def _unit(rows):
    import numpy as np

    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _clustered(rng, rows: int):
    import numpy as np

    topics = _unit(rng.standard_normal((max(1, rows // TOPIC_ROWS), DIMENSIONS), dtype=np.float32))
    which = rng.integers(0, len(topics), rows)
    noise = rng.standard_normal((rows, DIMENSIONS), dtype=np.float32) * (SPREAD / DIMENSIONS**0.5)
    return _unit(topics[which] + noise).astype(np.float32)


def _matrix(rows: int, seed: int):
    import numpy as np

    from knowledge.search import ARTICLE, _Matrix

    rng = np.random.default_rng(seed)
    vectors = _clustered(rng, rows)
    kinds = np.full(rows, ARTICLE, dtype=np.int8)
    return _Matrix(version=1, vectors=vectors, kinds=kinds, ids=np.arange(rows, dtype=np.int64))


def _queries(matrix, count: int):
    import numpy as np

    rng = np.random.default_rng(7)
    near = matrix.vectors[rng.integers(0, len(matrix.ids), count)]
    noise = rng.standard_normal(near.shape, dtype=np.float32) * (SPREAD / DIMENSIONS**0.5)
    return _unit(near + noise).astype(np.float32)


def _time_queries(matrix, queries, k: int) -> tuple[list[float], list[set[int]]]:
    from knowledge.search import rank

    timings, found = [], []
    for query in queries:
        started = time.perf_counter()
        [hits] = rank(query[None, :], k, matrix)
        timings.append((time.perf_counter() - started) * 1000)
        found.append({hit.pk for hit in hits})
    return timings, found


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=3, help="hits per query, as the worker asks")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    import faiss

    from knowledge.search import _Matrix, with_index

    faiss.omp_set_num_threads(1)  # one core per worker, as in production on this machine
    figures = {}
    for rows in args.sizes:
        exact = _matrix(rows, seed=rows)
        queries = _queries(exact, args.queries)
        _time_queries(exact, queries[:5], args.k)  # warm the caches
        exact_ms, truth = _time_queries(exact, queries, args.k)
        started = time.perf_counter()
        indexed = with_index(_Matrix(exact.version, exact.vectors, exact.kinds, exact.ids), 0)
        build_s = time.perf_counter() - started
        _time_queries(indexed, queries[:5], args.k)
        ivf_ms, found = _time_queries(indexed, queries, args.k)
        recall = statistics.mean(len(f & t) / len(t) for f, t in zip(found, truth, strict=True))
        megabytes = exact.vectors.nbytes / 2**20
        label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"
        figures[label] = (_p95(ivf_ms), _p95(exact_ms), recall, megabytes)
        print(
            f"{rows:>9,} passages ({megabytes:,.0f} MB): exact p50 {statistics.median(exact_ms):.2f}"
            f" p95 {_p95(exact_ms):.2f} ms; IVF p50 {statistics.median(ivf_ms):.2f} p95"
            f" {_p95(ivf_ms):.2f} ms, recall@{args.k} {recall:.3f}, built in {build_s:.1f} s"
        )
        del exact, indexed
    result = " ".join(
        f"retrieval_p95_ms_{label}={p95:.2f} exact_p95_ms_{label}={exact:.2f} "
        f"recall_{label}={recall:.3f} matrix_mb_{label}={mb:.0f}"
        for label, (p95, exact, recall, mb) in figures.items()
    )
    print(f"RESULT {result}")


if __name__ == "__main__":
    main()
