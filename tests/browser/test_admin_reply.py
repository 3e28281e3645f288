"""An agent replies in the admin; the user's open chat shows it by polling."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import WAIT_MS, save_screenshot, sign_in
from tickets import lifecycle
from tickets.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_agents_admin_reply_in_the_users_open_chat(
    live_server, new_browser_page, user, agent
):
    ticket = lifecycle.open_ticket(user, "The shared drive S: is gone from my computer")
    user_page = sign_in(
        new_browser_page(), live_server, user.username, next_path=f"/tickets/{ticket.pk}/"
    )
    user_page.evaluate("window.__helpdeskMarker = 'no reload'")
    expect(user_page.locator(".bubble-row.mine")).to_contain_text("shared drive S:")

    agent_page = sign_in(
        new_browser_page(), live_server, agent.username, next_path="/admin/tickets/ticket/"
    )
    expect(agent_page.locator("#result_list")).to_contain_text("shared drive S:")
    expect(agent_page.locator(".ws-availability")).to_contain_text("You are available")
    save_screenshot(agent_page, "admin_changelist")
    agent_page.click(f"#result_list a[href$='/{ticket.pk}/change/']")
    expect(agent_page.locator(".ws-conversation")).to_contain_text("shared drive S:")
    agent_page.fill("#id_body", "I've re-mapped **S:** for you: please sign out and back in.")
    agent_page.select_option("#id_reason", "no_draft")
    agent_page.click("button[value='reply']")
    expect(agent_page.locator(".messagelist")).to_contain_text("Reply sent")
    save_screenshot(agent_page, "admin_ticket_reply")

    reply = user_page.locator(".bubble-row.role-agent")
    expect(reply).to_contain_text("re-mapped S: for you", timeout=WAIT_MS)
    expect(reply).to_contain_text("Support agent")
    assert user_page.evaluate("window.__helpdeskMarker") == "no reload"
    assert ticket.messages.filter(role=Role.AGENT, author=agent).count() == 1
    save_screenshot(user_page, "portal_agent_reply")
