"""Every portal and admin page under the Content-Security-Policy in a real browser: no violation.

The end user, an agent and a manager each open every page they can reach (in the admin: the
index, each app, each model's changelist, add, change, history and delete pages, and the
custom views), and the browser reports what the policy refused: `securitypolicyviolation`
events, recorded by a script that runs before the page's own, and console messages.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from jobs.models import JobStatus
from knowledge.models import Article, ArticleStatus, CaseSource, ReindexRun, SolvedCase
from macros.models import Macro
from tests.browser.conftest import save_screenshot, sign_in
from tests.factories import AgentFactory, MessageFactory, ModelVersionFactory, TicketFactory
from tests.feedback.helpers import make_example
from tickets import lifecycle
from tickets.models import Role, Status, Ticket
from tickets.views import TICKETS_PER_PAGE
from training.models import (
    DataExport,
    Erasure,
    EvaluationRun,
    Promotion,
    ReviewState,
    ShadowComparison,
    TrainingRun,
)
from training.pipeline.datasets import register_dataset

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} refused ${event.blockedURI || "?"} ` +
    `(${event.sourceFile || "?"}:${event.lineNumber}) ${event.sample || ""}`
  );
});
"""
# Reports are queued as tasks: one more task lets those of the page's last steps arrive.
TAKE_VIOLATIONS = """() => new Promise((resolve) => setTimeout(
  () => resolve(window.__cspViolations ? window.__cspViolations.splice(0) : []), 0))"""
MARKER = "window.__helpdeskMarker"
# Admin views that are no page of their own: they take a POST and redirect, or serve a file.
NOT_PAGES = {
    "tickets_ticket_availability",
    "tickets_ticket_reply",
    "tickets_ticket_act",
    "tickets_ticket_presence",  # the ticket page's heartbeat (htmx)
    "tickets_ticket_macro",  # a macro into the ticket page's reply box (htmx)
    "training_evaluation_plot",  # the evaluation report shows it
    "knowledge_article_from_reply",
}
STANDARD_VIEWS = ("changelist", "add", "change", "history", "delete")
# The seeded jobs are finished: the page of an unfinished job reloads itself every 5 s.
FINISHED = {"status": JobStatus.SUCCEEDED, "progress": 1.0}


@dataclass
class WatchedPage:
    """A page whose CSP violations are collected, each with the address it happened on."""

    page: object
    violations: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def visit(self, url: str, status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == status, f"{url}: {response.status}"
        assert "/login/" not in self.page.url or "/login/" in url, f"{url} asked to sign in"
        self.visited.append(url)
        self.take()

    def take(self) -> None:
        found = self.page.evaluate(TAKE_VIOLATIONS)
        self.violations += [f"{self.page.url}: {text}" for text in found]


@pytest.fixture
def watched_page(new_browser_page) -> Callable[[], WatchedPage]:
    def open_page() -> WatchedPage:
        page = new_browser_page()
        watched = WatchedPage(page)
        page.add_init_script(RECORD_VIOLATIONS)

        def on_console(message) -> None:
            if "Content Security Policy" in message.text:
                watched.violations.append(f"{page.url}: console: {message.text}")

        page.on("console", on_console)
        return watched

    return open_page


@dataclass
class Desk:
    """The seeded desk's tickets and version that the tests open by id."""

    answered: Ticket
    closed: Ticket
    awaiting: Ticket
    version_id: int
    article_slug: str


@pytest.fixture
def desk(user, agent, manager, tmp_path: Path) -> Desk:
    """A row of every kind the admin lists, so that each change page has one to show."""
    version = _evaluated_version(tmp_path)
    version.make_default()
    candidate = ModelVersionFactory(name="smollm2-retrain-1", parent=version)
    answered = _answered_ticket(user, version)
    closed = TicketFactory(requester=user, subject="Old laptop", status=Status.CLOSED)
    MessageFactory(ticket=closed, body="It is slow")
    awaiting = TicketFactory(requester=user, subject="Excel", status=Status.AWAITING_ASSISTANT)
    MessageFactory(ticket=awaiting, body="Excel crashes")
    escalated = lifecycle.open_ticket(user, "The shared drive S: is gone")  # goes to the agent
    for n in range(TICKETS_PER_PAGE):  # a second page of tickets
        TicketFactory(requester=user, subject=f"Older ticket {n}", status=Status.RESOLVED)

    make_example(
        ticket=escalated,
        agent=agent,
        version=version,
        state=ReviewState.PENDING,
        context=[{"role": "user", "content": "It was there yesterday"}],
    )
    Macro.objects.create(title="VPN restart", body="Hi {{ user.first_name }}, restart it.")
    _training_rows(version, candidate, manager, escalated, tmp_path)
    article = _knowledge_rows(escalated, manager)
    _sign_in_rows()
    return Desk(
        answered=answered,
        closed=closed,
        awaiting=awaiting,
        version_id=version.pk,
        article_slug=article.slug,
    )


def _knowledge_rows(ticket: Ticket, manager) -> Article:
    """A published article, a solved case and a finished reindex."""
    article = Article.objects.create(
        title="Reset your VPN",
        slug="reset-your-vpn",
        body="Open **Settings** and press *Reset*.",
        status=ArticleStatus.PUBLISHED,
    )
    SolvedCase.objects.create(
        ticket=ticket,
        source=CaseSource.IMPORTED,
        source_key="vpn",
        question="VPN?",
        answer="Reset.",
    )
    ReindexRun.objects.create(counts={"articles": 1}, started_by=manager, **FINISHED)
    return article


def _sign_in_rows() -> None:
    """What django-axes records of sign-ins, one row of each."""
    attempt = {"username": "nobody", "ip_address": "127.0.0.1", "user_agent": "Chromium"}
    AccessAttempt.objects.create(**attempt, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt)


def _training_rows(version, candidate, manager, ticket: Ticket, tmp_path: Path) -> None:
    """A finished job of each kind, a promotion and an erasure."""
    dataset_file = tmp_path / "held-out.jsonl"
    dataset_file.write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    dataset = register_dataset(dataset_file, split="test")
    TrainingRun.objects.create(
        config={"max_steps": 10},
        base_version=version,
        produced_version=candidate,
        train_dataset=dataset,
        metrics={"loss": 1.2},
        started_by=manager,
        **FINISHED,
    )
    EvaluationRun.objects.create(
        version=version, dataset=dataset, summary={"rouge_l": 0.4}, started_by=manager, **FINISHED
    )
    comparison = ShadowComparison.objects.create(
        candidate=candidate,
        active=version,
        candidate_not_worse=True,
        report={
            "examples": 1,
            "candidate": {"similarity_mean": 0.71},
            "active": {"similarity_mean": 0.64},
            "verdict": ["not worse"],
            "samples": [
                {
                    "question": "VPN?",
                    "agent_answer": "Reset it.",
                    "candidate": {"text": "Reset the VPN.", "similarity": 0.8},
                    "active": {"text": "Reboot.", "similarity": 0.3},
                }
            ],
        },
        started_by=manager,
        **FINISHED,
    )
    Promotion.objects.create(
        version=candidate, previous=version, comparison=comparison, promoted_by=manager
    )
    export = DataExport.objects.create(
        filters={"state": "approved"},
        path=str(tmp_path / "export.jsonl"),
        redaction_report={"emails": 1},
        ticket_ids=[ticket.pk],
        started_by=manager,
        **FINISHED,
    )
    Erasure.objects.create(ticket_id=ticket.pk, requested_by=manager).exports.add(export)


def _evaluated_version(tmp_path: Path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"summary": {"rouge_l": 0.4}}))
    plot = tmp_path / "reliability.png"
    Image.new("RGB", (40, 30), "white").save(plot)
    return ModelVersionFactory(
        name="smollm2-base",
        evaluation={
            "report": str(report),
            "plots": [str(plot)],
            "summary": {"loss": 1.1, "perplexity": 3.0, "rouge_l": 0.4},
        },
    )


def _answered_ticket(user, version) -> Ticket:
    ticket = TicketFactory(requester=user, subject="Wi-Fi", status=Status.ANSWERED)
    MessageFactory(ticket=ticket, body="My laptop won't connect to the **Wi-Fi**")
    MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Forget the network and join it again:\n\n```\nnetsh wlan delete profile\n```",
        model_version=version,
        confidence=0.86,
        passed_gate=True,
    )
    return ticket


# --- the pages of the admin ----------------------------------------------------------------


def _admin_pages(staff, desk: Desk, custom_views: bool) -> list[str]:
    """Every admin page `staff` may open; with `custom_views`, the models' own views too."""
    request = RequestFactory().get("/admin/")
    request.user = staff
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    apps_seen = set()
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_view_permission(request):
            continue
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        if model._meta.app_label not in apps_seen:
            apps_seen.add(model._meta.app_label)
            pages.append(reverse("admin:app_list", args=[model._meta.app_label]))
        pages.append(reverse(f"admin:{info}_changelist"))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"admin:{info}_add"))
        obj = model_admin.get_queryset(request).order_by("pk").first()
        if obj is not None and model_admin.has_view_permission(request, obj):
            pages.append(reverse(f"admin:{info}_change", args=[obj.pk]))
            pages.append(reverse(f"admin:{info}_history", args=[obj.pk]))
            if model_admin.has_delete_permission(request, obj):
                pages.append(reverse(f"admin:{info}_delete", args=[obj.pk]))
        if custom_views:
            pages += _custom_views(model_admin, info, staff, desk)
    return pages


def _custom_views(model_admin, info: str, staff, desk: Desk) -> list[str]:
    with_arguments = {
        "auth_user_password_change": [staff.pk],
        "training_evaluation_report": [desk.version_id],
    }
    standard = {f"{info}_{view}" for view in STANDARD_VIEWS}
    pages = []
    for pattern in model_admin.get_urls():
        name = pattern.name
        if name is None or name in standard or name in NOT_PAGES or name.endswith("_cancel"):
            continue  # the catch-all redirect; the pages above; POSTs (job cancel buttons too)
        if not pattern.pattern.converters:
            pages.append(reverse(f"admin:{name}"))
        elif name in with_arguments:
            pages.append(reverse(f"admin:{name}", args=with_arguments[name]))
        else:
            pytest.fail(f"admin view {name} takes arguments: give it a page in this test")
    return pages


# --- the tests -----------------------------------------------------------------------------


def test_it_notices_a_violation_when_a_page_has_one(live_server, watched_page, user):
    watched = watched_page()
    sign_in(watched.page, live_server, user.username)

    watched.page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = 1'; document.body.append(s); }"
    )
    watched.take()

    assert any("script-src" in v for v in watched.violations), watched.violations
    assert watched.page.evaluate("window.injected") is None


def test_it_refuses_nothing_on_the_sign_in_and_locked_out_pages(live_server, watched_page):
    watched = watched_page()
    watched.visit(f"{live_server.url}/accounts/login/")
    watched.visit(f"{live_server.url}/admin/login/")

    for _ in range(settings.AXES_FAILURE_LIMIT):
        watched.visit(f"{live_server.url}/accounts/login/")
        watched.page.fill("#id_username", "nobody")
        watched.page.fill("#id_password", "wrong-password")
        with watched.page.expect_navigation():
            watched.page.click("button[type=submit]")
    expect(watched.page.locator("#locked-out")).to_be_visible()
    watched.take()

    assert watched.violations == []


def test_it_refuses_nothing_on_any_page_of_the_end_users_portal(
    live_server, watched_page, user, desk
):
    watched = watched_page()
    sign_in(watched.page, live_server, user.username)
    base = live_server.url
    for path in [
        "/",
        "/?page=2",
        "/tickets/new/",
        f"/tickets/{desk.closed.pk}/",
        f"/tickets/{desk.awaiting.pk}/",
        f"/help/{desk.article_slug}/",
        f"/tickets/{desk.answered.pk}/",
    ]:
        watched.visit(f"{base}{path}")
    page = watched.page

    # The htmx swaps of the chat: a rating, the model switch, a human, a message.
    page.click("button[aria-label='Helpful']")
    expect(page.locator("button[aria-label='Helpful']")).to_have_attribute("aria-pressed", "true")
    page.select_option("#model-switch select", index=0)
    page.click("button:has-text('Ask for a human')")
    expect(page.locator("#ticket-bar .badge")).not_to_have_text("Answered")
    page.fill("#composer textarea", "It still drops every hour")
    page.keyboard.press("Enter")
    expect(page.locator(".bubble-row.mine")).to_have_count(2)
    watched.take()
    # The new-ticket form: refused in place, then sent.
    watched.visit(f"{base}/tickets/new/")
    page.fill("#id_body", "   ")  # past the browser's own check, refused by the server
    page.click("button:has-text('Send')")
    expect(page.locator(".form-error").first).to_be_visible()
    page.fill("#id_body", "The printer on floor 3 is offline")
    page.click("button:has-text('Send')")
    expect(page.locator(".bubble-row.mine")).to_contain_text("printer on floor 3")
    watched.take()
    watched.visit(f"{base}/tickets/999999/", status=404)

    assert watched.violations == []


def test_it_refuses_nothing_on_any_admin_page_of_an_agent(live_server, watched_page, agent, desk):
    watched = watched_page()
    sign_in(watched.page, live_server, agent.username, next_path="/admin/")

    # An agent's own admin views are POSTs (reply, act, availability); the tools are managers'.
    for path in _admin_pages(agent, desk, custom_views=False):
        watched.visit(f"{live_server.url}{path}")

    assert any(re.search(r"/admin/tickets/ticket/\d+/change/$", url) for url in watched.visited)
    assert watched.violations == []


def test_it_refuses_nothing_on_any_admin_page_or_the_dashboard_of_a_manager(
    live_server, watched_page, manager, desk
):
    watched = watched_page()
    sign_in(watched.page, live_server, manager.username, next_path="/admin/")

    pages = [*_admin_pages(manager, desk, custom_views=True), "/manage/dashboard/"]
    for path in [*pages, "/manage/dashboard/?days=365"]:
        watched.visit(f"{live_server.url}{path}")

    for expected in [
        "/admin/training/shadowcomparison/run/",
        "/admin/training/promotion/promote/",
        "/admin/training/promotion/rollback/",
        "/admin/training/trainingexample/retrain/",
        "/admin/training/trainingrun/evaluation/",
        f"/admin/training/trainingrun/evaluation/{desk.version_id}/",
        "/admin/training/shadowcomparison/",
        "/admin/auth/user/",
    ]:
        assert any(url.endswith(expected) for url in watched.visited), expected
    assert watched.violations == []


def test_it_sends_a_chat_message_in_place_under_the_policy(live_server, watched_page, user, agent):
    ticket = lifecycle.open_ticket(user, "Outlook asks for my password")
    watched = watched_page()
    page = sign_in(watched.page, live_server, user.username)
    response = page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    page.evaluate(f"{MARKER} = 'no reload'")

    page.fill("#composer textarea", "It asks again after every restart")
    page.keyboard.press("Enter")

    expect(page.locator(".bubble-row.mine").last).to_contain_text("after every restart")
    expect(page.locator("#composer textarea")).to_have_value("")
    assert page.evaluate(MARKER) == "no reload"
    assert page.locator("style").count() == 0  # htmx added no inline <style>
    watched.take()
    assert watched.violations == []
    save_screenshot(page, "csp_chat")


def test_it_works_the_ticket_workspace_in_place_under_the_policy(
    live_server, watched_page, settings, redis_url, user, agent
):
    """The ticket page's htmx: the heartbeat, a macro into the reply box; then a note and
    the takeover's confirmation page."""
    settings.REDIS_URL, settings.PRESENCE_HEARTBEAT_S = redis_url, 2
    colleague = AgentFactory(username="carol")
    ticket = lifecycle.assign(lifecycle.open_ticket(user, "Teams has no sound"), colleague)
    Macro.objects.create(title="Audio", body="Hi {{ user.first_name }}, pick the headset.")
    watched = watched_page()
    page = sign_in(
        watched.page,
        live_server,
        agent.username,
        next_path=f"/admin/tickets/ticket/{ticket.pk}/change/",
    )
    page.evaluate(f"{MARKER} = 'no reload'")

    with page.expect_response(lambda r: r.url.endswith("/presence/")):
        pass  # one heartbeat, swapped in place
    page.select_option("#macro-choice", label="Audio")
    page.click("button:has-text('Insert into the reply')")
    expect(page.locator(".ws-from-macro")).to_be_visible()
    assert page.evaluate(MARKER) == "no reload"
    assert page.locator("style").count() == 0
    watched.take()
    page.click("button[value='note']")
    expect(page.locator(".ws-note")).to_contain_text("pick the headset")
    page.click(".ws-actions button:has-text('Take over')")
    expect(page.locator(".ws-takeover")).to_contain_text("held by")
    watched.take()
    page.click("button:has-text('Yes, take it over')")
    expect(page.locator(".messagelist")).to_contain_text("taken over from carol")
    watched.take()

    assert watched.violations == []


def test_it_draws_the_dashboards_charts_under_the_policy(live_server, watched_page, manager):
    watched = watched_page()
    sign_in(watched.page, live_server, manager.username)

    watched.visit(f"{live_server.url}/manage/dashboard/")

    expect(watched.page.locator(".dashboard-card svg[role=img]")).to_have_count(9)
    margin = watched.page.locator("#versions").evaluate("e => getComputedStyle(e).marginTop")
    assert re.fullmatch(r"16(\.0+)?px", margin)  # the card's spacing came from dashboard.css
    assert watched.violations == []
