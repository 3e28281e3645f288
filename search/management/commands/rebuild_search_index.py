"""manage.py rebuild_search_index: every ticket's search document again, from scratch."""

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from search import schema


class Command(BaseCommand):
    help = (
        "Rebuild the ticket search index from the tickets and messages (after a restore or a "
        "bulk load that bypassed the database; the triggers keep it in step otherwise)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, database: str, **options: Any) -> None:
        connection = connections[database]
        started = time.perf_counter()
        with transaction.atomic(using=database):
            schema.install_triggers(connection)
            schema.rebuild(connection)
        seconds = time.perf_counter() - started
        self.stdout.write(f"Search index rebuilt in {seconds:.1f} s.")
