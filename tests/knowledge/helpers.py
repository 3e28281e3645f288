"""Articles and cases indexed for real (MiniLM), as the worker's tasks would."""

from knowledge.index import index_article, index_cases
from knowledge.models import Article, ArticleStatus, CaseSource, SolvedCase


def published(title: str, body: str, slug: str = "") -> Article:
    article = Article.objects.create(
        title=title,
        slug=slug or title.lower().replace(" ", "-")[:100],
        body=body,
        status=ArticleStatus.PUBLISHED,
    )
    index_article(article.pk)
    return article


def case(question: str, answer: str, key: str = "") -> SolvedCase:
    solved = SolvedCase.objects.create(
        source=CaseSource.IMPORTED, source_key=key or question, question=question, answer=answer
    )
    index_cases([solved.pk])
    return solved
