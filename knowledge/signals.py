"""Articles and cases are indexed by Celery tasks after their transaction commits: the web
request that saved them never loads the embedding model."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Article, SolvedCase

# Set while a command indexes what it writes itself: no task to send (and no broker to wait
# for at set-up, when none runs yet).
_indexing_here: ContextVar[bool] = ContextVar("indexing_here", default=False)


@contextmanager
def indexing_here() -> Iterator[None]:
    token = _indexing_here.set(True)
    try:
        yield
    finally:
        _indexing_here.reset(token)


@receiver(post_save, sender=Article, dispatch_uid="knowledge.index_saved_article")
@receiver(post_delete, sender=Article, dispatch_uid="knowledge.index_deleted_article")
def _article_changed(sender: Any, instance: Article, **kwargs: Any) -> None:
    from .tasks import enqueue_article

    if _indexing_here.get():
        return
    article_id = instance.pk
    transaction.on_commit(lambda: enqueue_article(article_id))


@receiver(post_save, sender=SolvedCase, dispatch_uid="knowledge.index_saved_case")
def _case_saved(sender: Any, instance: SolvedCase, created: bool, **kwargs: Any) -> None:
    from .tasks import enqueue_cases

    if instance.embedding is None and not _indexing_here.get():
        case_id = instance.pk
        transaction.on_commit(lambda: enqueue_cases([case_id]))
