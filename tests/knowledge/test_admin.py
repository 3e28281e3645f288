"""Articles in the admin: every save a revision; a reply becomes a draft in one click."""

import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleStatus
from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db


def test_an_agent_writes_an_article_and_each_save_is_a_revision(client, agent):
    client.force_login(agent)
    data = {
        "title": "Reset the VPN",
        "slug": "reset-vpn",
        "category": "vpn",
        "status": "draft",
        "body": "Open Settings.",
        "revisions-TOTAL_FORMS": 0,
        "revisions-INITIAL_FORMS": 0,
    }

    client.post(reverse("admin:knowledge_article_add"), data)
    article = Article.objects.get()
    client.post(
        reverse("admin:knowledge_article_change", args=[article.pk]),
        {**data, "body": "Open Settings > VPN > Reset."},
    )

    assert [r.body for r in article.revisions.order_by("number")] == [
        "Open Settings.",
        "Open Settings > VPN > Reset.",
    ]
    assert article.revisions.last().editor == agent


def test_a_reply_becomes_a_draft_article_in_one_click(client, agent):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, role=Role.USER, body="How do I reset my VPN profile?")
    reply = MessageFactory(
        ticket=ticket, role=Role.AGENT, author=agent, body="Open Settings > VPN."
    )
    client.force_login(agent)

    response = client.post(reverse("admin:knowledge_article_from_reply", args=[reply.pk]))

    article = Article.objects.get()
    assert response["Location"] == reverse("admin:knowledge_article_change", args=[article.pk])
    assert (article.title, article.body, article.status) == (
        "How do I reset my VPN profile?",
        "Open Settings > VPN.",
        ArticleStatus.DRAFT,
    )
    assert article.origin == f"reply:{reply.pk}"


def test_an_end_user_cannot_make_drafts(client, user):
    reply = MessageFactory(role=Role.AGENT, body="x")
    client.force_login(user)
    client.post(reverse("admin:knowledge_article_from_reply", args=[reply.pk]))
    assert not Article.objects.exists()


def test_the_ticket_page_offers_the_draft_button_on_agent_replies(client, agent):
    from tests.factories import UserFactory
    from tickets import lifecycle

    ticket = lifecycle.open_ticket(UserFactory(), "Printer offline")
    reply = lifecycle.agent_reply(ticket, agent, "Restart CUPS: `sudo systemctl restart cups`.")
    client.force_login(agent)

    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert reverse("admin:knowledge_article_from_reply", args=[reply.pk]) in page
    assert page.count("Make an article draft") == 1
