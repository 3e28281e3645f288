"""The dashboard's service levels: times (median, p90), attainment, AI against people."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sla.models import TicketSla
from tests.factories import AgentFactory, ManagerFactory, MessageFactory, TicketFactory
from tickets.models import Role, Status
from training.dashboard import queries

pytestmark = pytest.mark.django_db


def _ticket(first: float | None, resolution: float | None, met: bool | None, **fields):
    ticket = TicketFactory(**fields)
    TicketSla.objects.update_or_create(
        ticket=ticket,
        defaults={
            "first_response_minutes": first,
            "resolution_minutes": resolution,
            "first_response_met": met,
            "resolution_met": met if resolution is not None else None,
        },
    )
    return ticket


def test_times_are_median_and_p90_in_business_hours_and_attainment_is_of_decided_targets():
    for minutes in (30, 60, 90, 120, 600):
        _ticket(minutes, minutes * 2, minutes <= 120)
    _ticket(None, None, None)  # still waiting: not decided

    totals, _ = queries.sla_figures(timezone.now() - timedelta(days=1), weekly=False)

    assert totals["first_response"] == {"median_h": 1.5, "p90_h": 10.0}
    assert totals["resolution"] == {"median_h": 3.0, "p90_h": 20.0}
    assert totals["attainment"] == 0.8 and totals["measured"] == 10


def test_resolutions_count_the_ai_alone_apart_from_people():
    _ticket(1, 2, True, status=Status.RESOLVED)  # the assistant answered, nobody else
    by_people = _ticket(1, 2, True, status=Status.RESOLVED)
    MessageFactory(ticket=by_people, role=Role.AGENT, author=AgentFactory(), body="Done.")

    rows = queries.resolutions_over_time(timezone.now() - timedelta(days=1), weekly=False)

    assert [(r["ai"], r["people"]) for r in rows] == [(1, 1)]


def test_the_page_shows_the_service_levels(client):
    _ticket(45, 90, True, status=Status.RESOLVED)
    client.force_login(ManagerFactory())

    page = client.get(reverse("training:dashboard")).content.decode()

    assert 'id="service-levels"' in page and "0.8 h" in page
    assert "AI versus human resolution" in page
