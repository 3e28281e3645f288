"""Accounts in the admin: managers make and retire agents, never superusers; superusers'
rows, superuser status and other staff's passwords stay out of their reach."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from tests.factories import AgentFactory, UserFactory
from tickets.roles import AGENTS, MANAGERS

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture
def dana(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _change(user) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def _password(user) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def _form(user, **changes) -> dict:
    """Everything Django's full user form asks for, so only the rules can refuse a field."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "is_active": "on",
        "groups": [g.pk for g in user.groups.all()],
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _set_password(client, user):
    return client.post(
        _password(user),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )


def test_a_manager_cannot_make_herself_a_superuser(dana, manager):
    dana.post(_change(manager), _form(manager, is_superuser="on"))

    manager.refresh_from_db()
    assert not manager.is_superuser


def test_a_manager_cannot_give_anyone_direct_permissions(dana, agent):
    every = list(Permission.objects.values_list("pk", flat=True))

    dana.post(_change(agent), _form(agent, user_permissions=every))

    assert not agent.user_permissions.exists()


def test_a_manager_neither_sees_nor_edits_a_superuser(dana, root):
    listing = dana.get(reverse("admin:auth_user_changelist")).content.decode()
    page = dana.get(_change(root))
    dana.post(_change(root), _form(root, is_active=None, is_staff=None))

    root.refresh_from_db()
    assert ">root<" not in listing
    assert page.status_code in (302, 404)
    assert root.is_active and root.is_staff and root.is_superuser


def test_a_manager_cannot_set_a_superusers_password(dana, root):
    response = _set_password(dana, root)

    root.refresh_from_db()
    assert response.status_code in (403, 404)
    assert not root.check_password(NEW_PASSWORD)


def test_a_manager_cannot_set_another_staff_members_password(dana, agent):
    response = _set_password(dana, agent)

    agent.refresh_from_db()
    assert response.status_code == 403
    assert not agent.check_password(NEW_PASSWORD)


def test_a_manager_sets_an_end_users_password_and_her_own(dana, manager, user):
    _set_password(dana, user)
    _set_password(dana, manager)

    user.refresh_from_db()
    manager.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert manager.check_password(NEW_PASSWORD)


def test_a_manager_makes_an_end_user_an_agent(dana, user):
    agents = Group.objects.get(name=AGENTS)

    response = dana.post(_change(user), _form(user, is_staff="on", groups=[agents.pk]))

    user.refresh_from_db()
    assert response.status_code == 302
    assert user.is_staff and list(user.groups.all()) == [agents]


def test_a_manager_deactivates_an_agent(dana, agent):
    dana.post(_change(agent), _form(agent, is_active=None))

    agent.refresh_from_db()
    assert not agent.is_active


def test_a_manager_creates_an_account(dana):
    response = dana.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newagent",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert User.objects.filter(username="newagent", is_superuser=False).exists()


def test_a_manager_chooses_only_among_the_role_groups(dana, agent):
    Group.objects.create(name="Auditors")

    page = dana.get(_change(agent)).content.decode()

    assert AGENTS in page and MANAGERS in page
    assert "Auditors" not in page


def test_a_manager_keeps_groups_she_cannot_choose(dana, agent):
    auditors = Group.objects.create(name="Auditors")
    agent.groups.add(auditors)

    dana.post(_change(agent), _form(agent, groups=[Group.objects.get(name=AGENTS).pk]))

    assert set(agent.groups.values_list("name", flat=True)) == {AGENTS, "Auditors"}


def test_a_manager_cannot_edit_the_groups_permissions(dana):
    agents = Group.objects.get(name=AGENTS)
    every = list(Permission.objects.values_list("pk", flat=True))

    response = dana.post(
        reverse("admin:auth_group_change", args=[agents.pk]),
        {"name": AGENTS, "permissions": every},
    )

    assert response.status_code == 403
    assert agents.permissions.count() < len(every)


def test_a_manager_does_not_delete_accounts(dana, agent):
    response = dana.post(reverse("admin:auth_user_delete", args=[agent.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert User.objects.filter(pk=agent.pk).exists()


def test_a_superuser_keeps_the_full_user_form(client, root):
    client.force_login(root)
    target = AgentFactory()

    page = client.get(_change(target)).content.decode()

    assert 'name="is_superuser"' in page and 'name="user_permissions"' in page
