"""In a real browser under the CSP: the resolved ticket's chat takes a rating in place, and
the e-mail link's page takes one without signing in."""

import pytest
from playwright.sync_api import expect

from satisfaction.models import Channel, Rating
from satisfaction.tokens import rating_path
from tests.browser import test_csp
from tests.browser.conftest import save_screenshot, sign_in
from tests.browser.test_csp import MARKER
from tests.satisfaction.helpers import answered_ticket, resolved_by_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The CSP test's page that records violations, as a fixture of this module too.
watched_page = test_csp.watched_page


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def test_this_solved_it_then_a_rating_in_place_in_the_chat(live_server, watched_page, user):
    ticket = answered_ticket(user)
    watched = watched_page()
    page = sign_in(watched.page, live_server, user.username)
    watched.visit(f"{live_server.url}{ticket.get_absolute_url()}")
    page.evaluate(f"{MARKER} = 'no reload'")

    page.click("button:has-text('This solved it')")
    page.locator(".csat-score", has_text="4").click()
    page.fill(".csat textarea", "Clear steps, thanks")
    save_screenshot(page, "csat_chat_form")
    page.click("button:has-text('Send my rating')")

    expect(page.locator(".csat-done")).to_contain_text("4 of 5")
    assert page.evaluate(MARKER) == "no reload"
    watched.take()
    save_screenshot(page, "csat_chat")
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.resolved_by_ai) == (4, "Clear steps, thanks", True)
    assert watched.violations == []


def test_the_links_page_takes_a_rating_without_signing_in(live_server, watched_page, user):
    ticket = resolved_by_people(user)
    watched = watched_page()
    page = watched.page

    watched.visit(f"{live_server.url}{rating_path(ticket, 2)}")
    expect(page.locator("input[name=score][value='2']")).to_be_checked()
    page.fill(".csat textarea", "It took three days")
    page.click("button:has-text('Send my rating')")

    expect(page.locator(".csat-done")).to_contain_text("2 of 5")
    watched.take()
    save_screenshot(page, "csat_link_page")
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.channel) == (2, Channel.EMAIL)
    assert watched.violations == []
