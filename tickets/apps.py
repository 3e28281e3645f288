from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_groups(**kwargs: object) -> None:
    from .roles import ensure_groups

    ensure_groups()


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Helpdesk"

    def ready(self) -> None:
        # Every app's post_migrate: permissions of later apps exist only after theirs.
        post_migrate.connect(_ensure_groups, dispatch_uid="tickets.ensure_groups")
