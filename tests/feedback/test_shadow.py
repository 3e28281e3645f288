import pytest
from django.core.management import call_command

from assistant.models import ModelVersion
from tests.factories import ModelVersionFactory
from tests.fake_engine import DeterministicEngine
from tests.feedback.helpers import make_example
from training.models import ReviewState, ShadowComparison
from training.releases.shadow import run_shadow_comparison

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _deterministic_engine(settings):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"


def _adapter_answers_win(answers, references):
    # The deterministic engine names the adapter it answered with; the agents "agree" with it.
    return [0.9 if "Answer from v" in a else 0.3 for a in answers]


@pytest.fixture
def versions():
    active = ModelVersionFactory(name="active")
    active.make_default()
    candidate = ModelVersionFactory(name="candidate", adapter_path="/nonexistent/adapter")
    return ModelVersion.objects.get(pk=active.pk), candidate


def test_it_compares_both_versions_on_recent_corrections(versions):
    active, candidate = versions
    for day in range(3):
        make_example(day=day, state=ReviewState.PENDING)
    make_example(day=4, state=ReviewState.REJECTED)

    comparison = run_shadow_comparison(candidate, limit=10, similarity=_adapter_answers_win)

    report = comparison.report
    assert comparison.active == active
    assert report["examples"] == 3
    assert report["candidate"]["similarity_mean"] == pytest.approx(0.9)
    assert report["active"]["similarity_mean"] == pytest.approx(0.3)
    assert report["candidate"]["loss"] is None  # no real weights behind the test versions
    assert report["candidate"]["escalation_share"] == 0.0
    assert comparison.candidate_not_worse is True
    sample = report["samples"][0]
    assert sample["candidate"]["text"].startswith(f"Answer from v{candidate.pk}")
    assert sample["active"]["text"].startswith("Answer from base")


def test_a_candidate_further_from_the_agents_is_worse(versions):
    active, candidate = versions
    make_example(day=0)

    comparison = run_shadow_comparison(
        active, active=candidate, limit=5, similarity=_adapter_answers_win
    )

    assert comparison.candidate_not_worse is False
    assert "answers further from the agents' answers" in comparison.report["verdict"]


def test_it_counts_the_share_each_would_escalate(versions):
    active, candidate = versions
    make_example(day=0, question="[low] printer jam")
    make_example(day=1, question="vpn down")

    comparison = run_shadow_comparison(candidate, limit=5, similarity=_adapter_answers_win)

    assert comparison.report["candidate"]["escalation_share"] == pytest.approx(0.5)
    assert comparison.report["candidate"]["gate_auroc"] is None  # every answer "good"


def test_the_command_runs_a_comparison(versions, monkeypatch):
    active, candidate = versions
    make_example(day=0)
    monkeypatch.setattr("training.releases.shadow._minilm_similarity", _adapter_answers_win)

    call_command("shadow_eval", "--candidate", "candidate", "--limit", "3")

    assert ShadowComparison.objects.get().candidate == candidate


@pytest.mark.slow
def test_it_measures_similarity_with_minilm(versions):
    active, candidate = versions
    make_example(day=0, question="vpn down", correction="Answer from base to: vpn down")

    comparison = run_shadow_comparison(candidate, limit=1)

    assert comparison.report["active"]["similarity_mean"] > 0.8


def test_a_candidate_whose_gate_separates_worse_is_worse():
    from training.releases.shadow import judge

    active = {
        "examples": 20,
        "similarity_mean": 0.7,
        "loss": None,
        "escalation_share": 0.2,
        "gate_auroc": 0.8,
    }
    candidate = {**active, "gate_auroc": 0.6}

    not_worse, reasons = judge(candidate, active)

    assert not not_worse
    assert reasons == ["its confidence tells good answers from bad less well"]
    assert judge({**active, "gate_auroc": 0.78}, active)[0]


def test_it_gates_each_answer_as_production_does():
    from assistant.engine import Generation
    from training.pipeline.evaluation import Answered
    from training.releases.shadow import _decision

    version = ModelVersion(gate_score="min_chosen_prob", gate_threshold=0.3)
    scored = Generation(text="a", token_probs=[0.9], scores={"min_chosen_prob": 0.4}, token_count=1)
    unscored = Generation(text="a", token_probs=[0.9, 0.9], scores={}, token_count=2)

    assert _decision(version, Answered(scored, {})).confidence == 0.4
    # Not the mean token probability (0.9): the answer would go to people in production.
    assert _decision(version, Answered(unscored, {})).passed is False


def test_both_versions_answer_grounded_on_the_knowledge(versions):
    from tests.knowledge.helpers import published

    active, candidate = versions
    published("Reset the VPN", "Open Settings > VPN and press Reset.", slug="vpn")
    make_example(day=0, question="how do I reset my vpn connection")

    comparison = run_shadow_comparison(candidate, limit=5, similarity=_adapter_answers_win)

    # The deterministic engine says how many turns it got: the article's exchange (a
    # question about it and the passage as the reply) went before the user's question.
    sample = comparison.report["samples"][0]
    for answer in (sample["candidate"]["text"], sample["active"]["text"]):
        assert answer.endswith("to: how do I reset my vpn connection (turns seen: 3)")


def test_it_scores_only_tickets_neither_version_trained_on(versions, tmp_path):
    from training.models import TrainingRun
    from training.pipeline.datasets import register_dataset

    active, candidate = versions
    trained_on = [make_example(day=day, question=f"seen {day}") for day in range(3)]
    unseen = make_example(day=5, question="never trained on")
    # The candidate was trained on a dataset holding the first three tickets.
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    dataset = register_dataset(path, split="train", ticket_ids=[e.ticket_id for e in trained_on])
    TrainingRun.objects.create(config={}, produced_version=candidate, train_dataset=dataset)

    comparison = run_shadow_comparison(candidate, limit=10, similarity=_adapter_answers_win)

    assert comparison.report["example_ids"] == [unseen.pk]


def test_it_skips_what_the_versions_ancestors_trained_on(versions, tmp_path):
    from training.models import TrainingRun
    from training.pipeline.datasets import register_dataset

    active, candidate = versions
    grandchild = ModelVersionFactory(name="grandchild", parent=candidate)
    seen = make_example(day=0, question="seen by the parent")
    unseen = make_example(day=1, question="never trained on")
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    dataset = register_dataset(path, split="train", ticket_ids=[seen.ticket_id])
    TrainingRun.objects.create(config={}, produced_version=candidate, train_dataset=dataset)

    comparison = run_shadow_comparison(grandchild, limit=10, similarity=_adapter_answers_win)

    assert comparison.report["example_ids"] == [unseen.pk]


class ScoringEngine(DeterministicEngine):
    """The deterministic engine, with a loss that says which version it scored."""

    def answer_loss(self, spec, conversations):
        return 1.5 if spec.adapter_path else 2.0


def test_it_takes_each_version_s_loss_from_the_engine(versions, settings):
    active, candidate = versions
    settings.ASSISTANT_ENGINE = "tests.feedback.test_shadow.ScoringEngine"
    make_example(day=0)

    comparison = run_shadow_comparison(candidate, limit=5, similarity=_adapter_answers_win)

    assert comparison.report["candidate"]["loss"] == 1.5
    assert comparison.report["active"]["loss"] == 2.0
