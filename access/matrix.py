"""Who may do what in the admin: one table for every admin model, action and custom view,
by role. The groups' permissions are derived from it (tickets.roles.ensure_groups), the
project's ModelAdmins apply it through `MatrixPermissions`, and tests/access/test_matrix.py
walks the whole admin as each role and compares the answers with it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet
from django.http import HttpRequest

AGENTS = "Agents"
MANAGERS = "Managers"
ROLE_GROUPS = (AGENTS, MANAGERS)

OPERATIONS = ("view", "add", "change", "delete")

M = TypeVar("M", bound=Model)  # the model of a ModelAdmin the matrix applies to


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    END_USER = "end user"
    AGENT = "agent"
    MANAGER = "manager"


class Scope(StrEnum):
    ALL = "all"
    OWN = "own"  # only the rows whose owner field (AdminRules.owner) is the user


Grant = Mapping[Role, Scope]

# Read-only mappings: one grant is shared by many entries.
NOBODY: Grant = MappingProxyType({})
MANAGERS_ONLY: Grant = MappingProxyType({Role.MANAGER: Scope.ALL})
STAFF: Grant = MappingProxyType({Role.AGENT: Scope.ALL, Role.MANAGER: Scope.ALL})
AGENTS_THEIR_OWN: Grant = MappingProxyType({Role.AGENT: Scope.OWN, Role.MANAGER: Scope.ALL})


@dataclass(frozen=True)
class Extra:
    """An action or a custom admin view: who may use it, and the permission its own check
    asks for when that is not the model's view/change permission (the groups then hold it)."""

    grant: Grant
    needs: str = ""


@dataclass(frozen=True)
class AdminRules:
    view: Grant = field(default_factory=lambda: NOBODY)
    add: Grant = field(default_factory=lambda: NOBODY)
    change: Grant = field(default_factory=lambda: NOBODY)
    delete: Grant = field(default_factory=lambda: NOBODY)
    actions: Mapping[str, Extra] = field(default_factory=dict)  # by action name
    pages: Mapping[str, Extra] = field(default_factory=dict)  # by URL name
    owner: str = ""  # the user field an OWN grant limits rows to
    inline_in: str = ""  # set for a model shown only as an inline on this admin model

    def grant(self, operation: str) -> Grant:
        return getattr(self, operation)


# Superusers are not a role here: they keep Django's defaults (everything an admin allows
# anyone). Anonymous visitors and end users reach no admin page at all.
ADMIN_MATRIX: dict[str, AdminRules] = {
    # Accounts: managers make and retire agents (access/admin.py keeps superusers' rows,
    # superuser status, direct permissions and other staff's passwords from them).
    "auth.user": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        change=MANAGERS_ONLY,
        pages={"auth_user_password_change": Extra(MANAGERS_ONLY)},
    ),
    # The groups' permissions are this table: edited in the admin they would drift from it.
    "auth.group": AdminRules(view=MANAGERS_ONLY),
    "access.securityevent": AdminRules(view=MANAGERS_ONLY),
    # Failed sign-ins: managers see them and may lift a lockout (delete the attempt).
    "axes.accessattempt": AdminRules(
        view=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        actions={"cleanup_expired_attempts": Extra(MANAGERS_ONLY)},
    ),
    "axes.accesslog": AdminRules(view=MANAGERS_ONLY),
    "axes.accessfailurelog": AdminRules(view=MANAGERS_ONLY),
    # Deleting a version cascades to its comparisons and promotions: superusers only.
    "assistant.modelversion": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        change=MANAGERS_ONLY,
        actions={"make_default": Extra(MANAGERS_ONLY, needs="training.add_promotion")},
    ),
    # A ticket leaves only through an erasure, which is recorded: no plain delete.
    "tickets.ticket": AdminRules(
        view=STAFF,
        change=STAFF,
        actions={
            name: Extra(STAFF) for name in ("take", "reassign", "unassign", "resolve", "close")
        },
        pages={
            "tickets_ticket_availability": Extra(STAFF),
            "tickets_ticket_reply": Extra(STAFF),
            "tickets_ticket_act": Extra(STAFF),
            "tickets_ticket_presence": Extra(STAFF),
            "tickets_ticket_macro": Extra(STAFF),
        },
    ),
    # Macros: agents write personal ones and use the shared; managers keep the shared ones
    # (and may tidy anyone's). MacroAdmin shows an agent only their own and the shared.
    "macros.macro": AdminRules(
        view=STAFF,
        add=STAFF,
        change=AGENTS_THEIR_OWN,
        delete=AGENTS_THEIR_OWN,
        actions={"make_article_draft": Extra(STAFF)},
        owner="owner",
    ),
    # Agents change their own availability, nothing else; managers manage every agent.
    "tickets.agentprofile": AdminRules(
        view=AGENTS_THEIR_OWN,
        add=MANAGERS_ONLY,
        change=AGENTS_THEIR_OWN,
        delete=MANAGERS_ONLY,
        actions={
            "mark_available": Extra(AGENTS_THEIR_OWN),
            "mark_away": Extra(AGENTS_THEIR_OWN),
        },
        owner="user",
    ),
    # Service levels: managers set the calendars (hours, holidays) and the policies.
    "sla.businesscalendar": AdminRules(
        view=MANAGERS_ONLY, add=MANAGERS_ONLY, change=MANAGERS_ONLY, delete=MANAGERS_ONLY
    ),
    "sla.workinghours": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        change=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        inline_in="sla.businesscalendar",
    ),
    "sla.holiday": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        change=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        inline_in="sla.businesscalendar",
    ),
    "sla.slapolicy": AdminRules(
        view=MANAGERS_ONLY, add=MANAGERS_ONLY, change=MANAGERS_ONLY, delete=MANAGERS_ONLY
    ),
    # Satisfaction ratings: managers read them (the requester's word, recorded once).
    "satisfaction.rating": AdminRules(view=MANAGERS_ONLY),
    # Knowledge: agents and managers write and publish articles (a reply becomes a draft);
    # managers see the revisions, the solved cases and rebuild the index.
    "knowledge.article": AdminRules(
        view=STAFF,
        add=STAFF,
        change=STAFF,
        delete=MANAGERS_ONLY,
        actions={"publish": Extra(STAFF), "unpublish": Extra(STAFF)},
        pages={"knowledge_article_from_reply": Extra(STAFF)},
    ),
    "knowledge.articlerevision": AdminRules(view=MANAGERS_ONLY, inline_in="knowledge.article"),
    "knowledge.solvedcase": AdminRules(view=MANAGERS_ONLY, delete=MANAGERS_ONLY),
    "knowledge.reindexrun": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        pages={"knowledge_reindexrun_cancel": Extra(MANAGERS_ONLY)},
    ),
    # Agents read the examples made from their own replies; managers review them all.
    "training.trainingexample": AdminRules(
        view=AGENTS_THEIR_OWN,
        change=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        actions={
            name: Extra(MANAGERS_ONLY)
            for name in ("approve", "reject", "back_to_pending", "export_selected", "erase_tickets")
        },
        pages={"training_trainingexample_retrain": Extra(MANAGERS_ONLY)},
        owner="agent",
    ),
    # Job rows belong to their task: started (add) and cancelled, never edited.
    "training.dataexport": AdminRules(
        view=MANAGERS_ONLY,
        pages={"training_dataexport_cancel": Extra(MANAGERS_ONLY, needs="training.add_dataexport")},
    ),
    "training.erasure": AdminRules(view=MANAGERS_ONLY, add=MANAGERS_ONLY),
    "training.dataset": AdminRules(view=MANAGERS_ONLY),
    "training.trainingrun": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        pages={
            "training_evaluation_index": Extra(MANAGERS_ONLY),
            "training_evaluation_report": Extra(MANAGERS_ONLY),
            "training_evaluation_plot": Extra(MANAGERS_ONLY),
            "training_trainingrun_cancel": Extra(MANAGERS_ONLY),
        },
    ),
    "training.evaluationrun": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        pages={"training_evaluationrun_cancel": Extra(MANAGERS_ONLY)},
    ),
    "training.gatefit": AdminRules(
        view=MANAGERS_ONLY,
        add=MANAGERS_ONLY,
        delete=MANAGERS_ONLY,
        pages={"training_gatefit_cancel": Extra(MANAGERS_ONLY)},
    ),
    "training.shadowcomparison": AdminRules(
        view=MANAGERS_ONLY,
        actions={"promote_candidate": Extra(MANAGERS_ONLY, needs="training.add_promotion")},
        pages={
            "training_shadowcomparison_run": Extra(
                MANAGERS_ONLY, needs="training.add_shadowcomparison"
            ),
            "training_shadowcomparison_cancel": Extra(
                MANAGERS_ONLY, needs="training.add_shadowcomparison"
            ),
        },
    ),
    "training.promotion": AdminRules(
        view=MANAGERS_ONLY,
        pages={
            "training_promotion_promote": Extra(MANAGERS_ONLY, needs="training.add_promotion"),
            "training_promotion_rollback": Extra(MANAGERS_ONLY, needs="training.add_promotion"),
        },
    ),
}


def rules_for(model: type[Model] | Model) -> AdminRules | None:
    return ADMIN_MATRIX.get(model._meta.label_lower)


def group_permissions(role: Role) -> set[str]:
    """The "app_label.codename" permissions the role's group holds: exactly what its grants
    need, so Django's own checks (and third-party admins) answer as the table does."""
    found = set()
    for label, rules in ADMIN_MATRIX.items():
        app_label, model_name = label.split(".")
        for operation in OPERATIONS:
            if role in rules.grant(operation):
                found.add(f"{app_label}.{operation}_{model_name}")
        for extra in (*rules.actions.values(), *rules.pages.values()):
            if role in extra.grant and extra.needs:
                found.add(extra.needs)
    return found


def role_of(user: User | AnonymousUser) -> Role:
    if not user.is_authenticated:
        return Role.ANONYMOUS
    if not (user.is_active and user.is_staff):
        return Role.END_USER  # the admin lets no one else in
    names = set(user.groups.values_list("name", flat=True))
    if MANAGERS in names:
        return Role.MANAGER
    if AGENTS in names:
        return Role.AGENT
    return Role.END_USER


def request_role(request: HttpRequest) -> Role:
    # An admin page asks several times per request; the groups are read once.
    # The role is kept on the request itself, an attribute HttpRequest does not declare.
    if not hasattr(request, "_access_role"):
        request._access_role = role_of(request.user)  # type: ignore[attr-defined]
    return request._access_role  # type: ignore[attr-defined]


def allows(request: HttpRequest, model: Any, operation: str, obj: Model | None = None) -> bool:
    """Whether the table lets the request's user do `operation` on the model (or on `obj`)."""
    if request.user.is_active and request.user.is_superuser:
        return True
    rules = rules_for(model)
    if rules is None:
        return False
    scope = rules.grant(operation).get(request_role(request))
    if scope is None:
        return False
    return scope is Scope.ALL or obj is None or _owns(request.user, rules, obj)


def allows_action(request: HttpRequest, model: Any, name: str) -> bool:
    if name == "delete_selected":  # Django's own bulk delete
        return allows(request, model, "delete")
    if request.user.is_active and request.user.is_superuser:
        return True
    rules = rules_for(model)
    extra = rules.actions.get(name) if rules else None
    return extra is not None and request_role(request) in extra.grant


def limit_to_own(request: HttpRequest, rows: QuerySet[M]) -> QuerySet[M]:
    """The rows the user may see: their own where the view grant is OWN."""
    rules = rules_for(rows.model)
    if request.user.is_superuser or rules is None:
        return rows
    if rules.view.get(request_role(request)) is Scope.OWN:
        return rows.filter(**{rules.owner: request.user})
    return rows


def _owns(user: User | AnonymousUser, rules: AdminRules, obj: Model) -> bool:
    return getattr(obj, f"{rules.owner}_id") == user.pk


class MatrixPermissions(Generic[M]):
    """Mixin for a ModelAdmin: a permission holds when both the table and Django (the
    groups, and the admin's own rules) allow it; OWN grants limit the rows; actions without
    a grant are dropped. Put it first among the bases (MatrixPermissions[Ticket] beside
    admin.ModelAdmin[Ticket], where the admin's model is spelled out)."""

    model: type[M]

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        return limit_to_own(request, super().get_queryset(request))  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return allows(request, self.model, "view", obj) and super().has_view_permission(  # type: ignore[misc]
            request, obj
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return allows(request, self.model, "add") and super().has_add_permission(  # type: ignore[misc]
            request, *args
        )

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return allows(request, self.model, "change", obj) and super().has_change_permission(  # type: ignore[misc]
            request, obj
        )

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return allows(request, self.model, "delete", obj) and super().has_delete_permission(  # type: ignore[misc]
            request, obj
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        return {
            name: action
            for name, action in actions.items()
            if allows_action(request, self.model, name)
        }
