"""Collision detection: who else has the ticket open (Redis, with a TTL, failing soft), replies
and notes refused from a stale page with what changed and the text kept, takeovers confirmed."""

import time

import pytest
import redis
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.workspace.conftest import change_url, reply_form, reply_url
from tickets import lifecycle, presence
from tickets.collision import PageStamp, changes_since
from tickets.models import EventKind, Message, Role, Status, Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tickets_ticket_changelist")


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- stale views -------------------------------------------------------------------------


def test_a_reply_from_a_page_older_than_the_users_new_message_is_refused_and_kept(
    agent_client, user, ticket
):
    form = reply_form(agent_client, ticket)
    lifecycle.post_user_message(ticket, user, "Also Teams disconnects")

    response = agent_client.post(reply_url(ticket), {**form, "body": "Reinstall the VPN."})

    assert response.status_code == 302 and response["Location"].endswith("#reply")
    assert "Not sent: the ticket changed since you opened it" in _texts(response)[0]
    assert not Message.objects.filter(ticket=ticket, role=Role.AGENT).exists()
    page = agent_client.get(change_url(ticket)).content.decode()
    assert "Not sent." in page
    assert f"{user.username} (the user) wrote again" in page
    assert "Reinstall the VPN.</textarea>" in page  # the agent's text is kept


def test_the_kept_text_sends_from_the_reloaded_page(agent_client, user, ticket):
    stale = reply_form(agent_client, ticket)
    lifecycle.post_user_message(ticket, user, "Also Teams disconnects")
    agent_client.post(reply_url(ticket), {**stale, "body": "Reinstall the VPN."})

    fresh = reply_form(agent_client, ticket)  # the page after the refusal
    response = agent_client.post(reply_url(ticket), fresh)

    assert "Reply sent" in _texts(response)[0]
    assert Message.objects.get(ticket=ticket, role=Role.AGENT).body == "Reinstall the VPN."


def test_the_second_of_two_agents_replying_from_the_same_page_is_stopped(
    colleague_client, agent_client, ticket
):
    client = colleague_client
    mine, theirs = reply_form(agent_client, ticket), reply_form(client, ticket)

    agent_client.post(reply_url(ticket), {**mine, "body": "Restart the VPN."})
    client.post(reply_url(ticket), {**theirs, "body": "Reinstall the VPN."})

    assert list(Message.objects.filter(role=Role.AGENT).values_list("body", flat=True)) == [
        "Restart the VPN."
    ]
    page = client.get(change_url(ticket)).content.decode()
    assert "replied to the user" in page and "Reinstall the VPN.</textarea>" in page


def test_a_second_send_of_the_same_page_says_it_twice_never(agent_client, ticket):
    form = {**reply_form(agent_client, ticket), "body": "Restart the VPN."}

    agent_client.post(reply_url(ticket), form)
    agent_client.post(reply_url(ticket), form)

    assert Message.objects.filter(ticket=ticket, role=Role.AGENT).count() == 1


def test_a_note_from_a_stale_page_is_refused_too(agent_client, colleague, ticket):
    form = reply_form(agent_client, ticket)
    lifecycle.take(ticket, colleague, confirmed_holder_id=ticket.assigned_to_id)

    agent_client.post(reply_url(ticket), {**form, "body": "Called them", "send": "note"})

    assert not Message.objects.filter(ticket=ticket, role=Role.NOTE).exists()
    page = agent_client.get(change_url(ticket)).content.decode()
    assert "carol took the ticket." in page and "Called them</textarea>" in page


def test_what_changed_lists_people_holders_and_status_not_drafts(agent, colleague, user, ticket):
    stamp = PageStamp.of(ticket)
    Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="d", visible_to_user=False)
    Message.objects.create(ticket=ticket, role=Role.SYSTEM, body="hand-off")
    assert changes_since(ticket, stamp, agent) == []

    lifecycle.add_note(ticket, colleague, "I know this user")
    lifecycle.take(ticket, colleague, confirmed_holder_id=agent.pk)
    lifecycle.resolve(ticket, colleague)
    texts = [c.text for c in changes_since(Ticket.objects.get(pk=ticket.pk), stamp, agent)]

    assert texts[0].startswith("carol added an internal note at")
    assert texts[1:] == ["carol took the ticket.", "The ticket is now resolved."]


def test_a_form_without_what_the_page_showed_is_not_checked(agent_client, user, ticket):
    lifecycle.post_user_message(ticket, user, "Hello?")

    agent_client.post(reply_url(ticket), {"body": "Here.", "reason": "no_draft"})

    assert Message.objects.filter(ticket=ticket, role=Role.AGENT).exists()


# --- take and takeovers -------------------------------------------------------------------


def test_take_on_a_colleagues_ticket_asks_first_and_takes_nothing(agent_client, colleague, ticket):
    lifecycle.take(ticket, colleague, confirmed_holder_id=ticket.assigned_to_id)

    response = agent_client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk, "take"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Take over from a colleague?" in html and "held by <strong" in html and "carol" in html
    assert f'name="holder" value="{colleague.pk}"' in html
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == colleague


def test_a_confirmed_takeover_moves_it_and_names_the_previous_holder(
    agent_client, agent, colleague, ticket
):
    lifecycle.take(ticket, colleague, confirmed_holder_id=agent.pk)

    response = agent_client.post(
        reverse("admin:tickets_ticket_act", args=[ticket.pk, "take"]), {"holder": colleague.pk}
    )

    assert "Ticket taken over from carol." in _texts(response)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == agent
    event = ticket.events.filter(kind=EventKind.TAKEN_OVER).last()
    assert event.actor == agent and event.note == f"from carol to {agent.username}"


def test_a_takeover_confirmed_for_someone_who_no_longer_holds_it_asks_again(
    agent, colleague, ticket
):
    from tests.factories import AgentFactory

    lifecycle.take(ticket, colleague, confirmed_holder_id=agent.pk)
    confirmed_for = colleague.pk
    dave = AgentFactory(username="dave")
    lifecycle.take(ticket, dave, confirmed_holder_id=colleague.pk)

    with pytest.raises(lifecycle.HeldByAnother):
        lifecycle.take(ticket, agent, confirmed_holder_id=confirmed_for)
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == dave


def test_the_changelist_take_asks_before_taking_from_colleagues(agent_client, agent, colleague):
    from tests.factories import TicketFactory

    free = TicketFactory(status=Status.ESCALATED)
    held = lifecycle.assign(TicketFactory(status=Status.ESCALATED), colleague)
    data = {"action": "take", "_selected_action": [free.pk, held.pk]}

    asked = agent_client.post(CHANGELIST, data)
    assert asked.status_code == 200 and "Take over from a colleague?" in asked.content.decode()
    assert Ticket.objects.get(pk=free.pk).assigned_to is None  # nothing taken yet
    assert Ticket.objects.get(pk=held.pk).assigned_to == colleague

    confirmed = {**data, "confirm_takeover": "yes", f"holder_{held.pk}": str(colleague.pk)}
    agent_client.post(CHANGELIST, confirmed)

    assert {t.assigned_to for t in Ticket.objects.filter(pk__in=[free.pk, held.pk])} == {agent}
    assert held.events.filter(kind=EventKind.TAKEN_OVER, actor=agent).exists()


def test_the_changelist_take_of_free_tickets_needs_no_confirmation(agent_client, agent):
    from tests.factories import TicketFactory

    free = TicketFactory(status=Status.ESCALATED)

    agent_client.post(CHANGELIST, {"action": "take", "_selected_action": [free.pk]})

    assert Ticket.objects.get(pk=free.pk).assigned_to == agent


# --- presence -------------------------------------------------------------------------------


def test_each_agent_on_the_ticket_sees_the_other(
    redis_url, colleague_client, agent_client, agent, ticket
):
    agent_client.get(change_url(ticket))
    theirs = colleague_client.get(change_url(ticket)).content.decode()
    mine = agent_client.post(
        reverse("admin:tickets_ticket_presence", args=[ticket.pk]), headers={"HX-Request": "true"}
    ).content.decode()

    assert f'Also open by <strong class="ws-viewer">{agent.username}</strong>' in theirs
    assert '<strong class="ws-viewer">carol</strong>' in mine


def test_presence_expires_with_its_ttl(redis_url, settings, agent, colleague, ticket):
    store = redis.Redis.from_url(redis_url)
    key = f"helpdesk:presence:ticket:{ticket.pk}"
    presence.beat(ticket.pk, colleague)

    assert 0 < store.ttl(key) <= settings.PRESENCE_TTL_S
    assert presence.beat(ticket.pk, agent) == [colleague]
    # Carol's page stopped beating: her presence has run out.
    store.zadd(key, {str(colleague.pk): time.time() - 1})
    assert presence.beat(ticket.pk, agent) == []


def test_the_heartbeat_says_when_the_ticket_changed_since_the_page_loaded(
    redis_url, agent_client, user, ticket
):
    stamp = PageStamp.of(ticket).as_initial()
    lifecycle.post_user_message(ticket, user, "Any news?")

    html = agent_client.post(
        reverse("admin:tickets_ticket_presence", args=[ticket.pk]),
        stamp,
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "Changed since you opened this page" in html and "wrote again" in html
    assert 'hx-trigger="every 10s"' in html  # and it keeps beating


def test_the_ticket_page_works_when_redis_is_down(agent_client, ticket):
    # This module's default: presence points at a Redis nobody runs.
    response = agent_client.get(change_url(ticket))

    assert response.status_code == 200
    assert "Cannot tell right now who else has this ticket open." in response.content.decode()
    assert presence.beat(ticket.pk, ticket.assigned_to) is None
