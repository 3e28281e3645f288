"""The one-click unsubscribe link: no sign-in, a confirm page on GET, that event's e-mail off
on POST (also the RFC 8058 POST a mail client makes, with no CSRF token)."""

import pytest
from django.test import Client

from notifications import preferences
from notifications.models import Channel, Event
from notifications.unsubscribe import token_for, unsubscribe_path

pytestmark = pytest.mark.django_db


def test_get_asks_before_unsubscribing(client, user) -> None:
    response = client.get(unsubscribe_path(user, Event.AGENT_REPLIED))

    assert response.status_code == 200
    assert "Stop these e-mails?" in response.content.decode()
    assert preferences.wants(user, Event.AGENT_REPLIED, Channel.EMAIL)


def test_post_turns_off_that_events_email_only(client, user) -> None:
    response = client.post(unsubscribe_path(user, Event.AGENT_REPLIED))

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert not preferences.wants(user, Event.AGENT_REPLIED, Channel.EMAIL)
    assert preferences.wants(user, Event.AGENT_REPLIED, Channel.IN_APP)
    assert preferences.wants(user, Event.TICKET_RESOLVED, Channel.EMAIL)


def test_a_mail_clients_one_click_post_works_without_session_or_csrf_token(user) -> None:
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(
        unsubscribe_path(user, Event.TICKET_RESOLVED),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert not preferences.wants(user, Event.TICKET_RESOLVED, Channel.EMAIL)


def test_a_forged_or_garbled_token_changes_nothing(client, user) -> None:
    token = token_for(user, Event.AGENT_REPLIED)

    for bad in (token[:-2] + "xx", "nonsense"):
        response = client.post(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400

    assert preferences.wants(user, Event.AGENT_REPLIED, Channel.EMAIL)


def test_the_token_is_the_persons_own(user) -> None:
    from tests.factories import UserFactory

    assert token_for(user, Event.AGENT_REPLIED) != token_for(UserFactory(), Event.AGENT_REPLIED)
    assert token_for(user, Event.AGENT_REPLIED) != token_for(user, Event.TICKET_RESOLVED)
