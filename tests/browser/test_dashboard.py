"""A manager opens the dashboard in a real browser: figures, five charts, versions."""

import random

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import MessageFactory, ModelVersionFactory, TicketFactory
from tickets.models import EscalationReason, MessageRating, Role
from training.models import ShadowComparison

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed_desk(user, agent) -> None:
    rng = random.Random(3)
    reasons = [EscalationReason.LOW_CONFIDENCE, EscalationReason.USER_REQUEST]
    for i in range(40):
        ticket = TicketFactory(requester=user, subject=f"Issue {i}")
        confidence = rng.random()
        passed = confidence >= 0.5
        answer = MessageFactory(
            ticket=ticket,
            role=Role.ASSISTANT,
            author=None,
            confidence=confidence,
            passed_gate=passed,
            visible_to_user=passed,
        )
        if not passed or i % 7 == 0:
            ticket.escalated_at = timezone.now()
            ticket.escalation_reason = reasons[i % 2] if passed else reasons[0]
            ticket.assigned_to = agent
            ticket.save()
            MessageFactory(ticket=ticket, role=Role.AGENT, author=agent, body="On it")
        elif i % 3 == 0:
            MessageRating.objects.create(message=answer, user=user, helpful=confidence > 0.7)
    active = ModelVersionFactory(name="smollm2-base")
    active.make_default()
    candidate = ModelVersionFactory(name="smollm2-retrain-1")
    ShadowComparison.objects.create(
        candidate=candidate,
        active=active,
        candidate_not_worse=True,
        report={"candidate": {"similarity_mean": 0.71}, "active": {"similarity_mean": 0.64}},
    )


def test_it_shows_the_managers_dashboard_with_charts(
    live_server, browser_page, manager, user, agent
):
    _seed_desk(user, agent)

    page = sign_in(browser_page, live_server, manager.username, next_path="/manage/dashboard/")

    expect(page.locator("#kpi-tickets .value")).to_have_text("40")
    expect(page.locator(".dashboard-card svg[role=img]")).to_have_count(9)
    expect(page.locator("#chart-reasons")).to_contain_text("Low confidence")
    expect(page.locator("#workload")).to_contain_text(agent.username)
    expect(page.locator("#versions")).to_contain_text("not worse than smollm2-base")
    assert page.locator("#chart-gate rect").count() > 5
    save_screenshot(page, "managers_dashboard")
