"""Playwright fixtures for browser tests: Debian's headless Chromium, fresh pages, signing in.

Reuse them in any browser test under tests/browser/:

    def test_it_shows_x(live_server, browser_page, user):
        sign_in(browser_page, live_server, user.username)
        ...
        save_screenshot(browser_page, "x")

`new_browser_page()` opens another page in its own context (its own cookies), for a second
person in the same test, e.g. an agent replying while the user watches.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Headless, offline and quiet: no GPU, no background calls home, no first-run pages.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# The password tests.factories.UserFactory gives every user.
TEST_PASSWORD = "pw-for-tests"
# Long enough for a 5 s poll on two busy cores, short enough to fail fast when broken.
WAIT_MS = 20_000


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def new_browser_page(chromium_browser) -> Iterator[Callable[[], object]]:
    """A factory of pages, each in a context of its own; all closed after the test."""
    contexts = []

    def open_page() -> object:
        context = chromium_browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_browser_page) -> object:
    return new_browser_page()


def sign_in(page, live_server, username: str, password: str = TEST_PASSWORD, next_path: str = "/"):
    """Sign in through the portal's login form, then land on `next_path` (admin pages too)."""
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/accounts/login/" not in page.url, f"sign-in failed for {username}"
    return page


def ask_in_portal(page, live_server, user, text: str):
    """Sign in as `user` and send `text` as a new ticket; the page shows it at once."""
    from playwright.sync_api import expect

    sign_in(page, live_server, user.username, next_path="/tickets/new/")
    page.fill("#id_body", text)
    page.click("button:has-text('Send')")
    expect(page.locator(".bubble-row.mine")).to_have_count(1)
    return page


def save_screenshot(page, name: str) -> Path:
    """A full-page PNG under test-artifacts/, to look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True)
def _no_model(settings):
    # The portal and admin flows do not need the model: tickets go straight to the agents.
    settings.ASSISTANT_ENABLED = False
