"""A notification's e-mail: text and HTML, the unsubscribe headers, sent once whatever runs."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications import emails, preferences
from notifications.api import notify
from notifications.models import Channel, EmailState, Event, Notification
from notifications.tasks import send_notification_email, sweep_pending_emails
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(user) -> Notification:
    """A notification whose e-mail is due (its task not run yet: no commit in these tests)."""
    ticket = TicketFactory(requester=user, subject="Wi-Fi drops")
    notify(Event.AGENT_REPLIED, user, ticket=ticket, key="k", context={"excerpt": "Reboot it"})
    notification = Notification.objects.get()
    assert notification.email_state == EmailState.PENDING
    return notification


def test_the_email_has_text_html_a_link_and_the_one_click_unsubscribe_headers(
    pending, settings
) -> None:
    settings.SITE_URL = "https://help.example.com"

    assert send_notification_email.apply(args=(pending.pk,)).get() is True

    [message] = mail.outbox
    assert message.subject == pending.title
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    link = f"https://help.example.com{pending.ticket.get_absolute_url()}"
    assert "Reboot it" in message.body and link in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f'href="{link}"' in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://help.example.com/notifications/unsubscribe/")
    assert unsubscribe.strip("<>") in message.body and unsubscribe.strip("<>") in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_running_the_task_twice_sends_one_email(pending) -> None:
    assert send_notification_email.apply(args=(pending.pk,)).get() is True
    assert send_notification_email.apply(args=(pending.pk,)).get() is False

    assert len(mail.outbox) == 1
    pending.refresh_from_db()
    assert pending.email_state == EmailState.SENT and pending.email_sent_at is not None
    assert pending.email_attempts == 1


def test_a_claimed_email_is_not_sent_by_another_run(pending) -> None:
    # Another worker claimed it and is sending right now.
    Notification.objects.filter(pk=pending.pk).update(email_state=EmailState.SENDING)

    assert emails.send_email(pending.pk) is False
    assert mail.outbox == []


def test_a_refused_send_stays_pending_for_the_retry(pending, monkeypatch) -> None:
    def refuse(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    with pytest.raises(emails.DeliveryFailed):
        emails.send_email(pending.pk)

    pending.refresh_from_db()
    assert pending.email_state == EmailState.PENDING
    assert "gone" in pending.email_error


def test_after_the_last_retry_it_is_left_failed(pending, monkeypatch, settings) -> None:
    settings.NOTIFICATION_EMAIL_MAX_RETRIES = 0

    def refuse(self, messages):
        raise ConnectionRefusedError("no server")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)

    assert send_notification_email.apply(args=(pending.pk,)).get() is False

    pending.refresh_from_db()
    assert pending.email_state == EmailState.FAILED and "no server" in pending.email_error


def test_an_email_switched_off_before_it_went_is_not_sent(pending, user) -> None:
    preferences.choose(user, Event.AGENT_REPLIED, Channel.EMAIL, False)

    assert emails.send_email(pending.pk) is False

    assert mail.outbox == []
    pending.refresh_from_db()
    assert pending.email_state == EmailState.NOT_WANTED


def test_the_sweep_sends_emails_whose_task_was_lost(pending, jobs_run_here) -> None:
    Notification.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )

    with jobs_run_here():
        assert sweep_pending_emails.delay().get() == 1

    assert len(mail.outbox) == 1


def test_the_sweep_leaves_fresh_and_retrying_emails_alone(pending) -> None:
    assert emails.stale_pending_ids() == []  # just made: its task is on its way
    Notification.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - timedelta(minutes=10), email_attempts=1
    )
    assert emails.stale_pending_ids() == []  # tried once: its retry is scheduled


def test_the_dev_default_writes_emails_to_files(pending, settings, tmp_path) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path

    emails.send_email(pending.pk)

    [written] = list(tmp_path.iterdir())
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in written.read_text()
