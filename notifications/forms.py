"""The preferences matrix: one checkbox per event and channel."""

from typing import Any

from django import forms
from django.contrib.auth.models import User

from . import preferences
from .models import Channel, Event


def field_name(event: str, channel: str) -> str:
    return f"{event}__{channel}"


class PreferencesForm(forms.Form):
    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events = preferences.events_for(user)
        current = preferences.choices_of(user)
        for event in self.events:
            for channel in Channel:
                self.fields[field_name(event, channel)] = forms.BooleanField(
                    required=False,
                    initial=current[(event, channel)],
                    label=f"{Event(event).label}: {channel.label}",
                )

    def rows(self) -> list[tuple[Event, list[forms.BoundField]]]:
        """The matrix as the template lays it out: one row per event, a cell per channel."""
        return [
            (event, [self[field_name(event, channel)] for channel in Channel])
            for event in self.events
        ]

    def choices(self) -> preferences.Choices:
        return {
            (event, channel): bool(self.cleaned_data[field_name(event, channel)])
            for event in self.events
            for channel in Channel
        }
