import pytest

from tests.feedback.helpers import make_example
from training.feedback.review import (
    approve,
    correction_diff_html,
    edit_correction,
    reject,
    set_state,
)
from training.models import ReviewState, TrainingExample

pytestmark = pytest.mark.django_db


def test_it_approves_in_bulk_and_records_the_reviewer(manager):
    first = make_example(state=ReviewState.PENDING)
    second = make_example(state=ReviewState.PENDING)
    untouched = make_example(state=ReviewState.PENDING)

    count = approve(TrainingExample.objects.filter(pk__in=[first.pk, second.pk]), manager)

    assert count == 2
    first.refresh_from_db()
    assert first.review_state == ReviewState.APPROVED
    assert first.reviewer == manager
    assert first.reviewed_at is not None
    untouched.refresh_from_db()
    assert untouched.review_state == ReviewState.PENDING
    assert untouched.reviewer is None


def test_it_rejects_and_can_send_back_to_pending(manager):
    example = make_example(state=ReviewState.PENDING)

    reject(TrainingExample.objects.filter(pk=example.pk), manager)
    example.refresh_from_db()
    assert example.review_state == ReviewState.REJECTED

    set_state([example], ReviewState.PENDING, manager)
    example.refresh_from_db()
    assert example.review_state == ReviewState.PENDING
    assert example.reviewer is None


def test_an_edited_correction_is_approved_with_its_reviewer(manager):
    example = make_example(state=ReviewState.PENDING, correction="old")

    edit_correction(example, "new and better", manager)

    example.refresh_from_db()
    assert example.correction == "new and better"
    assert example.review_state == ReviewState.APPROVED
    assert example.reviewer == manager


def test_the_diff_marks_removed_and_added_words():
    html = correction_diff_html("Restart the router now", "Restart the VPN client now")

    assert '<del class="diff-del">router </del>' in html
    assert '<ins class="diff-ins">VPN client </ins>' in html
    assert html.startswith("Restart the ")


def test_the_diff_escapes_html_in_drafts_and_answers():
    html = correction_diff_html("<script>alert(1)</script> hi", "<b>bold</b> hi")

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
