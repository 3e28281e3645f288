""" "Make default" in the model registry is a promotion: the gate, a written reason when the
gate did not pass, and its Promotion row."""

import pytest
from django.urls import reverse

from assistant.models import ModelVersion, VersionStage
from tests.factories import ModelVersionFactory
from training.models import Promotion, ShadowComparison

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:assistant_modelversion_changelist")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def active():
    version = ModelVersionFactory(name="active", stage=VersionStage.ACTIVE)
    version.make_default()
    return version


@pytest.fixture
def candidate():
    return ModelVersionFactory(name="candidate", adapter_path="/nonexistent/adapter")


def _make_default(client, versions, reason=""):
    return client.post(
        CHANGELIST,
        {
            "action": "make_default",
            "_selected_action": [v.pk for v in versions],
            "override_reason": reason,
        },
        follow=True,
    )


def test_it_refuses_a_candidate_without_a_comparison_or_a_reason(manager_client, active, candidate):
    response = _make_default(manager_client, [candidate])

    assert "no comparison showing it is not worse" in response.content.decode()
    assert ModelVersion.default() == active
    assert not Promotion.objects.exists()


def test_it_promotes_after_a_passing_comparison_and_records_it(
    manager_client, manager, active, candidate
):
    comparison = ShadowComparison.objects.create(
        candidate=candidate, active=active, candidate_not_worse=True, status="succeeded"
    )

    _make_default(manager_client, [candidate])

    promotion = Promotion.objects.get()
    assert ModelVersion.default() == candidate
    assert (promotion.version, promotion.previous) == (candidate, active)
    assert (promotion.comparison, promotion.promoted_by) == (comparison, manager)


def test_it_promotes_with_a_written_reason_and_keeps_the_reason(manager_client, active, candidate):
    _make_default(manager_client, [candidate], reason="Hotfix: the active one leaks names")

    promotion = Promotion.objects.get()
    assert ModelVersion.default() == candidate
    assert promotion.override_reason == "Hotfix: the active one leaks names"
    assert promotion.comparison is None


def test_it_refuses_two_versions_at_once(manager_client, active, candidate):
    response = _make_default(manager_client, [candidate, ModelVersionFactory()])

    assert "Choose exactly one version." in response.content.decode()
    assert ModelVersion.default() == active


def test_agents_cannot_switch_the_default(client, agent, active, candidate):
    client.force_login(agent)

    _make_default(client, [candidate], reason="because")

    assert ModelVersion.default() == active
    assert not Promotion.objects.exists()
