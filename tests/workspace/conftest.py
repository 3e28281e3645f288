"""Fixtures of the ticket workspace: agents' clients, a ticket with the desk, presence in Redis."""

import pytest
import redis
from django.urls import reverse

from tests.factories import AgentFactory
from tickets import lifecycle
from tickets.models import Ticket

# Nothing listens here: Redis "down" for the fail-soft tests.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture(autouse=True)
def _presence_redis(settings, request):
    """Presence in the test Redis when a test asks for `redis_url`; else in none at all."""
    if "redis_url" in request.fixturenames:
        url = request.getfixturevalue("redis_url")
        redis.Redis.from_url(url).flushdb()
        settings.REDIS_URL = url
    else:
        settings.REDIS_URL = DEAD_REDIS


@pytest.fixture
def colleague(db):
    return AgentFactory(username="carol", first_name="Carol")


@pytest.fixture
def colleague_client(colleague):
    """A second browser: the colleague's own session beside the agent's."""
    from django.test import Client

    second = Client()
    second.force_login(colleague)
    return second


@pytest.fixture
def ticket(user, agent) -> Ticket:
    """A ticket escalated to `agent` (the only agent available when it is opened)."""
    opened = lifecycle.open_ticket(user, "My VPN drops every hour")
    return lifecycle.assign(opened, agent)


def change_url(ticket: Ticket) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def reply_url(ticket: Ticket) -> str:
    return reverse("admin:tickets_ticket_reply", args=[ticket.pk])


def reply_form(client, ticket: Ticket) -> dict[str, str]:
    """The reply form's fields as the ticket page fills them now (what a browser would send)."""
    context = client.get(change_url(ticket)).context
    form = context["reply_form"]
    return {
        name: "" if value is None else str(value)
        for name, value in ((name, form[name].value()) for name in form.fields)
    }
