"""The bell, the list of one's notifications, marking them read: one's own only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.api import notify
from notifications.models import Event, Notification
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

BELL = reverse("notifications:bell")
LIST = reverse("notifications:list")


def _tell(person, n: int = 1, event=Event.AGENT_REPLIED) -> list[Notification]:
    ticket = TicketFactory(requester=person)
    for i in range(n):
        notify(event, person, ticket=ticket, key=f"{person.pk}:{i}", context={"excerpt": f"#{i}"})
    return list(Notification.objects.filter(recipient=person))


def test_the_bell_counts_ones_unread_notifications(client, user) -> None:
    first, *_ = _tell(user, 3)
    first.read_at = timezone.now()
    first.save()
    _tell(UserFactory(), 5)  # someone else's
    client.force_login(user)

    response = client.get(BELL)

    assert response.context["unread"] == 2
    assert 'data-unread="2"' in response.content.decode()


def test_the_bell_is_in_the_portal_header(client, user) -> None:
    client.force_login(user)

    page = client.get(reverse("tickets:list")).content.decode()

    assert f'hx-get="{BELL}" hx-trigger="load, every 30s"' in page


def test_the_bell_is_in_the_admin_header(client, agent) -> None:
    client.force_login(agent)

    page = client.get(reverse("admin:index")).content.decode()

    assert f'hx-get="{BELL}"' in page
    assert reverse("notifications:preferences") in page
    assert "htmx" in page


def test_a_signed_out_bell_stops_polling(client) -> None:
    response = client.get(BELL, headers={"HX-Request": "true"})

    assert response.status_code == 286  # htmx's "stop polling"


def test_the_bell_and_list_need_a_sign_in(client) -> None:
    for url in (BELL, LIST, reverse("notifications:preferences")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_the_list_shows_only_ones_own_notifications_with_their_links(client, user) -> None:
    mine = _tell(user, 2)
    _tell(UserFactory(), 2)
    client.force_login(user)

    response = client.get(LIST)

    shown = list(response.context["page"].object_list)
    assert sorted(n.pk for n in shown) == sorted(n.pk for n in mine)
    assert f'href="{mine[0].link}"' in response.content.decode()


def test_agents_get_links_to_the_admin_ticket_page(client, agent) -> None:
    ticket = TicketFactory()
    notify(Event.TICKET_ASSIGNED, agent, ticket=ticket, key="a")
    client.force_login(agent)

    page = client.get(LIST).content.decode()

    assert f'href="{reverse("admin:tickets_ticket_change", args=[ticket.pk])}"' in page


def test_it_marks_one_as_read(client, user) -> None:
    notification, other = _tell(user, 2)
    client.force_login(user)

    response = client.post(reverse("notifications:mark_read", args=[notification.pk]))

    assert response.status_code == 302
    notification.refresh_from_db()
    other.refresh_from_db()
    assert notification.read_at is not None and other.read_at is None


def test_marking_read_by_htmx_swaps_the_item(client, user) -> None:
    [notification] = _tell(user)
    client.force_login(user)

    response = client.post(
        reverse("notifications:mark_read", args=[notification.pk]), headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert body.strip().startswith("<li") and "unread" not in body and "<html" not in body


def test_nobody_marks_another_persons_notification(client, user) -> None:
    [theirs] = _tell(UserFactory())
    client.force_login(user)

    response = client.post(reverse("notifications:mark_read", args=[theirs.pk]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_it_marks_all_of_ones_own_as_read(client, user) -> None:
    _tell(user, 3)
    [theirs] = _tell(UserFactory())
    client.force_login(user)

    client.post(reverse("notifications:mark_all_read"))

    assert not Notification.objects.filter(recipient=user, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_takes_post_only(client, user) -> None:
    [notification] = _tell(user)
    client.force_login(user)

    assert client.get(reverse("notifications:mark_read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
