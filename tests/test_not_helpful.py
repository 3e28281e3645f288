"""A thumbs-down asks "Get a person?"; yes escalates with the reason that the answer failed."""

import pytest
from django.urls import reverse

from tests.factories import MessageFactory, TicketFactory
from tickets.models import EscalationReason, MessageRating, Role, Status, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(user):
    ticket = TicketFactory(requester=user, status=Status.ANSWERED)
    answer = MessageFactory(
        ticket=ticket, role=Role.ASSISTANT, body="Try rebooting.", visible_to_user=True
    )
    return ticket, answer


def test_a_thumbs_down_offers_a_person(client, user, answered):
    ticket, answer = answered
    client.force_login(user)

    up = client.post(
        reverse("tickets:rate_message", args=[ticket.pk, answer.pk]),
        {"helpful": "1"},
        HTTP_HX_REQUEST="true",
    )
    down = client.post(
        reverse("tickets:rate_message", args=[ticket.pk, answer.pk]),
        {"helpful": "0"},
        HTTP_HX_REQUEST="true",
    )

    assert "Get a person?" not in up.content.decode()
    assert "Get a person?" in down.content.decode()
    assert MessageRating.objects.get().helpful is False


def test_yes_escalates_with_the_reason_it_did_not_help(client, user, answered):
    ticket, answer = answered
    client.force_login(user)

    client.post(reverse("tickets:ask_for_human", args=[ticket.pk]), {"because": "not_helpful"})

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status in (Status.ESCALATED, Status.ASSIGNED)
    assert ticket.escalation_reason == EscalationReason.NOT_HELPFUL


def test_the_plain_button_keeps_its_own_reason(client, user, answered):
    ticket, _ = answered
    client.force_login(user)

    client.post(reverse("tickets:ask_for_human", args=[ticket.pk]))

    assert Ticket.objects.get(pk=ticket.pk).escalation_reason == EscalationReason.USER_REQUEST


def test_every_escalation_reason_has_its_hand_off_message():
    from tickets.lifecycle import HANDOFF_MESSAGES

    assert set(HANDOFF_MESSAGES) == set(EscalationReason)
