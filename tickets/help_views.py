"""The portal's help pages: a published knowledge article, where an answer's sources link."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from knowledge.models import Article, ArticleStatus


@require_GET
@login_required
def article(request: HttpRequest, slug: str) -> HttpResponse:
    # Drafts stay with the agents until they are published.
    found = get_object_or_404(Article, slug=slug, status=ArticleStatus.PUBLISHED)
    return render(request, "tickets/article.html", {"article": found})
