"""The preferences matrix: events by channels, defaults by role, one form."""

import pytest
from django.urls import reverse

from notifications import preferences
from notifications.models import Channel, Event, Preference

pytestmark = pytest.mark.django_db

PAGE = reverse("notifications:preferences")


def test_end_users_choose_about_their_tickets_only(client, user) -> None:
    client.force_login(user)

    form = client.get(PAGE).context["form"]

    assert [event for event, _ in form.rows()] == [Event.AGENT_REPLIED, Event.TICKET_RESOLVED]


def test_staff_choose_about_every_event(client, agent) -> None:
    client.force_login(agent)

    form = client.get(PAGE).context["form"]

    assert [event for event, _ in form.rows()] == list(Event)


def test_defaults_follow_the_role(user, agent, manager) -> None:
    assert preferences.channels_for(user, Event.AGENT_REPLIED) == set(Channel)
    assert preferences.channels_for(user, Event.SLA_BREACHED) == set()
    assert preferences.channels_for(agent, Event.TICKET_ASSIGNED) == set(Channel)
    assert preferences.channels_for(agent, Event.UNASSIGNED_WAITING) == set()
    assert preferences.channels_for(manager, Event.UNASSIGNED_WAITING) == set(Channel)


def test_the_form_shows_the_current_choices(client, user) -> None:
    preferences.choose(user, Event.TICKET_RESOLVED, Channel.EMAIL, False)
    client.force_login(user)

    page = client.get(PAGE).content.decode()

    assert 'name="ticket_resolved__email"' in page
    assert 'name="ticket_resolved__email" id="id_ticket_resolved__email" checked' not in page
    assert 'name="ticket_resolved__in_app" id="id_ticket_resolved__in_app" checked' in page


def test_saving_the_matrix_stores_what_differs_from_the_defaults(client, user) -> None:
    client.force_login(user)

    response = client.post(
        PAGE, {"agent_replied__in_app": "on", "ticket_resolved__email": "on"}, follow=True
    )

    assert "saved" in response.content.decode()
    assert preferences.channels_for(user, Event.AGENT_REPLIED) == {Channel.IN_APP}
    assert preferences.channels_for(user, Event.TICKET_RESOLVED) == {Channel.EMAIL}
    rows = set(Preference.objects.filter(user=user).values_list("event", "channel", "enabled"))
    assert rows == {
        (Event.AGENT_REPLIED, Channel.EMAIL, False),
        (Event.TICKET_RESOLVED, Channel.IN_APP, False),
    }


def test_an_end_user_cannot_switch_on_staff_events(client, user) -> None:
    client.force_login(user)

    client.post(PAGE, {"sla_breached__email": "on", "agent_replied__email": "on"})

    assert preferences.channels_for(user, Event.SLA_BREACHED) == set()
