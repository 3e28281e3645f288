import csv

import pytest
from django.core.management import call_command

from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role

pytestmark = pytest.mark.django_db


def test_it_writes_held_back_answers_in_the_seed_layout(tmp_path):
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, body="Wifi keeps dropping")
    MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Try restarting",
        confidence=0.41,
        passed_gate=False,
        visible_to_user=False,
    )
    MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Confident one",
        confidence=0.9,
        passed_gate=True,
    )
    out = tmp_path / "low_confidence_log.csv"

    call_command("export_low_confidence", out=str(out))

    rows = list(csv.DictReader(out.open()))
    assert rows == [
        {"prompt": "Wifi keeps dropping", "response": "Try restarting", "confidence": "0.4100"}
    ]
