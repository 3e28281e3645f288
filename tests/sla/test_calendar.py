"""Business-time arithmetic on crafted calendars: weekends, holidays, DST, pauses, starts
outside hours."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import (
    Calendar,
    NoBusinessTime,
    add_business_minutes,
    business_minutes_between,
    hours,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {day: hours("09:00-17:00") for day in range(5)}  # Monday to Friday


UTC_ZONE = ZoneInfo("UTC")


def office(tz: ZoneInfo = UTC_ZONE, holidays: frozenset[date] = frozenset()) -> Calendar:
    return Calendar(timezone=tz, week=OFFICE, holidays=holidays)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# 2026-12-04 is a Friday.


def test_it_adds_minutes_within_a_working_day():
    assert add_business_minutes(office(), utc(2026, 12, 1, 10), 90) == utc(2026, 12, 1, 11, 30)


def test_it_carries_minutes_over_the_night():
    assert add_business_minutes(office(), utc(2026, 12, 1, 16), 120) == utc(2026, 12, 2, 10)


def test_it_skips_the_weekend():
    assert add_business_minutes(office(), utc(2026, 12, 4, 16), 120) == utc(2026, 12, 7, 10)


def test_a_start_outside_hours_counts_from_the_next_opening():
    assert add_business_minutes(office(), utc(2026, 12, 1, 6), 30) == utc(2026, 12, 1, 9, 30)
    assert add_business_minutes(office(), utc(2026, 12, 1, 20), 30) == utc(2026, 12, 2, 9, 30)
    assert add_business_minutes(office(), utc(2026, 12, 5, 12), 30) == utc(2026, 12, 7, 9, 30)


def test_a_due_exactly_at_closing_stays_on_that_day():
    assert add_business_minutes(office(), utc(2026, 12, 1, 9), 480) == utc(2026, 12, 1, 17)


def test_holidays_are_skipped():
    christmas = office(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    # Wednesday 23rd, 16:00 + 2h: Thursday and Friday are holidays, then the weekend.
    assert add_business_minutes(christmas, utc(2026, 12, 23, 16), 120) == utc(2026, 12, 28, 10)


def test_hours_are_local_to_the_calendars_time_zone():
    berlin = office(BERLIN)  # 09:00 in Berlin in winter is 08:00 UTC
    assert add_business_minutes(berlin, utc(2026, 12, 1, 7), 60) == utc(2026, 12, 1, 9)


def test_a_working_day_over_a_dst_change_has_its_real_length():
    # Round the clock in Berlin; on 2026-03-29 the clocks jump from 02:00 to 03:00.
    always = Calendar(timezone=BERLIN, week={d: hours("00:00-24:00") for d in range(7)})
    start = utc(2026, 3, 28, 23)  # local midnight starting the 29th
    assert business_minutes_between(always, start, utc(2026, 3, 29, 22)) == 23 * 60
    assert add_business_minutes(always, start, 24 * 60) == utc(2026, 3, 29, 23)


def test_office_hours_keep_their_wall_clock_time_across_dst():
    berlin = office(BERLIN)
    # Friday 27 March 16:00 CET (15:00 UTC) + 2h: Monday 30 March 10:00 CEST = 08:00 UTC.
    assert add_business_minutes(berlin, utc(2026, 3, 27, 15), 120) == utc(2026, 3, 30, 8)


def test_minutes_between_count_only_working_time():
    assert business_minutes_between(office(), utc(2026, 12, 4, 16), utc(2026, 12, 7, 10)) == 120
    assert business_minutes_between(office(), utc(2026, 12, 5, 0), utc(2026, 12, 6, 23)) == 0
    assert business_minutes_between(office(), utc(2026, 12, 2), utc(2026, 12, 1)) == 0


def test_a_pause_over_the_night_only_takes_the_working_time_it_covers():
    # Paused Tuesday 15:00 to Wednesday 11:00: 2h on Tuesday and 2h on Wednesday are lost.
    pause = (utc(2026, 12, 1, 15), utc(2026, 12, 2, 11))
    start = utc(2026, 12, 1, 9)
    assert business_minutes_between(office(), start, utc(2026, 12, 2, 17), [pause]) == 12 * 60
    # 8h target: 6h on Tuesday before the pause, then 2h from Wednesday 11:00.
    assert add_business_minutes(office(), start, 480, [pause]) == utc(2026, 12, 2, 13)


def test_overlapping_pauses_count_once():
    pauses = [
        (utc(2026, 12, 1, 10), utc(2026, 12, 1, 12)),
        (utc(2026, 12, 1, 11), utc(2026, 12, 1, 13)),
    ]
    start, end = utc(2026, 12, 1, 9), utc(2026, 12, 1, 17)
    assert business_minutes_between(office(), start, end, pauses) == 5 * 60


def test_a_pause_not_ended_yet_stops_the_clock():
    start = utc(2026, 12, 1, 9)
    paused = [(utc(2026, 12, 1, 10), None)]
    assert add_business_minutes(office(), start, 120, paused) is None
    # Reached before the pause began: the due time stands.
    assert add_business_minutes(office(), start, 30, paused) == utc(2026, 12, 1, 9, 30)
    assert business_minutes_between(office(), start, utc(2026, 12, 3), paused) == 60


def test_a_calendar_without_time_cannot_be_due():
    closed = Calendar(timezone=ZoneInfo("UTC"), week={})
    with pytest.raises(NoBusinessTime):
        add_business_minutes(closed, utc(2026, 12, 1), 1)


def test_bad_hours_are_refused():
    with pytest.raises(ValueError):
        Calendar(timezone=BERLIN, week={0: hours("17:00-09:00")})
    with pytest.raises(ValueError):
        Calendar(timezone=BERLIN, week={0: hours("09:00-13:00,12:00-17:00")})
    with pytest.raises(ValueError):
        add_business_minutes(office(), datetime(2026, 12, 1, 9), 1)  # naive


def test_split_days_count_both_parts():
    lunch = Calendar(timezone=ZoneInfo("UTC"), week={0: hours("09:00-12:00,13:00-17:00")})
    monday = utc(2026, 11, 30, 11)
    assert add_business_minutes(lunch, monday, 120) == utc(2026, 11, 30, 14)
    assert business_minutes_between(lunch, monday, monday + timedelta(hours=3)) == 120
