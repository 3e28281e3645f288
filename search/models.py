"""Read-only views of the search index for the ORM: one per vendor, made by the migration
(search/schema.py), never written through Django (the database's triggers keep them)."""

from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Lookup
from django.db.models.sql.compiler import SQLCompiler

from tickets.models import Ticket

from . import schema


class FtsTableColumn(models.TextField[str, str]):
    """FTS5's hidden column named after its table: the left side of MATCH."""


@FtsTableColumn.register_lookup
class FtsMatch(Lookup[str]):
    lookup_name = "match"

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, Any]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", (*lhs_params, *rhs_params)


class TicketFts(models.Model):
    """SQLite: the FTS5 table, one row per ticket (its rowid is the ticket's id)."""

    ticket = models.OneToOneField(
        Ticket,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        # The table's triggers delete the row with its ticket.
        on_delete=models.DO_NOTHING,
        related_name="search_fts",
    )
    document = FtsTableColumn(db_column=schema.FTS_TABLE)
    # FTS5's bm25 with the table's column weights: lower is better.
    rank = models.FloatField(db_column="rank")

    class Meta:
        managed = False
        db_table = schema.FTS_TABLE

    def __str__(self) -> str:
        return f"search entry of #{self.pk}"


class TicketDocument(models.Model):
    """PostgreSQL: the ticket's weighted tsvector, GIN-indexed."""

    ticket = models.OneToOneField(
        Ticket,
        primary_key=True,
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="search_document",
    )
    document = SearchVectorField()

    class Meta:
        managed = False
        db_table = schema.DOCUMENT_TABLE

    def __str__(self) -> str:
        return f"search document of #{self.pk}"
