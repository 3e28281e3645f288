import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assistant.models import ModelVersion, VersionStage
from assistant.registry import get_engine, spec_for
from tests.factories import ModelVersionFactory
from training.models import Promotion, ShadowComparison
from training.releases.promotion import PromotionRefused, promote, rollback

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _deterministic_engine(settings):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"


@pytest.fixture
def active():
    version = ModelVersionFactory(name="active", stage=VersionStage.ACTIVE)
    version.make_default()
    return version


@pytest.fixture
def candidate():
    return ModelVersionFactory(name="cand", adapter_path="/nonexistent/adapter", enabled=False)


def _compare(candidate, active, not_worse):
    return ShadowComparison.objects.create(
        candidate=candidate, active=active, candidate_not_worse=not_worse, status="succeeded"
    )


def _answer_with_default():
    version = ModelVersion.default()
    [generation] = get_engine().generate(spec_for(version), [[{"role": "user", "content": "hi"}]])
    return generation.text


def test_it_refuses_without_a_passing_comparison(active, candidate, manager):
    _compare(candidate, active, not_worse=False)

    with pytest.raises(PromotionRefused):
        promote(candidate, manager)

    assert ModelVersion.default() == active
    assert not Promotion.objects.exists()


def test_it_promotes_after_a_passing_comparison_and_new_answers_use_it(active, candidate, manager):
    assert _answer_with_default().startswith("Answer from base")
    comparison = _compare(candidate, active, not_worse=True)

    promotion = promote(candidate, manager)

    candidate.refresh_from_db()
    active.refresh_from_db()
    assert ModelVersion.objects.filter(is_default=True).get() == candidate
    assert candidate.stage == VersionStage.ACTIVE and candidate.enabled
    assert active.stage == VersionStage.RETIRED
    assert promotion.comparison == comparison
    assert promotion.previous == active
    assert promotion.promoted_by == manager
    assert _answer_with_default().startswith(f"Answer from v{candidate.pk}")


def test_a_comparison_against_an_older_active_version_does_not_count(active, candidate, manager):
    older = ModelVersionFactory(name="older")
    _compare(candidate, older, not_worse=True)

    with pytest.raises(PromotionRefused):
        promote(candidate, manager)


def test_a_manager_may_override_with_a_written_reason(active, candidate, manager):
    with pytest.raises(PromotionRefused):
        promote(candidate, manager, override_reason="   ")

    promotion = promote(candidate, manager, override_reason="Hotfix for the outage prompt")

    assert promotion.override_reason == "Hotfix for the outage prompt"
    assert ModelVersion.default() == candidate


def test_rollback_returns_to_the_previous_version(active, candidate, manager):
    _compare(candidate, active, not_worse=True)
    promote(candidate, manager)

    back = rollback(manager)

    assert back.is_rollback
    assert back.version == active
    assert back.previous == candidate
    assert ModelVersion.default() == active
    active.refresh_from_db()
    candidate.refresh_from_db()
    assert active.stage == VersionStage.ACTIVE
    assert candidate.stage == VersionStage.RETIRED


def test_rollback_without_history_is_refused(active, manager):
    with pytest.raises(PromotionRefused):
        rollback(manager)


def test_the_command_promotes_and_rolls_back(active, candidate):
    with pytest.raises(CommandError):
        call_command("promote_version", "cand")

    call_command("promote_version", "cand", "--override", "tested by hand")
    assert ModelVersion.default() == candidate

    call_command("promote_version", "--rollback")
    assert ModelVersion.default() == active


def _switcher_names() -> set[str]:
    return set(ModelVersion.objects.filter(enabled=True).values_list("name", flat=True))


def test_the_replaced_version_leaves_the_model_switcher(active, candidate, manager):
    _compare(candidate, active, not_worse=True)

    promote(candidate, manager)

    assert _switcher_names() == {candidate.name}


def test_the_rolled_back_version_leaves_the_model_switcher(active, candidate, manager):
    _compare(candidate, active, not_worse=True)
    promote(candidate, manager)

    rollback(manager)

    assert _switcher_names() == {active.name}
    candidate.refresh_from_db()
    assert candidate.stage == VersionStage.RETIRED


def test_a_comparison_that_has_not_finished_does_not_count(active, candidate, manager):
    ShadowComparison.objects.create(candidate=candidate, active=active, candidate_not_worse=True)

    with pytest.raises(PromotionRefused):
        promote(candidate, manager)
