"""Shared fixtures: users in each role, jobs run here or on real workers, a real Redis and a
real SMTP server."""

import os

import pytest

# pytest-playwright runs an event loop in the main thread; Django's ORM refuses to run
# there unless told the tests know what they are doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _no_knowledge_matrix_of_another_test(monkeypatch) -> None:
    """Every test's database counts its index version from 0 again (the rows are rolled
    back), so a matrix an earlier test loaded in this process can carry a version number of
    this test's with other rows (on PostgreSQL, other ids too: its sequences go on)."""
    import knowledge.search

    monkeypatch.setattr(knowledge.search, "_loaded", None)


@pytest.fixture
def user(db: None):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def agent(db: None):
    from tests.factories import AgentFactory

    return AgentFactory()


@pytest.fixture
def manager(db: None):
    from tests.factories import ManagerFactory

    return ManagerFactory()


@pytest.fixture
def agent_client(client, agent):
    """The test client signed in as the agent."""
    client.force_login(agent)
    return client


@pytest.fixture
def jobs_run_here(django_capture_on_commit_callbacks):
    """`with jobs_run_here(): ...`: tasks enqueued inside run in this process when the block
    ends (as on commit): the logic around a job, fast. Each job also runs once on a real
    worker (tests/test_jobs_on_workers.py)."""
    from contextlib import contextmanager

    from helpdesk.celery import app

    @contextmanager
    def here():
        app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            app.conf.task_always_eager = False

    return here


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    """The test Redis: the one the test command started, else one started here."""
    from tests.live import embedded_redis

    given = os.environ.get("TEST_REDIS_URL")
    if given:
        _point_celery_at(given)
        yield given
        return
    with embedded_redis(tmp_path_factory.mktemp("redis")) as url:
        _point_celery_at(url)
        yield url


def _point_celery_at(url: str) -> None:
    """Publish to the test Redis even if settings named another (e.g. a running app's)."""
    from django.conf import settings

    from helpdesk.celery import app

    settings.CELERY_BROKER_URL = url
    app.conf.broker_url = url
    # Connection and producer pools are made on first use, from the URL of that moment.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def start_worker(redis_url, transactional_db, tmp_path):
    """Start real Celery workers against the test database and Redis; stopped after the test.

    `start_worker(**env)` serves the inference queue; `start_worker(queues="training,exports")`
    the queues named; `beat=True` runs the beat in it. Keyword arguments override the
    worker's environment (tests.live.worker_env).
    """
    import redis as redis_client

    from tests.live import WorkerProcess, worker_env

    # Messages left by earlier tests point at rows that no longer exist.
    redis_client.Redis.from_url(redis_url).flushdb()
    workers = []

    def start(queues: str | None = None, beat: bool = False, **env_overrides: str):
        worker = WorkerProcess(
            tmp_path / f"worker{len(workers)}.log",
            worker_env(redis_url, **env_overrides),
            queues=queues,
            beat=beat,
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def smollm2(transactional_db, settings):
    """The shipped SmolLM2 registered as the default version, with short answers."""
    from assistant.management.commands.prepare_models import register_shipped_model
    from assistant.prepare import ensure_smollm2

    settings.ASSISTANT_ENABLED = True
    version, _ = register_shipped_model(ensure_smollm2(settings.MODELS_DIR))
    # Short answers keep the suite quick on two cores; the gate works the same.
    version.generation = {"max_new_tokens": 24, "repetition_penalty": 1.1}
    version.save()
    return version


class SMTPServer:
    """What the test SMTP server received: `.messages` (email.message.EmailMessage, in the
    order they arrived) and their envelopes; `wait_for(n)` waits until n have arrived."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.messages: list = []
        self.envelopes: list = []

    @property
    def env(self) -> dict[str, str]:
        """The environment that points a process's settings at this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": str(self.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
        }

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's handler hook
        import email
        import email.policy

        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 30) -> list:
        from tests.live import wait_until

        wait_until(lambda: len(self.messages) >= count, timeout, f"{count} e-mail(s) to arrive")
        return self.messages


@pytest.fixture
def smtp_server(settings, monkeypatch):
    """A real SMTP server (aiosmtpd) on a free port for the test. Django's settings use the
    SMTP backend at it, and so does a worker started with `start_worker` in the same test
    (the variables are set in this process's environment, which the worker inherits)."""
    from aiosmtpd.controller import Controller

    from tests.live import free_port

    server = SMTPServer("127.0.0.1", free_port())
    controller = Controller(server, hostname=server.host, port=server.port)
    controller.start()
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    settings.EMAIL_BACKEND = server.env["EMAIL_BACKEND"]
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    try:
        yield server
    finally:
        controller.stop()
