"""The one writer of ticket status: every transition is checked and leaves an audit row."""

import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from access import events
from assistant.models import ModelVersion

from . import assignment, enqueue
from .collision import Change, PageStamp, changes_since
from .models import (
    AgentProfile,
    AnswerRequest,
    AnswerStatus,
    Category,
    EscalationReason,
    EventKind,
    Message,
    Role,
    Status,
    Ticket,
    TicketEvent,
)
from .signals import agent_replied, ticket_changed_hands, ticket_resolved

log = logging.getLogger(__name__)

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.OPEN: {Status.AWAITING_ASSISTANT, Status.ESCALATED, Status.RESOLVED, Status.CLOSED},
    Status.AWAITING_ASSISTANT: {
        Status.ANSWERED,
        Status.ESCALATED,
        Status.RESOLVED,
        Status.CLOSED,
    },
    Status.ANSWERED: {Status.AWAITING_ASSISTANT, Status.ESCALATED, Status.RESOLVED, Status.CLOSED},
    Status.ESCALATED: {Status.ASSIGNED, Status.RESOLVED, Status.CLOSED},
    # ASSIGNED -> ASSIGNED is a reassignment; ASSIGNED -> ESCALATED gives it back to the queue.
    Status.ASSIGNED: {Status.ASSIGNED, Status.ESCALATED, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.REOPENED, Status.CLOSED},
    Status.REOPENED: {
        Status.AWAITING_ASSISTANT,
        Status.ESCALATED,
        Status.ASSIGNED,
        Status.RESOLVED,
        Status.CLOSED,
    },
    Status.CLOSED: set(),
}

HANDOFF_MESSAGES: dict[str, str] = {
    EscalationReason.NO_MODEL: (
        "Thanks, your request is with our support team. A person will reply here shortly."
    ),
    EscalationReason.LOW_CONFIDENCE: (
        "I'm not confident enough in my answer to give it to you, so I've passed your "
        "ticket to a person on our support team. They will reply here shortly."
    ),
    EscalationReason.MODEL_ERROR: (
        "Something went wrong while preparing an answer, so I've passed your ticket to a "
        "person on our support team. They will reply here shortly."
    ),
    EscalationReason.TIMEOUT: (
        "An answer is taking too long, so I've passed your ticket to a person on our "
        "support team. They will reply here shortly."
    ),
    EscalationReason.USER_REQUEST: (
        "You asked for a person: your ticket is now with our support team. They will "
        "reply here shortly."
    ),
    EscalationReason.STALE: (
        "An answer did not arrive in time, so your ticket is now with our support team. "
        "They will reply here shortly."
    ),
    EscalationReason.NOT_HELPFUL: (
        "Sorry that did not help: your ticket is now with our support team. A person will "
        "reply here shortly."
    ),
}


class IllegalTransition(Exception):
    """A status change the lifecycle does not allow."""

    def __init__(self, ticket: Ticket, to_status: str) -> None:
        super().__init__(f"Ticket #{ticket.pk} cannot go from {ticket.status!r} to {to_status!r}")
        self.ticket = ticket
        self.to_status = to_status


class TicketClosed(Exception):
    """Closed tickets take no new messages; the user opens a new ticket instead."""


class StaleView(Exception):
    """The agent wrote from a page that no longer shows the ticket as it is."""

    def __init__(self, ticket: Ticket, changes: list[Change]) -> None:
        super().__init__(f"Ticket #{ticket.pk} changed since the page was loaded")
        self.changes = changes


class HeldByAnother(Exception):
    """ "Take" on a ticket another agent holds, without confirming that takeover."""

    def __init__(self, ticket: Ticket) -> None:
        holder = ticket.assigned_to
        super().__init__(f"Ticket #{ticket.pk} is held by {holder}")
        self.holder = holder


def lock(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock so concurrent writers see each other."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _transition(
    ticket: Ticket,
    to_status: str,
    *,
    actor: User | None = None,
    kind: EventKind = EventKind.STATUS,
    note: str = "",
    **fields: object,
) -> Ticket:
    """Move a locked ticket to `to_status`, set `fields`, and write the audit row."""
    from_status = ticket.status
    if to_status not in ALLOWED_TRANSITIONS[from_status]:
        raise IllegalTransition(ticket, to_status)
    ticket.status = to_status
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.save()
    TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    if to_status == Status.RESOLVED:
        ticket_resolved.send(sender=Ticket, ticket=ticket)
    return ticket


def _record(ticket: Ticket, kind: EventKind, actor: User | None = None, note: str = "") -> None:
    TicketEvent.objects.create(ticket=ticket, actor=actor, kind=kind, note=note)


def _version_for(ticket: Ticket) -> ModelVersion | None:
    if not settings.ASSISTANT_ENABLED:
        return None
    chosen = ticket.model_version
    if chosen is not None and chosen.enabled:
        return chosen
    return ModelVersion.default()


# --- users ------------------------------------------------------------------


def open_ticket(
    requester: User,
    body: str,
    *,
    subject: str = "",
    category: str = Category.GENERAL,
    model_version: ModelVersion | None = None,
) -> Ticket:
    """Create a ticket from the user's first message and hand it to the assistant or a person."""
    subject = subject.strip() or _subject_from(body)
    with transaction.atomic():
        ticket = Ticket.objects.create(
            requester=requester,
            subject=subject,
            category=category,
            model_version=model_version,
        )
        _record(ticket, EventKind.OPENED, requester)
        question = Message.objects.create(
            ticket=ticket, author=requester, role=Role.USER, body=body
        )
        _route_user_message(ticket, question)
    return ticket


def _subject_from(body: str) -> str:
    first_line = body.strip().splitlines()[0] if body.strip() else "New ticket"
    limit = settings.SUBJECT_MAX_CHARS
    return first_line if len(first_line) <= limit else first_line[: limit - 1] + "…"


def post_user_message(ticket: Ticket, author: User, body: str) -> Message:
    """Save the requester's message; a resolved ticket reopens, a closed one refuses."""
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status == Status.CLOSED:
            raise TicketClosed(f"Ticket #{ticket.pk} is closed; please open a new ticket.")
        message = Message.objects.create(ticket=ticket, author=author, role=Role.USER, body=body)
        if ticket.status == Status.RESOLVED:
            _transition(ticket, Status.REOPENED, actor=author, resolved_at=None)
        _route_user_message(ticket, message)
    return message


def _route_user_message(ticket: Ticket, question: Message) -> None:
    """Humans keep a ticket they have (the assistant drafts a reply for them); otherwise the
    assistant answers, if there is one."""
    if ticket.status in (Status.ESCALATED, Status.ASSIGNED):
        _request_draft(ticket, question)
        return
    if ticket.status == Status.REOPENED and ticket.assigned_to_id is not None:
        _transition(ticket, Status.ASSIGNED, note="reopened with its agent")
        _request_draft(ticket, question)
        return
    version = _version_for(ticket)
    if version is None:
        escalate(ticket, EscalationReason.NO_MODEL)
        return
    # Already awaiting: an answer is on its way; the new request follows it with the context.
    if ticket.status != Status.AWAITING_ASSISTANT:
        _transition(ticket, Status.AWAITING_ASSISTANT)
    request = AnswerRequest.objects.create(ticket=ticket, question=question, model_version=version)
    transaction.on_commit(lambda: enqueue.enqueue_answer(request.pk))


def _request_draft(ticket: Ticket, question: Message) -> None:
    """A grounded answer for the agent who holds the ticket, never shown to the user: the
    answer job stores it as a hidden draft, since the ticket is not awaiting the assistant."""
    version = _version_for(ticket)
    if version is None:
        return
    request = AnswerRequest.objects.create(ticket=ticket, question=question, model_version=version)
    transaction.on_commit(lambda: enqueue.enqueue_answer(request.pk))


def request_human(
    ticket: Ticket,
    user: User,
    reason: EscalationReason = EscalationReason.USER_REQUEST,
) -> Ticket:
    """The user's "ask for a human" button, or "get a person" after a thumbs-down."""
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status in (Status.ESCALATED, Status.ASSIGNED):
            return ticket
        if ticket.status == Status.RESOLVED:
            _transition(ticket, Status.REOPENED, actor=user, resolved_at=None)
        return escalate(ticket, reason, actor=user)


def mark_solved(ticket: Ticket, user: User) -> Ticket:
    """The user's "this solved it" button."""
    return resolve(ticket, user)


# --- assistant outcomes -----------------------------------------------------


def record_answered(ticket: Ticket) -> Ticket:
    """The assistant's answer passed the gate."""
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status != Status.AWAITING_ASSISTANT:
            # A person took over, or the user resolved it, while the model was generating.
            return ticket
        if ticket.answer_requests.filter(
            status__in=(AnswerStatus.PENDING, AnswerStatus.RUNNING)
        ).exists():
            return ticket  # a newer question is still waiting for its answer
        return _transition(ticket, Status.ANSWERED, kind=EventKind.ANSWERED)


# --- escalation and agents --------------------------------------------------


def escalate(ticket: Ticket, reason: str, *, actor: User | None = None, note: str = "") -> Ticket:
    """Hand the ticket to people: tell the user, then assign the least-loaded agent."""
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status in (Status.ESCALATED, Status.ASSIGNED):
            return ticket
        _transition(
            ticket,
            Status.ESCALATED,
            actor=actor,
            kind=EventKind.ESCALATED,
            note=note or EscalationReason(reason).label,
            escalation_reason=reason,
            escalated_at=timezone.now(),
        )
        Message.objects.create(ticket=ticket, role=Role.SYSTEM, body=HANDOFF_MESSAGES[reason])
        return assign_least_loaded(ticket)


def assign_least_loaded(ticket: Ticket) -> Ticket:
    """Assign an escalated ticket to the agent `assignment.choose_agent` picks, or leave it
    in the unassigned queue if nobody is available."""
    with transaction.atomic():  # the agents' profiles stay locked until it is assigned
        agent = assignment.choose_agent()
        if agent is None:
            _record(ticket, EventKind.QUEUED, note="no agent available")
            return ticket
        return assign(ticket, agent)


def assign_waiting_tickets() -> int:
    """Assign the unassigned queue, oldest escalation first; returns how many were assigned."""
    assigned = 0
    waiting = Ticket.objects.filter(status=Status.ESCALATED, assigned_to=None).order_by(
        "escalated_at", "pk"
    )
    for ticket_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if ticket.status != Status.ESCALATED or ticket.assigned_to_id is not None:
                continue  # someone took it meanwhile
            if assign_least_loaded(ticket).assigned_to_id is None:
                break  # nobody available any more
            assigned += 1
    return assigned


def set_availability(agent: User, available: bool, *, actor: User | None = None) -> AgentProfile:
    """Agents mark themselves available or away (a manager may, for them: recorded);
    becoming available drains the queue."""
    profile = assignment.record_availability(agent, available)
    if actor is not None and actor.pk != agent.pk:
        events.availability_set(agent, available, actor)
    if available:
        # Runs at once outside a transaction, after the commit inside one.
        transaction.on_commit(assign_waiting_tickets)
    return profile


def assign(
    ticket: Ticket,
    agent: User,
    *,
    actor: User | None = None,
    taking_over_from: User | None = None,
) -> Ticket:
    """Give a ticket to an agent (auto-assignment, "take" or "reassign")."""
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.assigned_to_id == agent.pk and ticket.status == Status.ASSIGNED:
            return ticket
        if ticket.status in (Status.OPEN, Status.AWAITING_ASSISTANT, Status.ANSWERED):
            # An agent taking a ticket the assistant holds escalates it on the way.
            _transition(
                ticket,
                Status.ESCALATED,
                actor=actor,
                kind=EventKind.ESCALATED,
                note="taken by an agent",
                escalated_at=timezone.now(),
            )
        kind = EventKind.REASSIGNED if ticket.status == Status.ASSIGNED else EventKind.ASSIGNED
        note = f"to {agent.get_username()}"
        if taking_over_from is not None:
            kind, note = EventKind.TAKEN_OVER, f"from {taking_over_from.get_username()} {note}"
        previous = ticket.assigned_to if ticket.assigned_to_id is not None else None
        ticket = _transition(
            ticket,
            Status.ASSIGNED,
            actor=actor,
            kind=kind,
            note=note,
            assigned_to=agent,
            assigned_at=timezone.now(),
        )
        if previous is not None:
            ticket_changed_hands.send(sender=Ticket, ticket=ticket, previous=previous, actor=actor)
        return ticket


def take(ticket: Ticket, agent: User, *, confirmed_holder_id: int | None = None) -> Ticket:
    """An agent's "take". From a colleague it needs the agent's confirmation of that holder
    (the one they were shown): a ticket that changed hands meanwhile asks again. The
    takeover's audit row names the previous holder."""
    with transaction.atomic():
        ticket = lock(ticket)
        holder = ticket.assigned_to
        if holder is None or holder.pk == agent.pk:
            return assign(ticket, agent, actor=agent)
        if confirmed_holder_id != holder.pk:
            raise HeldByAnother(ticket)
        return assign(ticket, agent, actor=agent, taking_over_from=holder)


def unassign(ticket: Ticket, *, actor: User | None = None) -> Ticket:
    with transaction.atomic():
        ticket = lock(ticket)
        return _transition(
            ticket,
            Status.ESCALATED,
            actor=actor,
            kind=EventKind.UNASSIGNED,
            assigned_to=None,
            assigned_at=None,
        )


def agent_reply(
    ticket: Ticket,
    agent: User,
    body: str,
    *,
    draft: Message | None = None,
    reason: str = "",
    seen: PageStamp | None = None,
) -> Message:
    """An agent's answer: the user sees it in the chat; an unassigned ticket becomes theirs.

    `draft` is the assistant message the agent started from, if any; with `reason` it tells
    the training side why the draft needed correcting. `seen` is the ticket as the agent's
    page showed it: if it changed since, nothing is sent (StaleView says what changed).
    """
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status == Status.CLOSED:
            raise TicketClosed(f"Ticket #{ticket.pk} is closed.")
        _refuse_if_stale(ticket, agent, seen)
        message = Message.objects.create(ticket=ticket, author=agent, role=Role.AGENT, body=body)
        _record(ticket, EventKind.AGENT_REPLY, agent)
        if ticket.assigned_to_id is None and ticket.status != Status.RESOLVED:
            assign(ticket, agent, actor=agent)
        else:
            ticket.save(update_fields=["updated_at"])
        agent_replied.send(
            sender=Message, ticket=ticket, message=message, draft=draft, reason=reason
        )
    return message


def add_note(ticket: Ticket, author: User, body: str, *, seen: PageStamp | None = None) -> Message:
    """An internal note for agents and managers: never visible to the user, no part of the
    chat, the prompts or the training data. It leaves the ticket's updated_at alone, so not
    even the order of the user's ticket list betrays it. Closed tickets take notes too."""
    with transaction.atomic():
        ticket = lock(ticket)
        _refuse_if_stale(ticket, author, seen)
        note = Message.objects.create(
            ticket=ticket, author=author, role=Role.NOTE, body=body, visible_to_user=False
        )
        _record(ticket, EventKind.NOTE, author, note=f"message {note.pk}")
    return note


def _refuse_if_stale(ticket: Ticket, agent: User, seen: PageStamp | None) -> None:
    if seen is None:
        return
    changes = changes_since(ticket, seen, agent)
    if changes:
        raise StaleView(ticket, changes)


def _drop_pending_answers(ticket: Ticket, why: str) -> None:
    """Answers not yet started are no longer wanted once the ticket is finished."""
    ticket.answer_requests.filter(status=AnswerStatus.PENDING).update(
        status=AnswerStatus.FAILED, error=why
    )


def resolve(ticket: Ticket, actor: User | None = None) -> Ticket:
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status == Status.RESOLVED:
            return ticket
        _drop_pending_answers(ticket, "resolved")
        return _transition(
            ticket,
            Status.RESOLVED,
            actor=actor,
            kind=EventKind.RESOLVED,
            resolved_at=timezone.now(),
        )


def close(ticket: Ticket, actor: User | None = None) -> Ticket:
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.status == Status.CLOSED:
            return ticket
        _drop_pending_answers(ticket, "closed")
        resolved_at = ticket.resolved_at or timezone.now()
        return _transition(
            ticket, Status.CLOSED, actor=actor, kind=EventKind.CLOSED, resolved_at=resolved_at
        )


def choose_model(ticket: Ticket, version: ModelVersion | None, user: User | None = None) -> Ticket:
    """The chat's model switcher: later answers on this ticket come from `version`.

    `None` goes back to the default version. The status does not change.
    """
    with transaction.atomic():
        ticket = lock(ticket)
        if ticket.model_version_id == (version.pk if version else None):
            return ticket
        ticket.model_version = version
        ticket.save(update_fields=["model_version", "updated_at"])
        _record(
            ticket, EventKind.MODEL_CHOSEN, user, note=version.name if version else "default model"
        )
    return ticket
