"""No user reads or acts on another user's ticket, anonymous users sign in first, and end
users never reach the admin. The walk covers every route of the portal, so a new view is
checked the moment it is routed."""

import pytest
from django.urls import URLPattern, reverse

from tests.factories import UserFactory
from tickets import lifecycle
from tickets import urls as portal_urls
from tickets.models import Message, MessageRating, Role, Ticket

pytestmark = pytest.mark.django_db

MISSING_ID = 987654


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture
def victim_ticket(agent) -> Ticket:
    victim = UserFactory(username="victim")
    ticket = lifecycle.open_ticket(victim, "My secret VPN password problem")
    lifecycle.agent_reply(ticket, agent, "Here is what to do")
    return ticket


def _url(pattern: URLPattern, ticket_id: int, message_id: int) -> str:
    kwargs = {"pk": ticket_id, "message_id": message_id, "slug": "any-article"}
    wanted = {name: kwargs[name] for name in pattern.pattern.converters}
    return reverse(f"tickets:{pattern.name}", kwargs=wanted)


def _ticket_routes() -> list[URLPattern]:
    return [p for p in portal_urls.urlpatterns if "pk" in p.pattern.converters]


def _post_data() -> dict[str, str]:
    # Valid input for every form, so only ownership can refuse the request.
    return {"body": "let me in", "helpful": "1", "model_version": ""}


def test_it_walks_every_ticket_route():
    assert {p.name for p in _ticket_routes()} >= {
        "detail",
        "conversation",
        "post_message",
        "ask_for_human",
        "mark_solved",
        "choose_model",
        "rate_message",
    }


@pytest.mark.parametrize("pattern", _ticket_routes(), ids=lambda p: p.name)
def test_it_answers_another_users_ticket_exactly_like_a_missing_one(
    client, user, victim_ticket, pattern
):
    client.force_login(user)
    agent_message = victim_ticket.messages.get(role=Role.AGENT)
    theirs = _url(pattern, victim_ticket.pk, agent_message.pk)
    missing = _url(pattern, MISSING_ID, MISSING_ID)
    before = list(Message.objects.values_list("pk", flat=True))
    status_before = Ticket.objects.get(pk=victim_ticket.pk).status

    answers = {}
    for method in ("get", "post"):
        send = getattr(client, method)
        got = send(theirs, _post_data(), headers={"HX-Request": "true"})
        expected = send(missing, _post_data(), headers={"HX-Request": "true"})
        assert got.status_code == expected.status_code, method
        answers[method] = got.status_code

    assert 404 in answers.values()
    assert set(answers.values()) <= {404, 405}
    assert list(Message.objects.values_list("pk", flat=True)) == before
    assert Ticket.objects.get(pk=victim_ticket.pk).status == status_before
    assert not MessageRating.objects.exists()


def test_it_refuses_rating_another_tickets_message_through_my_own_ticket(
    client, user, victim_ticket
):
    client.force_login(user)
    mine = lifecycle.open_ticket(user, "my own problem")
    their_message = victim_ticket.messages.get(role=Role.AGENT)

    response = client.post(
        reverse("tickets:rate_message", args=[mine.pk, their_message.pk]), {"helpful": "1"}
    )

    assert response.status_code == 404
    assert not MessageRating.objects.exists()


@pytest.mark.parametrize("pattern", portal_urls.urlpatterns, ids=lambda p: p.name)
def test_it_sends_anonymous_visitors_to_sign_in(client, victim_ticket, pattern):
    agent_message = victim_ticket.messages.get(role=Role.AGENT)
    url = _url(pattern, victim_ticket.pk, agent_message.pk)
    login = reverse("login")

    answers = [client.get(url), client.post(url, _post_data())]

    redirected = [r for r in answers if r.status_code == 302]
    assert redirected, [r.status_code for r in answers]
    assert all(r["Location"].startswith(f"{login}?next=") for r in redirected)
    assert all(r.status_code in (302, 405) for r in answers)
    assert b"VPN" not in b"".join(r.content for r in answers)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/tickets/ticket/",
        "/admin/tickets/agentprofile/",
    ],
)
def test_it_keeps_end_users_out_of_the_admin(client, user, path):
    client.force_login(user)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_keeps_end_users_out_of_the_agents_reply_and_ticket_views(client, user, victim_ticket):
    client.force_login(user)
    change = reverse("admin:tickets_ticket_change", args=[victim_ticket.pk])
    reply = reverse("admin:tickets_ticket_reply", args=[victim_ticket.pk])
    close = reverse("admin:tickets_ticket_act", args=[victim_ticket.pk, "close"])

    responses = [
        client.get(change),
        client.post(reply, {"body": "fake", "reason": "other"}),
        client.post(close),
    ]

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert victim_ticket.messages.filter(body="fake").count() == 0
    assert Ticket.objects.get(pk=victim_ticket.pk).status != "closed"
