"""The whole admin, walked as anonymous, end user, agent and manager: every registered model
(list, add, change, delete, each action) and every custom admin view answers as the matrix
(access/matrix.py) says. A model, inline, action or view the matrix does not name fails here,
and so does a sample missing below for a new model."""

from collections.abc import Callable
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db.models import Model
from django.test import RequestFactory
from django.urls import URLPattern, reverse

from access.matrix import (
    ADMIN_MATRIX,
    AGENTS,
    MANAGERS,
    OPERATIONS,
    AdminRules,
    Role,
    Scope,
    group_permissions,
)
from access.models import SecurityEvent, SecurityEventKind
from knowledge.models import Article, ReindexRun, SolvedCase
from macros.models import Macro
from sla.models import BusinessCalendar, SlaPolicy
from tests.factories import (
    AgentFactory,
    MessageFactory,
    ModelVersionFactory,
    TicketFactory,
    UserFactory,
)
from tests.feedback.helpers import make_example
from tests.satisfaction.helpers import rating_of_a_resolved_ticket
from tickets.models import Role as MessageRole
from training.models import (
    DataExport,
    Dataset,
    Erasure,
    EvaluationRun,
    Promotion,
    ShadowComparison,
    TrainingRun,
)
from training.pipeline.models import GateFit

STANDARD_VIEWS = ("changelist", "add", "history", "delete", "change")
LOGIN = "/admin/login/"

REGISTERED: dict[str, admin.ModelAdmin] = {
    model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()
}


def _custom_pages() -> list[tuple[str, URLPattern]]:
    """(model label, URL pattern) of every admin view beyond Django's five per model."""
    pages = []
    for label, model_admin in sorted(REGISTERED.items()):
        opts = model_admin.model._meta
        standard = {f"{opts.app_label}_{opts.model_name}_{view}" for view in STANDARD_VIEWS}
        pages += [(label, p) for p in model_admin.get_urls() if p.name and p.name not in standard]
    return pages


PAGES = _custom_pages()


def _rules(label: str) -> AdminRules:
    assert label in ADMIN_MATRIX, f"{label} is in the admin but not in access/matrix.py"
    return ADMIN_MATRIX[label]


# --- the matrix names everything the admin has ---------------------------------------


def test_every_admin_model_has_an_entry_and_every_entry_a_model():
    shown = {label for label, rules in ADMIN_MATRIX.items() if not rules.inline_in}

    assert set(REGISTERED) - set(ADMIN_MATRIX) == set(), "admin models missing from the matrix"
    assert shown - set(REGISTERED) == set(), "matrix entries for models not in the admin"


def test_every_inline_has_an_entry_on_its_parent():
    inlines = {
        inline.model._meta.label_lower: label
        for label, model_admin in REGISTERED.items()
        for inline in model_admin.inlines
    }
    named = {label: rules.inline_in for label, rules in ADMIN_MATRIX.items() if rules.inline_in}

    assert inlines == named


@pytest.mark.parametrize("label", sorted(REGISTERED))
def test_every_action_is_in_the_matrix(label):
    actions = {name for _, name, _ in REGISTERED[label]._get_base_actions()}

    assert actions - {"delete_selected"} == set(_rules(label).actions)


def test_every_custom_admin_view_is_in_the_matrix():
    routed = {(label, pattern.name) for label, pattern in PAGES}
    named = {(label, name) for label, rules in ADMIN_MATRIX.items() for name in rules.pages}

    assert routed == named


def test_the_matrix_grants_nothing_outside_the_admin_and_nothing_unviewable():
    for label, rules in ADMIN_MATRIX.items():
        grants = [rules.grant(op) for op in OPERATIONS]
        grants += [extra.grant for extra in (*rules.actions.values(), *rules.pages.values())]
        for grant in grants:
            assert set(grant) <= {Role.AGENT, Role.MANAGER}, label
            assert set(grant) <= set(rules.view), f"{label}: granted without view"
            assert Scope.OWN not in grant.values() or rules.owner, f"{label}: OWN needs owner"


@pytest.mark.django_db
def test_the_groups_hold_exactly_what_the_matrix_derives():
    for name, role in ((AGENTS, Role.AGENT), (MANAGERS, Role.MANAGER)):
        held = Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
        derived = group_permissions(role)

        assert {f"{app}.{codename}" for app, codename in held} == derived, name


@pytest.mark.django_db
def test_every_permission_the_matrix_derives_exists():
    exists = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }

    assert group_permissions(Role.AGENT) | group_permissions(Role.MANAGER) <= exists


# --- the walk ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture
def people(db) -> dict[Role, object]:
    """One user in each role (None for anonymous)."""
    from tests.factories import ManagerFactory

    return {
        Role.ANONYMOUS: None,
        Role.END_USER: UserFactory(username="walker-user"),
        Role.AGENT: AgentFactory(username="walker-agent"),
        Role.MANAGER: ManagerFactory(username="walker-manager"),
    }


def _evaluated_version(tmp_path: Path) -> Model:
    report, plot = tmp_path / "report.json", tmp_path / "reliability.png"
    report.write_text("{}")
    plot.write_bytes(b"\x89PNG")
    return ModelVersionFactory(
        name="evaluated", evaluation={"report": str(report), "plots": [str(plot)]}
    )


def _dataset(name: str = "walk-set") -> Dataset:
    return Dataset.objects.create(
        name=name, path=f"/data/{name}.jsonl", split="train", source="import", rows=1, sha256="0"
    )


# One object of each admin model; `owner` is the user an OWN grant is about.
SAMPLES: dict[str, Callable[..., Model]] = {
    "auth.user": lambda owner, tmp: UserFactory(username="sample-account"),
    "auth.group": lambda owner, tmp: Group.objects.get(name=AGENTS),
    "access.securityevent": lambda owner, tmp: SecurityEvent.objects.create(
        kind=SecurityEventKind.EXPORT, target="sample"
    ),
    "axes.accessattempt": lambda owner, tmp: AccessAttempt.objects.create(
        username="x",
        ip_address="127.0.0.1",
        user_agent="t",
        http_accept="*/*",
        path_info="/",
        get_data="",
        post_data="",
        failures_since_start=1,
    ),
    "axes.accesslog": lambda owner, tmp: AccessLog.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", http_accept="*/*", path_info="/"
    ),
    "axes.accessfailurelog": lambda owner, tmp: AccessFailureLog.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", http_accept="*/*", path_info="/"
    ),
    "assistant.modelversion": lambda owner, tmp: _evaluated_version(tmp),
    "knowledge.article": lambda owner, tmp: Article.objects.create(
        title="Sample", slug="sample", body="Body."
    ),
    "knowledge.solvedcase": lambda owner, tmp: SolvedCase.objects.create(
        source="import", source_key="k", question="q", answer="a"
    ),
    "knowledge.reindexrun": lambda owner, tmp: ReindexRun.objects.create(),
    "sla.businesscalendar": lambda owner, tmp: BusinessCalendar.objects.create(
        name=f"Sample {BusinessCalendar.objects.count()}", timezone="UTC"
    ),
    "sla.slapolicy": lambda owner, tmp: SlaPolicy.objects.first(),
    "tickets.ticket": lambda owner, tmp: TicketFactory(),
    # Without an owner: a shared macro, which agents see but may not change.
    "macros.macro": lambda owner, tmp: Macro.objects.create(
        title="Reset", body="Hi {{ user.first_name }}", owner=owner
    ),
    "tickets.agentprofile": lambda owner, tmp: (owner or AgentFactory()).agent_profile,
    "satisfaction.rating": lambda owner, tmp: rating_of_a_resolved_ticket(),
    "training.trainingexample": lambda owner, tmp: make_example(agent=owner or AgentFactory()),
    "training.dataexport": lambda owner, tmp: DataExport.objects.create(path="/x.jsonl"),
    "training.erasure": lambda owner, tmp: Erasure.objects.create(ticket_id=987654),
    "training.dataset": lambda owner, tmp: _dataset(),
    "training.trainingrun": lambda owner, tmp: TrainingRun.objects.create(),
    "training.evaluationrun": lambda owner, tmp: EvaluationRun.objects.create(
        version=ModelVersionFactory(), dataset=_dataset("eval-set")
    ),
    "training.gatefit": lambda owner, tmp: GateFit.objects.create(
        version=ModelVersionFactory(), dataset=_dataset("gate-set")
    ),
    "training.shadowcomparison": lambda owner, tmp: ShadowComparison.objects.create(
        candidate=ModelVersionFactory(), active=ModelVersionFactory()
    ),
    "training.promotion": lambda owner, tmp: Promotion.objects.create(
        version=ModelVersionFactory()
    ),
}


def _sample(label: str, owner: object, tmp_path: Path) -> Model:
    assert label in SAMPLES, f"add a sample of {label} to tests/access/test_matrix.py"
    return SAMPLES[label](owner, tmp_path)


def _client_as(client, person):
    client.logout()
    if person is not None:
        client.force_login(person)
    return client


def _admin_url(model: type[Model], view: str, *args: object) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _refused_as_outsider(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def _allowed(rules: AdminRules, operation: str, role: Role) -> bool:
    return role in rules.grant(operation)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("label", sorted(REGISTERED))
def test_each_admin_model_answers_each_role_as_the_matrix_says(
    client, people, tmp_path, label, role
):
    model_admin, rules, person = REGISTERED[label], _rules(label), people[role]
    model = model_admin.model
    others = _sample(label, None, tmp_path)
    own = _sample(label, person, tmp_path) if rules.owner and role is Role.AGENT else None
    web = _client_as(client, person)

    pages = {
        "view": web.get(_admin_url(model, "changelist")),
        "add": web.get(_admin_url(model, "add")),
        "change": web.get(_admin_url(model, "change", others.pk)),
        "delete": web.get(_admin_url(model, "delete", others.pk)),
    }

    if role in (Role.ANONYMOUS, Role.END_USER):
        assert all(_refused_as_outsider(r) for r in pages.values()), label
        return
    assert pages["view"].status_code == (200 if _allowed(rules, "view", role) else 403)
    assert pages["add"].status_code == (200 if _allowed(rules, "add", role) else 403)
    _check_object_pages(rules, role, pages["change"], pages["delete"], scope_of_others=True)
    if own is not None:
        _check_object_pages(
            rules,
            role,
            web.get(_admin_url(model, "change", own.pk)),
            web.get(_admin_url(model, "delete", own.pk)),
            scope_of_others=False,
        )
    if _allowed(rules, "view", role):  # else the refused list is the only way to an action
        assert set(model_admin.get_actions(_request(person))) == _expected_actions(rules, role)


def _check_object_pages(rules, role, change, delete, *, scope_of_others: bool) -> None:
    view_scope = rules.view.get(role)
    if view_scope is None:
        assert (change.status_code, delete.status_code) == (403, 403)
        return
    if view_scope is Scope.OWN and scope_of_others:
        # Someone else's row is not there for this user: Django answers as for a missing one.
        assert change.status_code == 302 and not change["Location"].startswith(LOGIN)
        assert delete.status_code in (302, 403)
        return
    assert change.status_code == 200
    assert change.context["has_change_permission"] is _may(rules, "change", role, scope_of_others)
    assert delete.status_code == (200 if _may(rules, "delete", role, scope_of_others) else 403)


def _may(rules: AdminRules, operation: str, role: Role, on_others: bool) -> bool:
    """Whether the role may do `operation` on a row: someone else's needs an ALL grant."""
    scope = rules.grant(operation).get(role)
    return scope is Scope.ALL or (scope is Scope.OWN and not on_others)


def _expected_actions(rules: AdminRules, role: Role) -> set[str]:
    names = {name for name, extra in rules.actions.items() if role in extra.grant}
    return names | ({"delete_selected"} if _allowed(rules, "delete", role) else set())


def _request(person):
    request = RequestFactory().get("/admin/")
    request.user = person
    return request


def _page_url(label: str, pattern: URLPattern, tmp_path: Path) -> str:
    values = {
        "object_id": lambda: _sample(label, None, tmp_path).pk,
        "id": lambda: _sample(label, None, tmp_path).pk,  # Django's password view
        "version_id": lambda: _evaluated_version(tmp_path).pk,
        "name": lambda: "take",
        "plot": lambda: "reliability.png",
        "message_id": lambda: MessageFactory(role=MessageRole.AGENT, body="Reboot.").pk,
    }
    kwargs = {name: values[name]() for name in pattern.pattern.converters}
    return reverse(f"admin:{pattern.name}", kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("label,pattern", PAGES, ids=[p.name for _, p in PAGES])
def test_each_custom_admin_view_answers_each_role_as_the_matrix_says(
    client, people, tmp_path, label, pattern, role
):
    extra = _rules(label).pages[pattern.name]
    url = _page_url(label, pattern, tmp_path)
    web = _client_as(client, people[role])

    response = web.get(url)
    if response.status_code == 405:
        response = web.post(url)

    if role in (Role.ANONYMOUS, Role.END_USER):
        assert _refused_as_outsider(response)
    elif role in extra.grant:
        assert response.status_code < 400 and not _refused_as_outsider(response)
    else:
        assert response.status_code == 403
