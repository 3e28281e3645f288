"""In a real browser, with the real model on a real worker: the answer bubble and its badge,
and the hand-off when the model is unsure."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ask_in_portal, save_screenshot, sign_in
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Generation on two shared cores, plus the 2 s poll.
MODEL_WAIT_MS = 420_000


def test_the_answer_appears_with_its_confidence_badge(
    live_server, browser_page, start_worker, smollm2, user, agent
):
    smollm2.gate_threshold = 0.0  # this test is about showing an answer
    smollm2.save()
    start_worker()

    page = ask_in_portal(
        browser_page, live_server, user, "How do I see which process uses port 80?"
    )

    badge = page.locator(".role-assistant .confidence")
    expect(badge).to_be_visible(timeout=MODEL_WAIT_MS)
    expect(badge).to_contain_text("% confident")
    expect(page.locator(".role-assistant")).to_contain_text(smollm2.name)
    save_screenshot(page, "assistant_answer")


def test_an_unsure_answer_hands_off_and_lands_in_the_agents_queue(
    live_server, new_browser_page, start_worker, smollm2, user, agent
):
    smollm2.gate_threshold = 1.01  # nothing passes: the gate must hand off
    smollm2.save()
    start_worker()

    page = ask_in_portal(
        new_browser_page(), live_server, user, "My keyboard types the wrong letters"
    )

    expect(page.locator(".role-system")).to_contain_text(
        "passed your ticket to a person", timeout=MODEL_WAIT_MS
    )
    expect(page.locator(".role-assistant")).to_have_count(0)  # the draft stays hidden
    save_screenshot(page, "assistant_handoff")

    ticket = Ticket.objects.get(requester=user)
    admin = sign_in(
        new_browser_page(), live_server, agent.username, next_path="/admin/tickets/ticket/"
    )
    row = admin.locator(f"#result_list tr:has-text('{ticket.subject[:30]}')")
    expect(row).to_contain_text("Low confidence")
    save_screenshot(admin, "agent_queue_after_handoff")
