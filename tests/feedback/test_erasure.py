import pytest
from django.core.management import call_command

from tests.feedback.helpers import make_example
from tickets.models import Message, Ticket
from training.feedback.erasure import erase_ticket
from training.feedback.export import export_examples
from training.models import Erasure, TrainingExample

pytestmark = pytest.mark.django_db


def test_it_removes_the_ticket_from_later_exports_and_names_earlier_ones(tmp_path, manager):
    erased = make_example(question="erase me")
    kept = make_example(question="keep me")
    before = export_examples(tmp_path / "before.jsonl")
    unrelated = export_examples(tmp_path / "other.jsonl", filters=None)
    unrelated.ticket_ids = [kept.ticket_id]
    unrelated.save()

    erasure = erase_ticket(erased.ticket_id, requested_by=manager)
    after = export_examples(tmp_path / "after.jsonl")

    assert not Ticket.objects.filter(pk=erased.ticket_id).exists()
    assert not Message.objects.filter(ticket_id=erased.ticket_id).exists()
    assert not TrainingExample.objects.filter(ticket_id=erased.ticket_id).exists()
    assert after.ticket_ids == [kept.ticket_id]
    assert "erase me" not in (tmp_path / "after.jsonl").read_text()
    assert list(erasure.exports.all()) == [before]
    assert erasure.requested_by == manager


def test_the_command_erases_and_refuses_unknown_tickets(tmp_path):
    example = make_example()

    call_command("erase_ticket", str(example.ticket_id))

    assert Erasure.objects.get().ticket_id == example.ticket_id
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("erase_ticket", str(example.ticket_id))
