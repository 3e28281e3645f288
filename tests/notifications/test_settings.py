"""E-mail settings from the environment: files under var/mail by default, SMTP when told,
nonsense refused at start."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A production-like environment with no .env file: the settings must stand on these.
BASE = {
    "PATH": "/usr/bin:/bin",
    "HELPDESK_ENV_FILE": "",
    "HELPDESK_VAR_DIR": "/tmp/helpdesk-env-test",
    "SECRET_KEY": "k7Vq-3s9Xb2LmN8pR4tYw6zA1cE5gH0jK-uIo9PlMnBvCxZaSdFgHjKlQwErTy",
    "ALLOWED_HOSTS": "helpdesk.example.com",
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
}


def _run(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**BASE, **env}, capture_output=True, text=True
    )


def test_the_dev_default_writes_mail_to_files_under_var() -> None:
    result = _run({}, "settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.core.mail.backends.filebased.EmailBackend",
        "/tmp/helpdesk-env-test/mail",
    ]


def test_production_reads_the_smtp_server_from_the_environment() -> None:
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": "587",
        "EMAIL_HOST_USER": "helpdesk",
        "EMAIL_USE_TLS": "1",
        "DEFAULT_FROM_EMAIL": "help@example.com",
        "SITE_URL": "https://help.example.com",
    }
    result = _run(
        env,
        "settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER, "
        "settings.EMAIL_USE_TLS, settings.DEFAULT_FROM_EMAIL, settings.SITE_URL",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "smtp.example.com",
        "587",
        "helpdesk",
        "True",
        "help@example.com",
        "https://help.example.com",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "exclude each other"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT must be an integer"),
        ({"SITE_URL": "help.example.com"}, "SITE_URL must start with http"),
    ],
)
def test_nonsense_email_settings_stop_the_start(env: dict[str, str], message: str) -> None:
    result = _run(env, "1")

    assert result.returncode != 0
    assert message in result.stderr
