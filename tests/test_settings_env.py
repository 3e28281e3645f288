"""Settings read from the environment refuse nonsense loudly instead of guessing."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent
# What a production deployment sets, and no .env file: the settings must stand on these.
PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "HELPDESK_ENV_FILE": "",
    "HELPDESK_VAR_DIR": "/tmp/helpdesk-env-test",
    "SECRET_KEY": "k7Vq-3s9Xb2LmN8pR4tYw6zA1cE5gH0jK-uIo9PlMnBvCxZaSdFgHjKlQwErTy",
    "ALLOWED_HOSTS": "helpdesk.example.com",
    "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
    "SECURE_HSTS_PRELOAD": "1",
}


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_it_reads_booleans_and_refuses_other_words(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be a boolean"):
        env_bool("FLAG", False)


def test_it_refuses_integers_that_are_not_or_are_too_small(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", 1, minimum=1)


def test_it_splits_lists_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a redis:// URL"),
        ("ANSWER_HARD_TIME_LIMIT_S", "10", "must exceed ANSWER_SOFT_TIME_LIMIT_S"),
        ("DEBUG", "perhaps", "DEBUG must be a boolean"),
        ("PRESENCE_TTL_S", "12", "PRESENCE_TTL_S must be at least twice PRESENCE_HEARTBEAT_S"),
    ],
)
def test_the_app_will_not_start_with_a_nonsense_setting(name, value, message):
    check = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**PRODUCTION, name: value},
        capture_output=True,
        text=True,
    )
    assert check.returncode != 0
    assert message in check.stderr


def _settings_in_subprocess(env: dict[str, str], expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**PRODUCTION, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_retraining_reads_its_settings_from_the_environment():
    env = {
        "RETRAIN_SCHEDULE_ENABLED": "1",
        "RETRAIN_REPLAY_DATASET": "distilled/all.jsonl",
        "RETRAIN_REPLAY_RATIO": "0.5",
        "RETRAIN_MIN_NEW_EXAMPLES": "7",
    }
    printed = _settings_in_subprocess(
        env,
        "settings.RETRAIN_SCHEDULE_ENABLED, settings.RETRAIN_REPLAY_DATASET, "
        "settings.RETRAIN_REPLAY_RATIO, settings.RETRAIN_MIN_NEW_EXAMPLES, "
        "settings.CELERY_BEAT_SCHEDULE['retrain-from-corrections']['task']",
    )
    assert printed == ("True distilled/all.jsonl 0.5 7 training.releases.tasks.scheduled_retrain")


def test_the_retraining_schedule_is_off_unless_enabled():
    printed = _settings_in_subprocess(
        {}, "'retrain-from-corrections' in settings.CELERY_BEAT_SCHEDULE"
    )
    assert printed == "False"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_key_or_hosts(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    check = _manage(env, "check")
    assert check.returncode != 0
    assert f"{missing} must be set when DEBUG=0" in check.stderr


def test_production_settings_pass_the_deploy_check():
    check = _manage(PRODUCTION, "check", "--deploy", "--fail-level", "WARNING")
    assert check.returncode == 0, check.stderr + check.stdout


def test_production_is_https_only_with_secure_cookies_by_default():
    printed = _settings_in_subprocess(
        {},
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS > 0, "
        "settings.SECURE_PROXY_SSL_HEADER",
    )
    assert printed == "True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_debug_machine_runs_without_a_key_and_over_plain_http():
    printed = _settings_in_subprocess(
        {"DEBUG": "1", "SECRET_KEY": "", "ALLOWED_HOSTS": ""},
        "settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, bool(settings.SECRET_KEY)",
    )
    assert printed == "False False True"


def test_the_environment_wins_over_the_env_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("LOGIN_FAILURE_LIMIT=9\nMESSAGE_MAX_CHARS=100\n")
    printed = _settings_in_subprocess(
        {"HELPDESK_ENV_FILE": str(env_file), "MESSAGE_MAX_CHARS": "200"},
        "settings.AXES_FAILURE_LIMIT, settings.MESSAGE_MAX_CHARS",
    )
    assert printed == "9 200"
