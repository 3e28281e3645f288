"""The clock rules on plain histories: responses, waits, pauses, resolution."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sla.calendar import Calendar, hours
from sla.clock import Happening, Target, Targets, compute

OFFICE = Calendar(timezone=ZoneInfo("UTC"), week={d: hours("09:00-17:00") for d in range(5)})
TARGETS = Targets(first_response=60, next_response=120, resolution=480)
OPENED = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday


def at(hours_later: float) -> datetime:
    return OPENED + timedelta(hours=hours_later)


def test_a_ticket_nobody_answered_is_due_its_first_response():
    clock = compute(OPENED, [(OPENED, Happening.USER_WROTE)], OFFICE, TARGETS, at(0.5))

    assert clock.first_response_due == at(1)
    assert (clock.next_due_at, clock.next_target) == (at(1), Target.FIRST_RESPONSE)
    assert clock.breached_at is None and clock.paused_since is None


def test_it_is_breached_once_the_due_time_passed():
    clock = compute(OPENED, [(OPENED, Happening.USER_WROTE)], OFFICE, TARGETS, at(2))

    assert clock.breached_at == at(1)
    assert clock.first_response_met is False


def test_the_assistants_answer_is_a_response_and_then_the_clock_waits_on_the_user():
    history = [(OPENED, Happening.USER_WROTE), (at(0.01), Happening.RESPONDED)]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(100))

    assert clock.first_response_at == at(0.01) and clock.first_response_met is True
    assert clock.paused_since == at(0.01)
    assert clock.next_due_at is None and clock.resolution_due is None
    assert clock.breached_at is None  # a ticket the assistant solved never breaches


def test_a_late_reply_is_a_breach_on_record():
    history = [(at(0), Happening.USER_WROTE), (at(3), Happening.RESPONDED)]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(4))

    assert clock.first_response_met is False and clock.breached_at == at(1)
    assert clock.first_response_minutes == 180


def test_a_user_message_after_a_response_is_due_its_next_response():
    history = [
        (at(0), Happening.USER_WROTE),
        (at(0.5), Happening.RESPONDED),
        (at(2), Happening.USER_WROTE),
    ]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(2.5))

    assert clock.next_response_due == at(4)
    assert clock.waiting_since == at(2)
    # Resolution: 8h plus the 1.5h waiting on the user, over the night: Wednesday 10:30.
    assert clock.resolution_due == at(25.5)
    assert (clock.next_due_at, clock.next_target) == (at(4), Target.NEXT_RESPONSE)


def test_an_escalation_after_an_answer_makes_the_user_wait_again():
    history = [
        (at(0), Happening.USER_WROTE),
        (at(0.01), Happening.RESPONDED),
        (at(1), Happening.ESCALATED),
    ]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(1.5))

    assert clock.paused_since is None and clock.waiting_since == at(1)
    assert clock.next_response_due == at(3)


def test_a_pause_over_the_night_moves_the_resolution_due_time():
    # Answered Tuesday 15:00, the user replies Wednesday 11:00: 4h of business time paused.
    history = [
        (at(0), Happening.USER_WROTE),
        (at(6), Happening.RESPONDED),
        (at(26), Happening.USER_WROTE),
    ]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(26.5))

    # 6h used on Tuesday, 2h left from Wednesday 11:00.
    assert clock.resolution_due == at(28)
    assert clock.first_response_met is False  # 6h for a 1h target


def test_resolving_stops_the_clock_and_says_whether_it_was_met():
    history = [
        (at(0), Happening.USER_WROTE),
        (at(0.5), Happening.RESPONDED),
        (at(1), Happening.USER_WROTE),
        (at(2), Happening.RESPONDED),
        (at(3), Happening.FINISHED),
    ]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(200))

    assert clock.resolved_at == at(3) and clock.resolution_met is True
    assert clock.resolution_minutes == 90  # 3h less the waits on the user (0.5h and 1h)
    assert clock.next_due_at is None and clock.breached_at is None


def test_a_reopened_ticket_goes_on_from_where_its_resolution_stopped():
    history = [
        (at(0), Happening.USER_WROTE),
        (at(0.5), Happening.RESPONDED),
        (at(1), Happening.FINISHED),
        (at(24), Happening.REOPENED),
    ]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(24.5))

    # 30 minutes used before the answer, none while resolved: 7.5h left from Wednesday 09:00.
    assert clock.resolution_due == at(24 + 7.5)
    assert clock.waiting_since == at(24) and clock.next_response_due == at(26)
    assert clock.resolved_at is None


def test_resolved_without_a_reply_is_neither_met_nor_missed():
    history = [(at(0), Happening.USER_WROTE), (at(0.5), Happening.FINISHED)]

    clock = compute(OPENED, history, OFFICE, TARGETS, at(10))

    assert clock.first_response_met is None and clock.breached_at is None
