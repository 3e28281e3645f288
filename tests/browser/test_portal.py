"""The user's chat in a real browser: messages appear in place, without a page load."""

import re

import pytest
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
    expect(page.locator("#conversation")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(page.locator("#ticket-bar .badge")).to_have_text("Answered")
    assert page.evaluate(MARKER) == "no reload"
    save_screenshot(page, "portal_assistant_answer")
