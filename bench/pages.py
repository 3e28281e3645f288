"""Page timings at scale: the agents' changelist, a user's ticket list and a chat page.

Seeds a throwaway SQLite database under var/bench/ (never the dev database) with 100,000
tickets of 5 messages each, then times requests through Django's test client:

    python bench/pages.py                    # 100,000 tickets, 40 timed requests per page
    python bench/pages.py --tickets 20000 --repeat 20
    python bench/pages.py --reuse            # time again without re-seeding
    BENCH_PAGES_DB=/tmp/pages.sqlite3 python bench/pages.py   # another database file

The changelist is timed with its SLA column (every ticket has a clock row), sorted by it
and under each SLA filter; the query count of every page is taken at the first 100 tickets
and again at the full count, and printed side by side.

The last line is `RESULT changelist_p95_ms=... list_p95_ms=... chat_p95_ms=...
sla_sort_p95_ms=... sla_breached_p95_ms=... sla_soon_p95_ms=... queries_constant=yes|no
search_common_p95_ms=... search_rare_p95_ms=... search_common_queries=...
search_rare_queries=... search_index_build_s=...`.

After seeding it rebuilds the search index as `manage.py rebuild_search_index` does (timed),
and times the changelist's search box with a word every ticket holds and a rare one.
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
DB_FILE = Path(os.environ.get("BENCH_PAGES_DB", BENCH_DIR / "pages.sqlite3"))
# Rows per INSERT batch: large enough to amortise Python overhead, small enough for SQLite's
# variable limit with every column of a message.
BATCH = 2000
# The heavy user owns this share of all tickets, so their list paginates through thousands.
HEAVY_USER_SHARE = 0.1
WARMUP_REQUESTS = 3
# Query counts are taken first with this many tickets, then with all of them.
FEW_TICKETS = 100
# Searches in the changelist: a word in every seeded ticket, and the number in one subject
# ("Problem 4242: ...", which as a prefix also finds 42420-42429).
COMMON_SEARCH = "vpn"
RARE_SEARCH = "4242"


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
    # Django's test client asks for this host; a machine's .env names only its own.
    os.environ["ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed_people(users: int, agents: int) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction

    from assistant.models import ModelVersion
    from tickets.models import AgentProfile
    from tickets.roles import AGENTS

    User = get_user_model()
    with transaction.atomic():
        User.objects.create_user("heavy", password="bench")
        User.objects.bulk_create(User(username=f"user{n}") for n in range(users))
        agent_users = [User.objects.create_user(f"agent{n}", is_staff=True) for n in range(agents)]
        Group.objects.get(name=AGENTS).user_set.add(*agent_users)
        AgentProfile.objects.bulk_create(AgentProfile(user=a) for a in agent_users)
        ModelVersion.objects.create(name="bench-model", base_model_path="/none")


def _seed_tickets(first: int, last: int) -> None:
    """Tickets number `first` to `last - 1`, with their conversations and SLA clocks."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from assistant.models import ModelVersion
    from tickets.models import EscalationReason, Message, Priority, Status, Ticket

    users = get_user_model().objects
    heavy = users.get(username="heavy")
    requesters = list(users.filter(username__startswith="user").order_by("pk"))
    agent_users = list(users.filter(username__startswith="agent").order_by("pk"))
    version = ModelVersion.objects.get(name="bench-model")
    statuses = list(Status)
    reasons = [r for r in EscalationReason] + [""]
    heavy_every = round(1 / HEAVY_USER_SHARE)
    for start in range(first, last, BATCH):
        with transaction.atomic():
            batch = Ticket.objects.bulk_create(
                Ticket(
                    subject=f"Problem {n}: the VPN drops every few minutes",
                    requester=heavy if n % heavy_every == 0 else requesters[n % len(requesters)],
                    status=statuses[n % len(statuses)],
                    priority=list(Priority)[n % 4],
                    escalation_reason=reasons[n % len(reasons)],
                    assigned_to=agent_users[n % len(agent_users)] if n % 3 else None,
                )
                for n in range(start, min(start + BATCH, last))
            )
            Message.objects.bulk_create(m for t in batch for m in _conversation(t, version))
            _seed_clocks(batch, start)


def _seed_clocks(tickets, start: int) -> None:
    """One clock per ticket (bulk_create sends no signals, so none is computed). Finished
    tickets met or missed their targets; open ones are paused, or due at times spread
    evenly from five days ago to five days ahead (about 1 in 240 within the next hour)."""
    from datetime import timedelta

    from django.utils import timezone

    from sla.models import NOTHING_DUE, SlaPolicy, TicketSla
    from tickets.models import Status

    now = timezone.now()
    policies = {p.priority: p for p in SlaPolicy.objects.filter(category="")}
    spread = 10 * 24 * 60  # minutes
    clocks = []
    for offset, ticket in enumerate(tickets):
        n = start + offset
        clock = TicketSla(ticket=ticket, policy=policies.get(ticket.priority))
        if ticket.status in (Status.RESOLVED, Status.CLOSED):
            clock.resolved_at = now - timedelta(days=n % 30)
            clock.breached_at = clock.resolved_at if n % 5 == 0 else None
        elif n % 4 == 0:
            clock.paused_since = now - timedelta(minutes=n % 600)
        else:
            clock.next_due_at = now + timedelta(minutes=(n * 37) % spread - spread // 2)
            clock.next_target = ("first_response", "next_response", "resolution")[n % 3]
        clock.urgency = clock.next_due_at or NOTHING_DUE
        clocks.append(clock)
    TicketSla.objects.bulk_create(clocks)


def _people() -> dict[str, object]:
    from django.contrib.auth import get_user_model

    from tickets.models import Status, Ticket

    users = get_user_model().objects
    heavy = users.get(username="heavy")
    print(f"{Ticket.objects.count():,} tickets, {heavy.tickets.count():,} of them the heavy user's")
    return {
        "heavy": heavy,
        "agent": users.get(username="agent0"),
        # Always an answered ticket: a page's queries depend on its ticket's state (a resolved
        # one asks for a rating), and the counts at 100 and at 100,000 tickets must compare
        # the same page.
        "chat_ticket": Ticket.objects.filter(requester=heavy, status=Status.ANSWERED)
        .order_by("-pk")
        .first(),
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


def _build_search_index() -> float:
    """Seconds to rebuild the search index from scratch, as the management command does."""
    from io import StringIO

    from django.core.management import call_command

    started = time.perf_counter()
    call_command("rebuild_search_index", stdout=StringIO())
    seconds = time.perf_counter() - started
    print(f"search index rebuilt in {seconds:.1f} s")
    return seconds


def _search_pages(agent, changelist: str) -> dict[str, tuple[object, str]]:
    from urllib.parse import urlencode

    return {
        "search_common": (agent, f"{changelist}?{urlencode({'q': COMMON_SEARCH})}"),
        "search_rare": (agent, f"{changelist}?{urlencode({'q': RARE_SEARCH})}"),
    }


def _pages(seeded: dict[str, object]) -> dict[str, tuple[object, str]]:
    from django.contrib import admin
    from django.urls import reverse

    from sla.changelist import sla_due
    from tickets.models import Ticket

    chat_ticket = seeded["chat_ticket"]
    changelist = reverse("admin:tickets_ticket_changelist")
    # The SLA column's index as ?o= counts it (the action checkbox comes first).
    sla_column = ["action_checkbox", *admin.site._registry[Ticket].list_display].index(sla_due)
    return {
        "changelist": (seeded["agent"], changelist),
        "changelist_mine": (seeded["agent"], changelist + "?assigned=me&status__exact=assigned"),
        "sla_sort": (seeded["agent"], changelist + f"?o={sla_column}"),
        "sla_breached": (seeded["agent"], changelist + "?sla=breached"),
        "sla_soon": (seeded["agent"], changelist + "?sla=soon"),
        "list": (seeded["heavy"], reverse("tickets:list")),
        "list_page_50": (seeded["heavy"], reverse("tickets:list") + "?page=50"),
        "chat": (seeded["heavy"], chat_ticket.get_absolute_url()),  # type: ignore[attr-defined]
        **_search_pages(seeded["agent"], changelist),
    }


def _query_counts(pages: dict[str, tuple[object, str]]) -> dict[str, int]:
    from django.test import Client

    counts = {}
    for name, (person, url) in pages.items():
        client = Client()
        client.force_login(person)
        counts[name] = _count_queries(client, url)
    return counts


def main() -> None:
    args = _parse()
    reuse = args.reuse and DB_FILE.exists()
    _setup_django(reuse)
    from django.test import Client

    few: dict[str, int] = {}
    if reuse:
        seeded = _people()
    else:
        started = time.perf_counter()
        _seed_people(args.users, args.agents)
        _seed_tickets(0, min(FEW_TICKETS, args.tickets))
        # Some pages need a page 50: the counts at 100 tickets skip what is not there yet.
        few = _query_counts({k: v for k, v in _pages(_people()).items() if "page_50" not in k})
        _seed_tickets(min(FEW_TICKETS, args.tickets), args.tickets)
        seconds = time.perf_counter() - started
        print(
            f"seeded {args.tickets:,} tickets, {5 * args.tickets:,} messages and their clocks in {seconds:.1f} s"
        )
        seeded = _people()
    index_build_s = _build_search_index()
    pages = _pages(seeded)
    many = _query_counts(pages)
    results = {}
    for name, (person, url) in pages.items():
        client = Client()
        client.force_login(person)
        timings, cpu = _time(client, url, args.repeat)
        results[name] = _p95(timings)
        at_few = f"{few[name]:2}" if name in few else " -"
        print(
            f"{name:16} {url:50} queries={at_few} at {FEW_TICKETS}, {many[name]:2} at "
            f"{args.tickets:,}  median={statistics.median(timings):7.1f} ms  "
            f"p95={results[name]:7.1f} ms  cpu_median={statistics.median(cpu):6.1f} ms"
        )
    constant = "yes" if few and all(few[k] == many[k] for k in few) else ("-" if not few else "no")
    print(
        f"RESULT changelist_p95_ms={results['changelist']:.1f} "
        f"list_p95_ms={results['list']:.1f} chat_p95_ms={results['chat']:.1f} "
        f"sla_sort_p95_ms={results['sla_sort']:.1f} "
        f"sla_breached_p95_ms={results['sla_breached']:.1f} "
        f"sla_soon_p95_ms={results['sla_soon']:.1f} queries_constant={constant} "
        f"search_common_p95_ms={results['search_common']:.1f} "
        f"search_rare_p95_ms={results['search_rare']:.1f} "
        f"search_common_queries={many['search_common']} "
        f"search_rare_queries={many['search_rare']} "
        f"search_index_build_s={index_build_s:.1f}"
    )


if __name__ == "__main__":
    main()
