"""Managers choose a version's gate kind in the admin; the trained gate's file and figures
are the fit's to write, shown but never edited."""

import pytest
from django.urls import reverse

from assistant.gate import GateKind
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def _page(client, version) -> str:
    return client.get(
        reverse("admin:assistant_modelversion_change", args=[version.pk])
    ).content.decode()


def test_the_gate_kind_is_chosen_beside_the_raw_score_and_the_fit_is_read_only(signed_in):
    version = ModelVersionFactory(
        gate_model_path="/models/gates/v/fit-1/gate.json",
        gate_metrics={"auroc": 0.83, "threshold": 0.71, "examples": 412},
    )

    page = _page(signed_in, version)

    assert 'name="gate_kind"' in page and 'name="gate_score"' in page
    assert 'value="trained"' in page and 'value="score"' in page
    assert 'name="gate_model_path"' not in page and "/models/gates/v/fit-1/gate.json" in page
    assert 'name="gate_metrics"' not in page and "0.83" in page and "412" in page


def test_a_version_without_a_fitted_gate_cannot_be_switched_to_one(signed_in):
    version = ModelVersionFactory()
    url = reverse("admin:assistant_modelversion_change", args=[version.pk])
    form = {
        "name": version.name,
        "base_model_path": version.base_model_path,
        "quantization": version.quantization,
        "prompt_format": version.prompt_format,
        "system_prompt": version.system_prompt,
        "generation": '{"max_new_tokens": 96}',
        "gate_score": version.gate_score,
        "gate_threshold": "0.75",
        "gate_kind": GateKind.TRAINED,
        "stage": version.stage,
        "enabled": "on",
    }

    response = signed_in.post(url, form)

    assert response.status_code == 200 and "no trained gate yet" in response.content.decode()
    version.refresh_from_db()
    assert version.gate_kind == GateKind.SCORE
    form["gate_kind"] = GateKind.SCORE
    assert signed_in.post(url, form).status_code == 302
