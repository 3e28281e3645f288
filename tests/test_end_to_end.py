"""The whole answer path with the real SmolLM2 on a real Celery worker and real Redis."""

import pytest
from django.urls import reverse

from assistant.models import ModelVersion
from tests.live import wait_until
from tickets.models import EscalationReason, Message, Role, Status, Ticket

pytestmark = [pytest.mark.slow]

# Generous: two shared cores may be busy with other work; a broken path still fails, later.
MODEL_WAIT_S = 420


def _settled(ticket_id: int) -> Ticket | None:
    ticket = Ticket.objects.get(pk=ticket_id)
    return ticket if ticket.status not in (Status.OPEN, Status.AWAITING_ASSISTANT) else None


def _post_question(client, user, text: str) -> int:
    client.force_login(user)
    response = client.post(reverse("tickets:new"), {"body": text, "category": "general"})
    assert response.status_code == 302
    return Ticket.objects.filter(requester=user).latest("pk").pk


def test_a_portal_question_is_answered_by_the_real_model_with_its_scores(
    start_worker, smollm2, client, user, agent
):
    start_worker()

    ticket_id = _post_question(client, user, "How do I check free disk space on Ubuntu?")

    ticket = wait_until(lambda: _settled(ticket_id), MODEL_WAIT_S, "the model's answer")
    answer = Message.objects.get(ticket=ticket, role=Role.ASSISTANT)
    assert answer.body.strip()
    assert answer.model_version == smollm2
    assert 0 < answer.token_count <= 24
    scores = answer.confidence_scores
    assert {"mean_top_prob", "mean_chosen_prob", "min_chosen_prob", "geomean_chosen_prob"} <= set(
        scores
    )
    assert (
        0.0
        < scores["min_chosen_prob"]
        <= scores["geomean_chosen_prob"]
        <= scores["mean_chosen_prob"]
        <= 1.0
    )
    # The gate decided by the version's own score and threshold, and the ticket followed it.
    assert answer.confidence == pytest.approx(scores[smollm2.gate_score])
    assert answer.passed_gate == (answer.confidence >= smollm2.gate_threshold)
    expected = Status.ANSWERED if answer.passed_gate else Status.ASSIGNED
    assert ticket.status == expected
    assert answer.visible_to_user == answer.passed_gate


def test_an_unsure_real_answer_goes_to_an_agent_with_the_draft(
    start_worker, smollm2, client, user, agent
):
    smollm2.gate_threshold = 1.01  # no answer can reach it: the gate must escalate
    smollm2.save()
    start_worker()

    ticket_id = _post_question(client, user, "My screen flickers after suspend")

    ticket = wait_until(lambda: _settled(ticket_id), MODEL_WAIT_S, "the escalation")
    assert ticket.status == Status.ASSIGNED and ticket.assigned_to == agent
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE
    draft = Message.objects.get(ticket=ticket, role=Role.ASSISTANT)
    assert not draft.visible_to_user and draft.body.strip()
    client.force_login(user)
    page = client.get(ticket.get_absolute_url()).content.decode()
    assert draft.body[:30] not in page
    assert "passed your ticket to a person" in page


def test_promoting_a_version_while_the_worker_runs_switches_the_next_answer(
    start_worker, smollm2, client, user, agent, tmp_path
):
    smollm2.gate_threshold = 0.0  # show every answer: this test is about who answers
    smollm2.save()
    adapted = ModelVersion.objects.create(
        name="smollm2-random-lora",
        base_model_path=smollm2.base_model_path,
        adapter_path=str(_random_lora(smollm2.base_model_path, tmp_path / "adapter")),
        generation=smollm2.generation,
        gate_threshold=0.0,
    )
    start_worker()
    question = "How do I restart the network service?"

    first_id = _post_question(client, user, question)
    first = wait_until(lambda: _settled(first_id), MODEL_WAIT_S, "the answer before the promotion")
    _promote(adapted)
    second_id = _post_question(client, user, question)
    second = wait_until(lambda: _settled(second_id), MODEL_WAIT_S, "the answer after the promotion")

    before = Message.objects.get(ticket=first, role=Role.ASSISTANT)
    after = Message.objects.get(ticket=second, role=Role.ASSISTANT)
    assert before.model_version == smollm2
    assert after.model_version == adapted
    assert after.confidence_scores != before.confidence_scores  # other weights, other numbers


def _promote(version: ModelVersion) -> None:
    from training.releases.promotion import promote

    promote(version, by=None, override_reason="end-to-end test of the hot reload")


def _random_lora(base_path: str, out: object) -> object:
    """A LoRA adapter with random (non-zero) weights: it surely changes the answers."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_path, local_files_only=True)
    config = LoraConfig(
        r=4, lora_alpha=64, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    get_peft_model(model, config).save_pretrained(out)
    return out
