"""Who wants which event by which channel: each person's choices over their role's defaults."""

from django.contrib.auth.models import User

from tickets.roles import is_agent, is_manager

from .models import REQUESTER_EVENTS, STAFF_EVENTS, Channel, Event, Preference

# Everybody may be a requester, so these are on for everybody.
_REQUESTER_DEFAULTS = set(REQUESTER_EVENTS)
# An agent hears about their own tickets; the unassigned queue is the managers' to watch.
_AGENT_DEFAULTS = _REQUESTER_DEFAULTS | set(STAFF_EVENTS) - {Event.UNASSIGNED_WAITING}
_MANAGER_DEFAULTS = _REQUESTER_DEFAULTS | set(STAFF_EVENTS)

Choices = dict[tuple[str, str], bool]  # (event, channel) -> on


def events_for(user: User) -> list[Event]:
    """The events a person can choose about: staff get all, end users their tickets' own."""
    return list(Event) if _is_staff(user) else list(REQUESTER_EVENTS)


def defaults_of(user: User) -> set[Event]:
    """The events a person's role has on by default, the same on every channel."""
    if is_manager(user):
        return _MANAGER_DEFAULTS
    if is_agent(user):
        return _AGENT_DEFAULTS
    return _REQUESTER_DEFAULTS


def choices_of(user: User) -> Choices:
    """Every (event, channel) of the person, on or off: their rows over the defaults."""
    chosen = {
        (row.event, row.channel): row.enabled
        for row in Preference.objects.filter(user=user).only("event", "channel", "enabled")
    }
    defaults = defaults_of(user)
    return {
        (event, channel): chosen.get((event, channel), event in defaults)
        for event in Event
        for channel in Channel
    }


def wants(user: User, event: str, channel: str) -> bool:
    row = Preference.objects.filter(user=user, event=event, channel=channel).first()
    return row.enabled if row is not None else event in defaults_of(user)


def channels_for(user: User, event: str) -> set[Channel]:
    choices = choices_of(user)
    return {channel for channel in Channel if choices[(event, channel)]}


def choose(user: User, event: str, channel: str, enabled: bool) -> None:
    Preference.objects.update_or_create(
        user=user, event=event, channel=channel, defaults={"enabled": enabled}
    )


def save_choices(user: User, choices: Choices) -> None:
    """Store the person's matrix; only what differs from the role's default keeps a row, so a
    later change of the defaults reaches those who never chose."""
    defaults = defaults_of(user)
    for (event, channel), enabled in choices.items():
        if enabled == (event in defaults):
            Preference.objects.filter(user=user, event=event, channel=channel).delete()
        else:
            choose(user, event, channel, enabled)


def _is_staff(user: User) -> bool:
    return is_agent(user) or is_manager(user)
