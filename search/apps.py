from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


def _before_migrations(using: str = "default", plan: object = None, **_: object) -> None:
    from django.db import connections

    from .schema import drop_triggers

    connection = connections[using]
    # SQLite cannot rebuild a table that a trigger names (search.schema); PostgreSQL can.
    if plan and connection.vendor == "sqlite":
        drop_triggers(connection)


def _after_migrations(using: str = "default", **_: object) -> None:
    from django.db import connections

    from .schema import ensure_index

    ensure_index(connections[using])


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Ticket search"

    def ready(self) -> None:
        pre_migrate.connect(_before_migrations, sender=self, dispatch_uid="search.before")
        post_migrate.connect(_after_migrations, sender=self, dispatch_uid="search.after")
