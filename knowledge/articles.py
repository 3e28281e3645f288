"""Writing articles: revisions, drafts from agents' replies, and loading Markdown files (the
starter knowledge base, or a folder given to import_knowledge)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from .models import Article, ArticleRevision, ArticleStatus

FRONT_MATTER = re.compile(r"\A---\n(?P<head>.*?)\n---\n(?P<body>.*)\Z", re.S)


@dataclass
class ArticleFile:
    path: Path
    title: str
    category: str
    body: str


class InvalidArticle(ValueError):
    """The file has no front matter with a title."""


def record_revision(article: Article, editor: Any = None) -> ArticleRevision:
    number = (article.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    return ArticleRevision.objects.create(
        article=article,
        number=number,
        title=article.title,
        category=article.category,
        body=article.body,
        status=article.status,
        editor=editor,
    )


def draft_from_reply(message: Any, editor: Any) -> Article:
    """A draft whose title is the question the reply answered, and whose body is the reply."""
    from tickets.models import Message, Role

    question = (
        Message.objects.filter(ticket_id=message.ticket_id, role=Role.USER, pk__lt=message.pk)
        .order_by("-pk")
        .values_list("body", flat=True)
        .first()
    ) or message.ticket.subject
    title = question.strip().splitlines()[0][:200] if question.strip() else "Untitled"
    return draft_article(title, message.body, editor, origin=f"reply:{message.pk}")


def draft_article(
    title: str, body: str, editor: Any, *, origin: str, category: str = ""
) -> Article:
    """A new draft article (with its first revision), to polish and publish."""
    with transaction.atomic():
        article = Article.objects.create(
            title=title,
            slug=_free_slug(title),
            category=category,
            body=body,
            status=ArticleStatus.DRAFT,
            author=editor,
            origin=origin,
        )
        record_revision(article, editor)
    return article


def read_article_file(path: Path) -> ArticleFile:
    match = FRONT_MATTER.match(path.read_text(encoding="utf-8"))
    if not match:
        raise InvalidArticle("no front matter (--- title: ... ---)")
    head = dict(line.split(":", 1) for line in match.group("head").splitlines() if ":" in line)
    title = head.get("title", "").strip()
    if not title:
        raise InvalidArticle("front matter has no title")
    return ArticleFile(path, title, head.get("category", "").strip(), match.group("body").strip())


def upsert_article(file: ArticleFile, origin: str) -> tuple[Article, bool]:
    """Publish the file's article under its slug; (article, changed). Unchanged: untouched,
    so loading the same folder twice writes nothing and re-indexes nothing."""
    slug = slugify(file.path.stem)[:120]
    article = Article.objects.filter(slug=slug).first()
    wanted = {
        "title": file.title,
        "category": file.category,
        "body": file.body,
        "status": ArticleStatus.PUBLISHED,
        "origin": origin,
    }
    if article is not None and all(getattr(article, k) == v for k, v in wanted.items()):
        return article, False
    with transaction.atomic():
        article, _ = Article.objects.update_or_create(slug=slug, defaults=wanted)
        record_revision(article)
    return article, True


def _free_slug(title: str) -> str:
    base = slugify(title)[:100] or "article"
    slug, n = base, 1
    while Article.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
