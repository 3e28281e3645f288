"""The desk's own outcomes label the version's answers: ratings, agents' corrections of its
drafts (escalated ones too) and tickets resolved without reopening."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ModelVersionFactory, TicketFactory
from tickets.models import (
    CorrectionReason,
    EventKind,
    Message,
    MessageRating,
    Role,
    Status,
    TicketEvent,
)
from training.feedback.models import ExampleSource, ReviewState, TrainingExample
from training.pipeline.gate import label_desk

pytestmark = pytest.mark.django_db

RETRIEVAL = {
    "best_similarity": 0.6,
    "margin": 0.1,
    "agreement": 0.5,
    "relevance": 0.7,
    "notes": [],
}
DRAFT = "Open Settings, then Network, and forget the wifi network before joining it again."


class Desk:
    """Tickets, each a question and the version's answer, with a clock that moves on."""

    def __init__(self, version) -> None:
        self.version = version
        self.clock = timezone.now() - timedelta(days=1)

    def _at(self, row):
        self.clock += timedelta(seconds=1)
        type(row).objects.filter(pk=row.pk).update(created_at=self.clock)
        return row

    def answered(self, question: str, *, shown: bool = True, **fields) -> Message:
        ticket = TicketFactory(subject=question[:50])
        self._at(Message.objects.create(ticket=ticket, role=Role.USER, body=question))
        answer = Message.objects.create(
            ticket=ticket,
            role=Role.ASSISTANT,
            body=fields.pop("body", DRAFT),
            visible_to_user=shown,
            model_version=fields.pop("version", self.version),
            confidence_scores={"mean_top_prob": 0.8},
            token_count=17,
            retrieval=fields.pop("retrieval", RETRIEVAL),
        )
        return self._at(answer)

    def event(self, answer: Message, to_status: str) -> None:
        ticket = answer.ticket
        ticket.status = to_status
        ticket.save()
        self._at(
            TicketEvent.objects.create(ticket=ticket, kind=EventKind.STATUS, to_status=to_status)
        )

    def rated(self, answer: Message, helpful: bool) -> None:
        MessageRating.objects.create(message=answer, user=answer.ticket.requester, helpful=helpful)

    def corrected(self, draft: Message, correction: str, **fields) -> None:
        reply = self._at(
            Message.objects.create(ticket=draft.ticket, role=Role.AGENT, body=correction)
        )
        TrainingExample.objects.create(
            ticket=draft.ticket,
            draft_message=draft,
            answer_message=reply,
            question="q",
            draft=draft.body,
            correction=correction,
            reason=CorrectionReason.OTHER,
            source=ExampleSource.LOW_CONFIDENCE,
            **fields,
        )


def _labels(version) -> dict[str, tuple[bool, str]]:
    return {a.question: (a.good, a.source) for a in label_desk(version, good_bar=0.6)}


def test_each_outcome_labels_the_answer_it_belongs_to() -> None:
    version = ModelVersionFactory()
    desk = Desk(version)
    desk.rated(desk.answered("thumbs down"), helpful=False)
    desk.rated(desk.answered("thumbs up"), helpful=True)
    desk.corrected(desk.answered("sent as drafted", shown=False), DRAFT)
    desk.corrected(
        desk.answered("rewritten", shown=False),
        "Your account was locked: I unlocked it in the directory, sign in again.",
    )
    desk.event(desk.answered("resolved"), Status.RESOLVED)

    assert _labels(version) == {
        "thumbs down": (False, "thumbs_down"),
        "thumbs up": (True, "thumbs_up"),
        "sent as drafted": (True, "correction"),
        "rewritten": (False, "correction"),
        "resolved": (True, "resolved"),
    }


def test_a_thumbs_down_outweighs_a_kept_draft() -> None:
    version = ModelVersionFactory()
    desk = Desk(version)
    answer = desk.answered("kept but disliked")
    desk.corrected(answer, DRAFT)
    desk.rated(answer, helpful=False)

    assert _labels(version) == {"kept but disliked": (False, "thumbs_down")}


def test_answers_without_a_telling_outcome_are_left_out() -> None:
    version = ModelVersionFactory()
    desk = Desk(version)
    desk.answered("no outcome yet")
    reopened = desk.answered("reopened")
    desk.event(reopened, Status.RESOLVED)
    desk.event(reopened, Status.REOPENED)
    followed = desk.answered("asked again")
    Message.objects.create(ticket=followed.ticket, role=Role.USER, body="that did not work")
    followed.ticket.status = Status.RESOLVED
    followed.ticket.save()
    desk.event(followed, Status.RESOLVED)
    desk.event(desk.answered("hidden draft, resolved by people", shown=False), Status.RESOLVED)
    rejected = desk.answered("correction rejected", shown=False)
    desk.corrected(rejected, "Something else entirely.", review_state=ReviewState.REJECTED)

    assert _labels(version) == {}


def test_only_this_versions_answers_with_every_feature_count() -> None:
    version = ModelVersionFactory()
    desk = Desk(version)
    desk.rated(desk.answered("another version", version=ModelVersionFactory()), helpful=True)
    before = {k: v for k, v in RETRIEVAL.items() if k != "relevance"}
    desk.rated(desk.answered("stored before relevance", retrieval=before), helpful=True)
    desk.rated(desk.answered("this one"), helpful=True)

    [labelled] = label_desk(version)

    assert labelled.question == "this one"
    assert labelled.features["agreement"] == 0.5 and labelled.features["answer_tokens"] == 17
    assert labelled.features["relevance"] == 0.7
    assert labelled.features["mean_top_prob"] == 0.8
