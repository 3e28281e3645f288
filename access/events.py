"""One small constructor per security event (after saleor's order events)."""

from typing import Any

from django.contrib.auth.models import Group, User

from .middleware import current_actor
from .models import SecurityEvent, SecurityEventKind

FLAG_KINDS = {
    "is_superuser": SecurityEventKind.SUPERUSER_STATUS,
    "is_staff": SecurityEventKind.STAFF_STATUS,
    "is_active": SecurityEventKind.ACCOUNT_ACTIVE,
}


def record(
    kind: SecurityEventKind,
    target: str,
    *,
    actor: User | None = None,
    account: User | None = None,
    detail: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Store one event; without an explicit actor, the user of the current request."""
    actor = actor or current_actor()
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        account=account,
        target=target[:300],
        detail=detail or {},
    )


def flag_changed(account: User, flag: str, before: bool | None, after: bool) -> None:
    record(
        FLAG_KINDS[flag],
        f"{account.get_username()}: {flag} {before} → {after}",
        account=account,
        detail={"field": flag, "before": before, "after": after},
    )


def password_set(account: User) -> None:
    record(SecurityEventKind.PASSWORD_SET, account.get_username(), account=account)


def membership_changed(account: User, group: Group, joined: bool) -> None:
    kind = SecurityEventKind.GROUP_JOINED if joined else SecurityEventKind.GROUP_LEFT
    record(
        kind,
        f"{account.get_username()} {'joined' if joined else 'left'} {group.name}",
        account=account,
        detail={"group": group.name},
    )


def permissions_changed(
    target: str, added: list[str], removed: list[str], account: User | None = None
) -> None:
    record(
        SecurityEventKind.PERMISSIONS,
        target,
        account=account,
        detail={"added": sorted(added), "removed": sorted(removed)},
    )


def availability_set(agent: User, available: bool, actor: User) -> None:
    state = "available" if available else "away"
    record(
        SecurityEventKind.AVAILABILITY,
        f"{agent.get_username()} marked {state}",
        actor=actor,
        account=agent,
        detail={"available": available},
    )


def default_version_switched(
    version: str, previous: str | None, actor: User | None, **detail: Any
) -> None:
    record(
        SecurityEventKind.DEFAULT_VERSION,
        f"{previous or 'none'} → {version}",
        actor=actor,
        detail={"version": version, "previous": previous, **detail},
    )


def ticket_erased(ticket_id: int, actor: User | None, exports: list[int]) -> None:
    record(
        SecurityEventKind.ERASURE,
        f"ticket #{ticket_id}",
        actor=actor,
        detail={"ticket_id": ticket_id, "exports_holding_it": exports},
    )


def data_exported(export_id: int, path: str, actor: User | None, **detail: Any) -> None:
    record(
        SecurityEventKind.EXPORT,
        f"export #{export_id} to {path}",
        actor=actor,
        detail={"export_id": export_id, "path": path, **detail},
    )
