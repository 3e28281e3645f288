"""Users see an answer's articles as sources and can open them; drafts stay hidden."""

import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleStatus
from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db


def test_an_answer_links_its_sources_and_the_article_opens(client, user):
    Article.objects.create(
        title="Free disk space",
        slug="free-disk-space",
        body="Run `df -h`.",
        status=ArticleStatus.PUBLISHED,
    )
    ticket = TicketFactory(requester=user)
    MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        body="Run df -h.",
        visible_to_user=True,
        sources=[{"title": "Free disk space", "slug": "free-disk-space"}],
    )
    client.force_login(user)

    chat = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    page = client.get(reverse("tickets:article", args=["free-disk-space"]))

    assert 'href="/help/free-disk-space/"' in chat and "Sources:" in chat
    assert page.status_code == 200 and "<code>df -h</code>" in page.content.decode()


def test_a_draft_article_is_not_found(client, user):
    Article.objects.create(title="Draft", slug="draft", body="x", status=ArticleStatus.DRAFT)
    client.force_login(user)
    assert client.get(reverse("tickets:article", args=["draft"])).status_code == 404


def test_help_pages_need_a_sign_in(client):
    response = client.get(reverse("tickets:article", args=["anything"]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
