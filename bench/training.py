"""Bench: curate the seed, LoRA-tune SmolLM2 on it, compare base and tuned on one test split.

    python bench/training.py --seed-csv /work/shared/data/seed/distilled_ubuntu_mistral7b.csv

Stages are resumable: a finished curation or training (its report.json / metrics.json) is
reused, so `--stage train` can run first and the full command later evaluates it.
Ends with one line: RESULT base_test_loss=... tuned_test_loss=... gate_auroc=...
"""

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seed-csv", default=str(ROOT.parent / "shared/data/seed/distilled_ubuntu_mistral7b.csv")
    )
    parser.add_argument("--base", default=str(ROOT / "var/models/SmolLM2-135M-Instruct"))
    parser.add_argument("--work", default=str(ROOT / "var/bench/training"))
    parser.add_argument("--train-rows", type=int, default=2000, help="curated rows in the pool")
    parser.add_argument(
        "--max-steps", type=int, default=0, help="optimizer steps; 0: one pass over the rows"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--eval-every", type=int, default=25, help="steps between validations")
    parser.add_argument("--eval-rows", type=int, default=32, help="validation rows per pass")
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="torch threads (CPU only)"
    )
    parser.add_argument("--test-rows", type=int, default=100)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--good-bar", type=float, default=0.6)
    parser.add_argument("--stage", choices=["curate", "train", "all"], default="all")
    return parser.parse_args()


def curate_stage(args: argparse.Namespace, data_dir: Path) -> dict:
    from training.pipeline.curation import curate_to_dir

    if (data_dir / "report.json").exists():
        return json.loads((data_dir / "report.json").read_text())
    return curate_to_dir(data_dir, seed_csv=args.seed_csv)


def train_stage(args: argparse.Namespace, data_dir: Path, run_dir: Path) -> dict:
    from training.pipeline.finetune import TrainConfig, train_adapter

    if (run_dir / "metrics.json").exists():
        return json.loads((run_dir / "metrics.json").read_text())
    config = TrainConfig(
        base_model_path=args.base,
        train_path=str(data_dir / "train.jsonl"),
        validation_path=str(data_dir / "validation.jsonl"),
        out_dir=str(run_dir),
        limit=args.train_rows,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        max_length=args.max_length,
        lr=args.lr,
        eval_every=args.eval_every,
        eval_limit=args.eval_rows,
        torch_threads=args.threads,
    )
    train_adapter(config)
    return json.loads((run_dir / "metrics.json").read_text())


def compare(
    args: argparse.Namespace, data_dir: Path, run_dir: Path, work: Path
) -> tuple[dict, dict]:
    """Base and tuned model on the same test rows, through the assistant's real engine."""
    from assistant.engine import ModelSpec
    from assistant.transformers_engine import TransformersEngine
    from training.pipeline.evaluation import Gate, evaluate_spec, read_test_split
    from training.pipeline.finetune import DEFAULT_SYSTEM_PROMPT

    test = read_test_split(data_dir / "test.jsonl", args.test_rows)
    gate = Gate("mean_top_prob", 0.75)  # the seed's score and threshold
    engine = TransformersEngine()
    reports = []
    for name, adapter in (("base", ""), ("tuned", str(run_dir / "adapter"))):
        spec = ModelSpec(
            key=f"bench-{name}",
            base_model_path=args.base,
            adapter_path=adapter,
            adapter_name=name if adapter else "",
            system_prompt=DEFAULT_SYSTEM_PROMPT,
            max_new_tokens=args.max_new_tokens,
            repetition_penalty=1.1,
        )
        report = evaluate_spec(spec, test, gate, work / f"eval-{name}", engine, args.good_bar)
        reports.append(report)
        print_report(name, report)
    return reports[0], reports[1]


def print_report(name: str, report: dict) -> None:
    forcing = report["teacher_forcing"]
    at = report["at_threshold"]
    target = report["for_target_accuracy"]
    print(
        f"{name}: {report['examples']} test rows, loss {forcing['loss']:.4f}, "
        f"perplexity {forcing['perplexity']:.2f}, ROUGE-L {_figure(report['rouge_l'])}, "
        f"good (cosine >= {report['similarity']['good_bar']}) {_figure(report['similarity']['good_rate'])}, "
        f"mean cosine {_figure(report['similarity']['mean'])}, {report['seconds']} s"
    )
    print("  AUROC by score: " + ", ".join(f"{k} {_figure(v)}" for k, v in report["auroc"].items()))
    print(
        f"  gate {report['gate']['score']} >= {report['gate']['threshold']}: coverage "
        f"{_figure(at['coverage'])}, accuracy {_figure(at['accuracy'])}; threshold for accuracy "
        f"{report['target_accuracy']}: {_figure(target['threshold']) if target else 'none'}"
        f" (coverage {_figure(target['coverage']) if target else '-'})"
    )


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    args = parse_args()
    os.environ["TORCH_THREADS"] = str(args.threads)  # the evaluation's engine reads it
    work = Path(args.work)
    data_dir, run_dir = work / "data", work / "run"
    report = curate_stage(args, data_dir)
    print("curation:", json.dumps(report))
    if args.stage == "curate":
        return
    metrics = train_stage(args, data_dir, run_dir)
    print(
        f"training: {metrics['steps']} steps, {metrics['seconds']} s, "
        f"{metrics['examples']}, best val loss {metrics['best_val_loss']:.4f}"
    )
    if args.stage == "train":
        return
    base_report, tuned_report = compare(args, data_dir, run_dir, work)
    gate = tuned_report["gate"]["score"]
    print(
        f"RESULT base_test_loss={base_report['teacher_forcing']['loss']:.4f} "
        f"tuned_test_loss={tuned_report['teacher_forcing']['loss']:.4f} "
        f"gate_auroc={_figure(tuned_report['auroc'].get(gate))}"
    )


if __name__ == "__main__":
    main()
