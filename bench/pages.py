"""Page timings at scale: the agents' changelist, a user's ticket list and a chat page.

Seeds a throwaway SQLite database under var/bench/ (never the dev database) with 100,000
tickets of 5 messages each, then times requests through Django's test client:

    python bench/pages.py                    # 100,000 tickets, 40 timed requests per page
    python bench/pages.py --tickets 20000 --repeat 20
    python bench/pages.py --reuse            # time again without re-seeding

The last line is `RESULT changelist_p95_ms=... list_p95_ms=... chat_p95_ms=...`.
"""

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
DB_FILE = BENCH_DIR / "pages.sqlite3"
# Rows per INSERT batch: large enough to amortise Python overhead, small enough for SQLite's
# variable limit with every column of a message.
BATCH = 2000
# The heavy user owns this share of all tickets, so their list paginates through thousands.
HEAVY_USER_SHARE = 0.1
WARMUP_REQUESTS = 3


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to seed")
    parser.add_argument("--users", type=int, default=1000, help="requesters besides the heavy one")
    parser.add_argument("--agents", type=int, default=8, help="agents the tickets spread over")
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per page")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database seeded by an earlier run"
    )
    return parser.parse_args()


def _setup_django(reuse: bool) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if not reuse:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{DB_FILE}{suffix}").unlink(missing_ok=True)
    # Before django.setup(): the settings read these once.
    os.environ["HELPDESK_VAR_DIR"] = str(BENCH_DIR)
    os.environ["DATABASE_URL"] = f"sqlite:///{DB_FILE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ["ASSISTANT_ENABLED"] = "false"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(tickets: int, users: int, agents: int) -> dict[str, object]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from assistant.models import ModelVersion
    from tickets.models import (
        AgentProfile,
        EscalationReason,
        Message,
        Priority,
        Status,
        Ticket,
    )
    from tickets.roles import AGENTS

    User = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        heavy = User.objects.create_user("heavy", password="bench")
        requesters = User.objects.bulk_create(User(username=f"user{n}") for n in range(users))
        agent_users = [User.objects.create_user(f"agent{n}", is_staff=True) for n in range(agents)]
        Group.objects.get(name=AGENTS).user_set.add(*agent_users)
        AgentProfile.objects.bulk_create(AgentProfile(user=a) for a in agent_users)
        version = ModelVersion.objects.create(name="bench-model", base_model_path="/none")

    statuses = list(Status)
    reasons = [r for r in EscalationReason] + [""]
    heavy_every = round(1 / HEAVY_USER_SHARE)
    for start in range(0, tickets, BATCH):
        with transaction.atomic():
            batch = Ticket.objects.bulk_create(
                Ticket(
                    subject=f"Problem {n}: the VPN drops every few minutes",
                    requester=heavy if n % heavy_every == 0 else requesters[n % users],
                    status=statuses[n % len(statuses)],
                    priority=list(Priority)[n % 4],
                    escalation_reason=reasons[n % len(reasons)],
                    assigned_to=agent_users[n % agents] if n % 3 else None,
                )
                for n in range(start, min(start + BATCH, tickets))
            )
            Message.objects.bulk_create(m for t in batch for m in _conversation(t, version))
    seconds = time.perf_counter() - started
    print(f"seeded {tickets:,} tickets and {5 * tickets:,} messages in {seconds:.1f} s")
    return _people()


def _people() -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from tickets.models import Ticket

    users = get_user_model().objects
    heavy = users.get(username="heavy")
    print(f"{Ticket.objects.count():,} tickets, {heavy.tickets.count():,} of them the heavy user's")
    return {
        "heavy": heavy,
        "agent": users.get(username="agent0"),
        "chat_ticket": Ticket.objects.filter(requester=heavy).order_by("-pk").first(),
    }


def _conversation(ticket, version):
    """Five messages: question, hidden draft, hand-off, agent answer, thanks."""
    from tickets.models import Message, Role

    user = ticket.requester
    yield Message(ticket=ticket, author=user, role=Role.USER, body="My **VPN** keeps dropping.")
    yield Message(
        ticket=ticket,
        role=Role.ASSISTANT,
        body="Try reconnecting to the `corp` profile.",
        visible_to_user=False,
        model_version=version,
        confidence=0.42,
        passed_gate=False,
    )
    yield Message(ticket=ticket, role=Role.SYSTEM, body="Your ticket is with our support team.")
    yield Message(
        ticket=ticket, author=ticket.assigned_to, role=Role.AGENT, body="Update the client to 5.2."
    )
    yield Message(ticket=ticket, author=user, role=Role.USER, body="That fixed it, thanks!")


def _time(client, url: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per request; on a shared machine CPU time shows our
    own cost when other processes stretch the wall clock."""
    for _ in range(WARMUP_REQUESTS):
        assert client.get(url).status_code == 200, url
    timings, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, url
    return timings, cpu


def _count_queries(client, url: str) -> int:
    from django.db import connection

    seen = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        client.get(url)
    return len(seen)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    args = _parse()
    _setup_django(args.reuse and DB_FILE.exists())
    from django.test import Client
    from django.urls import reverse

    if args.reuse and DB_FILE.exists():
        seeded = _people()
    else:
        seeded = _seed(args.tickets, args.users, args.agents)
    chat_ticket = seeded["chat_ticket"]
    changelist = reverse("admin:tickets_ticket_changelist")
    pages = {
        "changelist": (seeded["agent"], changelist),
        "changelist_mine": (seeded["agent"], changelist + "?assigned=me&status__exact=assigned"),
        "list": (seeded["heavy"], reverse("tickets:list")),
        "list_page_50": (seeded["heavy"], reverse("tickets:list") + "?page=50"),
        "chat": (seeded["heavy"], chat_ticket.get_absolute_url()),
    }
    results = {}
    for name, (person, url) in pages.items():
        client = Client()
        client.force_login(person)
        queries = _count_queries(client, url)
        timings, cpu = _time(client, url, args.repeat)
        results[name] = _p95(timings)
        print(
            f"{name:16} {url:60} queries={queries:2}  "
            f"median={statistics.median(timings):7.1f} ms  p95={results[name]:7.1f} ms  "
            f"cpu_median={statistics.median(cpu):6.1f} ms"
        )
    print(
        f"RESULT changelist_p95_ms={results['changelist']:.1f} "
        f"list_p95_ms={results['list']:.1f} chat_p95_ms={results['chat']:.1f}"
    )


if __name__ == "__main__":
    main()
