"""The index follows every write, whatever path it takes: saves, bulk inserts, queryset
updates, deletes and their cascades, an erasure; the command and migrate rebuild it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from search import schema
from tests.factories import MessageFactory, TicketFactory, UserFactory
from tests.search.helpers import found, ticket_with
from tickets import lifecycle
from tickets.models import Message, Role, Ticket
from training.feedback.erasure import erase_ticket

pytestmark = pytest.mark.django_db


def test_a_new_message_is_found_at_once(user):
    ticket = lifecycle.open_ticket(user, "The projector shows blue stripes", subject="Room 4")

    MessageFactory(ticket=ticket, body="Now the speakers hum as well")

    assert found("stripes") == [ticket.pk]
    assert found("speakers") == [ticket.pk]


def test_an_edited_subject_is_found_by_its_new_words_only():
    ticket = ticket_with("Printer jammed")

    ticket.subject = "Scanner jammed"
    ticket.save()

    assert found("scanner") == [ticket.pk]
    assert found("printer") == []


def test_a_status_change_leaves_the_document_as_it_was():
    ticket = ticket_with("Printer jammed", "Paper stuck")

    Ticket.objects.filter(pk=ticket.pk).update(status="resolved")

    assert found("paper") == [ticket.pk]


def test_writes_that_bypass_signals_are_indexed_too():
    ticket = ticket_with("Laptop")

    Message.objects.bulk_create([Message(ticket=ticket, role=Role.USER, body="Battery swollen")])
    assert found("swollen") == [ticket.pk]

    Message.objects.filter(ticket=ticket).update(body="Screen cracked")
    assert found("swollen") == []
    assert found("cracked") == [ticket.pk]


def test_a_message_hidden_later_leaves_the_requesters_search():
    ticket = ticket_with("Laptop", "Serial number ABC123")
    message = ticket.messages.get()

    message.visible_to_user = False
    message.save()

    assert found("abc123", internal=False) == []
    assert found("abc123", internal=True) == [ticket.pk]


def test_a_deleted_message_is_no_longer_found():
    ticket = ticket_with("Laptop", "Battery swollen", "Screen cracked")

    ticket.messages.filter(body__contains="Battery").delete()

    assert found("swollen") == []
    assert found("cracked") == [ticket.pk]


def test_a_message_moved_to_another_ticket_moves_in_the_index():
    source, target = ticket_with("One", "Battery swollen"), ticket_with("Two")

    Message.objects.filter(ticket=source).update(ticket=target)

    assert found("swollen") == [target.pk]


def test_a_deleted_ticket_leaves_the_index():
    ticket = ticket_with("Printer jammed", "Paper stuck", hidden=("Toner low",))

    ticket.delete()

    assert found("printer") == found("paper") == found("toner") == []
    assert _index_rows() == 0


def test_an_erased_ticket_is_no_longer_found(manager):
    ticket = ticket_with("Payroll export", "My salary is wrong", hidden=("Escalate to HR",))
    kept = ticket_with("Payroll question")

    erase_ticket(ticket.pk, requested_by=manager)

    assert found("salary") == found("escalate") == []
    assert found("payroll") == [kept.pk]
    assert _index_rows() == 1


def test_a_deleted_account_takes_its_tickets_out_of_the_index():
    gone = UserFactory()
    ticket_with("Printer jammed", requester=gone)

    gone.delete()

    assert found("printer") == []
    assert _index_rows() == 0


def test_a_renamed_requester_is_found_by_the_new_name():
    requester = UserFactory(username="jsmith", email="it@example.com")
    ticket = ticket_with("Printer", requester=requester)

    requester.username = "jdoe"
    requester.save()

    assert found("jdoe") == [ticket.pk]
    assert found("jsmith") == []


def test_the_command_rebuilds_an_index_that_lost_rows():
    tickets = [ticket_with(f"Printer {n}", "Paper stuck") for n in range(3)]
    _empty_the_index()
    assert found("paper") == []

    call_command("rebuild_search_index", stdout=StringIO())

    assert sorted(found("paper")) == sorted(t.pk for t in tickets)


def test_missing_triggers_are_put_back_and_the_index_rebuilt():
    ticket = TicketFactory(subject="Printer jammed")
    _drop_triggers()
    MessageFactory(ticket=ticket, body="Paper stuck")  # missed by the index
    assert schema.missing_triggers(connection) == schema.TRIGGER_NAMES[connection.vendor]

    assert schema.ensure_index(connection) is True

    assert schema.missing_triggers(connection) == []
    assert found("paper") == [ticket.pk]
    assert schema.ensure_index(connection) is False


def test_migrate_leaves_every_trigger_in_place():
    assert schema.missing_triggers(connection) == []


def _index_rows() -> int:
    table = schema.FTS_TABLE if connection.vendor == "sqlite" else schema.DOCUMENT_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


def _empty_the_index() -> None:
    table = schema.FTS_TABLE if connection.vendor == "sqlite" else schema.DOCUMENT_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


def _drop_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in schema.TRIGGER_NAMES["sqlite"]:
                cursor.execute(f"DROP TRIGGER {name}")
        else:
            for name, table in [
                ("search_ticket_changed", "tickets_ticket"),
                ("search_message_changed", "tickets_message"),
                ("search_requester_changed", "auth_user"),
                ("search_tickets_truncated", "tickets_ticket"),
            ]:
                cursor.execute(f"DROP TRIGGER {name} ON {table}")
