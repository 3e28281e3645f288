"""AUTO_RESOLVE_QUIET_DAYS comes from the environment and refuses a period under a day."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def _read(value: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--verbosity=0",
            "-c",
            "from django.conf import settings as s; print(s.AUTO_RESOLVE_QUIET_DAYS)",
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "AUTO_RESOLVE_QUIET_DAYS": value,
            "HELPDESK_VAR_DIR": "/tmp/helpdesk-env-test",
        },
        capture_output=True,
        text=True,
    )


def test_it_reads_the_quiet_days_from_the_environment():
    result = _read("7")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"


def test_it_will_not_start_with_a_quiet_period_under_a_day():
    result = _read("0")

    assert result.returncode != 0
    assert "AUTO_RESOLVE_QUIET_DAYS must be at least 1" in result.stderr
