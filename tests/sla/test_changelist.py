"""The tickets changelist's SLA column, its filters and its sort, at a fixed query count."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sla.changelist import describe, sla_due, span
from sla.models import NOTHING_DUE, SlaPolicy, TicketSla
from tests.factories import AgentFactory, TicketFactory
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

URL = reverse("admin:tickets_ticket_changelist")


def _with_clock(subject: str, **clock) -> Ticket:
    ticket = TicketFactory(subject=subject, status=Status.ASSIGNED)
    policy = SlaPolicy.objects.first()
    urgency = clock.get("next_due_at") or NOTHING_DUE
    TicketSla.objects.update_or_create(
        ticket=ticket, defaults={"policy": policy, "urgency": urgency, **clock}
    )
    return ticket


def _sla_column() -> int:
    """The column's index as the changelist's ?o= counts it (the checkbox first)."""
    model_admin = admin.site._registry[Ticket]
    return ["action_checkbox", *model_admin.list_display].index(sla_due)


@pytest.fixture
def clocks(db):
    now = timezone.now()
    return {
        "late": _with_clock(
            "Late one", next_due_at=now - timedelta(minutes=30), next_target="first_response"
        ),
        "soon": _with_clock(
            "Soon one", next_due_at=now + timedelta(minutes=20), next_target="next_response"
        ),
        "later": _with_clock(
            "Later one", next_due_at=now + timedelta(hours=5), next_target="resolution"
        ),
        "missed": _with_clock("Missed one", breached_at=now - timedelta(days=1)),
        "paused": _with_clock("Paused one", paused_since=now - timedelta(hours=1)),
    }


def _subjects(response) -> list[str]:
    return [t.subject for t in response.context["cl"].result_list]


def test_the_column_says_how_long_is_left_or_how_long_overdue(client, clocks):
    client.force_login(AgentFactory())

    page = client.get(URL).content.decode()

    assert "overdue 30m" in page or "overdue 29m" in page
    assert "19m left" in page or "20m left" in page
    assert "paused" in page and "missed" in page


def test_the_breached_filter_shows_missed_and_overdue_tickets(client, clocks):
    client.force_login(AgentFactory())

    response = client.get(URL, {"sla": "breached"})

    assert sorted(_subjects(response)) == ["Late one", "Missed one"]


def test_the_due_within_the_hour_filter(client, clocks):
    client.force_login(AgentFactory())

    assert _subjects(client.get(URL, {"sla": "soon"})) == ["Soon one"]
    assert _subjects(client.get(URL, {"sla": "paused"})) == ["Paused one"]


def test_sorting_by_the_column_puts_the_most_urgent_first(client, clocks):
    client.force_login(AgentFactory())

    TicketFactory(subject="No clock")  # older than the app

    response = client.get(URL, {"o": str(_sla_column())})

    # What is due, most urgent first; nothing is due on the paused and finished ones.
    assert _subjects(response) == ["Late one", "Soon one", "Later one"]


def test_the_page_runs_the_same_queries_with_few_and_many_tickets(client):
    agent = AgentFactory()
    client.force_login(agent)
    for n in range(3):
        _with_clock(f"few {n}", next_due_at=timezone.now() + timedelta(minutes=n))

    counts = []
    for _ in range(2):
        for query in ({}, {"sla": "breached"}, {"sla": "soon"}, {"o": str(_sla_column())}):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL, query).status_code == 200
            counts.append(len(queries))
        for n in range(40):
            _with_clock(f"many {n}", next_due_at=timezone.now() - timedelta(minutes=n))

    assert counts[:4] == counts[4:]


def test_span_reads_at_a_glance():
    assert span(timedelta(minutes=5)) == "5m"
    assert span(timedelta(hours=2, minutes=5)) == "2h 05m"
    assert span(timedelta(days=3, hours=4, minutes=59)) == "3d 4h"
    assert span(-timedelta(minutes=90)) == "1h 30m"


def test_a_ticket_without_a_policy_has_no_clock():
    assert describe(None, timezone.now())[0] == "–"
