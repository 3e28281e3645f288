"""Business time: working hours by weekday, holidays and pauses, as plain arithmetic (no ORM).

Written here rather than taken from a library: the business-hours packages on PyPI
(businesstimedelta, business_calendar) count whole days or fixed hours, and none honours
pauses or a DST change inside a working day, which the SLA clocks need.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# An instant range [start, end); an end of None is a pause that has not ended yet.
Span = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]

MINUTES_PER_DAY = 24 * 60
# How far ahead a due time is searched for: longer than any target in business minutes,
# and it ends the search on a calendar whose every working day is a holiday.
HORIZON_DAYS = 3 * 366


class NoBusinessTime(ValueError):
    """The calendar has no working time within the horizon: no due time can be reached."""


@dataclass(frozen=True)
class Calendar:
    """When the desk works: per weekday (Monday 0) its opening intervals in minutes of the
    local day (0 to 1440, so 24:00 ends a day), in `timezone`; no work on `holidays`."""

    timezone: ZoneInfo
    week: Mapping[int, Sequence[tuple[int, int]]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for weekday, intervals in self.week.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            ends = [0]
            for opens, closes in sorted(intervals):
                if not 0 <= opens < closes <= MINUTES_PER_DAY or opens < ends[-1]:
                    raise ValueError(f"bad or overlapping hours on weekday {weekday}")
                ends.append(closes)

    def intervals_on(self, day: date) -> list[tuple[int, int]]:
        if day in self.holidays:
            return []
        return sorted(self.week.get(day.weekday(), ()))


def hours(text: str) -> list[tuple[int, int]]:
    """ "09:00-12:00,13:00-17:00" as minute intervals; "" is a day off; "24:00" ends a day."""
    intervals = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        opens, closes = (_minute_of_day(t) for t in part.split("-"))
        intervals.append((opens, closes))
    return intervals


def _minute_of_day(text: str) -> int:
    hour, minute = text.strip().split(":")
    return int(hour) * 60 + int(minute)


def working_spans(calendar: Calendar, start: datetime) -> Iterator[Span]:
    """The working time from `start` on, as UTC spans in order (the first one clipped)."""
    _require_aware(start)
    day = start.astimezone(calendar.timezone).date()
    for _ in range(HORIZON_DAYS):
        for opens, closes in calendar.intervals_on(day):
            span_start, span_end = _instant(calendar, day, opens), _instant(calendar, day, closes)
            if span_end > start:
                yield max(span_start, start), span_end
        day += timedelta(days=1)


def _instant(calendar: Calendar, day: date, minute: int) -> datetime:
    # Wall-clock arithmetic on the local midnight, then to UTC: on a DST change a working
    # day is an hour shorter or longer in real time, as the people working it see.
    # A wall time that does not exist (the hour skipped in spring) reads with the offset
    # before the change, which lands it just after the skip.
    midnight = datetime(day.year, day.month, day.day, tzinfo=calendar.timezone)
    return (midnight + timedelta(minutes=minute)).astimezone(UTC)


def _merged(pauses: Iterable[Pause]) -> list[Pause]:
    """Pauses sorted and overlapping ones joined; an open pause swallows all after it."""
    merged: list[Pause] = []
    for start, end in sorted(pauses, key=lambda p: p[0]):
        _require_aware(start)
        if end is not None and end <= start:
            continue
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (
                last_start,
                None if end is None or last_end is None else max(end, last_end),
            )
        else:
            merged.append((start, end))
    return merged


def _minus_pauses(spans: Iterable[Span], pauses: Sequence[Pause]) -> Iterator[Span]:
    """The spans with the (merged) pauses cut out; nothing after an open pause begins."""
    first = 0  # pauses before this index ended before the current span
    for start, end in spans:
        cursor = start
        for index in range(first, len(pauses)):
            pause_start, pause_end = pauses[index]
            if pause_end is not None and pause_end <= cursor:
                first = index + 1
                continue
            if pause_start >= end:
                break
            if pause_start > cursor:
                yield cursor, pause_start
            if pause_end is None:
                return
            cursor = pause_end
            if cursor >= end:
                break
        if cursor < end:
            yield cursor, end


def add_business_minutes(
    calendar: Calendar, start: datetime, minutes: float, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The instant by which `minutes` of working time have passed since `start`, not
    counting `pauses`; None when a pause that has not ended stops the clock first.

    Raises NoBusinessTime when the calendar offers too little time within the horizon."""
    if minutes < 0:
        raise ValueError("minutes must be at least 0")
    left = timedelta(minutes=minutes)
    if not left:
        return start
    merged = _merged(pauses)
    for span_start, span_end in _minus_pauses(working_spans(calendar, start), merged):
        if span_end - span_start >= left:
            return span_start + left
        left -= span_end - span_start
    if merged and merged[-1][1] is None:
        return None
    raise NoBusinessTime(f"less than {minutes} business minutes in {HORIZON_DAYS} days")


def business_minutes_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> float:
    """Working minutes from `start` to `end`, not counting `pauses` (0 if end <= start)."""
    _require_aware(end)
    total = timedelta()
    if end <= start:
        return 0.0
    for span_start, span_end in _minus_pauses(working_spans(calendar, start), _merged(pauses)):
        if span_start >= end:
            break
        total += min(span_end, end) - span_start
    return total / timedelta(minutes=1)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
