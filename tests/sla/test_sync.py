"""Clocks follow the ticket's real life: lifecycle calls, recomputed once per transaction."""

from datetime import timedelta

import pytest

from sla import sync
from sla.models import SlaPolicy, TicketSla
from tests.factories import AgentFactory, UserFactory
from tickets import lifecycle
from tickets.models import Category, Message, Priority, Role, Status, Ticket

pytestmark = pytest.mark.usefixtures("round_the_clock")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the recomputation) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def assistant_on(settings, monkeypatch):
    """A default model, so questions go to the assistant; its jobs are not sent anywhere."""
    from tests.factories import ModelVersionFactory
    from tickets import enqueue

    settings.ASSISTANT_ENABLED = True
    monkeypatch.setattr(enqueue, "enqueue_answer", lambda request_id: True)
    return ModelVersionFactory(is_default=True)


def _clock(ticket) -> TicketSla:
    return TicketSla.objects.get(ticket=ticket)


def test_a_fresh_install_has_a_policy_per_priority(db):
    assert set(SlaPolicy.objects.values_list("priority", flat=True)) == set(Priority.values)


def test_an_escalated_ticket_waits_for_its_first_response(committed, no_model):
    agent = AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")

    clock = _clock(ticket)
    policy = SlaPolicy.objects.get(priority=Priority.NORMAL, category="")
    assert clock.policy == policy
    assert clock.first_response_due == ticket.created_at + timedelta(
        minutes=policy.first_response_minutes
    )
    assert clock.next_target == "first_response" and clock.paused_since is None

    with committed():
        lifecycle.agent_reply(ticket, agent, "Update the client.")

    clock = _clock(ticket)
    assert clock.first_response_at is not None and clock.first_response_met is True
    assert clock.paused_since == clock.first_response_at
    assert clock.next_due_at is None  # waiting on the user: nothing due from the desk


def test_the_users_next_message_is_due_its_next_response(committed, no_model):
    agent = AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
        lifecycle.agent_reply(ticket, agent, "Update the client.")
    with committed():
        message = lifecycle.post_user_message(ticket, ticket.requester, "Still drops.")

    clock = _clock(ticket)
    policy = clock.policy
    assert clock.waiting_since == message.created_at
    assert clock.next_response_due == message.created_at + timedelta(
        minutes=policy.next_response_minutes
    )
    assert clock.next_target == "next_response"


def test_resolving_stops_the_clock(committed, no_model):
    agent = AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
        lifecycle.agent_reply(ticket, agent, "Update the client.")
        lifecycle.resolve(ticket, agent)

    clock = _clock(ticket)
    assert clock.resolved_at is not None and clock.resolution_met is True
    assert clock.next_due_at is None and clock.paused_since is None


def test_hidden_drafts_and_system_notices_are_no_response(committed, no_model):
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
        Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="x", visible_to_user=False)

    clock = _clock(ticket)
    assert clock.first_response_at is None and clock.waiting_since is not None


def test_an_answer_that_passed_the_gate_is_the_first_response(committed, assistant_on):
    requester = UserFactory()
    with committed():
        ticket = lifecycle.open_ticket(requester, "How do I check disk space?")
        Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="Run df -h.")

    clock = _clock(ticket)
    assert clock.first_response_met is True and clock.paused_since is not None


def test_an_agent_taking_an_answered_ticket_does_not_make_the_user_wait(committed, assistant_on):
    agent = AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "How do I check disk space?")
        Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="Run df -h.")
        lifecycle.record_answered(ticket)
    with committed():
        lifecycle.assign(ticket, agent, actor=agent)

    assert _clock(ticket).waiting_since is None


def test_asking_for_a_person_after_an_answer_makes_the_user_wait(committed, assistant_on):
    AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "How do I check disk space?")
        Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="Run df -h.")
        lifecycle.record_answered(ticket)
    with committed():
        lifecycle.request_human(ticket, ticket.requester)

    clock = _clock(ticket)
    assert clock.waiting_since is not None and clock.next_target == "next_response"


def test_a_category_policy_wins_over_the_prioritys_general_one(committed, no_model):
    general = SlaPolicy.objects.get(priority=Priority.NORMAL, category="")
    network = SlaPolicy.objects.create(
        name="Network, normal",
        priority=Priority.NORMAL,
        category=Category.NETWORK,
        calendar=general.calendar,
        first_response_minutes=5,
        next_response_minutes=5,
        resolution_minutes=60,
    )
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "No Wi-Fi", category=Category.NETWORK)
        other = lifecycle.open_ticket(UserFactory(), "Printer jam", category=Category.HARDWARE)

    assert _clock(ticket).policy == network
    assert _clock(other).policy == general


def test_changing_the_priority_moves_the_due_time(committed, no_model):
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
    normal_due = _clock(ticket).first_response_due
    ticket.refresh_from_db()
    with committed():
        ticket.priority = Priority.URGENT
        ticket.save()

    assert _clock(ticket).first_response_due < normal_due


def test_a_transaction_recomputes_each_ticket_once(committed, no_model, monkeypatch):
    calls = []
    real = sync.recompute_many
    monkeypatch.setattr(
        sync, "recompute_many", lambda ids, now=None: calls.append(list(ids)) or real(ids)
    )
    AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")  # several saves

    assert calls == [[ticket.pk]]


def _clock_values(ticket_ids) -> list[dict]:
    rows = TicketSla.objects.filter(ticket_id__in=ticket_ids).order_by("ticket_id")
    return list(rows.values(*[name for name in sync._CLOCK_COLUMNS if name != "computed_at"]))


def test_tickets_recomputed_together_get_the_clocks_they_get_one_at_a_time(
    committed, no_model, django_assert_max_num_queries
):
    from django.utils import timezone

    agent = AgentFactory()
    with committed():
        waiting = lifecycle.open_ticket(UserFactory(), "The VPN drops")
        answered = lifecycle.open_ticket(UserFactory(), "The printer is offline")
        lifecycle.agent_reply(answered, agent, "Restart CUPS.")
        resolved = lifecycle.open_ticket(UserFactory(), "Wi-Fi after suspend")
        lifecycle.resolve(resolved, agent)
    ids = [waiting.pk, answered.pk, resolved.pk]
    Ticket.objects.filter(pk=answered.pk).update(priority=Priority.HIGH)  # another policy
    now = timezone.now()
    for pk in ids:
        sync.recompute(pk, now)
    alone = _clock_values(ids)
    TicketSla.objects.filter(ticket_id=waiting.pk).delete()  # a ticket with no clock yet

    # Tickets, turns, events, the policies (one per priority), and one upsert that updates
    # two clocks and creates the missing one: no query per ticket.
    with django_assert_max_num_queries(6):
        sync.recompute_many([*ids, 10**9], now)  # a ticket that is gone is left out

    assert _clock_values(ids) == alone
    assert {row["first_response_met"] for row in alone} == {None, True}


def test_an_unassigned_ticket_waits_for_the_managers_alert(committed, no_model, settings):
    settings.SLA_UNASSIGNED_ALERT_MINUTES = 15
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "Nobody is here")  # no agent at all

    clock = _clock(ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED
    assert clock.unassigned_alert_at == clock.unassigned_since + timedelta(minutes=15)

    agent = AgentFactory()
    with committed():
        lifecycle.assign(ticket, agent)

    assert _clock(ticket).unassigned_alert_at is None


def test_the_command_computes_every_tickets_clock(committed, no_model, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    with committed():
        tickets = [lifecycle.open_ticket(UserFactory(), f"Question {i}") for i in range(3)]
    TicketSla.objects.all().delete()  # tickets from before the sla app
    monkeypatch.setattr("sla.management.commands.recompute_sla_clocks.RECOMPUTE_CHUNK", 2)
    out = StringIO()

    call_command("recompute_sla_clocks", stdout=out)

    assert out.getvalue().strip() == "3 clocks computed"
    assert TicketSla.objects.filter(ticket__in=tickets).count() == 3
