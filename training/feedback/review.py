"""Managers' review of training examples: approve, edit or reject, and the draft/fix diff."""

import difflib
import re
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .cases import sync_cases
from .models import ReviewState, TrainingExample

# Words and the whitespace after them: a diff by words reads like an editor's marks.
_WORDS = re.compile(r"\S+\s*|\s+")


def set_state(
    examples: QuerySet[TrainingExample] | Iterable[TrainingExample],
    state: str,
    reviewer: User,
) -> int:
    """Approve, reject or send back to pending; records who reviewed and when."""
    if state not in ReviewState.values:
        raise ValueError(f"unknown review state {state!r}")
    # By id: a queryset filtered on the state would select other rows once updated.
    ids = (
        [e.pk for e in examples]
        if not isinstance(examples, QuerySet)
        else list(examples.values_list("pk", flat=True))
    )
    examples = TrainingExample.objects.filter(pk__in=ids)
    reviewed_by = None if state == ReviewState.PENDING else reviewer
    reviewed_at = None if state == ReviewState.PENDING else timezone.now()
    with transaction.atomic():
        count = examples.update(review_state=state, reviewer=reviewed_by, reviewed_at=reviewed_at)
        # An approval teaches the assistant at once: the next user asking the same is
        # answered from it, before any retraining.
        sync_cases(examples.select_related("ticket"))
    return count


def approve(examples: QuerySet[TrainingExample], reviewer: User) -> int:
    return set_state(examples, ReviewState.APPROVED, reviewer)


def reject(examples: QuerySet[TrainingExample], reviewer: User) -> int:
    return set_state(examples, ReviewState.REJECTED, reviewer)


def edit_correction(
    example: TrainingExample,
    correction: str,
    reviewer: User,
    state: str = ReviewState.APPROVED,
) -> TrainingExample:
    """A manager rewrites the agent's answer; an edited example is approved unless told."""
    example.correction = correction
    example.review_state = state
    example.reviewer = reviewer
    example.reviewed_at = timezone.now()
    with transaction.atomic():
        example.save(update_fields=["correction", "review_state", "reviewer", "reviewed_at"])
        sync_cases([example])
    return example


def correction_diff_html(draft: str, correction: str) -> SafeString:
    """The draft turned into the correction, word by word: <del> removed, <ins> added.

    Every piece of text is escaped before the marks go round it, so a draft or answer
    holding HTML shows as text.
    """
    if not draft:
        return mark_safe(f'<ins class="diff-ins">{escape(correction)}</ins>')
    old, new = _WORDS.findall(draft), _WORDS.findall(correction)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(old[a1:a2])))
            continue
        if op in ("delete", "replace"):
            parts.append(f'<del class="diff-del">{escape("".join(old[a1:a2]))}</del>')
        if op in ("insert", "replace"):
            parts.append(f'<ins class="diff-ins">{escape("".join(new[b1:b2]))}</ins>')
    return mark_safe("".join(parts))  # noqa: S308  every piece above is escaped
