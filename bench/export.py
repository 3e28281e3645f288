"""Benchmark of the redacted export: rows per second and peak memory on 100,000 examples.

    python bench/export.py [--rows 100000] [--format jsonl] [--workers N] [--reseed]

Seeds a throwaway SQLite database under var/bench/ (once; --reseed starts over), then runs
the export in a child process so its peak RSS is the export's alone, not the seeding's;
the RSS and CPU of the export's worker processes are added in. Ends with
`RESULT rows_per_s=... peak_rss_mb=... rows_per_cpu_s=...`. On the 2-core dev machine with
no other job running: about 21,000-24,500 rows/s with two workers (about 15,000 with
--workers 1), peak RSS of all processes under 210 MB; when another job holds a core the
wall-clock figure falls to about 13,000, as rows_per_cpu_s shows.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
DB_PATH = BENCH_DIR / "export-bench.sqlite3"
EXAMPLES_PER_TICKET = 4
BATCH = 5000

QUESTIONS = [
    "My laptop will not connect to the office wifi since the update to Ubuntu 22.04, "
    "it keeps asking for the password and then drops. What should I try?",
    "Outlook says my mailbox is full and I cannot send anything, can you help me clean it up?",
    "The VPN client shows 'TLS handshake failed' every morning, restarting fixes it for an hour.",
    "How do I install the printer driver for the HP LaserJet on the third floor?",
    "I forgot my password and the reset link in the e-mail has already expired.",
    "apt upgrade stops with 'dpkg was interrupted', what command fixes that?",
]
LEAKS = [
    " You can reach me at jane.doe@corp.example.com or +44 20 7946 0958.",
    " The server is 192.168.14.20 and my MAC is 00:1a:2b:3c:4d:5e.",
    " I set password: Winter2024! on the router at https://admin:admin123@10.0.0.1/setup",
    " token ghp_abcdefghijklmnopqrstuvwxyz0123456789 was in the log next to fe80::1%eth0",
]
ANSWERS = [
    "Open Settings > Wi-Fi, forget the network, then reconnect and enter your domain "
    "password. If it still drops, run `sudo systemctl restart NetworkManager` and tell us "
    "what `nmcli device status` shows.",
    "Archive mail older than a year: File > Tools > Clean Up Old Items. Empty Deleted Items "
    "afterwards; the quota is 50 GB.",
    "Run `sudo dpkg --configure -a`, then `sudo apt -f install`, then the upgrade again.",
    "Use the self-service portal to reset it; the link is valid for 15 minutes, so open it "
    "as soon as the message arrives.",
]


def _setup_django() -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    # The throwaway database must be chosen before Django reads its settings.
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _seed(rows: int) -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from assistant.models import ModelVersion
    from tickets.models import Message, Role, Ticket
    from training.models import ExampleSource, ReviewState, TrainingExample

    call_command("migrate", verbosity=0)
    if TrainingExample.objects.count() == rows:
        return
    TrainingExample.objects.all().delete()
    Ticket.objects.all().delete()
    users = get_user_model().objects
    requester, _ = users.get_or_create(username="bench-requester")
    agents = [users.get_or_create(username=f"bench-agent{i}")[0] for i in range(5)]
    version, _ = ModelVersion.objects.get_or_create(
        name="bench-v1", defaults={"base_model_path": "/nonexistent"}
    )
    rng = random.Random(7)
    started = time.perf_counter()
    for first in range(0, rows, BATCH):
        count = min(BATCH, rows - first)
        tickets = Ticket.objects.bulk_create(
            [
                Ticket(subject=f"bench {first + i}", requester=requester)
                for i in range(0, count, EXAMPLES_PER_TICKET)
            ]
        )
        questions, answers, examples = [], [], []
        for i in range(count):
            ticket = tickets[i // EXAMPLES_PER_TICKET]
            question = rng.choice(QUESTIONS) + (rng.choice(LEAKS) if rng.random() < 0.15 else "")
            answer = rng.choice(ANSWERS) + (rng.choice(LEAKS) if rng.random() < 0.05 else "")
            questions.append(Message(ticket=ticket, role=Role.USER, body=question))
            answers.append(Message(ticket=ticket, role=Role.AGENT, body=answer))
        Message.objects.bulk_create(questions)
        Message.objects.bulk_create(answers)
        for question, answer in zip(questions, answers, strict=True):
            examples.append(
                TrainingExample(
                    ticket=question.ticket,
                    question_message=question,
                    answer_message=answer,
                    context=[{"role": "user", "content": "Hello, I need help."}]
                    if rng.random() < 0.5
                    else [],
                    question=question.body,
                    draft="Please restart your computer and try again.",
                    correction=answer.body,
                    model_version=version,
                    confidence=rng.random(),
                    agent=rng.choice(agents),
                    reason="wrong",
                    source=ExampleSource.LOW_CONFIDENCE,
                    review_state=ReviewState.APPROVED,
                )
            )
        TrainingExample.objects.bulk_create(examples)
    print(f"seeded {rows} examples in {time.perf_counter() - started:.1f} s", flush=True)


def _export_in_this_process(fmt: str, workers: int | None) -> None:
    from django.core.management import call_command

    from training.feedback.export import default_workers, export_examples

    call_command("migrate", verbosity=0)  # a schema changed since seeding is brought up to date

    workers = workers or default_workers()
    out = BENCH_DIR / f"export.{fmt}"
    calibration_before = _calibration_s()
    started, cpu_started = time.perf_counter(), _cpu_s()
    export = export_examples(out, fmt=fmt, validation_fraction=0.1, workers=workers)
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu_started
    calibration = (calibration_before + _calibration_s()) / 2
    # Kilobytes on Linux. The children's figure is the largest worker's; every worker is
    # counted at that peak, and their pages shared with this process count twice: an
    # upper bound on the memory of all the export's processes together.
    own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worker_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if workers > 1 else 0
    peak_kb = own_kb + (workers if worker_kb else 0) * worker_kb
    # CPU seconds (this process and its workers) beside wall seconds: on a shared machine
    # the wall clock counts others' work.
    print(
        f"CHILD rows={export.row_count} seconds={elapsed:.3f} cpu_seconds={cpu:.3f} "
        f"peak_rss_mb={peak_kb / 1024:.1f} main_rss_mb={own_kb / 1024:.1f} "
        f"worker_rss_mb={worker_kb / 1024:.1f} workers={workers} "
        f"redacted={export.redaction_report['total']} sha256={export.sha256[:12]} "
        f"calibration_loop_s={calibration:.2f}",
        flush=True,
    )


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that have ended (the workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _calibration_s() -> float:
    """CPU seconds of a fixed pure-Python loop (about 0.4 s on an idle core): how busy the
    shared machine was, to read the figures by."""
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--workers", type=int, help="processes (default: up to two cores)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reseed and DB_PATH.exists():
        DB_PATH.unlink()
    _setup_django()
    if args.child:
        _export_in_this_process(args.format, args.workers)
        return
    _seed(args.rows)
    child = subprocess.run(
        [sys.executable, __file__, "--child", "--format", args.format]
        + (["--workers", str(args.workers)] if args.workers else []),
        check=True,
        capture_output=True,
        text=True,
    )
    line = next(ln for ln in child.stdout.splitlines() if ln.startswith("CHILD "))
    print(line)
    fields = dict(item.split("=", 1) for item in line.split()[1:])
    rows = int(fields["rows"])
    rows_per_s = rows / float(fields["seconds"])
    rows_per_cpu_s = rows / float(fields["cpu_seconds"])
    print(
        f"RESULT rows_per_s={rows_per_s:.0f} peak_rss_mb={fields['peak_rss_mb']} "
        f"rows_per_cpu_s={rows_per_cpu_s:.0f} workers={fields['workers']} "
        f"calibration_loop_s={fields['calibration_loop_s']}"
    )


if __name__ == "__main__":
    main()
