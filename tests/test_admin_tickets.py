"""The agents' workspace: queue, filters, conversation with drafts, replies, actions."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import AgentFactory, ModelVersionFactory, TicketFactory
from tickets import lifecycle
from tickets.models import (
    AgentProfile,
    CorrectionReason,
    EventKind,
    Message,
    Role,
    Status,
    Ticket,
)
from tickets.signals import agent_replied

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tickets_ticket_changelist")


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def _change_url(ticket: Ticket) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _escalated_with_draft(user) -> tuple[Ticket, Message]:
    """A ticket the assistant was unsure about: hidden draft kept, ticket with the agents."""
    version = ModelVersionFactory(name="smollm2-base")
    ticket = TicketFactory(requester=user, status=Status.AWAITING_ASSISTANT)
    Message.objects.create(ticket=ticket, author=user, role=Role.USER, body="Disk is full")
    draft = Message.objects.create(
        ticket=ticket,
        role=Role.ASSISTANT,
        body="Delete **system32**.",
        visible_to_user=False,
        model_version=version,
        confidence=0.31,
        passed_gate=False,
    )
    lifecycle.escalate(ticket, "low_confidence")
    return Ticket.objects.get(pk=ticket.pk), draft


# --- the queue ----------------------------------------------------------------


def test_it_shows_agents_every_ticket_in_the_queue(agent_client, user, agent):
    other = AgentFactory()
    TicketFactory(subject="Mine", assigned_to=agent, status=Status.ASSIGNED)
    TicketFactory(subject="Theirs", assigned_to=other, status=Status.ASSIGNED)
    TicketFactory(subject="Nobody's", status=Status.ESCALATED, escalation_reason="no_model")

    html = agent_client.get(CHANGELIST).content.decode()

    for subject in ("Mine", "Theirs", "Nobody&#x27;s"):
        assert subject in html
    assert "No model available" in html


def test_it_filters_the_queue_to_mine_and_to_unassigned(agent_client, agent):
    TicketFactory(subject="Mine", assigned_to=agent, status=Status.ASSIGNED)
    TicketFactory(subject="Unassigned one", status=Status.ESCALATED)

    mine = agent_client.get(CHANGELIST + "?assigned=me").content.decode()
    unassigned = agent_client.get(CHANGELIST + "?assigned=none").content.decode()

    assert "Mine" in mine and "Unassigned one" not in mine
    assert "Unassigned one" in unassigned and ">Mine<" not in unassigned


def test_it_searches_tickets_by_message_body(agent_client, user):
    lifecycle.open_ticket(user, "The projector in room 4 shows blue stripes", subject="Room 4")
    lifecycle.open_ticket(user, "My keyboard is sticky", subject="Keyboard")

    html = agent_client.get(CHANGELIST + "?q=blue+stripes").content.decode()

    assert "Room 4" in html
    assert "Keyboard" not in html


def test_it_offers_no_way_to_add_tickets_in_the_admin(agent_client):
    assert agent_client.get(reverse("admin:tickets_ticket_add")).status_code == 403


# --- the conversation and the reply box ----------------------------------------


def test_it_shows_hidden_drafts_marked_with_confidence_and_prefills_the_reply(agent_client, user):
    ticket, draft = _escalated_with_draft(user)

    html = agent_client.get(_change_url(ticket)).content.decode()

    assert "Disk is full" in html
    assert "Draft, not shown to user" in html
    assert "31% confidence" in html
    assert "Delete **system32**.</textarea>" in html  # the suggested reply, editable
    assert f'name="draft" value="{draft.pk}"' in html
    assert "Audit trail" in html and "escalated" in html


def test_it_starts_from_the_answer_the_agent_picks_as_draft(agent_client, user):
    ticket, _ = _escalated_with_draft(user)
    earlier = Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body="Try rebooting first.", passed_gate=True
    )

    html = agent_client.get(_change_url(ticket) + f"?draft={earlier.pk}").content.decode()

    assert "Try rebooting first.</textarea>" in html
    assert f'name="draft" value="{earlier.pk}"' in html


def test_it_sends_the_agents_reply_to_the_user_with_the_draft_and_reason(agent_client, agent, user):
    ticket, draft = _escalated_with_draft(user)
    heard = []
    agent_replied.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="admin-test")
    try:
        response = agent_client.post(
            reverse("admin:tickets_ticket_reply", args=[ticket.pk]),
            {"body": "Empty the Downloads folder.", "reason": "unsafe", "draft": draft.pk},
        )
    finally:
        agent_replied.disconnect(dispatch_uid="admin-test")

    reply = Message.objects.get(ticket=ticket, role=Role.AGENT)
    assert response.status_code == 302
    assert reply.author == agent and reply.visible_to_user
    assert reply.body == "Empty the Downloads folder."
    assert heard[0]["draft"] == draft and heard[0]["reason"] == "unsafe"
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == agent


def test_it_records_no_draft_when_the_agent_writes_from_scratch(agent_client, user):
    ticket = lifecycle.open_ticket(user, "Where is the VPN guide?")
    heard = []
    agent_replied.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="admin-test")
    try:
        agent_client.post(
            reverse("admin:tickets_ticket_reply", args=[ticket.pk]),
            {"body": "On the intranet.", "reason": "wrong", "draft": ""},
        )
    finally:
        agent_replied.disconnect(dispatch_uid="admin-test")

    assert heard[0]["draft"] is None
    assert heard[0]["reason"] == CorrectionReason.NO_DRAFT


def test_it_refuses_an_empty_reply_and_keeps_nothing(agent_client, user):
    ticket = lifecycle.open_ticket(user, "Where is the VPN guide?")

    response = agent_client.post(
        reverse("admin:tickets_ticket_reply", args=[ticket.pk]),
        {"body": " ", "reason": "no_draft"},
    )

    assert response.status_code == 302
    assert "Please write a message before sending." in _texts(response)
    assert not Message.objects.filter(ticket=ticket, role=Role.AGENT).exists()


def test_it_explains_that_a_closed_ticket_takes_no_reply(agent_client, user):
    ticket = lifecycle.open_ticket(user, "Where is the VPN guide?")
    lifecycle.close(ticket)

    response = agent_client.post(
        reverse("admin:tickets_ticket_reply", args=[ticket.pk]),
        {"body": "Late answer", "reason": "no_draft"},
        follow=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This ticket is closed: it takes no replies." in html
    assert "Late answer</textarea>" in html  # what the agent typed is not lost
    assert not Message.objects.filter(ticket=ticket, role=Role.AGENT).exists()


def test_it_refuses_get_on_the_reply_view(agent_client, user):
    ticket = lifecycle.open_ticket(user, "Where is the VPN guide?")

    assert (
        agent_client.get(reverse("admin:tickets_ticket_reply", args=[ticket.pk])).status_code == 405
    )


def test_it_keeps_status_read_only_in_the_change_form(agent_client, user):
    ticket = lifecycle.open_ticket(user, "Where is the VPN guide?")
    before = Ticket.objects.get(pk=ticket.pk).status

    agent_client.post(
        _change_url(ticket),
        {"subject": "VPN guide", "priority": 3, "category": "network", "status": "closed"},
    )

    ticket.refresh_from_db()
    assert ticket.subject == "VPN guide" and ticket.priority == 3
    assert ticket.status == before


# --- actions ------------------------------------------------------------------


def _act(client, action: str, tickets: list[Ticket], **extra: str):
    data = {"action": action, "_selected_action": [t.pk for t in tickets], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_it_lets_an_agent_take_a_ticket(agent_client, agent):
    ticket = TicketFactory(status=Status.ESCALATED)

    _act(agent_client, "take", [ticket])

    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.assigned_to == agent


def test_it_reassigns_to_the_chosen_agent(agent_client, agent):
    colleague = AgentFactory(username="colleague")
    ticket = TicketFactory(status=Status.ESCALATED)
    lifecycle.assign(ticket, agent)

    _act(agent_client, "reassign", [ticket], agent=str(colleague.pk))

    ticket.refresh_from_db()
    assert ticket.assigned_to == colleague
    assert ticket.events.filter(kind=EventKind.REASSIGNED, actor=agent).exists()


def test_it_asks_which_agent_when_reassigning_to_nobody(agent_client, agent):
    ticket = TicketFactory(status=Status.ESCALATED)

    response = _act(agent_client, "reassign", [ticket])

    assert "Choose the agent to reassign to." in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assigned_to is None


def test_it_resolves_and_closes_through_the_lifecycle(agent_client, agent):
    first, second = TicketFactory(status=Status.ESCALATED), TicketFactory(status=Status.ESCALATED)

    _act(agent_client, "resolve", [first])
    _act(agent_client, "close", [second])

    assert Ticket.objects.get(pk=first.pk).status == Status.RESOLVED
    assert Ticket.objects.get(pk=second.pk).status == Status.CLOSED
    assert first.events.filter(kind=EventKind.RESOLVED, actor=agent).exists()


def test_it_reports_an_illegal_transition_instead_of_failing(agent_client):
    closed = TicketFactory(status=Status.CLOSED)
    open_one = TicketFactory(status=Status.ESCALATED)

    response = _act(agent_client, "resolve", [closed, open_one])

    html = response.content.decode()
    assert response.status_code == 200
    assert f"#{closed.pk} is closed: it cannot be resolved." in html
    assert "1 ticket(s) resolved." in html
    assert Ticket.objects.get(pk=closed.pk).status == Status.CLOSED


def test_it_offers_the_same_transitions_as_buttons_on_the_ticket(agent_client, agent):
    ticket = TicketFactory(status=Status.ESCALATED)

    response = agent_client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk, "take"]))
    unknown = agent_client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk, "explode"]))

    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == agent
    assert unknown.status_code == 404


# --- availability and agents --------------------------------------------------------


def test_it_lets_agents_mark_themselves_away_and_back(agent_client, agent):
    url = reverse("admin:tickets_ticket_availability")

    agent_client.post(url, {"available": "0"})
    away = AgentProfile.objects.get(user=agent).available
    html = agent_client.get(CHANGELIST).content.decode()
    agent_client.post(url, {"available": "1"})

    assert away is False
    assert "You are away" in html
    assert AgentProfile.objects.get(user=agent).available is True


def test_it_gives_waiting_tickets_to_an_agent_who_becomes_available(
    django_capture_on_commit_callbacks, agent_client, agent, user
):
    agent_client.post(reverse("admin:tickets_ticket_availability"), {"available": "0"})
    ticket = lifecycle.open_ticket(user, "Nobody is around")
    assert Ticket.objects.get(pk=ticket.pk).assigned_to is None

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("admin:tickets_ticket_availability"), {"available": "1"})

    assert Ticket.objects.get(pk=ticket.pk).assigned_to == agent


def test_it_shows_agents_only_their_own_profile_and_managers_all(client, agent, manager):
    colleague = AgentFactory(username="colleague")
    url = reverse("admin:tickets_agentprofile_changelist")

    client.force_login(agent)
    as_agent = client.get(url).content.decode()
    client.force_login(manager)
    as_manager = client.get(url).content.decode()

    assert agent.username in as_agent and colleague.username not in as_agent
    assert agent.username in as_manager and colleague.username in as_manager


def test_it_lets_managers_see_every_ticket_and_mark_agents_away(client, manager, agent):
    TicketFactory(subject="Any ticket at all")
    client.force_login(manager)

    html = client.get(CHANGELIST).content.decode()
    client.post(
        reverse("admin:tickets_agentprofile_changelist"),
        {"action": "mark_away", "_selected_action": [agent.agent_profile.pk]},
    )

    assert "Any ticket at all" in html
    assert AgentProfile.objects.get(user=agent).available is False


def test_it_keeps_an_agents_profile_theirs_when_they_post_another_user(agent_client, agent, user):
    profile = agent.agent_profile
    url = reverse("admin:tickets_agentprofile_change", args=[profile.pk])

    agent_client.post(url, {"user": user.pk, "available": "on"})

    profile.refresh_from_db()
    assert profile.user == agent
    assert not AgentProfile.objects.filter(user=user).exists()


def test_it_shows_agents_their_profile_without_the_list_of_accounts(agent_client, agent, user):
    url = reverse("admin:tickets_agentprofile_change", args=[agent.agent_profile.pk])

    html = agent_client.get(url).content.decode()

    assert agent.username in html
    assert user.username not in html
    assert '<select name="user"' not in html


def test_it_keeps_agents_off_a_colleagues_profile(agent_client):
    colleague = AgentFactory(username="colleague")
    profile = colleague.agent_profile

    page = agent_client.get(reverse("admin:tickets_agentprofile_change", args=[profile.pk]))
    agent_client.post(
        reverse("admin:tickets_agentprofile_changelist"),
        {"action": "mark_away", "_selected_action": [profile.pk]},
    )

    assert page.status_code in (302, 404)
    assert AgentProfile.objects.get(pk=profile.pk).available is True


def test_it_offers_managers_only_staff_agents_without_a_profile_for_a_new_one(
    client, manager, agent, user
):
    newcomer = AgentFactory(username="newcomer")
    newcomer.agent_profile.delete()
    client.force_login(manager)

    html = client.get(reverse("admin:tickets_agentprofile_add")).content.decode()

    assert "newcomer" in html
    assert user.username not in html
    assert f'value="{agent.pk}"' not in html
