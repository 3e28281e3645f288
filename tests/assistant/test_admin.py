"""The model versions admin: managers see the registry, switch the default, read evaluations."""

import pytest
from django.urls import reverse

from assistant.models import ModelVersion
from tests.factories import ModelVersionFactory

CHANGELIST = "admin:assistant_modelversion_changelist"


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_it_lists_versions_with_their_gate_and_adapter(manager_client) -> None:
    ModelVersionFactory(name="smollm2-lora-v3", adapter_path="/adapters/v3", gate_threshold=0.62)

    page = manager_client.get(reverse(CHANGELIST)).content.decode()

    assert "smollm2-lora-v3" in page and "/adapters/v3" in page and "0.62" in page


def test_it_makes_one_selected_version_the_default(manager_client) -> None:
    old, new = ModelVersionFactory(), ModelVersionFactory(enabled=False)
    old.make_default()

    manager_client.post(
        reverse(CHANGELIST), {"action": "make_default", "_selected_action": [new.pk]}
    )

    assert ModelVersion.default() == new
    assert ModelVersion.objects.filter(is_default=True).count() == 1


def test_it_refuses_to_make_two_versions_default(manager_client) -> None:
    first, second = ModelVersionFactory(), ModelVersionFactory()

    response = manager_client.post(
        reverse(CHANGELIST),
        {"action": "make_default", "_selected_action": [first.pk, second.pk]},
        follow=True,
    )

    assert "Choose exactly one version." in response.content.decode()
    assert ModelVersion.default() is None


def test_it_shows_the_evaluation_read_only_and_formatted(manager_client) -> None:
    version = ModelVersionFactory(evaluation={"test_loss": 1.21, "auroc": {"mean_top_prob": 0.7}})

    page = manager_client.get(
        reverse("admin:assistant_modelversion_change", args=[version.pk])
    ).content.decode()

    assert "<pre" in page and "&quot;test_loss&quot;: 1.21" in page
    assert 'name="evaluation"' not in page


def test_it_keeps_agents_out_of_the_registry(client, agent) -> None:
    client.force_login(agent)

    assert client.get(reverse(CHANGELIST)).status_code == 403
