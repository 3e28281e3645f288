"""notify(): the in-app row, the e-mail after commit, once per key, as preferences say."""

import pytest
from django.core import mail

from notifications import preferences
from notifications.api import notify
from notifications.models import Channel, EmailState, Event, Notification
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_it_records_the_notification_and_sends_the_email_after_commit(agent, jobs_run_here) -> None:
    ticket = TicketFactory(subject="VPN down")
    with jobs_run_here():
        notify(Event.TICKET_ASSIGNED, agent, ticket=ticket, key=f"assigned:{ticket.pk}")
        assert mail.outbox == []  # nothing leaves before the commit

    notification = Notification.objects.get(recipient=agent)
    assert notification.event == Event.TICKET_ASSIGNED
    assert notification.ticket == ticket
    assert "VPN down" in notification.title
    assert notification.link == f"/admin/tickets/ticket/{ticket.pk}/change/"
    assert notification.email_state == EmailState.SENT
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert mail.outbox[0].subject == notification.title


def test_it_tells_a_person_once_per_key(user, jobs_run_here) -> None:
    ticket = TicketFactory(requester=user)
    with jobs_run_here():
        for _ in range(3):
            notify(Event.TICKET_RESOLVED, user, ticket=ticket, key="resolved:1")

    assert Notification.objects.filter(recipient=user).count() == 1
    assert len(mail.outbox) == 1


def test_the_same_key_for_another_person_is_another_notification(agent, manager) -> None:
    ticket = TicketFactory()
    for person in (agent, manager):
        notify(Event.SLA_BREACHED, person, ticket=ticket, key="sla-breach:1")

    assert Notification.objects.filter(key="sla-breach:1").count() == 2


def test_users_get_links_to_the_portal(user) -> None:
    ticket = TicketFactory(requester=user)
    notify(Event.AGENT_REPLIED, user, ticket=ticket, key="k", context={"excerpt": "Try this"})

    notification = Notification.objects.get()
    assert notification.link == ticket.get_absolute_url()
    assert "Try this" in notification.body


def test_email_switched_off_records_only_the_in_app_notification(user, jobs_run_here) -> None:
    preferences.choose(user, Event.AGENT_REPLIED, Channel.EMAIL, False)
    with jobs_run_here():
        notify(Event.AGENT_REPLIED, user, ticket=TicketFactory(requester=user), key="k")

    assert Notification.objects.get().email_state == EmailState.NOT_WANTED
    assert mail.outbox == []


def test_both_channels_off_records_nothing(user) -> None:
    for channel in Channel:
        preferences.choose(user, Event.AGENT_REPLIED, channel, False)
    notify(Event.AGENT_REPLIED, user, ticket=TicketFactory(requester=user), key="k")

    assert not Notification.objects.exists()


def test_in_app_off_sends_the_email_but_keeps_it_out_of_the_bell(user, jobs_run_here) -> None:
    preferences.choose(user, Event.AGENT_REPLIED, Channel.IN_APP, False)
    with jobs_run_here():
        notify(Event.AGENT_REPLIED, user, ticket=TicketFactory(requester=user), key="k")

    assert not Notification.objects.in_bell_of(user).exists()
    assert len(mail.outbox) == 1


def test_no_address_means_no_email(user, jobs_run_here) -> None:
    user.email = ""
    user.save()
    with jobs_run_here():
        notify(Event.AGENT_REPLIED, user, ticket=TicketFactory(requester=user), key="k")

    assert Notification.objects.get().email_state == EmailState.NOT_WANTED
    assert mail.outbox == []


def test_an_end_user_gets_no_staff_events_by_default(user) -> None:
    notify(Event.SLA_BREACHED, user, ticket=TicketFactory(), key="k")

    assert not Notification.objects.exists()


def test_unassigned_tickets_are_the_managers_by_default(agent, manager) -> None:
    ticket = TicketFactory()
    for person in (agent, manager):
        notify(Event.UNASSIGNED_WAITING, person, ticket=ticket, key="waiting:1")

    assert list(Notification.objects.values_list("recipient", flat=True)) == [manager.pk]


def test_it_works_without_a_ticket(manager) -> None:
    notify(Event.UNASSIGNED_WAITING, manager, ticket=None, key="k", context={"title": "3 wait"})

    notification = Notification.objects.get()
    assert (notification.title, notification.link) == ("3 wait", "")
