"""Fixtures of the service-level tests: the default policies on a round-the-clock calendar,
so due times do not depend on the hour the tests run at."""

import datetime
import importlib

import pytest


def ensure_defaults() -> None:
    """The data migration's calendar and policies: a transactional test before this one
    empties every table, its migrated rows included."""
    from django.apps import apps

    migration = importlib.import_module("sla.migrations.0002_default_policies")
    migration.create_defaults(apps, None)


@pytest.fixture
def round_the_clock(db):
    from sla.models import BusinessCalendar, WorkingHours

    ensure_defaults()
    calendar = BusinessCalendar.objects.get(name="Standard hours")
    calendar.hours.all().delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            calendar=calendar, weekday=day, opens=datetime.time(0), closes=datetime.time(0)
        )
        for day in range(7)
    )
    calendar.save()  # a new updated_at: cached copies are read again
    return calendar


@pytest.fixture
def no_model(settings):
    settings.ASSISTANT_ENABLED = False
