"""Inference bench: SmolLM2, greedy, one at a time vs batched, bare generate() vs the worker path.

    python bench/inference.py                       # 8 and 32 prompts, 64 new tokens
    python bench/inference.py --sizes 8 --new-tokens 16

The prompts are grounded as the worker grounds them: the starter knowledge base is loaded
into the bench's database, and a question that finds notes carries them.
(a) bare: model.generate() on pre-built (grounded) prompts, one call per prompt vs one call
per batch (with the engine's batch inputs: the prefix all prompts share is computed once
and cached);
(b) worker path: tickets.answering.answer_request with ANSWER_BATCH_SIZE=1 vs =N, on tickets
opened through tickets.lifecycle in a throwaway SQLite database under var/bench/ (retrieval,
prompts, generation, the gate's evidence, storing).
Every path must give the same answers (in bfloat16: counted where they do not, see
`_differing_answers`). Pipeline overhead = (worker batched - bare batched)
/ bare batched. Lone-answer overhead = (worker one at a time - bare one at a time) / bare
one at a time, each question answered alone by both paths side by side, `--repeats` times,
which path goes first alternating; per question the median of its repeats. Figures in
wall-clock time and in this process's CPU time (the fairer one when other jobs share the
cores). Ends with one `RESULT ...` line: wall-clock figures first, then the same with a
`cpu_` prefix.
"""

import argparse
import csv
import itertools
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# shared/ lies beside the checkout (it is never committed into it).
SEED_CSV = ROOT.parent / "shared/data/seed/distilled_ubuntu_mistral7b.csv"
BENCH_DIR = ROOT / "var" / "bench"
WORKER_ID = "bench:0"
_RUNS = itertools.count()  # one requester per worker run
# Opening words of a real question, after the wrapper is gone.
ASKS = re.compile(r"^(how|what|why|where|which|is|are|can|does|do|should|any|anyone)\b", re.I)


def _isolate_environment(threads: int) -> None:
    """A throwaway database, and a broker address no worker listens on: no live worker
    elsewhere can take the bench's jobs (and nothing is sent: see `_prepare_database`)."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database = BENCH_DIR / "inference.sqlite3"
    database.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["REDIS_URL"] = "redis://127.0.0.1:1/0"
    os.environ["ASSISTANT_ENGINE"] = "assistant.transformers_engine.TransformersEngine"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TORCH_THREADS"] = str(threads)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(ROOT))


def real_questions(count: int, path: Path = SEED_CSV) -> list[str]:
    """User questions from the seed data: unwrapped, asking something, distinct."""
    found: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = row["prompt"].removeprefix("User:").removesuffix("Assistant:").strip()
            asks = 25 <= len(text) <= 300 and text.endswith("?") and ASKS.match(text)
            if asks and text not in found:
                found.append(text)
            if len(found) == count:
                return found
    raise SystemExit(f"Only {len(found)} questions found in {path}")


@dataclass
class Run:
    texts: list[str]
    tokens: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time: fairer when other jobs share the cores


def bare_run(loaded, spec, prompts: list[list[int]], batch_size: int) -> Run:
    """model.generate() alone, with the engine's options (greedy, raw logits kept)."""
    import torch

    from assistant.confidence import answer_length
    from assistant.generation import batch_inputs, generation_options
    from assistant.loading import adapter_in_use
    from assistant.prompting import clean_answer

    texts, tokens, seconds, cpu_seconds = [], 0, 0.0, 0.0
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start : start + batch_size]
        began, began_cpu = time.perf_counter(), time.process_time()
        with adapter_in_use(loaded, spec), torch.inference_mode():
            # As the engine does: the shared prefix cached once, room reserved for the answer.
            inputs = batch_inputs(loaded, chunk, room=spec.max_new_tokens)
            output = loaded.model.generate(**inputs, **generation_options(loaded, spec))
        seconds += time.perf_counter() - began
        cpu_seconds += time.process_time() - began_cpu
        for row in output.sequences[:, inputs["input_ids"].shape[1] :].tolist():
            length = answer_length(row, loaded.eos_ids)
            tokens += length
            text = loaded.tokenizer.decode(row[:length], skip_special_tokens=True)
            texts.append(clean_answer(text, plain=False))
    return Run(texts, tokens, seconds, cpu_seconds)


def worker_run(version, questions: list[str], batch_size: int) -> Run:
    """Open one ticket per question, then answer them as the worker does."""
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from tickets import lifecycle
    from tickets.answering import answer_request
    from tickets.models import AnswerRequest, AnswerStatus, Message, Role

    requester = get_user_model().objects.create_user(f"bench-{next(_RUNS)}")
    tickets = [
        lifecycle.open_ticket(requester, question, model_version=version) for question in questions
    ]
    pending = list(
        AnswerRequest.objects.filter(ticket__in=tickets, status=AnswerStatus.PENDING)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
    )
    assert len(pending) == len(questions), "every ticket must wait for the assistant"
    answered = 0
    began, began_cpu = time.perf_counter(), time.process_time()
    with override_settings(ANSWER_BATCH_SIZE=batch_size):
        for request_id in pending:
            answered += answer_request(request_id, WORKER_ID)
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - began_cpu
    assert answered == len(questions), f"answered {answered} of {len(questions)}"
    answers = {
        message.ticket_id: message
        for message in Message.objects.filter(ticket__in=tickets, role=Role.ASSISTANT)
    }
    ordered = [answers[ticket.pk] for ticket in tickets]
    tokens = sum(m.token_count for m in ordered)
    return Run([m.body for m in ordered], tokens, seconds, cpu_seconds)


def _prepare_database(new_tokens: int):
    import django
    from django.core.management import call_command

    django.setup()
    import tickets.enqueue

    # The bench runs the answer job itself: opening a ticket sends nothing (a refused
    # broker would cost each ticket the connection retries).
    tickets.enqueue.enqueue_answer = lambda request_id: False
    call_command("migrate", verbosity=0)
    call_command("prepare_models", verbosity=0)
    from knowledge.importing import ImportReport, import_articles

    report = ImportReport()
    import_articles(ROOT / "knowledge" / "starter", report)
    print(f"knowledge: {report.articles} starter articles")
    from assistant.management.commands.prepare_models import SHIPPED_VERSION
    from assistant.models import ModelVersion

    version = ModelVersion.objects.get(name=SHIPPED_VERSION)
    version.generation = {**version.generation, "max_new_tokens": new_tokens}
    version.save()
    return version


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def grounded_prompts(loaded, spec, questions: list[str]) -> list[list[int]]:
    """The prompts the worker builds: each question with the notes it finds."""
    from assistant.generation import prompt_ids
    from knowledge.grounding import ground, with_notes

    conversations = [[{"role": "user", "content": q}] for q in questions]
    notes = ground(questions)
    return prompt_ids(
        loaded, spec, [with_notes(c, g) for c, g in zip(conversations, notes, strict=True)]
    )


def lone_runs(loaded, version, spec, questions, prompts, repeats: int) -> dict[str, Run]:
    """Every question answered alone by both paths, side by side, `repeats` times (which
    path goes first alternates); each question's median repeat, summed over the questions."""
    import statistics

    bare: list[list[Run]] = [[] for _ in questions]
    worker: list[list[Run]] = [[] for _ in questions]
    for repeat in range(repeats):
        for i, question in enumerate(questions):
            paths = ["bare", "worker"] if (repeat + i) % 2 == 0 else ["worker", "bare"]
            for path in paths:
                if path == "bare":
                    bare[i].append(bare_run(loaded, spec, [prompts[i]], 1))
                else:
                    worker[i].append(worker_run(version, [question], 1))

    def summed(per_question: list[list[Run]]) -> Run:
        medians = [median_run(runs) for runs in per_question]
        return Run(
            [text for run in medians for text in run.texts],
            sum(run.tokens for run in medians),
            sum(run.seconds for run in medians),
            sum(statistics.median(r.cpu_seconds for r in runs) for runs in per_question),
        )

    return {"bare_single": summed(bare), "worker_single": summed(worker)}


def bench_size(
    loaded, version, spec, questions: list[str], repeats: int
) -> dict[str, dict[str, float]]:
    size = len(questions)
    prompts = grounded_prompts(loaded, spec, questions)
    figures = lone_runs(loaded, version, spec, questions, prompts, repeats)
    # A batched run is short, so one noisy moment on the shared machine skews it: alternate
    # bare and worker runs and keep each path's median (the one-at-a-time runs are long
    # sums of many calls already). Which path goes first alternates too: a run right after
    # the other path's run was seen to be a few percent faster.
    bare_runs, worker_runs = [], []
    for repeat in range(repeats):
        runs = [
            lambda: bare_runs.append(bare_run(loaded, spec, prompts, size)),
            lambda: worker_runs.append(worker_run(version, questions, size)),
        ]
        for run in runs if repeat % 2 == 0 else reversed(runs):
            run()
    figures |= {"bare_batched": median_run(bare_runs), "worker_batched": median_run(worker_runs)}
    differing = _differing_answers(figures)
    print(
        f"\n== {size} prompts, {sum(len(p) for p in prompts) / size:.0f} prompt tokens on "
        f"average ({differing} answers differ from bare one-at-a-time on some path; median "
        f"of {repeats} runs, one at a time per question)"
    )
    for name, run in figures.items():
        print(
            f"{name:>15}: {run.seconds:8.2f} s wall {run.cpu_seconds:8.2f} s cpu "
            f"{run.tokens:5d} tokens {run.tokens / run.seconds:7.1f} tok/s wall "
            f"{run.tokens / run.cpu_seconds:7.1f} tok/s cpu"
        )
    result: dict[str, dict[str, float]] = {"answers": {"differing": differing}}
    for clock in ("seconds", "cpu_seconds"):
        time_of = {name: getattr(run, clock) for name, run in figures.items()}
        result[clock] = {
            "bare_speedup": time_of["bare_single"] / time_of["bare_batched"],
            "worker_speedup": time_of["worker_single"] / time_of["worker_batched"],
            "overhead": (time_of["worker_batched"] - time_of["bare_batched"])
            / time_of["bare_batched"],
            "lone_overhead": (time_of["worker_single"] - time_of["bare_single"])
            / time_of["bare_single"],
        }
        print(
            f"{'wall' if clock == 'seconds' else 'cpu'}: bare speedup "
            f"{result[clock]['bare_speedup']:.2f}x, worker speedup "
            f"{result[clock]['worker_speedup']:.2f}x, pipeline overhead "
            f"{result[clock]['overhead'] * 100:.1f}%, lone-answer overhead "
            f"{result[clock]['lone_overhead'] * 100:.1f}%"
        )
    return result


def _differing_answers(figures: dict[str, Run]) -> int:
    """How many questions some path answered otherwise than bare one-at-a-time. In float32
    it must be none (the paths compute the same sums; the bench stops otherwise); in
    bfloat16 a batch row rounds differently from the same prompt alone, and now and then a
    greedy choice between two near-equal tokens goes the other way: counted, not refused."""
    import torch

    from assistant.loading import load_dtype, model_device

    reference = figures["bare_single"].texts
    differing = {
        i
        for run in figures.values()
        for i, (a, b) in enumerate(zip(run.texts, reference, strict=True))
        if a != b
    }
    if load_dtype(model_device()) == torch.float32:
        assert not differing, f"answers differ from bare one-at-a-time at {sorted(differing)}"
    return len(differing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads of the one process that generates (default: every core, as a "
        "worker that owns the machine; the portal's default is TORCH_THREADS=1)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="batched runs per path, and lone answers per question and path (median)",
    )
    args = parser.parse_args()
    _isolate_environment(args.threads)
    version = _prepare_database(args.new_tokens)

    from assistant.loading import load_spec
    from assistant.registry import spec_for
    from assistant.worker import warm_up

    spec = spec_for(version)
    warm_up(spec)
    loaded = load_spec(spec)
    import torch

    print(
        f"torch threads {torch.get_num_threads()}, device {loaded.device}, "
        f"{args.new_tokens} new tokens, repetition penalty {spec.repetition_penalty}"
    )
    # The first generate() call pays one-off costs; keep them out of every figure.
    warm_prompts = [[{"role": "user", "content": q}] for q in real_questions(2)]
    from assistant.generation import prompt_ids

    bare_run(loaded, spec, prompt_ids(loaded, spec, warm_prompts), 2)
    # ... and the worker path's: the knowledge matrix, MiniLM, the first queries.
    worker_run(version, real_questions(1), 1)
    results = {
        size: bench_size(loaded, version, spec, real_questions(size), args.repeats)
        for size in args.sizes
    }
    largest = max(args.sizes)
    fields = []
    for clock, prefix in (("seconds", ""), ("cpu_seconds", "cpu_")):
        fields += [
            f"{prefix}batched_speedup_{size}={r[clock]['worker_speedup']:.2f}"
            for size, r in results.items()
        ]
        fields.append(
            f"{prefix}pipeline_overhead_pct={results[largest][clock]['overhead'] * 100:.1f}"
        )
        fields += [
            f"{prefix}lone_overhead_pct_{size}={r[clock]['lone_overhead'] * 100:.1f}"
            for size, r in results.items()
        ]
    fields += [
        f"differing_answers_{size}={int(r['answers']['differing'])}" for size, r in results.items()
    ]
    print("RESULT " + " ".join(fields))


if __name__ == "__main__":
    main()
