"""What each database's index is made of: the traps of SQLite's table rebuilds, and on
PostgreSQL a GIN-indexed document and a flush by TRUNCATE."""

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from search import schema
from search.apps import _after_migrations, _before_migrations
from search.models import TicketDocument
from search.tickets import search_tickets
from tests.search.helpers import found, ticket_with
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def _needs(vendor: str) -> None:
    if connection.vendor != vendor:
        pytest.skip(f"about the {vendor} index")


@pytest.mark.django_db(transaction=True)
def test_sqlite_a_table_rebuild_fails_while_the_triggers_name_the_table():
    _needs("sqlite")
    try:
        # What Django does on SQLite to alter most fields: copy, drop the old, rename.
        with (
            pytest.raises(OperationalError, match="no such table"),
            connection.schema_editor() as editor,
        ):
            editor._remake_table(Message)
    finally:
        schema.ensure_index(connection)


@pytest.mark.django_db(transaction=True)
def test_sqlite_migrate_rebuilds_tables_without_triggers_and_restores_them_after():
    _needs("sqlite")
    ticket = ticket_with("Printer jammed")
    try:
        _before_migrations(using="default", plan=[("a migration", False)])
        with connection.schema_editor() as editor:
            editor._remake_table(Message)
            editor._remake_table(Ticket)
        Message.objects.create(ticket=ticket, role="user", body="Paper stuck")  # missed
        assert schema.missing_triggers(connection) == schema.TRIGGER_NAMES["sqlite"]
    finally:
        _after_migrations(using="default")

    assert schema.missing_triggers(connection) == []
    assert found("paper") == [ticket.pk]
    Message.objects.create(ticket=ticket, role="user", body="Toner low")
    assert found("toner") == [ticket.pk]


@pytest.mark.postgres
def test_postgres_each_ticket_has_a_weighted_document():
    _needs("postgresql")
    ticket = ticket_with("Printer jammed", "Paper stuck", hidden=("Toner low",))

    document = TicketDocument.objects.get(ticket=ticket).document

    assert "'printer':1A" in document
    assert "'paper':3B" in document
    assert "'toner':5C" in document


@pytest.mark.postgres
def test_postgres_the_gin_index_answers_the_search():
    _needs("postgresql")
    for n in range(20):
        ticket_with(f"Printer {n}", "Paper stuck")
    toner = ticket_with("Toner low")
    search = search_tickets(Ticket.objects.all(), "toner", internal=True)
    sql, params = search.query.sql_with_params()
    with connection.cursor() as cursor:
        # A table this small is cheaper read whole or by its primary key, so only those are
        # ruled out: the question is whether the GIN index can answer the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "search_ticketdocument_gin" in plan, plan
    assert [t.pk for t in search] == [toner.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_truncate_of_the_tickets_empties_the_documents():
    _needs("postgresql")
    ticket_with("Printer jammed")

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE tickets_ticket CASCADE")
        cursor.execute(f"SELECT count(*) FROM {schema.DOCUMENT_TABLE}")
        assert cursor.fetchone()[0] == 0


def test_one_search_costs_two_queries_whatever_matches():
    for n in range(30):
        ticket_with(f"Printer {n}", "Paper stuck")

    with CaptureQueriesContext(connection) as ranked:
        found("printer")
    assert len(ranked) == 2  # is it worth ranking? then the page
