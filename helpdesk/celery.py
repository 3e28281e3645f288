"""The Celery app: one broker, queues named in settings, routes by task module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# training/ keeps its tasks with the part of the pipeline they belong to.
app.autodiscover_tasks(["training.pipeline", "training.releases"])
