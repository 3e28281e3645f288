"""The user's chat in a real browser: messages appear in place, without a page load."""

import contextlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import MessageFactory, ModelVersionFactory, TicketFactory
from tickets import lifecycle
from tickets.models import AnswerRequest, AnswerStatus, Message, Role, Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARKER = "window.__helpdeskMarker"


def test_it_shows_the_users_bubbles_without_reloading_the_page(
    live_server, browser_page, user, agent
):
    page = sign_in(browser_page, live_server, user.username, next_path="/tickets/new/")
    page.evaluate(f"{MARKER} = 'no reload'")

    page.fill("#id_body", "My **laptop** won't connect to the office Wi-Fi")
    page.click("button:has-text('Send')")

    first = page.locator(".bubble-row.mine").first
    expect(first).to_contain_text("won't connect to the office Wi-Fi")
    expect(first.locator("strong")).to_have_text("laptop")  # Markdown rendered
    expect(page.locator(".role-system")).to_contain_text("with our support team")
    ticket = Ticket.objects.get(requester=user)
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"))

    page.fill("#composer textarea", "It started after the update yesterday")
    page.keyboard.press("Enter")

    expect(page.locator(".bubble-row.mine")).to_have_count(2)
    expect(page.locator(".bubble-row.mine").last).to_contain_text("after the update yesterday")
    expect(page.locator("#composer textarea")).to_have_value("")
    assert page.evaluate(MARKER) == "no reload"
    assert ticket.messages.filter(role=Role.USER).count() == 2
    save_screenshot(page, "portal_chat")


def test_it_keeps_the_typed_text_when_a_message_is_refused(live_server, browser_page, user, agent):
    page = sign_in(browser_page, live_server, user.username, next_path="/tickets/new/")
    page.fill("#id_body", "Printer on floor 3 is offline")
    page.click("button:has-text('Send')")
    expect(page.locator(".bubble-row.mine")).to_have_count(1)
    page.evaluate(f"{MARKER} = 'no reload'")

    page.fill("#composer textarea", "   ")
    page.click("#composer button[type=submit]")

    expect(page.locator("#composer .form-error")).to_contain_text("Please write a message")
    assert page.evaluate(MARKER) == "no reload"
    assert Message.objects.filter(role=Role.USER).count() == 1


def test_it_shows_typing_then_the_answer_with_its_confidence_and_stops_polling(
    live_server, browser_page, user
):
    # The worker's side is played by the test: a pending answer, then the answer itself.
    version = ModelVersionFactory(name="smollm2-135m-lora-v1", is_default=True)
    ModelVersionFactory(name="smollm2-135m-base")
    ticket = TicketFactory(
        requester=user, subject="Excel crashes", status=Status.AWAITING_ASSISTANT
    )
    question = MessageFactory(ticket=ticket, body="Excel crashes when I open a big file")
    request = AnswerRequest.objects.create(ticket=ticket, question=question, model_version=version)

    page = sign_in(browser_page, live_server, user.username, next_path=f"/tickets/{ticket.pk}/")
    page.evaluate(f"{MARKER} = 'no reload'")
    expect(page.locator(".typing")).to_contain_text("The assistant is typing")

    Message.objects.create(
        ticket=ticket,
        role=Role.ASSISTANT,
        body="Try opening it in **safe mode**:\n\n```\nexcel /safe\n```",
        model_version=version,
        confidence=0.86,
        passed_gate=True,
    )
    AnswerRequest.objects.filter(pk=request.pk).update(status=AnswerStatus.DONE)
    lifecycle.record_answered(ticket)

    answer = page.locator(".bubble-row.role-assistant")
    expect(answer).to_contain_text("86% confident")
    expect(answer).to_contain_text("smollm2-135m-lora-v1")
    expect(answer.locator("pre code")).to_have_text("excel /safe")
    expect(page.locator(".typing")).to_have_count(0)
    expect(page.locator("#chat-poll")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.locator("#ticket-bar .badge")).to_have_text("Answered")
    assert page.evaluate(MARKER) == "no reload"
    save_screenshot(page, "portal_assistant_answer")


def _shown_ids(page) -> list[int]:
    ids = page.locator("#conversation > article").evaluate_all("els => els.map(e => e.id)")
    return [int(i.removeprefix("m")) for i in ids]


def _next_poll(page):
    return page.expect_response(lambda r: "/messages/" in r.url, timeout=10_000)


def test_it_appends_each_new_message_once_and_in_order_while_it_polls(
    live_server, browser_page, user
):
    version = ModelVersionFactory(name="smollm2-135m-lora-v1", is_default=True)
    ticket = TicketFactory(requester=user, subject="VPN", status=Status.AWAITING_ASSISTANT)
    question = MessageFactory(ticket=ticket, body="The VPN drops every hour")
    AnswerRequest.objects.create(ticket=ticket, question=question, model_version=version)
    page = sign_in(browser_page, live_server, user.username, next_path=f"/tickets/{ticket.pk}/")
    page.evaluate(f"{MARKER} = 'no reload'")

    with _next_poll(page) as quiet:
        pass
    assert quiet.value.status == 204  # nothing new: an empty answer
    MessageFactory(ticket=ticket, role=Role.SYSTEM, body="one")
    expect(page.locator("#conversation > article")).to_have_count(2)
    MessageFactory(ticket=ticket, role=Role.SYSTEM, body="two")
    MessageFactory(ticket=ticket, role=Role.SYSTEM, body="three")
    expect(page.locator("#conversation > article")).to_have_count(4)
    page.fill("#composer textarea", "and four")
    page.keyboard.press("Enter")
    # No model in the browser tests: the send also hands the ticket to people, with a note.
    expect(page.locator(".role-system").last).to_contain_text("with our support team")
    with _next_poll(page):
        pass  # a poll after the send must not bring the sent message again

    assert _shown_ids(page) == list(ticket.messages.values_list("pk", flat=True))
    expect(page.locator("#conversation > article .md")).to_have_text(
        ["The VPN drops every hour", "one", "two", "three", "and four", re.compile("support")]
    )
    assert page.evaluate(MARKER) == "no reload"


def test_it_works_without_javascript(live_server, chromium_browser, user):
    context = chromium_browser.new_context(java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        for n in range(25):
            TicketFactory(requester=user, subject=f"Old ticket {n:02d}", status=Status.RESOLVED)
        sign_in(page, live_server, user.username)
        page.click("a:has-text('Older →')")
        expect(page).to_have_url(re.compile(r"\?page=2$"))
        page.click("a:has-text('New ticket') >> nth=0")

        page.fill("#id_body", "My screen flickers")
        page.click("button:has-text('Send')")
        expect(page.locator(".bubble-row.mine")).to_contain_text("My screen flickers")
        page.fill("#composer textarea", "Only on the left monitor")
        page.click("#composer button[type=submit]")
        expect(page.locator(".bubble-row.mine")).to_have_count(2)
        page.click("button:has-text('This solved it')")
        expect(page.locator("#ticket-bar .badge")).to_have_text("Resolved")

        ticket = Ticket.objects.get(subject="My screen flickers")
        lifecycle.close(ticket)
        page.reload()
        expect(page.locator("#composer.closed")).to_contain_text("This ticket is closed")
    finally:
        context.close()


def test_it_shows_nothing_twice_when_a_poll_answered_before_a_send_arrives_after_it(
    live_server, browser_page, user, agent
):
    ticket = lifecycle.open_ticket(user, "Outlook asks for my password")  # polls every 5s
    page = sign_in(browser_page, live_server, user.username, next_path=f"/tickets/{ticket.pk}/")
    held = []

    def hold(route) -> None:
        held.append(route)

    page.route("**/messages/?*", hold)
    lifecycle.agent_reply(ticket, agent, "Which version of Outlook?")
    with page.expect_request(lambda r: "/messages/" in r.url, timeout=10_000):
        pass
    while not held:  # the route handler runs once Playwright dispatches the request
        page.wait_for_timeout(50)
    # The server answers the poll before the send, the browser gets the answer after it.
    answered_before_the_send = held[0].fetch()
    page.fill("#composer textarea", "The new one")
    page.keyboard.press("Enter")
    expect(page.locator(".bubble-row.mine")).to_have_count(2)
    page.unroute("**/messages/?*", hold)
    # The send aborts the poll under way: delivering its late answer may fail, and may not.
    with contextlib.suppress(PlaywrightError):
        held[0].fulfill(response=answered_before_the_send)
    with _next_poll(page):
        pass

    assert _shown_ids(page) == list(ticket.messages.values_list("pk", flat=True))
