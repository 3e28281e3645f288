"""A ticket's SLA clock from its history: who waits on whom, the due times, met or breached.

Pure: it reads plain facts (tickets.sync turns rows into them) and a calendar, no ORM.

The rules, in one place:
- A *response* is a visible answer to the user: an agent's reply, or an assistant answer
  that passed the gate (the user got it in seconds; a ticket the assistant solves must not
  breach). Hidden drafts, notes and system notices (hand-offs) are not responses.
- The user *waits on the desk* from the ticket's opening, from each message they write
  after a response, and from each escalation they asked for or the assistant handed over
  (an agent taking a ticket on their own does not make the user wait). The first wait is
  measured against the first-response target, every later one against next-response.
- The desk *waits on the user* (the clock is paused) from a response until the user writes
  again, asks for a person, or the ticket reopens.
- Resolution counts business time from opening, minus the pauses and the time resolved;
  it stops when the ticket is resolved or closed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .calendar import Calendar, Pause, add_business_minutes, business_minutes_between


class Happening(StrEnum):
    USER_WROTE = "user_wrote"
    RESPONDED = "responded"
    ESCALATED = "escalated"  # handed to people at the user's or the assistant's request
    FINISHED = "finished"  # resolved or closed
    REOPENED = "reopened"


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True)
class Targets:
    first_response: int
    next_response: int
    resolution: int


@dataclass(frozen=True)
class Wait:
    """The user waiting on the desk from `since` to a response (or to the ticket's end)."""

    since: datetime
    due: datetime
    ended_at: datetime | None = None
    answered: bool = False

    def breached_at(self, now: datetime) -> datetime | None:
        if self.answered and self.ended_at is not None:
            return self.due if self.ended_at > self.due else None
        return self.due if self.due < (self.ended_at or now) else None


@dataclass
class Clock:
    first_response_due: datetime | None = None
    first_response_at: datetime | None = None
    next_response_due: datetime | None = None
    resolution_due: datetime | None = None
    resolved_at: datetime | None = None
    waiting_since: datetime | None = None  # the user's current wait on the desk
    paused_since: datetime | None = None  # the desk's current wait on the user
    breached_at: datetime | None = None  # the first due time missed
    next_due_at: datetime | None = None  # the earliest due time still ahead of the desk
    next_target: str = ""
    first_response_minutes: float | None = None  # business minutes, once answered
    resolution_minutes: float | None = None  # business minutes, once resolved
    first_response_met: bool | None = None
    resolution_met: bool | None = None
    waits: list[Wait] = field(default_factory=list)


_ORDER = {  # at one instant a message comes before the event it caused
    Happening.USER_WROTE: 0,
    Happening.RESPONDED: 1,
    Happening.REOPENED: 2,
    Happening.ESCALATED: 3,
    Happening.FINISHED: 4,
}


def compute(
    opened_at: datetime,
    history: Sequence[tuple[datetime, Happening]],
    calendar: Calendar,
    targets: Targets,
    now: datetime,
) -> Clock:
    """The clock of a ticket opened at `opened_at` with `history` (any order), as of `now`."""
    clock = Clock()
    pauses: list[Pause] = []
    finished_since: datetime | None = None
    wait_since: datetime | None = opened_at
    paused_since: datetime | None = None

    def close_wait(at: datetime, answered: bool) -> None:
        nonlocal wait_since
        assert wait_since is not None
        clock.waits.append(_wait(calendar, targets, clock, wait_since, at, answered))
        wait_since = None

    for at, what in sorted(history, key=lambda h: (h[0], _ORDER[h[1]])):
        if at < opened_at:
            at = opened_at
        if finished_since is not None:
            if what is Happening.REOPENED:
                pauses.append((finished_since, at))
                finished_since, wait_since = None, at
            continue
        if what is Happening.RESPONDED and wait_since is not None:
            if clock.first_response_at is None:
                clock.first_response_at = at
            close_wait(at, answered=True)
            paused_since = at
        elif what in (Happening.USER_WROTE, Happening.ESCALATED, Happening.REOPENED):
            if paused_since is not None:
                pauses.append((paused_since, at))
                paused_since = None
            if wait_since is None:
                wait_since = at
        elif what is Happening.FINISHED:
            if wait_since is not None:
                close_wait(at, answered=False)
            if paused_since is not None:
                pauses.append((paused_since, at))
                paused_since = None
            finished_since = at

    if wait_since is not None:
        current = _wait(calendar, targets, clock, wait_since, None, False)
        clock.waits.append(current)
        clock.waiting_since = wait_since
        if len(clock.waits) > 1:
            clock.next_response_due = current.due
    if clock.waits:
        clock.first_response_due = clock.waits[0].due
    clock.paused_since = paused_since
    _resolution(clock, opened_at, calendar, targets, pauses, paused_since, finished_since)
    _outcomes(clock, opened_at, calendar, now)
    return clock


def _wait(
    calendar: Calendar,
    targets: Targets,
    clock: Clock,
    since: datetime,
    ended_at: datetime | None,
    answered: bool,
) -> Wait:
    minutes = targets.next_response if clock.waits else targets.first_response
    due = add_business_minutes(calendar, since, minutes)
    assert due is not None  # no pauses given: always reached
    return Wait(since=since, due=due, ended_at=ended_at, answered=answered)


def _resolution(
    clock: Clock,
    opened_at: datetime,
    calendar: Calendar,
    targets: Targets,
    pauses: list[Pause],
    paused_since: datetime | None,
    finished_since: datetime | None,
) -> None:
    stopped_since = finished_since or paused_since
    open_pauses: list[Pause] = [*pauses, (stopped_since, None)] if stopped_since else pauses
    # None while stopped, unless the target was already missed before the stop.
    clock.resolution_due = add_business_minutes(
        calendar, opened_at, targets.resolution, open_pauses
    )
    if finished_since is not None:
        clock.resolved_at = finished_since
        clock.resolution_minutes = business_minutes_between(
            calendar, opened_at, finished_since, pauses
        )
        clock.resolution_met = clock.resolution_due is None


def _outcomes(clock: Clock, opened_at: datetime, calendar: Calendar, now: datetime) -> None:
    missed = [w.breached_at(now) for w in clock.waits]
    if clock.resolution_due is not None and clock.resolution_due < (clock.resolved_at or now):
        missed.append(clock.resolution_due)
    clock.breached_at = min((m for m in missed if m is not None), default=None)
    if clock.first_response_at is not None:
        clock.first_response_minutes = business_minutes_between(
            calendar, opened_at, clock.first_response_at
        )
    first = clock.waits[0] if clock.waits else None
    if first is not None and (first.answered or first.breached_at(now)):
        clock.first_response_met = first.breached_at(now) is None
    ahead: list[tuple[datetime, str]] = []
    if clock.waiting_since is not None:
        due = clock.next_response_due or clock.first_response_due
        target = Target.NEXT_RESPONSE if clock.next_response_due else Target.FIRST_RESPONSE
        if due is not None:
            ahead.append((due, target))
    if clock.resolved_at is None and clock.resolution_due is not None:
        ahead.append((clock.resolution_due, Target.RESOLUTION))
    if ahead:
        clock.next_due_at, clock.next_target = min(ahead)
