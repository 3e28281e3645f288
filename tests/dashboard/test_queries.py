"""The dashboard's figures: outcomes of tickets, confidence of answers, calibration."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from tests.factories import AgentFactory, MessageFactory, TicketFactory
from tests.feedback.helpers import requester
from tickets import lifecycle
from tickets.models import EscalationReason, MessageRating, Role, Status, Ticket
from training.dashboard.queries import (
    calibration,
    confidence_distribution,
    outcome_totals,
    over_time,
)

pytestmark = pytest.mark.django_db

QUIET_DAYS = 3


@pytest.fixture(autouse=True)
def quiet_days(settings):
    settings.AUTO_RESOLVE_QUIET_DAYS = QUIET_DAYS


def _month() -> timezone.datetime:
    return timezone.now() - timedelta(days=30)


def _answered_ticket(days_ago: float = 0) -> Ticket:
    """A question and the assistant's answer, `days_ago` days ago; nobody has spoken since."""
    ticket = TicketFactory(requester=requester(), status=Status.ANSWERED)
    MessageFactory(ticket=ticket, role=Role.USER, body="My VPN drops every hour")
    MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Renew the certificate",
        confidence=0.9,
        passed_gate=True,
    )
    _move_back(ticket, days_ago)
    return ticket


def _move_back(ticket: Ticket, days: float) -> None:
    back = timedelta(days=days)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=F("created_at") - back)
    ticket.messages.update(created_at=F("created_at") - back)


# --- auto-resolution -----------------------------------------------------------------------


def test_it_counts_only_confirmed_or_long_quiet_tickets_as_auto_resolved():
    # given
    _answered_ticket(days_ago=1)  # abandoned, or the user is still trying the answer
    _answered_ticket(days_ago=QUIET_DAYS + 1)
    confirmed = _answered_ticket(days_ago=1)
    lifecycle.mark_solved(confirmed, confirmed.requester)
    escalated = _answered_ticket(days_ago=QUIET_DAYS + 1)
    lifecycle.escalate(escalated, EscalationReason.USER_REQUEST, actor=escalated.requester)

    # when
    totals = outcome_totals(_month())

    # then
    assert totals["total"] == 4
    assert totals["auto"] == 2
    assert totals["still_open"] == 1
    assert totals["decided"] == 3
    assert totals["auto_rate"] == pytest.approx(2 / 3)
    assert totals["escalated"] == 1


def test_it_leaves_a_recent_answer_without_reply_open_neither_solved_nor_failed():
    _answered_ticket(days_ago=QUIET_DAYS - 1)

    totals = outcome_totals(_month())

    assert totals["auto"] == 0
    assert totals["still_open"] == 1
    assert totals["auto_rate"] is None  # nothing decided yet


def test_it_leaves_a_ticket_waiting_for_its_first_answer_open():
    ticket = TicketFactory(requester=requester(), status=Status.AWAITING_ASSISTANT)
    MessageFactory(ticket=ticket, role=Role.USER, body="My VPN drops every hour")
    _move_back(ticket, QUIET_DAYS + 1)

    totals = outcome_totals(_month())

    assert (totals["auto"], totals["still_open"]) == (0, 1)


def test_it_counts_an_answer_once_the_user_stayed_quiet_for_the_configured_days(settings):
    _answered_ticket(days_ago=QUIET_DAYS + 1)
    settings.AUTO_RESOLVE_QUIET_DAYS = QUIET_DAYS + 2

    before = outcome_totals(_month())
    settings.AUTO_RESOLVE_QUIET_DAYS = QUIET_DAYS

    after = outcome_totals(_month())

    assert (before["auto"], before["still_open"]) == (0, 1)
    assert (after["auto"], after["still_open"]) == (1, 0)


def test_it_counts_a_confirmation_at_once():
    ticket = _answered_ticket(days_ago=0)

    lifecycle.mark_solved(ticket, ticket.requester)

    assert outcome_totals(_month())["auto"] == 1


def test_it_does_not_take_a_reply_after_the_answer_for_quiet():
    ticket = _answered_ticket(days_ago=QUIET_DAYS + 1)
    MessageFactory(ticket=ticket, role=Role.USER, body="Still drops")
    Ticket.objects.filter(pk=ticket.pk).update(status=Status.AWAITING_ASSISTANT)

    totals = outcome_totals(_month())

    assert totals["auto"] == 0
    assert totals["still_open"] == 1  # the assistant has the next word


def test_it_does_not_count_a_ticket_an_agent_resolved_as_auto_resolved():
    ticket = _answered_ticket(days_ago=QUIET_DAYS + 1)

    lifecycle.resolve(ticket, AgentFactory())

    totals = outcome_totals(_month())
    assert totals["auto"] == 0
    assert totals["still_open"] == 0
    assert totals["auto_rate"] == 0.0


def test_it_does_not_count_an_agent_reply_as_the_assistant_s_work():
    ticket = _answered_ticket(days_ago=QUIET_DAYS + 1)
    MessageFactory(ticket=ticket, role=Role.AGENT, author=AgentFactory(), body="Done it")

    assert outcome_totals(_month())["auto"] == 0


def test_it_no_longer_counts_a_confirmed_ticket_once_reopened_and_shows_the_reopen_rate():
    ticket = _answered_ticket(days_ago=1)
    lifecycle.mark_solved(ticket, ticket.requester)
    _answered_ticket(days_ago=1)

    lifecycle.post_user_message(ticket, ticket.requester, "It came back")

    totals = outcome_totals(_month())
    assert totals["auto"] == 0
    assert totals["reopened_count"] == 1
    assert totals["reopen_rate"] == pytest.approx(0.5)


def test_it_counts_auto_resolved_tickets_over_time_by_the_same_rule():
    _answered_ticket(days_ago=1)
    _answered_ticket(days_ago=QUIET_DAYS + 1)

    timeline = over_time(_month(), weekly=False)

    assert [row["total"] for row in timeline] == [1, 1]
    assert [row["auto"] for row in timeline] == [1, 0]  # oldest day first


# --- confidence ----------------------------------------------------------------------------


def _scored(confidence=0.9, passed=True, escalated=None, helpful=None):
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
    if helpful is not None:
        MessageRating.objects.create(message=answer, user=ticket.requester, helpful=helpful)
    return ticket


@pytest.fixture
def desk():
    _scored(0.95, helpful=True)
    _scored(0.91, helpful=False)
    _scored(0.85)
    _scored(0.3, passed=False, escalated=EscalationReason.LOW_CONFIDENCE)
    _scored(0.92, escalated=EscalationReason.USER_REQUEST)


def test_it_splits_confidence_by_gate_and_thumbs(desk):
    series = confidence_distribution(timezone.now() - timedelta(days=1))

    assert series["passed"][9] == 3  # 0.95, 0.91, 0.92
    assert series["passed"][8] == 1
    assert series["escalated"][3] == 1
    assert series["thumbs_up"][9] == 1 and series["thumbs_down"][9] == 1


def test_it_reports_thumbs_up_and_not_escalated_shares_per_bin(desk):
    table = {row["bin"]: row for row in calibration(timezone.now() - timedelta(days=1))}

    top = table["0.9–1.0"]
    assert top["answers"] == 3
    assert top["thumbs_up"] == pytest.approx(0.5)
    # The 0.92 answer came before its ticket was escalated by the user.
    assert top["not_escalated"] == pytest.approx(2 / 3)
