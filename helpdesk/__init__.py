"""Project configuration: settings, URLs, the Celery app and its routes."""

from .celery import app as celery_app

__all__ = ("celery_app",)
