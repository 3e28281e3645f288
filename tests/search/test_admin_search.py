"""The agents' changelist search box runs the full-text search: notes included, best match
first unless a column was sorted, any input answered, a constant number of queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.search.helpers import ticket_with

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tickets_ticket_changelist")


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def _listed(response) -> list[int]:
    """Ticket ids in the order of the changelist's rows."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'name="_selected_action" value="(\d+)"', response.text)]


def test_agents_find_tickets_by_their_internal_notes(agent_client):
    noted = ticket_with("Laptop", "It will not boot", hidden=("Known firmware bug",))
    ticket_with("Printer")

    assert _listed(agent_client.get(CHANGELIST, {"q": "firmware"})) == [noted.pk]


def test_the_best_match_comes_first(agent_client):
    mention = ticket_with("Laptop is slow", "also the monitor")
    subject = ticket_with("Monitor flickers")
    mention.save()  # the newest, so recency alone would list it first

    assert _listed(agent_client.get(CHANGELIST, {"q": "monitor"})) == [subject.pk, mention.pk]


def test_a_sorted_column_keeps_its_order(agent_client):
    first = ticket_with("Monitor flickers")
    second = ticket_with("Laptop", "and the monitor")

    response = agent_client.get(CHANGELIST, {"q": "monitor", "o": "1"})  # by id, ascending

    assert _listed(response) == [first.pk, second.pk]


def test_prefixes_and_filters_combine(agent_client, agent):
    mine = ticket_with("Wifi drops", assigned_to=agent, status="assigned")
    ticket_with("Wifi slow")

    response = agent_client.get(CHANGELIST, {"q": "wif", "assigned": "me"})

    assert _listed(response) == [mine.pk]


@pytest.mark.parametrize("query", ['"', "wifi*", "-", "NOT", "a OR b", "{x}:", "ü" * 300, "'"])
def test_any_input_is_answered(agent_client, query):
    ticket_with("Wifi drops")

    assert agent_client.get(CHANGELIST, {"q": query}).status_code == 200


def test_a_search_costs_as_many_queries_with_many_tickets_as_with_few(agent_client):
    ticket_with("Wifi drops", "wifi again")
    with CaptureQueriesContext(connection) as few:
        agent_client.get(CHANGELIST, {"q": "wifi"})
    for n in range(30):
        ticket_with(f"Wifi {n}", "wifi again", hidden=("wifi note",))
    with CaptureQueriesContext(connection) as many:
        agent_client.get(CHANGELIST, {"q": "wifi"})

    assert len(many) == len(few)
