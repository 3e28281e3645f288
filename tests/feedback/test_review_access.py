"""Who reads the review queue: managers all of it, agents only the examples of their own
replies, read-only."""

import pytest
from django.urls import reverse

from tests.factories import AgentFactory
from tests.feedback.helpers import make_example
from training.models import ReviewState, TrainingExample

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:training_trainingexample_changelist")


def _change_url(example: TrainingExample) -> str:
    return reverse("admin:training_trainingexample_change", args=[example.pk])


def test_agents_see_only_examples_of_their_own_replies(agent_client, agent):
    make_example(agent=agent, question="My own VPN question")
    make_example(agent=AgentFactory(), question="A colleague's printer question")
    make_example(agent=None, question="Nobody's question")

    html = agent_client.get(CHANGELIST).content.decode()

    mine = TrainingExample.objects.filter(agent=agent)
    others = TrainingExample.objects.exclude(agent=agent)
    assert mine.exists() and others.count() == 2
    assert all(_change_url(example) in html for example in mine)
    assert not any(_change_url(example) in html for example in others)


def test_agents_cannot_open_a_colleagues_example_with_its_draft(agent_client):
    theirs = make_example(agent=AgentFactory(), draft="A secret draft")

    response = agent_client.get(_change_url(theirs))

    assert response.status_code in (302, 404)
    assert "A secret draft" not in response.content.decode()


def test_agents_read_their_own_example_but_cannot_change_it(agent_client, agent):
    mine = make_example(agent=agent, state=ReviewState.PENDING, correction="My answer")

    page = agent_client.get(_change_url(mine))
    posted = agent_client.post(
        _change_url(mine), {"review_state": "approved", "correction": "rewritten"}
    )

    mine.refresh_from_db()
    assert page.status_code == 200 and "My answer" in page.content.decode()
    assert 'name="correction"' not in page.content.decode()
    assert posted.status_code == 403
    assert (mine.review_state, mine.correction) == (ReviewState.PENDING, "My answer")


def test_agents_get_no_review_actions_and_no_retrain_button(agent_client, agent):
    mine = make_example(agent=agent, state=ReviewState.PENDING)

    html = agent_client.get(CHANGELIST).content.decode()
    agent_client.post(CHANGELIST, {"action": "approve", "_selected_action": [mine.pk]})

    mine.refresh_from_db()
    assert "Retrain from corrections" not in html
    assert 'name="action"' not in html
    assert mine.review_state == ReviewState.PENDING
