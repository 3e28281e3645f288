"""The dashboard's satisfaction figures: CSAT of tickets the assistant resolved against those
people resolved (count, mean, share of 4-5, over time), and the reopen rate."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from satisfaction.models import Rating
from tests.satisfaction.helpers import answered_ticket, rate, resolved_by_ai, resolved_by_people
from tickets import lifecycle
from training.dashboard import queries

pytestmark = pytest.mark.django_db


def _days_ago(days: int) -> timezone.datetime:
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def rated(settings):
    """The assistant: 5, 4, 1 (two of three satisfied); people: 3, 5 (one of two); one
    rating of a resolution long ago."""
    settings.ASSISTANT_ENABLED = False
    for score in (5, 4, 1):
        rate(resolved_by_ai(), score)
    for score in (3, 5):
        rate(resolved_by_people(), score)
    old = rate(resolved_by_ai(), 1)
    Rating.objects.filter(pk=old.pk).update(resolved_at=_days_ago(400))


def test_it_compares_the_assistants_tickets_with_peoples(rated):
    ai, people = queries.csat(_days_ago(30), weekly=False)["by_resolver"]

    assert (ai["resolver"], ai["count"], ai["satisfied"]) == ("the assistant", 3, 2)
    assert ai["mean"] == pytest.approx(10 / 3)
    assert ai["satisfied_share"] == pytest.approx(2 / 3)
    assert (people["resolver"], people["count"], people["mean"]) == ("people", 2, 4.0)
    assert people["satisfied_share"] == pytest.approx(0.5)


def test_a_side_without_ratings_has_no_mean_or_share():
    rate(resolved_by_ai(), 4)

    _, people = queries.csat(_days_ago(30), weekly=False)["by_resolver"]

    assert (people["count"], people["mean"], people["satisfied_share"]) == (0, None, None)


def test_it_gives_each_sides_share_per_period_of_resolution():
    yesterday = rate(resolved_by_ai(), 2)
    Rating.objects.filter(pk=yesterday.pk).update(resolved_at=_days_ago(1))
    rate(resolved_by_ai(), 5)
    rate(resolved_by_people(), 4)

    periods = queries.csat(_days_ago(30), weekly=False)["periods"]

    assert [(p["ai"], p["ai_count"], p["people"], p["people_count"]) for p in periods] == [
        (0.0, 1, None, 0),
        (1.0, 1, 1.0, 1),
    ]


def test_the_reopen_rate_counts_resolved_tickets_reopened_afterwards(settings):
    settings.ASSISTANT_ENABLED = False  # a reopened ticket goes to people
    reopened = resolved_by_ai()
    lifecycle.post_user_message(reopened, reopened.requester, "It is back")
    resolved_by_ai()
    resolved_by_people()
    answered_ticket()  # never resolved: not counted

    figures = queries.reopen_rate(_days_ago(30))

    assert (figures["resolved"], figures["reopened"]) == (3, 1)
    assert figures["rate"] == pytest.approx(1 / 3)


def test_nothing_resolved_means_no_reopen_rate():
    answered_ticket()

    assert queries.reopen_rate(_days_ago(30)) == {"resolved": 0, "reopened": 0, "rate": None}


def test_the_page_shows_the_comparison_the_reopen_rate_and_the_chart(
    client: Client, manager, rated
):
    client.force_login(manager)

    html = client.get(reverse("training:dashboard"), {"days": "30"}).content.decode()

    ai_row = html[html.index('id="csat-ai"') : html.index("</tr>", html.index('id="csat-ai"'))]
    assert "<td>3</td>" in ai_row and "<td>3.33</td>" in ai_row and "<td>67%</td>" in ai_row
    people_row = html[html.index('id="csat-people"') :]
    assert "<td>2</td><td>4.00</td><td>50%</td>" in people_row.replace("\n          ", "")
    assert 'id="csat-reopens"' in html and "0 of 6 tickets resolved" in html
    assert 'aria-label="CSAT over time: share of ratings 4 or 5"' in html
