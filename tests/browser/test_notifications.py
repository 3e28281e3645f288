"""Notifications in a real browser under the Content-Security-Policy: the bell's count
arrives by htmx in the portal and the admin header, the list marks one read in place, the
settings matrix saves, and the unsubscribe page works without signing in."""

import pytest
from playwright.sync_api import expect

from notifications import preferences
from notifications.api import notify
from notifications.models import Channel, Event
from notifications.unsubscribe import unsubscribe_path
from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} refused ${event.blockedURI || "?"}`);
});
"""


def _watched(new_browser_page):
    page = new_browser_page()
    page.add_init_script(RECORD_VIOLATIONS)
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security" in m.text else None)
    return page, seen


def _violations(page, seen: list[str]) -> list[str]:
    return [*seen, *page.evaluate("() => window.__cspViolations || []")]


def test_the_portal_bell_list_and_settings_work_under_the_policy(
    live_server, new_browser_page, user
) -> None:
    ticket = TicketFactory(requester=user, subject="Wi-Fi drops")
    for n in range(2):
        notify(
            Event.AGENT_REPLIED, user, ticket=ticket, key=f"r{n}", context={"excerpt": f"Try {n}"}
        )
    page, seen = _watched(new_browser_page)
    sign_in(page, live_server, user.username)
    violations: list[str] = []

    bell = page.locator(".notification-bell .bell-count")
    expect(bell).to_have_text("2")
    violations += _violations(page, seen)

    page.click(".notification-bell")
    expect(page.locator("li.notification.unread")).to_have_count(2)
    page.locator("li.notification.unread button:has-text('Mark as read')").first.click()
    expect(page.locator("li.notification.unread")).to_have_count(1)
    save_screenshot(page, "notifications-list")
    violations += _violations(page, seen)

    page.goto(f"{live_server.url}/")
    expect(bell).to_have_text("1")
    page.goto(f"{live_server.url}/notifications/preferences/")
    page.uncheck("#id_agent_replied__email")
    with page.expect_navigation():
        page.click("button:has-text('Save')")
    expect(page.locator(".flash")).to_contain_text("saved")
    violations += _violations(page, seen)

    assert not preferences.wants(user, Event.AGENT_REPLIED, Channel.EMAIL)
    assert violations == []


def test_the_admin_header_has_the_bell(live_server, new_browser_page, agent) -> None:
    notify(Event.TICKET_ASSIGNED, agent, ticket=TicketFactory(), key="a")
    page, seen = _watched(new_browser_page)
    sign_in(page, live_server, agent.username, next_path="/admin/")

    expect(page.locator("#user-tools .notification-bell .bell-count")).to_have_text("1")
    page.click("#user-tools a:has-text('Notification settings')")
    expect(page.locator(".preferences-matrix")).to_be_visible()

    assert _violations(page, seen) == []


def test_the_unsubscribe_link_works_without_signing_in(live_server, new_browser_page, user) -> None:
    page, seen = _watched(new_browser_page)

    page.goto(f"{live_server.url}{unsubscribe_path(user, Event.TICKET_RESOLVED)}")
    expect(page.locator("h1")).to_have_text("Stop these e-mails?")
    with page.expect_navigation():
        page.click("button:has-text('Unsubscribe')")
    expect(page.locator("h1")).to_have_text("You are unsubscribed")

    assert not preferences.wants(user, Event.TICKET_RESOLVED, Channel.EMAIL)
    assert _violations(page, seen) == []
