"""The ticket workspace in a real browser: two agents on one ticket see each other, the one
who replies second from a stale page is stopped and told why, a note never reaches the
user's open chat, and a macro fills the reply box."""

import pytest
import redis
from playwright.sync_api import expect

from macros.models import Macro
from tests.browser.conftest import WAIT_MS, save_screenshot, sign_in
from tests.factories import AgentFactory
from tickets import lifecycle
from tickets.models import Message, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Internal: the user's laptop is due for replacement next week"


@pytest.fixture
def presence_here(settings, redis_url):
    """Presence in the test Redis, beating every 2 s so the test need not wait 10."""
    redis.Redis.from_url(redis_url).flushdb()
    settings.REDIS_URL = redis_url
    settings.PRESENCE_HEARTBEAT_S = 2
    settings.PRESENCE_TTL_S = 6


def test_two_agents_on_one_ticket(live_server, new_browser_page, presence_here, user, agent):
    carol = AgentFactory(username="carol", first_name="Carol")
    ticket = lifecycle.assign(lifecycle.open_ticket(user, "The VPN drops every hour"), agent)
    page_url = f"/admin/tickets/ticket/{ticket.pk}/change/"

    bob = sign_in(new_browser_page(), live_server, agent.username, next_path=page_url)
    bob.evaluate("window.__helpdeskMarker = 'no reload'")
    other = sign_in(new_browser_page(), live_server, carol.username, next_path=page_url)

    # Each sees the other: Carol at once, Bob at his page's next heartbeat, in place.
    expect(other.locator("#presence")).to_contain_text(f"Also open by {agent.username}")
    expect(bob.locator("#presence")).to_contain_text("Also open by carol", timeout=WAIT_MS)
    assert bob.evaluate("window.__helpdeskMarker") == "no reload"
    save_screenshot(bob, "workspace_presence")

    # Carol replies first; Bob, whose page predates it, is stopped and shown why.
    other.fill("#id_body", "Please update the VPN client to 5.2.")
    other.click("button[value='reply']")
    expect(other.locator(".messagelist")).to_contain_text("Reply sent")
    expect(bob.locator(".ws-changed")).to_contain_text("carol replied to the user")
    bob.fill("#id_body", "Please reinstall the VPN client.")
    bob.click("button[value='reply']")
    expect(bob.locator(".messagelist")).to_contain_text("Not sent")
    expect(bob.locator(".ws-refused")).to_contain_text("carol replied to the user")
    expect(bob.locator("#id_body")).to_have_value("Please reinstall the VPN client.")
    expect(bob.locator(".ws-conversation")).to_contain_text("update the VPN client to 5.2")
    save_screenshot(bob, "workspace_stale_reply_refused")
    assert Message.objects.filter(ticket=ticket, role=Role.AGENT).count() == 1

    # From the reloaded page the kept text goes through.
    bob.click("button[value='reply']")
    expect(bob.locator(".messagelist")).to_contain_text("Reply sent")
    assert Message.objects.filter(ticket=ticket, role=Role.AGENT).count() == 2


def test_a_note_never_reaches_the_users_chat(live_server, new_browser_page, user, agent):
    ticket = lifecycle.assign(lifecycle.open_ticket(user, "My laptop is very slow"), agent)
    chat = sign_in(
        new_browser_page(), live_server, user.username, next_path=f"/tickets/{ticket.pk}/"
    )
    chat.evaluate("window.__helpdeskMarker = 'no reload'")
    desk = sign_in(
        new_browser_page(),
        live_server,
        agent.username,
        next_path=f"/admin/tickets/ticket/{ticket.pk}/change/",
    )

    desk.fill("#id_body", NOTE)
    desk.click("button[value='note']")
    expect(desk.locator(".messagelist")).to_contain_text("Internal note added")
    expect(desk.locator(".ws-note")).to_contain_text("due for replacement")
    expect(desk.locator(".ws-note")).to_contain_text("Internal note: agents and managers only")
    desk.fill("#id_body", "I'll order you a new laptop today.")
    desk.click("button[value='reply']")
    expect(desk.locator(".messagelist")).to_contain_text("Reply sent")
    save_screenshot(desk, "workspace_note")

    # The reply arrives in the open chat by its poll; the note, written before it, never.
    expect(chat.locator(".bubble-row.role-agent")).to_contain_text("new laptop", timeout=WAIT_MS)
    assert chat.evaluate("window.__helpdeskMarker") == "no reload"
    expect(chat.locator("body")).not_to_contain_text("due for replacement")
    chat.reload()
    expect(chat.locator(".bubble-row.role-agent")).to_contain_text("new laptop")
    expect(chat.locator("body")).not_to_contain_text("due for replacement")
    save_screenshot(chat, "workspace_note_not_in_chat")


def test_a_macro_fills_the_reply_box(live_server, new_browser_page, user, agent):
    user.first_name = "Alice"
    user.save()
    ticket = lifecycle.assign(lifecycle.open_ticket(user, "Outlook keeps asking"), agent)
    Macro.objects.create(
        title="Password prompt",
        body="Hi {{ user.first_name }}, about #{{ ticket.id }}: clear the saved password.",
    )
    desk = sign_in(
        new_browser_page(),
        live_server,
        agent.username,
        next_path=f"/admin/tickets/ticket/{ticket.pk}/change/",
    )
    desk.evaluate("window.__helpdeskMarker = 'no reload'")

    desk.select_option("#macro-choice", label="Password prompt")
    desk.click("button:has-text('Insert into the reply')")

    filled = f"Hi Alice, about #{ticket.pk}: clear the saved password."
    expect(desk.locator("#id_body")).to_have_value(filled)
    expect(desk.locator(".ws-from-macro")).to_contain_text("Password prompt")
    assert desk.evaluate("window.__helpdeskMarker") == "no reload"  # an htmx swap
    desk.fill("#id_body", filled + " Then restart Outlook.")
    desk.click("button[value='reply']")
    expect(desk.locator(".messagelist")).to_contain_text("Reply sent")
    assert Macro.objects.with_use_count().get().use_count == 1
    save_screenshot(desk, "workspace_macro")
