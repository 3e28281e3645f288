"""Two agents sending from the same page at the same moment: the ticket's row lock makes the
second see the first's reply, so exactly one goes to the user (PostgreSQL: row locks)."""

import pytest
from django.db import connection

from tests.concurrency import run_at_once
from tests.factories import AgentFactory
from tickets import lifecycle
from tickets.collision import PageStamp
from tickets.models import Message, Role


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_two_simultaneous_replies_from_one_page_view_one_is_sent(user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are the point of this test: it runs on PostgreSQL")
    bob, carol = AgentFactory(username="bob"), AgentFactory(username="carol")
    ticket = lifecycle.assign(lifecycle.open_ticket(user, "The VPN drops"), bob)
    seen = PageStamp.of(ticket)  # both pages were loaded before either sent

    errors = run_at_once(
        lambda agent: lifecycle.agent_reply(ticket, agent, f"From {agent}", seen=seen),
        [bob, carol],
    )

    assert len(errors) == 1 and isinstance(errors[0], lifecycle.StaleView)
    assert Message.objects.filter(ticket=ticket, role=Role.AGENT).count() == 1
