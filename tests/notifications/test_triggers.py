"""Who is told what: assignments, replies both ways and resolutions, never one's own action,
never an internal note or a hidden draft, and nothing that a person switched off."""

import pytest
from django.core import mail

from notifications import preferences
from notifications.models import Channel, Event, Notification
from tests.factories import AgentFactory, ManagerFactory
from tickets import lifecycle
from tickets.models import EscalationReason, Message, Role, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def told() -> list[tuple[str, str]]:
    """(recipient's username, event) of every notification, oldest first."""
    rows = Notification.objects.order_by("created_at", "pk")
    return [(n.recipient.username, n.event) for n in rows.select_related("recipient")]


def _assigned_ticket(user, agent, jobs_run_here):
    """A ticket escalated to `agent` by auto-assignment; what that said is cleared."""
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Printer jams")
    ticket.refresh_from_db()
    assert ticket.assigned_to == agent
    Notification.objects.all().delete()
    mail.outbox.clear()
    return ticket


# --- assignment ---------------------------------------------------------------


def test_auto_assignment_tells_the_agent(user, agent, jobs_run_here) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Printer jams")

    assert told() == [(agent.username, Event.TICKET_ASSIGNED)]
    notification = Notification.objects.get()
    assert notification.ticket == ticket
    assert [m.to for m in mail.outbox] == [[agent.email]]


def test_a_reassignment_by_a_manager_tells_both_agents(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    other, manager = AgentFactory(), ManagerFactory()
    with jobs_run_here():
        lifecycle.assign(ticket, other, actor=manager)

    assert told() == [(other.username, Event.TICKET_ASSIGNED), (agent.username, Event.TICKET_TAKEN)]
    assigned = Notification.objects.get(event=Event.TICKET_ASSIGNED)
    assert manager.username in assigned.body
    taken = Notification.objects.get(event=Event.TICKET_TAKEN)
    assert taken.title == f"No longer yours: #{ticket.pk} {ticket.subject}"
    assert other.username in taken.body and "no longer hold it" in taken.body


def test_taking_a_colleagues_ticket_tells_the_colleague_not_the_taker(
    user, agent, jobs_run_here
) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    taker = AgentFactory()
    with jobs_run_here():
        lifecycle.take(ticket, taker, confirmed_holder_id=agent.pk)

    assert told() == [(agent.username, Event.TICKET_TAKEN)]
    assert [m.to for m in mail.outbox] == [[agent.email]]


def test_handing_ones_own_ticket_to_a_colleague_tells_only_the_colleague(
    user, agent, jobs_run_here
) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    other = AgentFactory()
    with jobs_run_here():
        lifecycle.assign(ticket, other, actor=agent)

    assert told() == [(other.username, Event.TICKET_ASSIGNED)]


def test_taking_a_ticket_from_the_queue_tells_nobody(user, jobs_run_here) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Nobody is around")  # no agent: it waits
    taker = AgentFactory()
    ticket.refresh_from_db()
    assert ticket.assigned_to is None and ticket.status == Status.ESCALATED
    Notification.objects.all().delete()
    with jobs_run_here():
        ticket = lifecycle.take(ticket, taker)

    assert ticket.assigned_to == taker and told() == []


def test_replying_to_an_unassigned_ticket_makes_it_yours_without_telling_you(
    user, jobs_run_here
) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Nobody is around")  # no agent: it waits
        agent = AgentFactory()
        lifecycle.agent_reply(ticket, agent, "I have it.")

    assert told() == [(user.username, Event.AGENT_REPLIED)]


# --- replies --------------------------------------------------------------------


def test_the_users_reply_tells_the_agent_who_holds_the_ticket(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    with jobs_run_here():
        lifecycle.post_user_message(ticket, user, "It jams on page two as well")

    assert told() == [(agent.username, Event.USER_REPLIED)]
    assert "page two" in Notification.objects.get().body
    assert mail.outbox[0].to == [agent.email]


def test_a_reply_on_a_resolved_ticket_reopens_it_and_tells_its_agent(
    user, agent, jobs_run_here
) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    lifecycle.resolve(ticket, user)
    with jobs_run_here():
        lifecycle.post_user_message(ticket, user, "It is back")

    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert told() == [(agent.username, Event.USER_REPLIED)]


def test_the_users_first_message_is_no_reply(user, agent, jobs_run_here) -> None:
    with jobs_run_here():
        lifecycle.open_ticket(user, "Printer jams")

    assert Event.USER_REPLIED not in [event for _, event in told()]


def test_a_message_on_a_ticket_nobody_holds_tells_nobody(user, jobs_run_here) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Nobody is around")
        lifecycle.post_user_message(ticket, user, "Hello?")

    assert told() == []


def test_the_agents_reply_tells_the_requester(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    agent.first_name = "Bob"
    agent.save()
    with jobs_run_here():
        lifecycle.agent_reply(ticket, agent, "Open the tray and pull the sheet out.")

    assert told() == [(user.username, Event.AGENT_REPLIED)]
    notification = Notification.objects.get()
    assert "Bob wrote: Open the tray" in notification.body
    assert notification.link == ticket.get_absolute_url()
    assert mail.outbox[0].to == [user.email]


def test_internal_notes_and_hidden_messages_tell_the_requester_nothing(
    user, agent, jobs_run_here
) -> None:
    from notifications.receivers import tell_requester_of_reply

    ticket = _assigned_ticket(user, agent, jobs_run_here)
    note_role = getattr(Role, "NOTE", Role.AGENT)  # the workspace's notes, where they exist
    note = Message.objects.create(
        ticket=ticket, author=agent, role=note_role, body="User is rude", visible_to_user=False
    )
    draft = Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body="Draft", visible_to_user=False
    )
    with jobs_run_here():
        for message in (note, draft):
            tell_requester_of_reply(message.pk)

    assert told() == []
    assert mail.outbox == []


def test_an_agent_who_is_also_the_requester_is_not_told_of_their_own_messages(
    agent, jobs_run_here
) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(agent, "My own laptop")  # auto-assigned to its requester
        lifecycle.agent_reply(ticket, agent, "Fixed it myself")
        lifecycle.post_user_message(ticket, agent, "Thanks, me")

    # The assignment was the system's doing; the messages were their own.
    assert told() == [(agent.username, Event.TICKET_ASSIGNED)]


# --- resolution -------------------------------------------------------------------


def test_an_agent_resolving_tells_the_requester(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    with jobs_run_here():
        lifecycle.resolve(ticket, agent)

    assert told() == [(user.username, Event.TICKET_RESOLVED)]
    assert mail.outbox[0].to == [user.email]


def test_the_user_marking_it_solved_is_not_told(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    with jobs_run_here():
        lifecycle.mark_solved(ticket, user)

    assert told() == []


def test_each_resolution_is_its_own_occasion(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    with jobs_run_here():
        lifecycle.resolve(ticket, agent)
        lifecycle.post_user_message(ticket, user, "Back again")
        lifecycle.resolve(ticket, agent)

    resolved = [event for who, event in told() if who == user.username]
    assert resolved == [Event.TICKET_RESOLVED, Event.TICKET_RESOLVED]


# --- preferences and roll-backs ------------------------------------------------------


def test_a_switched_off_event_sends_nothing(user, agent, jobs_run_here) -> None:
    ticket = _assigned_ticket(user, agent, jobs_run_here)
    for channel in Channel:
        preferences.choose(user, Event.AGENT_REPLIED, channel, False)
    preferences.choose(agent, Event.USER_REPLIED, Channel.EMAIL, False)
    with jobs_run_here():
        lifecycle.agent_reply(ticket, agent, "Try this")
        lifecycle.post_user_message(ticket, user, "Did not work")

    assert told() == [(agent.username, Event.USER_REPLIED)]  # in the bell only
    assert mail.outbox == []


def test_a_rolled_back_change_tells_nobody(user, agent, jobs_run_here) -> None:
    from django.db import transaction

    ticket = _assigned_ticket(user, agent, jobs_run_here)
    with jobs_run_here(), pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.agent_reply(ticket, agent, "Sent, then undone")
        raise RuntimeError

    assert told() == []


def test_escalation_without_an_agent_tells_no_agent(user, jobs_run_here) -> None:
    with jobs_run_here():
        ticket = lifecycle.open_ticket(user, "Printer jams")
        lifecycle.escalate(ticket, EscalationReason.USER_REQUEST, actor=user)

    assert told() == []
