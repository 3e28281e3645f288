"""Notifications on their real path: an agent's reply in the admin, the e-mail task on a real
worker of the default queue, a real SMTP server reading back what arrived, and the
unsubscribe link in it working as a mail client would use it."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from notifications import preferences
from notifications.models import Channel, EmailState, Event, Notification
from notifications.tasks import send_notification_email
from tests.live import wait_until
from tickets import lifecycle
from tickets.models import Status

pytestmark = [pytest.mark.slow]

WAIT_S = 60


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def _reply_in_admin(client: Client, ticket_pk: int, body: str) -> None:
    response = client.post(
        reverse("admin:tickets_ticket_reply", args=[ticket_pk]),
        {"body": body, "reason": "no_draft"},
    )
    assert response.status_code == 302


def test_an_agents_reply_reaches_the_user_by_real_email_once_and_the_link_unsubscribes(
    smtp_server, start_worker, client, user, agent
) -> None:
    worker = start_worker(queues="default", ASSISTANT_WARM_UP="0")
    ticket = lifecycle.open_ticket(user, "My screen flickers")
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.assigned_to == agent
    client.force_login(agent)

    _reply_in_admin(client, ticket.pk, "Try another cable, then tell me.")

    # The assignment's e-mail to the agent and the reply's to the user, in either order.
    arrived = smtp_server.wait_for(2, WAIT_S)
    [to_user] = [m for m in arrived if m["To"] == user.email]
    assert "New reply on your ticket" in to_user["Subject"]
    text = to_user.get_body(preferencelist=("plain",)).get_content()
    html = to_user.get_body(preferencelist=("html",)).get_content()
    assert "Try another cable" in text and "Try another cable" in html
    assert to_user["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = str(to_user["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe_url in text

    # The task again (a redelivery, a retry): the worker runs it and sends nothing more.
    reply_notification = Notification.objects.get(event=Event.AGENT_REPLIED)
    assert reply_notification.email_state == EmailState.SENT
    runs_before = worker.log().count("succeeded in")
    send_notification_email.delay(reply_notification.pk)
    wait_until(lambda: worker.log().count("succeeded in") > runs_before, WAIT_S, "the rerun")
    assert len([m for m in smtp_server.messages if m["To"] == user.email]) == 1

    # The mail client's one-click unsubscribe: a POST, no session, no CSRF token.
    response = Client(enforce_csrf_checks=True).post(
        urlsplit(unsubscribe_url).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not preferences.wants(user, Event.AGENT_REPLIED, Channel.EMAIL)

    _reply_in_admin(client, ticket.pk, "Any better?")

    second = Notification.objects.filter(event=Event.AGENT_REPLIED).latest("pk")
    assert second.pk != reply_notification.pk
    assert second.email_state == EmailState.NOT_WANTED  # still in the bell, no e-mail
    assert second.in_app
