import pytest
from django.urls import reverse

from assistant.models import ModelVersion
from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from tickets.models import Ticket
from training.models import (
    DataExport,
    Erasure,
    Promotion,
    ReviewState,
    ShadowComparison,
    TrainingExample,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:training_trainingexample_changelist"


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def _action(client, name, examples):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, "_selected_action": [e.pk for e in examples]},
        follow=True,
    )


def test_the_queue_lists_pending_examples(signed_in):
    make_example(state=ReviewState.PENDING, question="Where is my VPN profile?")

    response = signed_in.get(reverse(CHANGELIST), {"review_state__exact": "pending"})

    assert response.status_code == 200
    assert "Retrain from corrections" in response.content.decode()


def test_the_change_page_shows_an_escaped_diff(signed_in):
    example = make_example(draft="Reboot <b>now</b>", correction="Reset the VPN")

    response = signed_in.get(reverse("admin:training_trainingexample_change", args=[example.pk]))

    html = response.content.decode()
    assert '<del class="diff-del">' in html
    assert "&lt;b&gt;now&lt;/b&gt;" in html


def test_bulk_approve_and_reject_record_the_reviewer(signed_in, manager):
    first, second = make_example(state="pending"), make_example(state="pending")

    _action(signed_in, "approve", [first])
    _action(signed_in, "reject", [second])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.review_state, first.reviewer) == (ReviewState.APPROVED, manager)
    assert (second.review_state, second.reviewer) == (ReviewState.REJECTED, manager)


def test_editing_the_correction_approves_it(signed_in, manager):
    example = make_example(state="pending", correction="old answer")

    signed_in.post(
        reverse("admin:training_trainingexample_change", args=[example.pk]),
        {"review_state": "pending", "correction": "a better answer"},
    )

    example.refresh_from_db()
    assert example.correction == "a better answer"
    assert example.review_state == ReviewState.APPROVED
    assert example.reviewer == manager


def test_the_export_action_writes_only_approved_rows(signed_in, settings, tmp_path, jobs_run_here):
    settings.VAR_DIR = tmp_path
    approved, pending = make_example(), make_example(state="pending")

    with jobs_run_here():
        _action(signed_in, "export_selected", [approved, pending])

    export = DataExport.objects.get()
    assert export.ticket_ids == [approved.ticket_id]
    assert export.path.startswith(str(tmp_path))


def test_erasure_from_the_admin_form(signed_in, manager):
    example = make_example()

    response = signed_in.post(
        reverse("admin:training_erasure_add"), {"ticket_id": example.ticket_id}, follow=True
    )

    assert response.status_code == 200
    assert not Ticket.objects.filter(pk=example.ticket_id).exists()
    assert Erasure.objects.get().requested_by == manager
    assert not TrainingExample.objects.exists()


def test_the_shadow_button_runs_a_comparison_shown_side_by_side(
    signed_in, settings, monkeypatch, jobs_run_here
):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    monkeypatch.setattr(
        "training.releases.shadow._minilm_similarity", lambda answers, refs: [0.7 for _ in answers]
    )
    ModelVersionFactory(name="live").make_default()
    candidate = ModelVersionFactory(name="next", adapter_path="/nonexistent/a")
    make_example(question="printer offline")

    with jobs_run_here():
        started = signed_in.post(
            reverse("admin:training_shadowcomparison_run"), {"candidate": candidate.pk, "limit": 5}
        )

    comparison = ShadowComparison.objects.get()
    # The request only queued it and sent the manager to the job's row.
    assert started["Location"] == reverse(
        "admin:training_shadowcomparison_change", args=[comparison.pk]
    )
    assert comparison.status == "succeeded" and comparison.candidate_not_worse
    html = signed_in.get(started["Location"]).content.decode()
    assert "Answers side by side" in html
    assert f"Answer from v{candidate.pk} to: printer offline" in html


def test_promote_needs_a_reason_without_comparison_then_rolls_back(signed_in):
    live = ModelVersionFactory(name="live")
    live.make_default()
    candidate = ModelVersionFactory(name="next")
    url = reverse("admin:training_promotion_promote")

    refused = signed_in.post(url, {"candidate": candidate.pk})
    assert "no comparison" in refused.content.decode()
    assert ModelVersion.default() == live

    signed_in.post(url, {"candidate": candidate.pk, "override_reason": "urgent fix"})
    assert ModelVersion.default() == candidate

    signed_in.post(reverse("admin:training_promotion_rollback"))
    assert ModelVersion.default() == live
    assert Promotion.objects.filter(is_rollback=True).count() == 1


def test_agents_cannot_promote(client, agent):
    client.force_login(agent)

    response = client.get(reverse("admin:training_promotion_promote"))

    assert response.status_code in (302, 403)


def test_the_example_page_shows_earlier_turns_escaped(signed_in):
    example = make_example(context=[{"role": "user", "content": "<b>printer</b> is offline"}])

    page = signed_in.get(reverse("admin:training_trainingexample_change", args=[example.pk]))

    html = page.content.decode()
    assert "<strong>user</strong>: &lt;b&gt;printer&lt;/b&gt; is offline" in html
