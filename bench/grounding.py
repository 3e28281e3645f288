"""Grounded answers against plain ones, and how well the trained gate tells them right from wrong.

The curated train split of the seed data (../shared/data/) becomes solved cases and the
starter knowledge base the articles; the real SmolLM2 answers the curated test split twice,
grounded and plain, in batches as the worker does. An answer is good when its MiniLM cosine
to the teacher's reference reaches training.pipeline.evaluation.DEFAULT_GOOD_BAR.

The gate is the product's: `training.pipeline.gate.fit_gate` on the curated validation
split answered the production way (`label_dataset`), minus every validation question that
is a near-duplicate (MiniLM >= 0.9) of a test question, so no test row or its twin is
fitted on. Its threshold is the one the fit proves (95% lower bound on the accuracy of what
it passes >= 80%, on the fit's own held-out part); the test rows then measure the gate's
AUROC and the coverage and accuracy at that threshold.

Grounding overhead: the time grounded batches take (retrieval, prompt building and
generate()) over plain batches of the same questions, each batch answered both ways side by
side; in wall-clock time and in this process's CPU time (fairer when others share the cores).

    python bench/grounding.py                      # 120 test rows, every validation row
    python bench/grounding.py --limit 40 --fit-rows 80
    python bench/grounding.py --test my_questions.jsonl --limit 200

Ends with `RESULT gate_auroc=... coverage_at_80=... accuracy_at_threshold=...
good_rate_grounded=... good_rate_plain=... retrieval_p95_ms=... retrieval_p95_ms_1m=...
grounding_overhead_pct=... cpu_grounding_overhead_pct=...` (retrieval_p95_ms: at 100k passages,
the target's size).
"""

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict
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
    parser.add_argument(
        "--fit-rows", type=int, default=0, help="validation rows the gate is fitted on (0: all)"
    )
    parser.add_argument(
        "--curate-rows", type=int, default=0, help="seed rows curated (0: all of them)"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--retrieval-rows",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="index sizes whose search p95 is measured (synthetic vectors, as bench/retrieval.py)",
    )
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


def _splits(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    from training.pipeline.curation import curate_to_dir

    out = BENCH_DIR / f"curated-{args.curate_rows}"  # other --curate-rows, other splits
    if not (out / "train.jsonl").exists():
        curate_to_dir(out, seed_csv=args.seed_csv, limit=args.curate_rows)
    test = Path(args.test) if args.test else out / "test.jsonl"
    return out / "train.jsonl", out / "validation.jsonl", test


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


def _answer_both(questions: list[str]) -> dict[str, dict]:
    """Every batch answered plain and grounded, side by side (which goes first alternates, so
    the shared machine's moods fall on both), as the worker makes them: the answers, and the
    seconds of the whole (retrieval, prompts, generate()) and of its parts, wall and CPU."""
    from knowledge.grounding import Grounding, ground

    runs = {
        name: {"generations": [], "groundings": [], "seconds": dict.fromkeys(CLOCKS, 0.0)}
        for name in ("plain", "grounded")
    }
    for number, start in enumerate(range(0, len(questions), BATCH)):
        batch = questions[start : start + BATCH]
        order = ["plain", "grounded"] if number % 2 == 0 else ["grounded", "plain"]
        for name in order:
            finder = ground if name == "grounded" else lambda b: [Grounding() for _ in b]
            _answer_batch(batch, finder, runs[name])
    return runs


CLOCKS = ("total", "cpu", "retrieval", "prefill")


def _answer_batch(batch: list[str], finder, run: dict) -> None:
    from assistant.models import ModelVersion
    from assistant.registry import get_engine, spec_for
    from knowledge.grounding import with_notes

    spec, engine = spec_for(ModelVersion.default()), get_engine()
    conversations = [[{"role": "user", "content": q}] for q in batch]
    started, started_cpu = time.perf_counter(), time.process_time()
    found = finder(batch)
    retrieved = time.perf_counter()
    prompts = [with_notes(c, g) for c, g in zip(conversations, found, strict=True)]
    answers = engine.generate(spec, prompts)
    seconds = run["seconds"]
    seconds["total"] += time.perf_counter() - started
    seconds["cpu"] += time.process_time() - started_cpu
    seconds["retrieval"] += retrieved - started
    seconds["prefill"] += answers[0].timings.get("prefill_s", 0.0)
    run["generations"] += answers
    run["groundings"] += found


def _write_rows(questions: list[str], runs: dict[str, dict], references: list[str]) -> None:
    """Every test row's answers, both ways, with their similarity to the reference and the
    grounding's evidence: var/bench/grounding/rows.jsonl, to see where grounding helps."""
    from assistant.embeddings import pairwise_cosine

    similarity = {
        name: pairwise_cosine([g.text for g in run["generations"]], references)
        for name, run in runs.items()
    }
    with (BENCH_DIR / "rows.jsonl").open("w", encoding="utf-8") as out:
        for i, question in enumerate(questions):
            grounding = runs["grounded"]["groundings"][i]
            row = {"question": question, **grounding.features()}
            for name, run in runs.items():
                generation = run["generations"][i]
                row[name] = {
                    "text": generation.text,
                    "similarity": round(similarity[name][i], 4),
                    "prompt_tokens": generation.prompt_tokens,
                    "answer_tokens": generation.token_count,
                }
            out.write(json.dumps(row) + "\n")


def _feature_rows(questions: list[str], generations: list, groundings: list) -> list[list[float]]:
    """Each answer's gate features, computed as the answer job computes them."""
    from assistant.gate import feature_row, feature_values
    from knowledge.grounding import grounded_evidence

    evidence = grounded_evidence([g.text for g in generations], groundings, questions)
    return [
        feature_row(
            feature_values(
                retrieval={**grounding.features(), **found},
                scores=generation.scores,
                token_count=generation.token_count,
                text=generation.text,
            )
        )
        for generation, grounding, found in zip(generations, groundings, evidence, strict=True)
    ]


def _fit_split(validation: Path, test_questions: list[str], limit: int) -> tuple[Path, int]:
    """The validation rows the gate may be fitted on: none whose question is a
    near-duplicate of a test question. Returns the file and how many were left out."""
    from assistant.embeddings import embed_array

    lines = [line for line in validation.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [
        next(m["content"] for m in json.loads(line)["messages"] if m["role"] == "user")
        for line in lines
    ]
    nearest = (embed_array(questions) @ embed_array(test_questions).T).max(axis=1)
    kept = [
        line for line, similarity in zip(lines, nearest, strict=True) if similarity < NEAR_DUPLICATE
    ]
    kept = kept[:limit] if limit else kept
    path = BENCH_DIR / "gate_fit.jsonl"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path, int((nearest >= NEAR_DUPLICATE).sum())


def _fitted_gate(fit_path: Path):
    from assistant.models import ModelVersion
    from training.pipeline.gate import GateFitConfig, fit_gate, label_dataset

    examples = label_dataset(ModelVersion.default(), fit_path)
    # Kept for a look at other fits (var/bench/grounding/gate_examples.json); never read back.
    (BENCH_DIR / "gate_examples.json").write_text(
        json.dumps([asdict(e) for e in examples]), encoding="utf-8"
    )
    fitted = fit_gate(examples, GateFitConfig(target_accuracy=TARGET_ACCURACY))
    return fitted.gate


def _coverage_at(probabilities, good) -> float:
    """The largest share of answers that can be let through at >= TARGET_ACCURACY, with the
    threshold read off these very rows: the best any threshold could do, for comparison."""
    order = sorted(range(len(good)), key=lambda i: -probabilities[i])
    best, right = 0.0, 0
    for shown, i in enumerate(order, start=1):
        right += int(good[i])
        if right / shown >= TARGET_ACCURACY:
            best = shown / len(good)
    return best


def _retrieval_p95_ms(rows: int) -> float:
    """p95 of one question's search at `rows` passages, through what the search uses there
    (past EXACT_LIMIT the IVF index: at 1M it builds in about 2.5 minutes)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import retrieval

    from knowledge.search import _Matrix, with_index

    matrix = retrieval._matrix(rows, seed=rows)
    indexed = with_index(_Matrix(matrix.version, matrix.vectors, matrix.kinds, matrix.ids))
    timings, _ = retrieval._time_queries(indexed, retrieval._queries(indexed, 200), 3)
    return statistics.quantiles(timings, n=20)[-1]


def main() -> None:
    args = _args()
    _setup_django()
    import torch

    torch.set_num_threads(args.threads)
    from django.conf import settings

    from assistant.embeddings import pairwise_cosine
    from assistant.gate import FEATURES
    from assistant.management.commands.prepare_models import register_shipped_model
    from assistant.prepare import ensure_smollm2
    from training.pipeline.evaluation import DEFAULT_GOOD_BAR

    register_shipped_model(ensure_smollm2(settings.MODELS_DIR))
    train, validation, test = _splits(args)
    _load_knowledge(train, args.cases)
    rows = _rows(test, args.limit)
    questions, references = [q for q, _ in rows], [r for _, r in rows]
    print(f"answering {len(rows)} test rows, plain and grounded, batches of {BATCH}")
    runs = _answer_both(questions)
    plain, plain_s = runs["plain"]["generations"], runs["plain"]["seconds"]
    grounded, groundings = runs["grounded"]["generations"], runs["grounded"]["groundings"]
    grounded_s = runs["grounded"]["seconds"]
    good_plain = [
        s >= DEFAULT_GOOD_BAR for s in pairwise_cosine([g.text for g in plain], references)
    ]
    good = [s >= DEFAULT_GOOD_BAR for s in pairwise_cosine([g.text for g in grounded], references)]
    features = _feature_rows(questions, grounded, groundings)
    _write_rows(questions, runs, references)

    fit_path, dropped = _fit_split(validation, questions, args.fit_rows)
    print(
        f"fitting the gate on {fit_path.name} ({dropped} validation rows left out as "
        "near-duplicates of test questions), answered the production way"
    )
    gate = _fitted_gate(fit_path)
    probabilities = gate.probabilities(features)
    auroc = _single_feature_auroc(probabilities, good)
    passed = [gate.passes(p) for p in probabilities]
    coverage = statistics.mean(passed)
    accuracy = (
        statistics.mean(g for g, p in zip(good, passed, strict=True) if p) if any(passed) else 0.0
    )
    alone = {
        name: _single_feature_auroc([row[FEATURES.index(name)] for row in features], good)
        for name in ("best_similarity", "agreement", "relevance")
    }
    fit = gate.metrics
    overhead = 100 * (grounded_s["total"] - plain_s["total"]) / plain_s["total"]
    cpu_overhead = 100 * (grounded_s["cpu"] - plain_s["cpu"]) / plain_s["cpu"]
    p95 = {rows: _retrieval_p95_ms(rows) for rows in args.retrieval_rows}
    print(
        f"good rate: grounded {statistics.mean(good):.1%}, plain {statistics.mean(good_plain):.1%}"
    )
    print(
        f"gate fitted on {fit['fit_examples']} answers, threshold set on {fit['held_out_examples']} "
        f"(good rate {fit['good_rate']:.1%}, held-out AUROC {fit['auroc']:.3f}): threshold "
        f"{gate.threshold if gate.threshold is None else round(gate.threshold, 3)}, "
        f"held out {fit['held_out']}"
    )
    print(
        f"test: gate AUROC {auroc:.3f} (alone: "
        + ", ".join(f"{name} {value:.3f}" for name, value in alone.items())
        + f"); at the gate's threshold coverage {coverage:.1%}, accuracy {accuracy:.1%}; "
        f"the best threshold read off the test rows would cover "
        f"{_coverage_at(probabilities, good):.1%} at {TARGET_ACCURACY:.0%}"
    )
    print(
        f"time: grounded {grounded_s['total']:.1f} s (retrieval {grounded_s['retrieval']:.2f} s, "
        f"prefill {grounded_s['prefill']:.1f} s), plain {plain_s['total']:.1f} s "
        f"(prefill {plain_s['prefill']:.1f} s): {overhead:+.1f}% (CPU time {cpu_overhead:+.1f}%); "
        "prompt tokens "
        f"{statistics.mean(g.prompt_tokens for g in grounded):.0f} grounded, "
        f"{statistics.mean(g.prompt_tokens for g in plain):.0f} plain; answer tokens "
        f"{statistics.mean(g.token_count for g in grounded):.0f} grounded, "
        f"{statistics.mean(g.token_count for g in plain):.0f} plain; "
        "retrieval p95 "
        + ", ".join(f"at {rows:,} passages {ms:.2f} ms" for rows, ms in p95.items())
    )
    print(
        f"RESULT gate_auroc={auroc:.3f} coverage_at_80={coverage:.3f} "
        f"accuracy_at_threshold={accuracy:.3f} "
        f"good_rate_grounded={statistics.mean(good):.3f} good_rate_plain={statistics.mean(good_plain):.3f} "
        + "".join(f"{_retrieval_key(rows)}={ms:.2f} " for rows, ms in p95.items())
        + f"grounding_overhead_pct={overhead:.1f} cpu_grounding_overhead_pct={cpu_overhead:.1f}"
    )


def _retrieval_key(rows: int) -> str:
    """retrieval_p95_ms for the target's 100k passages, retrieval_p95_ms_<size> for others."""
    if rows == 100_000:
        return "retrieval_p95_ms"
    return (
        f"retrieval_p95_ms_{rows // 1_000_000}m"
        if rows % 1_000_000 == 0
        else f"retrieval_p95_ms_{rows}"
    )


def _single_feature_auroc(values: list[float], good: list[bool]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(good, values)) if len(set(good)) == 2 else float("nan")


if __name__ == "__main__":
    main()
