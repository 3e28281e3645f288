"""Articles and cases are indexed by Celery tasks after their transaction commits: the web
request that saved them never loads the embedding model."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Article, SolvedCase


@receiver(post_save, sender=Article, dispatch_uid="knowledge.index_saved_article")
@receiver(post_delete, sender=Article, dispatch_uid="knowledge.index_deleted_article")
def _article_changed(sender: Any, instance: Article, **kwargs: Any) -> None:
    from .tasks import enqueue_article

    article_id = instance.pk
    transaction.on_commit(lambda: enqueue_article(article_id))


@receiver(post_save, sender=SolvedCase, dispatch_uid="knowledge.index_saved_case")
def _case_saved(sender: Any, instance: SolvedCase, created: bool, **kwargs: Any) -> None:
    from .tasks import enqueue_cases

    if instance.embedding is None:
        case_id = instance.pk
        transaction.on_commit(lambda: enqueue_cases([case_id]))
