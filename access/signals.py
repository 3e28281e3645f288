"""Receivers that put account changes in the security trail, wherever they are made: the
admin, a command, the shell."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save, pre_save

from . import events
from .middleware import current_actor, in_request

WATCHED = (*events.FLAG_KINDS, "password")


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(remember_account, sender=user_model, dispatch_uid="access.remember")
    post_save.connect(record_account, sender=user_model, dispatch_uid="access.account")
    m2m_changed.connect(
        record_membership, sender=user_model.groups.through, dispatch_uid="access.groups"
    )
    m2m_changed.connect(
        record_user_permissions,
        sender=user_model.user_permissions.through,
        dispatch_uid="access.user_permissions",
    )
    m2m_changed.connect(
        record_group_permissions,
        sender=Group.permissions.through,
        dispatch_uid="access.group_permissions",
    )


def remember_account(
    sender: type[Model], instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    instance._access_before = None
    if raw or instance.pk is None:
        return
    if update_fields is not None and not set(update_fields) & set(WATCHED):
        return  # a sign-in's last_login: nothing watched changes, no query
    instance._access_before = (
        sender._default_manager.filter(pk=instance.pk).values(*WATCHED).first()
    )


def record_account(
    sender: type[Model], instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return
    before = getattr(instance, "_access_before", None)
    if created:
        for flag in ("is_staff", "is_superuser"):
            if getattr(instance, flag):
                events.flag_changed(instance, flag, None, True)
        return
    if before is None:
        return
    for flag in events.FLAG_KINDS:
        if before[flag] != getattr(instance, flag):
            events.flag_changed(instance, flag, before[flag], getattr(instance, flag))
    actor = current_actor()
    # One's own password is one's own business; anyone else setting it is recorded.
    if before["password"] != instance.password and (actor is None or actor.pk != instance.pk):
        events.password_set(instance)
    instance._access_before = None


def record_membership(
    sender: type[Model],
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    for account, group, joined in _pairs(instance, action, reverse, pk_set):
        events.membership_changed(account, group, joined)


def _pairs(
    instance: Any, action: str, reverse: bool, pk_set: set[int] | None
) -> list[tuple[User, Group, bool]]:
    """(account, group, joined) for each membership the m2m change made or undid."""
    if action == "pre_clear":
        # A clear names nobody afterwards: keep who was there.
        related = instance.user_set if reverse else instance.groups
        instance._access_cleared = set(related.values_list("pk", flat=True))
        return []
    if action == "post_clear":
        pk_set, joined = getattr(instance, "_access_cleared", set()), False
    elif action in ("post_add", "post_remove"):
        joined = action == "post_add"
    else:
        return []
    if not pk_set:
        return []
    if reverse:
        accounts = get_user_model()._default_manager.filter(pk__in=pk_set)
        return [(account, instance, joined) for account in accounts]
    return [(instance, group, joined) for group in Group.objects.filter(pk__in=pk_set)]


def record_user_permissions(
    sender: type[Model], instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    if reverse or action not in ("post_add", "post_remove") or not pk_set:
        return
    names = _permission_names(pk_set)
    added, removed = (names, []) if action == "post_add" else ([], names)
    events.permissions_changed(
        f"{instance.get_username()}: direct permissions", added, removed, account=instance
    )


def record_group_permissions(
    sender: type[Model], instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
) -> None:
    # Outside a request the change is ensure_groups applying the matrix at migrate: the
    # code's, and in git already.
    if reverse or action not in ("post_add", "post_remove") or not pk_set or not in_request():
        return
    names = _permission_names(pk_set)
    added, removed = (names, []) if action == "post_add" else ([], names)
    events.permissions_changed(f"group {instance.name}: permissions", added, removed)


def _permission_names(pks: set[int]) -> list[str]:
    rows = Permission.objects.filter(pk__in=pks).values_list("content_type__app_label", "codename")
    return [f"{app_label}.{codename}" for app_label, codename in rows]
