"""The groups that carry permissions: agents work tickets, managers see and manage all."""

from django.contrib.auth.models import AbstractBaseUser, Group, Permission

AGENTS = "Agents"
MANAGERS = "Managers"

_AGENT_PERMS = [
    ("tickets", "view_ticket"),
    ("tickets", "change_ticket"),
    ("tickets", "view_message"),
    ("tickets", "view_ticketevent"),
    ("tickets", "view_agentprofile"),
    ("tickets", "change_agentprofile"),
    ("training", "view_trainingexample"),
    ("training", "add_trainingexample"),
    ("knowledge", "view_article"),
    ("knowledge", "add_article"),
    ("knowledge", "change_article"),
]


_MANAGER_LOGIN_PERMS = [
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accesslog"),
    ("axes", "view_accessfailurelog"),
]


def ensure_groups() -> None:
    """Create the groups and their permissions; safe to run any number of times."""
    agents, _ = Group.objects.get_or_create(name=AGENTS)
    agents.permissions.set(_permissions(_AGENT_PERMS))
    managers, _ = Group.objects.get_or_create(name=MANAGERS)
    managers.permissions.set(
        [
            *Permission.objects.filter(
                content_type__app_label__in=[
                    "tickets",
                    "assistant",
                    "knowledge",
                    "training",
                    "auth",
                ]
            ),
            # Failed sign-ins: managers see them and may lift a lockout (delete the attempt).
            *_permissions(_MANAGER_LOGIN_PERMS),
        ]
    )


def _permissions(pairs: list[tuple[str, str]]) -> list[Permission]:
    # filter, not get: on a fresh database some apps' permissions are created later.
    found = []
    for app, codename in pairs:
        found.extend(Permission.objects.filter(content_type__app_label=app, codename=codename))
    return found


def is_agent(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.groups.filter(name__in=[AGENTS, MANAGERS]).exists()


def is_manager(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name=MANAGERS).exists()
    )
