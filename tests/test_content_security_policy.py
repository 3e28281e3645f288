"""The Content-Security-Policy header on portal and admin pages, and templates it can hold.

The real browser proves no page breaks it (tests/browser/test_csp.py); this is the fast check.
"""

import re
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# What the policy refuses, written into a template: it would be blocked in every browser.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def _directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def _our_templates() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [
        Path(config.path) / "templates"
        for config in apps.get_app_configs()
        if Path(config.path).is_relative_to(settings.BASE_DIR)
        and not Path(config.path).is_relative_to(sys.prefix)  # a virtualenv in the project
    ]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


@pytest.mark.django_db
def test_it_sends_the_policy_on_a_portal_page(client, user):
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 200
    assert _directives(response["Content-Security-Policy"]) == EXPECTED


@pytest.mark.django_db
def test_it_sends_the_policy_on_the_sign_in_and_not_found_pages(client):
    for path, status in [("/accounts/login/", 200), ("/no-such-page/", 404)]:
        response = client.get(path)

        assert response.status_code == status
        assert _directives(response["Content-Security-Policy"]) == EXPECTED


@pytest.mark.django_db
def test_it_sends_the_policy_on_admin_pages_and_the_dashboard(client, manager):
    client.force_login(manager)

    for path in ["/admin/", "/admin/tickets/ticket/", "/manage/dashboard/"]:
        response = client.get(path)

        assert response.status_code == 200, path
        assert _directives(response["Content-Security-Policy"]) == EXPECTED


@pytest.mark.django_db
def test_it_needs_no_nonce_and_allows_nothing_unsafe(client, user):
    client.force_login(user)

    header = client.get("/")["Content-Security-Policy"]

    assert "nonce-" not in header
    assert "unsafe" not in header


def test_it_finds_the_templates_it_checks():
    names = {path.name for path in _our_templates()}

    assert {"base.html", "detail.html", "dashboard.html", "evaluation_report.html"} <= names


def test_no_template_holds_inline_script_style_or_handlers():
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {kind}"
        for path in _our_templates()
        for kind, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]

    assert found == []
