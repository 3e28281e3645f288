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
        "--seed-csv", default="/work/shared/data/seed/distilled_ubuntu_mistral7b.csv"
    )
    parser.add_argument("--base", default=str(ROOT / "var/models/SmolLM2-135M-Instruct"))
    parser.add_argument("--work", default=str(ROOT / "var/bench/training"))
    parser.add_argument("--train-rows", type=int, default=2000, help="curated rows in the pool")
    parser.add_argument("--max-steps", type=int, default=20, help="optimizer steps (CPU budget)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--test-rows", type=int, default=120)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--good-bar", type=float, default=0.6)
    parser.add_argument("--stage", choices=["curate", "train", "all"], default="all")
    return parser.parse_args()


def curate_stage(args: argparse.Namespace, data_dir: Path) -> dict:
    from training.curation import curate_to_dir

    if (data_dir / "report.json").exists():
        return json.loads((data_dir / "report.json").read_text())
    return curate_to_dir(data_dir, seed_csv=args.seed_csv)


def train_stage(args: argparse.Namespace, data_dir: Path, run_dir: Path) -> dict:
    from training.finetune import TrainConfig, train_adapter

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
        eval_every=10,
        eval_limit=32,
    )
    train_adapter(config)
    return json.loads((run_dir / "metrics.json").read_text())


def main() -> None:
    args = parse_args()
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
    from training.evaluation import compare_for_bench

    compare_for_bench(args, data_dir, run_dir, work)


if __name__ == "__main__":
    main()
