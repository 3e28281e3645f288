"""Internal notes: written from the ticket page, seen by the desk, and by nobody and nothing
on the user's side (portal page and poll, ticket list, the model's prompts, training
examples, exports, solved cases, the gate's labels)."""

import pytest
from django.db import IntegrityError
from django.urls import reverse

from knowledge.models import SolvedCase
from notifications.models import Event, Notification
from tests.factories import MessageFactory
from tests.workspace.conftest import change_url, reply_form, reply_url
from tickets import lifecycle
from tickets.answering import conversation_for
from tickets.models import AnswerRequest, EventKind, Message, Role, Ticket
from tickets.signals import agent_replied
from training.feedback.export import ExportFilters, export_examples
from training.models import ReviewState, TrainingExample

pytestmark = pytest.mark.django_db

SECRET = "NOTE-ONLY: the user's manager asked us to wipe this laptop"


def _note(client, ticket: Ticket, body: str = SECRET):
    return client.post(
        reply_url(ticket), {**reply_form(client, ticket), "body": body, "send": "note"}
    )


def test_it_adds_a_note_from_the_ticket_page_for_the_desk_only(agent_client, agent, ticket):
    heard = []
    agent_replied.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="note-test")
    updated_at = ticket.updated_at
    try:
        response = _note(agent_client, ticket)
    finally:
        agent_replied.disconnect(dispatch_uid="note-test")

    note = Message.objects.get(ticket=ticket, role=Role.NOTE)
    assert response.status_code == 302
    assert note.author == agent and note.visible_to_user is False and note.body == SECRET
    assert ticket.events.filter(kind=EventKind.NOTE, actor=agent).exists()
    assert heard == []  # no training example, no "agent replied" to the user
    # Not even the order of the user's ticket list moves.
    assert Ticket.objects.get(pk=ticket.pk).updated_at == updated_at


def test_it_shows_notes_marked_to_agents_and_managers(agent_client, manager, ticket):
    from django.test import Client

    _note(agent_client, ticket)

    client = Client()
    client.force_login(manager)
    for page in (agent_client.get(change_url(ticket)), client.get(change_url(ticket))):
        html = page.content.decode()
        assert "NOTE-ONLY" in html
        assert "Internal note: agents and managers only" in html
        assert 'class="ws-msg ws-note ws-hidden' in html


def test_the_reply_box_offers_a_reply_and_a_note(agent_client, ticket):
    html = agent_client.get(change_url(ticket)).content.decode()

    assert 'name="send" value="reply"' in html and "Send reply" in html
    assert 'name="send" value="note"' in html and "Add internal note" in html


def test_closed_tickets_take_notes_but_no_replies(agent_client, ticket):
    lifecycle.close(ticket)

    _note(agent_client, ticket, "Closed after the user left the company")

    assert Message.objects.filter(ticket=ticket, role=Role.NOTE).count() == 1


def test_the_database_refuses_a_note_visible_to_the_user(ticket, agent):
    with pytest.raises(IntegrityError):
        Message.objects.create(ticket=ticket, author=agent, role=Role.NOTE, body="x")


def test_a_note_reaches_nothing_on_the_users_side(
    client, agent, user, ticket, tmp_path, django_capture_on_commit_callbacks
):
    """One conversation with a note in the middle, then every place the user's side reads."""
    with django_capture_on_commit_callbacks(execute=True):  # notifications go after commit
        lifecycle.add_note(ticket, agent, SECRET)
        lifecycle.agent_reply(ticket, agent, "Please restart the VPN client.")
        question = lifecycle.post_user_message(ticket, user, "Still drops after a restart")
        lifecycle.resolve(ticket, agent)

    # The user's notifications (in the bell and by e-mail): the reply and the resolution.
    told = Notification.objects.filter(recipient=user)
    assert sorted(told.values_list("event", flat=True)) == [
        Event.AGENT_REPLIED,
        Event.TICKET_RESOLVED,
    ]
    assert all("NOTE-ONLY" not in f"{n.title} {n.body} {n.context}" for n in told)

    # The portal: the chat page, its poll from the start, the list of tickets.
    client.force_login(user)
    pages = [
        client.get(reverse("tickets:detail", args=[ticket.pk])),
        client.get(
            reverse("tickets:conversation", args=[ticket.pk]) + "?after=0&seen=0&state=x",
            headers={"HX-Request": "true"},
        ),
        client.get(reverse("tickets:list")),
    ]
    for page in pages:
        assert page.status_code in (200, 286)  # the poll of a resolved chat also ends it
        assert "NOTE-ONLY" not in page.content.decode()
    for chat in pages[:2]:
        assert "Please restart" in chat.content.decode()  # they do show the conversation

    # The model's prompts: the chat turns and a draft's conversation for a held ticket.
    request = AnswerRequest.objects.create(ticket=ticket, question=question)
    for turns in (Message.objects.filter(ticket=ticket).as_chat(), conversation_for(request)):
        assert all("NOTE-ONLY" not in turn["content"] for turn in turns)
        assert [t["content"] for t in turns][-1] == "Still drops after a restart"

    # Training: the example of the agent's reply, the solved case of the resolved ticket,
    # and an export of the approved example.
    example = TrainingExample.objects.get(ticket=ticket)
    assert SECRET not in f"{example.context} {example.question} {example.correction}"
    cases = list(SolvedCase.objects.filter(ticket=ticket).values_list("question", "answer"))
    assert cases and all("NOTE-ONLY" not in f"{q} {a}" for q, a in cases)
    TrainingExample.objects.filter(pk=example.pk).update(review_state=ReviewState.APPROVED)
    out = tmp_path / "export.jsonl"
    export_examples(out, filters=ExportFilters(state=ReviewState.APPROVED))
    assert "restart the VPN client" in out.read_text()
    assert "NOTE-ONLY" not in out.read_text()


def test_a_note_after_an_answer_is_no_follow_up_for_the_gates_labels(agent, user):
    from tests.factories import ModelVersionFactory
    from training.pipeline.gate import _desk_answers

    version = ModelVersionFactory()
    ticket = lifecycle.open_ticket(user, "How do I map a drive?")
    answer = MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Open Explorer.",
        model_version=version,
        retrieval={"agreement": 0.5, "relevance": 0.5},
    )
    lifecycle.add_note(ticket, agent, "Looks right to me")

    row = _desk_answers(version).get(pk=answer.pk)

    assert row.followed is False
