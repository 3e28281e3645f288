import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import MessageFactory, TicketFactory
from tests.feedback.helpers import requester
from tickets.models import EscalationReason, MessageRating, Role, Status, TicketEvent
from training.dashboard.views import calibration, confidence_distribution, outcome_totals

pytestmark = pytest.mark.django_db


def _answered(confidence=0.9, passed=True, escalated=None, reopened=False, helpful=None):
    ticket = TicketFactory(requester=requester())
    MessageFactory(ticket=ticket, role=Role.USER, body="q")
    answer = MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        visible_to_user=passed,
        confidence=confidence,
        passed_gate=passed,
    )
    if escalated:
        ticket.escalated_at = timezone.now()
        ticket.escalation_reason = escalated
        ticket.save()
    if reopened:
        TicketEvent.objects.create(ticket=ticket, kind="status", to_status=Status.REOPENED)
    if helpful is not None:
        MessageRating.objects.create(message=answer, user=ticket.requester, helpful=helpful)
    return ticket


@pytest.fixture
def desk():
    _answered(0.95, helpful=True)
    _answered(0.91, helpful=False, reopened=True)
    _answered(0.85)
    _answered(0.3, passed=False, escalated=EscalationReason.LOW_CONFIDENCE)
    _answered(0.92, escalated=EscalationReason.USER_REQUEST)


def test_auto_resolution_counts_answered_tickets_never_escalated_nor_reopened(desk):
    totals = outcome_totals(timezone.now() - timezone.timedelta(days=1))

    assert totals["total"] == 5
    assert totals["auto"] == 2
    assert totals["auto_rate"] == pytest.approx(0.4)
    assert totals["escalated"] == 2


def test_confidence_is_split_by_gate_and_thumbs(desk):
    series = confidence_distribution(timezone.now() - timezone.timedelta(days=1))

    assert series["passed"][9] == 3  # 0.95, 0.91, 0.92
    assert series["passed"][8] == 1
    assert series["escalated"][3] == 1
    assert series["thumbs_up"][9] == 1 and series["thumbs_down"][9] == 1


def test_calibration_reports_thumbs_up_and_not_escalated_shares(desk):
    table = {row["bin"]: row for row in calibration(timezone.now() - timezone.timedelta(days=1))}

    top = table["0.9–1.0"]
    assert top["answers"] == 3
    assert top["thumbs_up"] == pytest.approx(0.5)
    # The 0.92 answer came before its ticket was escalated by the user.
    assert top["not_escalated"] == pytest.approx(2 / 3)


def test_the_page_renders_charts_for_managers_in_few_queries(
    client, manager, agent, desk, django_assert_max_num_queries
):
    client.force_login(manager)

    with django_assert_max_num_queries(20):
        response = client.get(reverse("training:dashboard"), {"days": "30"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" viewBox') == 5
    assert "Low confidence" in html
    assert agent.username in html


def test_the_page_is_for_managers_only(client, agent):
    client.force_login(agent)

    response = client.get(reverse("training:dashboard"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_the_dashboard(client, manager):
    client.force_login(manager)

    response = client.get(reverse("admin:index"))

    assert reverse("training:dashboard") in response.content.decode()
