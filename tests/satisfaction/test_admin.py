"""Managers read the ratings in the admin: a read-only list with filters."""

import pytest
from django.test import Client
from django.urls import reverse

from satisfaction.models import Rating
from tests.satisfaction.helpers import rating_of_a_resolved_ticket

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:satisfaction_rating_changelist")


def test_managers_list_the_ratings_with_who_resolved_each(client: Client, manager):
    by_ai = rating_of_a_resolved_ticket(5)
    by_people = rating_of_a_resolved_ticket(2, by_ai=False)
    client.force_login(manager)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    html = response.content.decode()
    for rating in (by_ai, by_people):
        assert reverse("admin:tickets_ticket_change", args=[rating.ticket_id]) in html
    assert '<td class="field-resolved_by">the assistant</td>' in html
    assert '<td class="field-resolved_by">people</td>' in html
    assert "Quick and clear." in html


@pytest.mark.parametrize(
    "query,expected",
    [({"resolved_by_ai__exact": "1"}, [5]), ({"resolved_by_ai__exact": "0"}, [2])],
)
def test_the_list_filters_by_resolver(client: Client, manager, query, expected):
    rating_of_a_resolved_ticket(5)
    rating_of_a_resolved_ticket(2, by_ai=False)
    client.force_login(manager)

    response = client.get(CHANGELIST, query)

    assert [r.score for r in response.context["cl"].result_list] == expected


def test_the_list_filters_by_score_and_channel(client: Client, manager):
    rating_of_a_resolved_ticket(1)
    rating_of_a_resolved_ticket(4)
    client.force_login(manager)

    low = client.get(CHANGELIST, {"score__exact": "1", "channel__exact": "portal"})
    by_mail = client.get(CHANGELIST, {"channel__exact": "email"})

    assert [r.score for r in low.context["cl"].result_list] == [1]
    assert list(by_mail.context["cl"].result_list) == []


def test_a_rating_reads_but_never_changes_even_for_a_superuser(client: Client, admin_user):
    rating = rating_of_a_resolved_ticket(3)
    client.force_login(admin_user)
    change = reverse("admin:satisfaction_rating_change", args=[rating.pk])

    page = client.get(change)
    posted = client.post(change, {"score": "5", "comment": "edited"})

    assert page.status_code == 200 and page.context["has_change_permission"] is False
    assert posted.status_code == 403
    assert client.get(reverse("admin:satisfaction_rating_add")).status_code == 403
    assert Rating.objects.get(pk=rating.pk).score == 3


def test_agents_do_not_see_the_ratings(client: Client, agent):
    rating_of_a_resolved_ticket(3)
    client.force_login(agent)

    assert client.get(CHANGELIST).status_code == 403
