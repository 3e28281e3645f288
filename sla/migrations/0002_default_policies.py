"""A fresh install has SLAs: a Monday-to-Friday 09:00-17:00 calendar in settings.TIME_ZONE
and one policy per priority (targets in business minutes; a working day is 480)."""

import datetime

from django.conf import settings
from django.db import migrations

CALENDAR = "Standard hours"
# priority: (name, first response, next response, resolution)
POLICIES = {
    4: ("Urgent", 30, 60, 240),
    3: ("High", 60, 120, 480),
    2: ("Normal", 240, 480, 3 * 480),
    1: ("Low", 480, 960, 5 * 480),
}


def create_defaults(apps, schema_editor):
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    WorkingHours = apps.get_model("sla", "WorkingHours")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    calendar, created = BusinessCalendar.objects.get_or_create(
        name=CALENDAR, defaults={"timezone": settings.TIME_ZONE}
    )
    if created:
        WorkingHours.objects.bulk_create(
            WorkingHours(
                calendar=calendar,
                weekday=day,
                opens=datetime.time(9, 0),
                closes=datetime.time(17, 0),
            )
            for day in range(5)
        )
    for priority, (name, first, following, resolution) in POLICIES.items():
        SlaPolicy.objects.get_or_create(
            priority=priority,
            category="",
            defaults={
                "name": name,
                "calendar": calendar,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "resolution_minutes": resolution,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_clocks")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
