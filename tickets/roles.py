"""The groups that carry permissions: agents work tickets, managers see and manage all.
What each group holds is derived from the admin's permission matrix (access/matrix.py)."""

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from access.matrix import AGENTS, MANAGERS, Role, group_permissions

__all__ = ["AGENTS", "MANAGERS", "ensure_groups", "is_agent", "is_manager"]


def ensure_groups() -> None:
    """Create the groups and set their permissions from the matrix; safe to run any number
    of times (every migrate does), and it undoes any drift."""
    for name, role in ((AGENTS, Role.AGENT), (MANAGERS, Role.MANAGER)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(group_permissions(role)))


def _permissions(names: set[str]) -> list[Permission]:
    # filter, not get: on a fresh database some apps' permissions are created later.
    found: list[Permission] = []
    for name in sorted(names):
        app_label, codename = name.split(".")
        found.extend(
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        )
    return found


def is_agent(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.groups.filter(name__in=[AGENTS, MANAGERS]).exists()


def is_manager(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name=MANAGERS).exists()
    )
