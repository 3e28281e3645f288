"""The security trail: role and membership changes, others' availability, default switches,
erasures and exports each leave who, what and when; managers read it, nobody edits it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access.models import SecurityEvent, SecurityEventKind
from tests.factories import AgentFactory, ModelVersionFactory, UserFactory
from tests.feedback.helpers import make_example
from tickets.roles import AGENTS
from training.feedback.erasure import erase_ticket
from training.models import ShadowComparison
from training.releases.promotion import promote, rollback

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    return root


def _events(kind: SecurityEventKind, **filters) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(kind=kind, **filters).order_by("pk"))


def _user_form(account, **changes) -> dict:
    data = {
        "username": account.username,
        "email": account.email,
        "date_joined_0": account.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": account.date_joined.strftime("%H:%M:%S"),
        "is_active": "on",
        "groups": [g.pk for g in account.groups.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_it_records_who_made_whom_a_superuser(client, root):
    dana = UserFactory(username="dana", is_staff=True)

    client.post(
        reverse("admin:auth_user_change", args=[dana.pk]),
        _user_form(dana, is_staff="on", is_superuser="on"),
    )

    [event] = _events(SecurityEventKind.SUPERUSER_STATUS, account=dana)
    assert (event.actor, event.actor_name) == (root, "root")
    assert event.detail == {"field": "is_superuser", "before": False, "after": True}
    assert event.created_at is not None


def test_it_records_staff_status_and_deactivation(client, manager):
    alice = UserFactory(username="alice")
    client.force_login(manager)

    client.post(
        reverse("admin:auth_user_change", args=[alice.pk]), _user_form(alice, is_staff="on")
    )
    client.post(reverse("admin:auth_user_change", args=[alice.pk]), _user_form(alice))

    staff = _events(SecurityEventKind.STAFF_STATUS, account=alice)
    assert [(e.detail["before"], e.detail["after"], e.actor) for e in staff] == [
        (False, True, manager),
        (True, False, manager),
    ]


def test_it_records_joining_and_leaving_a_group_from_the_admin(client, manager):
    alice = UserFactory(username="alice")
    agents = Group.objects.get(name=AGENTS)
    client.force_login(manager)
    url = reverse("admin:auth_user_change", args=[alice.pk])

    client.post(url, _user_form(alice, groups=[agents.pk]))
    client.post(url, _user_form(alice, groups=[]))

    joined = _events(SecurityEventKind.GROUP_JOINED, account=alice)
    left = _events(SecurityEventKind.GROUP_LEFT, account=alice)
    assert [(e.detail, e.actor) for e in joined] == [({"group": AGENTS}, manager)]
    assert [(e.detail, e.actor) for e in left] == [({"group": AGENTS}, manager)]


def test_it_records_membership_changed_from_the_groups_side_and_in_code():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    agents = Group.objects.get(name=AGENTS)

    agents.user_set.add(alice, bob)
    bob.groups.clear()

    joined = {e.account for e in _events(SecurityEventKind.GROUP_JOINED, detail__group=AGENTS)}
    left = _events(SecurityEventKind.GROUP_LEFT)
    assert {alice, bob} <= joined
    assert [(e.account, e.actor) for e in left] == [(bob, None)]


def test_it_records_a_password_set_by_someone_else_only(client, manager, user):
    client.force_login(manager)
    data = {"password1": "another-long-pass-9", "password2": "another-long-pass-9"}

    client.post(reverse("admin:auth_user_password_change", args=[user.pk]), data)
    client.post(reverse("admin:auth_user_password_change", args=[manager.pk]), data)

    assert [(e.account, e.actor) for e in _events(SecurityEventKind.PASSWORD_SET)] == [
        (user, manager)
    ]


def test_it_records_availability_set_for_another_agent_not_for_oneself(client, manager, agent):
    client.force_login(agent)
    client.post(reverse("admin:tickets_ticket_availability"), {"available": "0"})
    client.force_login(manager)
    client.post(
        reverse("admin:tickets_agentprofile_changelist"),
        {"action": "mark_available", "_selected_action": [agent.agent_profile.pk]},
    )

    [event] = _events(SecurityEventKind.AVAILABILITY)
    assert (event.account, event.actor, event.detail) == (agent, manager, {"available": True})


def test_it_records_promotions_and_rollbacks(manager):
    active, candidate = ModelVersionFactory(name="v1"), ModelVersionFactory(name="v2")
    active.make_default()
    ShadowComparison.objects.create(
        candidate=candidate, active=active, candidate_not_worse=True, status="succeeded"
    )

    promote(candidate, manager)
    rollback(manager)

    switched = _events(SecurityEventKind.DEFAULT_VERSION)
    assert [(e.target, e.actor, e.detail["rollback"]) for e in switched] == [
        ("v1 → v2", manager, False),
        ("v2 → v1", manager, True),
    ]


def test_it_records_an_erasure_with_the_exports_that_held_the_ticket(manager):
    example = make_example()

    erase_ticket(example.ticket_id, requested_by=manager)

    [event] = _events(SecurityEventKind.ERASURE)
    assert event.actor == manager
    assert event.detail == {"ticket_id": example.ticket_id, "exports_holding_it": []}


def test_it_records_an_export_started_from_the_admin(client, manager, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    example = make_example()
    client.force_login(manager)

    client.post(
        reverse("admin:training_trainingexample_changelist"),
        {"action": "export_selected", "_selected_action": [example.pk]},
    )

    [event] = _events(SecurityEventKind.EXPORT)
    assert event.actor == manager and event.detail["path"].startswith(str(tmp_path))


def test_managers_read_the_trail_and_nobody_edits_it(client, manager, agent):
    AgentFactory(username="newcomer")  # joining Agents is an event
    event = SecurityEvent.objects.filter(kind=SecurityEventKind.GROUP_JOINED).first()
    changelist = reverse("admin:access_securityevent_changelist")
    change = reverse("admin:access_securityevent_change", args=[event.pk])

    client.force_login(manager)
    listing = client.get(changelist)
    page = client.get(change)
    edit = client.post(change, {"target": "nothing happened"})
    delete = client.post(reverse("admin:access_securityevent_delete", args=[event.pk]))
    client.force_login(agent)
    as_agent = client.get(changelist)

    assert listing.status_code == 200 and "newcomer joined Agents" in listing.content.decode()
    assert page.status_code == 200 and 'name="target"' not in page.content.decode()
    assert (edit.status_code, delete.status_code, as_agent.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.target == "newcomer joined Agents"
