"""The model versions admin: managers see the registry and read evaluations; the default
changes only through a promotion (tests/feedback/test_version_admin.py)."""

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


def test_it_keeps_the_default_versions_switcher_flag_from_managers(manager_client) -> None:
    version = ModelVersionFactory(name="live")
    version.make_default()
    url = reverse("admin:assistant_modelversion_change", args=[version.pk])

    page = manager_client.get(url).content.decode()

    assert 'name="enabled"' not in page
    assert 'name="gate_threshold"' in page


def test_it_leaves_deleting_versions_to_superusers(manager_client) -> None:
    version = ModelVersionFactory()

    response = manager_client.get(reverse("admin:assistant_modelversion_delete", args=[version.pk]))

    assert response.status_code == 403
    assert ModelVersion.objects.filter(pk=version.pk).exists()
