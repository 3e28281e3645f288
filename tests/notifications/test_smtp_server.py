"""The smtp_server fixture: a real SMTP server that Django's e-mail API reaches."""

from django.conf import settings
from django.core.mail import send_mail


def test_it_receives_what_django_sends(smtp_server) -> None:
    send_mail("Hello", "It works.", "desk@example.com", ["alice@example.com"])

    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Hello"
    assert message["To"] == "alice@example.com"
    assert message.get_content().strip() == "It works."


def test_it_points_the_settings_and_the_workers_environment_at_itself(smtp_server) -> None:
    import os

    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert (smtp_server.host, smtp_server.port) == (settings.EMAIL_HOST, settings.EMAIL_PORT)
    assert os.environ["EMAIL_PORT"] == str(smtp_server.port)
