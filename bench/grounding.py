"""Grounded answers against plain ones, and how well a trained gate tells them right from wrong.

The curated train split of the seed data (../shared/data/) becomes solved cases and the
starter knowledge base the articles; the real SmolLM2 answers the curated test split twice,
grounded and plain, in batches as the worker does. An answer is good when its MiniLM cosine
to the teacher's reference reaches training.pipeline.evaluation.DEFAULT_GOOD_BAR. The gate
is a logistic regression on the answer's features (retrieval, agreement with the best note,
token scores, length), scored by cross-validation with near-duplicate questions kept on one
side of each split; its threshold is the lowest whose accuracy reaches 80% on held-out rows.

    python bench/grounding.py                      # 120 test rows, 4,000 cases
    python bench/grounding.py --limit 40 --cases 1000
    python bench/grounding.py --test my_questions.jsonl --limit 200

Ends with `RESULT gate_auroc=... coverage_at_80=... good_rate_grounded=... good_rate_plain=...
retrieval_p95_ms=... grounding_overhead_pct=...`.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BENCH_DIR = ROOT / "var" / "bench" / "grounding"
DB_FILE = BENCH_DIR / "grounding.sqlite3"
BATCH = 8  # answers per generate(), as ANSWER_BATCH_SIZE
TARGET_ACCURACY = 0.8
NEAR_DUPLICATE = 0.9  # question cosine at which two rows count as one question


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed-csv", default=str(SHARED / "seed" / "distilled_ubuntu_mistral7b.csv")
    )
    parser.add_argument("--test", help="chat JSONL of questions and reference answers")
    parser.add_argument("--limit", type=int, default=120, help="test rows answered")
    parser.add_argument("--cases", type=int, default=4000, help="train rows loaded as cases")
    parser.add_argument("--curate-rows", type=int, default=12000, help="seed rows curated")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    return parser.parse_args()


def _setup_django() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    os.environ["HELPDESK_VAR_DIR"] = str(BENCH_DIR)
    os.environ["MODELS_DIR"] = str(ROOT / "var" / "models")
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FILE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _splits(args: argparse.Namespace) -> tuple[Path, Path]:
    from training.pipeline.curation import curate_to_dir

    out = BENCH_DIR / "curated"
    if not (out / "train.jsonl").exists():
        curate_to_dir(out, seed_csv=args.seed_csv, limit=args.curate_rows)
    return out / "train.jsonl", Path(args.test) if args.test else out / "test.jsonl"


def _load_knowledge(train: Path, cases: int) -> None:
    from knowledge.importing import ImportReport, import_articles, import_cases

    report = ImportReport()
    import_articles(ROOT / "knowledge" / "starter", report)
    head = BENCH_DIR / "cases.jsonl"
    lines = [line for line in train.read_text(encoding="utf-8").splitlines() if line.strip()]
    head.write_text("\n".join(lines[:cases]) + "\n", encoding="utf-8")
    import_cases(head, report, redact=lambda text: text)
    print(f"knowledge: {report.articles} articles, {report.cases} cases")


def _rows(test: Path, limit: int) -> list[tuple[str, str]]:
    rows = []
    for line in test.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        messages = json.loads(line)["messages"]
        question = next(m["content"] for m in messages if m["role"] == "user")
        reference = next(m["content"] for m in reversed(messages) if m["role"] == "assistant")
        rows.append((question, reference))
    return rows[:limit]


def _answer(questions: list[str], grounded: bool) -> tuple[list, list, float]:
    from assistant.models import ModelVersion
    from assistant.registry import get_engine, spec_for
    from knowledge.grounding import Grounding, ground, with_notes

    spec, engine = spec_for(ModelVersion.default()), get_engine()
    generations, groundings, seconds = [], [], 0.0
    for start in range(0, len(questions), BATCH):
        batch = questions[start : start + BATCH]
        conversations = [[{"role": "user", "content": q}] for q in batch]
        started = time.perf_counter()
        found = ground(batch) if grounded else [Grounding() for _ in batch]
        prompts = [with_notes(c, g) for c, g in zip(conversations, found, strict=True)]
        generations += engine.generate(spec, prompts)
        seconds += time.perf_counter() - started
        groundings += found
    return generations, groundings, seconds


def _features(generations: list, groundings: list, agreement: list[float]) -> list[list[float]]:
    from assistant.confidence import GATE_SCORES

    rows = []
    for generation, grounding, agrees in zip(generations, groundings, agreement, strict=True):
        scores = [float(generation.scores.get(name, 0.0)) for name in GATE_SCORES]
        rows.append([grounding.best, grounding.margin, agrees, *scores, generation.token_count])
    return rows


def _gate(features: list[list[float]], good: list[bool], groups: list[int]) -> tuple[float, float]:
    """Cross-validated P(good) of every row; AUROC and coverage at the target accuracy."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = np.array(features), np.array(good, dtype=int)
    if len(set(y)) < 2:
        return float("nan"), 0.0
    probabilities = np.zeros(len(y))
    for train, held_out in GroupKFold(n_splits=5).split(x, y, groups):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        if len(set(y[train])) < 2:
            probabilities[held_out] = y[train].mean()
            continue
        calibrated = CalibratedClassifierCV(model, method="sigmoid", cv=3)
        calibrated.fit(x[train], y[train])
        probabilities[held_out] = calibrated.predict_proba(x[held_out])[:, 1]
    return float(roc_auc_score(y, probabilities)), _coverage_at(probabilities, y)


def _coverage_at(probabilities, good) -> float:
    """The largest share of answers that can be let through at >= TARGET_ACCURACY."""
    order = sorted(range(len(good)), key=lambda i: -probabilities[i])
    best, right = 0.0, 0
    for shown, i in enumerate(order, start=1):
        right += int(good[i])
        if right / shown >= TARGET_ACCURACY:
            best = shown / len(good)
    return best


def _groups(questions: list[str]) -> list[int]:
    from assistant.embeddings import embed_array

    vectors = embed_array(questions)
    groups: list[int] = []
    for i in range(len(questions)):
        similar = [groups[j] for j in range(i) if float(vectors[i] @ vectors[j]) >= NEAR_DUPLICATE]
        groups.append(similar[0] if similar else i)
    return groups


def _retrieval_p95_ms() -> float:
    sys.path.insert(0, str(ROOT / "bench"))
    import retrieval

    from knowledge.search import _Matrix, with_index

    matrix = retrieval._matrix(100_000, seed=100_000)
    indexed = with_index(_Matrix(matrix.version, matrix.vectors, matrix.kinds, matrix.ids))
    timings, _ = retrieval._time_queries(indexed, retrieval._queries(indexed, 200), 3)
    return statistics.quantiles(timings, n=20)[-1]


def main() -> None:
    args = _args()
    _setup_django()
    import torch

    torch.set_num_threads(args.threads)
    from django.conf import settings

    from assistant.embeddings import embed_array, pairwise_cosine
    from assistant.management.commands.prepare_models import register_shipped_model
    from assistant.prepare import ensure_smollm2
    from training.pipeline.evaluation import DEFAULT_GOOD_BAR

    register_shipped_model(ensure_smollm2(settings.MODELS_DIR))
    train, test = _splits(args)
    _load_knowledge(train, args.cases)
    rows = _rows(test, args.limit)
    questions, references = [q for q, _ in rows], [r for _, r in rows]
    print(f"answering {len(rows)} test rows, grounded and plain, batches of {BATCH}")
    plain, _, plain_s = _answer(questions, grounded=False)
    grounded, groundings, grounded_s = _answer(questions, grounded=True)
    good_plain = [
        s >= DEFAULT_GOOD_BAR for s in pairwise_cosine([g.text for g in plain], references)
    ]
    good = [s >= DEFAULT_GOOD_BAR for s in pairwise_cosine([g.text for g in grounded], references)]
    answers = embed_array([g.text for g in grounded])
    notes = embed_array([g.best_text or "" for g in groundings])
    agreement = [float(a @ n) for a, n in zip(answers, notes, strict=True)]
    auroc, coverage = _gate(_features(grounded, groundings, agreement), good, _groups(questions))
    retrieval_auroc = _single_feature_auroc([g.best for g in groundings], good)
    overhead = 100 * (grounded_s - plain_s) / plain_s
    p95 = _retrieval_p95_ms()
    print(
        f"good rate: grounded {statistics.mean(good):.1%}, plain {statistics.mean(good_plain):.1%}"
    )
    print(
        f"gate AUROC {auroc:.3f} (best retrieval similarity alone {retrieval_auroc:.3f}); "
        f"coverage at {TARGET_ACCURACY:.0%} accuracy {coverage:.1%}"
    )
    print(
        f"time: grounded {grounded_s:.1f} s, plain {plain_s:.1f} s ({overhead:+.1f}%); "
        f"retrieval p95 at 100k passages {p95:.2f} ms"
    )
    print(
        f"RESULT gate_auroc={auroc:.3f} coverage_at_80={coverage:.3f} "
        f"good_rate_grounded={statistics.mean(good):.3f} good_rate_plain={statistics.mean(good_plain):.3f} "
        f"retrieval_p95_ms={p95:.2f} grounding_overhead_pct={overhead:.1f}"
    )


def _single_feature_auroc(values: list[float], good: list[bool]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(good, values)) if len(set(good)) == 2 else float("nan")


if __name__ == "__main__":
    main()
