"""The managers' dashboard page: who may see it, what it shows, what it costs."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from tests.factories import MessageFactory, TicketFactory
from tests.feedback.helpers import requester
from tickets import lifecycle
from tickets.models import EscalationReason, Role, Status, Ticket

pytestmark = pytest.mark.django_db


def _answered(days_ago: float = 0, escalated: str = "") -> Ticket:
    ticket = TicketFactory(requester=requester(), status=Status.ANSWERED)
    MessageFactory(ticket=ticket, role=Role.USER, body="q")
    MessageFactory(
        ticket=ticket, role=Role.ASSISTANT, author=None, confidence=0.9, passed_gate=True
    )
    back = timedelta(days=days_ago)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=F("created_at") - back)
    ticket.messages.update(created_at=F("created_at") - back)
    if escalated:
        ticket.escalated_at = timezone.now()
        ticket.escalation_reason = escalated
        ticket.save()
    return ticket


@pytest.fixture
def desk(settings):
    settings.AUTO_RESOLVE_QUIET_DAYS = 3
    settings.ASSISTANT_ENABLED = False  # a reopened ticket goes to people
    _answered(days_ago=1)  # still open
    _answered(days_ago=5)  # auto-resolved: quiet
    confirmed = _answered(days_ago=1)
    lifecycle.mark_solved(confirmed, confirmed.requester)
    lifecycle.post_user_message(confirmed, confirmed.requester, "It is back")  # reopened, escalated
    _answered(escalated=EscalationReason.LOW_CONFIDENCE)


def test_it_renders_figures_and_charts_for_managers_in_few_queries(
    client, manager, agent, desk, django_assert_max_num_queries
):
    client.force_login(manager)

    # A fixed count whatever the tickets: the figures, satisfaction's and the service levels'.
    with django_assert_max_num_queries(23):
        response = client.get(reverse("training:dashboard"), {"days": "30"})

    assert response.status_code == 200
    html = response.content.decode()
    # The five of tickets and confidence, satisfaction's CSAT over time, and the three of
    # the service levels.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 9
    assert "Low confidence" in html
    assert agent.username in html


def test_it_shows_the_reopen_rate_beside_the_auto_resolution_rate(client, manager, desk):
    client.force_login(manager)

    response = client.get(reverse("training:dashboard"), {"days": "30"})

    totals = response.context["totals"]
    assert (totals["auto"], totals["decided"], totals["still_open"]) == (1, 3, 1)
    html = response.content.decode()
    auto = _kpi(html, "kpi-auto")
    assert '<div class="value">33%</div>' in auto
    assert "auto-resolved (1 of 3; 1 still open)" in auto
    assert "no reply 3 days after the answer" in auto
    reopened = _kpi(html, "kpi-reopened")
    assert '<div class="value">25%</div>' in reopened  # 1 of 4 tickets
    next_kpi = html.index('<div class="kpi"', html.index('id="kpi-auto"'))
    assert next_kpi == html.index('<div class="kpi" id="kpi-reopened"')


def _kpi(html: str, kpi_id: str) -> str:
    """One figure's box, up to the next one's."""
    start = html.index(f'<div class="kpi" id="{kpi_id}"')
    return html[start : html.index('<div class="kpi"', start + 1)]


def test_it_is_for_managers_only(client, agent):
    client.force_login(agent)

    response = client.get(reverse("training:dashboard"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_is_linked_from_the_admin_index(client, manager):
    client.force_login(manager)

    response = client.get(reverse("admin:index"))

    assert reverse("training:dashboard") in response.content.decode()
