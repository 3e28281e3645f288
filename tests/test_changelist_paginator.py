"""The tickets changelist counts at most a capped number of matches (tickets.paginator)."""

import pytest
from django.urls import reverse

from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket
from tickets.paginator import CappedCountPaginator

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:tickets_ticket_changelist")


def _tickets(count: int) -> None:
    requester = UserFactory()
    Ticket.objects.bulk_create(
        Ticket(subject=f"Printer {n}", requester=requester) for n in range(count)
    )


def test_it_counts_exactly_up_to_the_cap(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    _tickets(5)
    paginator = CappedCountPaginator(Ticket.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.is_capped, paginator.num_pages) == (5, False, 3)


def test_it_stops_counting_past_the_cap_and_offers_only_the_pages_within_it(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "cap", 5)
    _tickets(9)
    paginator = CappedCountPaginator(Ticket.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.is_capped, paginator.num_pages) == (6, True, 3)


def test_the_changelist_says_more_than_the_cap(monkeypatch, client, agent):
    client.force_login(agent)
    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    _tickets(4)
    page = client.get(CHANGELIST).content.decode()
    assert "more than 3 tickets" in page


def test_the_changelist_gives_the_exact_count_below_the_cap(client, agent):
    client.force_login(agent)
    TicketFactory.create_batch(2)
    page = client.get(CHANGELIST).content.decode()
    assert "2 tickets" in page and "more than" not in page
