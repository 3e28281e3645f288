"""Promotion of a candidate version to active, and one-step rollback, both recorded.

Switching the default row is all it takes: workers resolve the version for every task, so
the next task after the commit is answered by the new version. The version switched away
from is retired and leaves the users' model switcher.
"""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant.models import ModelVersion, VersionStage
from jobs.models import JobStatus

from .models import Promotion, ShadowComparison


class PromotionRefused(Exception):
    """The candidate has no passing comparison and no written override."""


def latest_comparison(candidate: ModelVersion) -> ShadowComparison | None:
    """The newest comparison of `candidate` against the version that is active now."""
    active = ModelVersion.default()
    if active is None:
        return None
    return (
        ShadowComparison.objects.filter(
            candidate=candidate, active=active, status=JobStatus.SUCCEEDED
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def can_promote(candidate: ModelVersion) -> tuple[bool, ShadowComparison | None]:
    comparison = latest_comparison(candidate)
    return bool(comparison and comparison.candidate_not_worse), comparison


def promote(candidate: ModelVersion, by: User | None, override_reason: str = "") -> Promotion:
    """Make `candidate` the active default; needs a passing comparison or a written reason."""
    passed, comparison = can_promote(candidate)
    override_reason = override_reason.strip()
    if not passed and not override_reason:
        raise PromotionRefused(
            f"{candidate.name} has no comparison showing it is not worse than the active "
            "version; run a shadow comparison or give a reason to override."
        )
    return _switch(
        candidate,
        by,
        comparison=comparison,
        override_reason="" if passed else override_reason,
    )


def rollback(by: User | None) -> Promotion:
    """Back to the version the latest promotion replaced."""
    last = Promotion.objects.order_by("-created_at", "-pk").select_related("previous").first()
    if last is None or last.previous is None:
        raise PromotionRefused("There is no earlier version to roll back to.")
    return _switch(last.previous, by, is_rollback=True)


def _switch(
    version: ModelVersion,
    by: User | None,
    *,
    comparison: ShadowComparison | None = None,
    override_reason: str = "",
    is_rollback: bool = False,
) -> Promotion:
    with transaction.atomic():
        previous = ModelVersion.objects.select_for_update().filter(is_default=True).first()
        if previous is not None and previous.pk == version.pk:
            raise PromotionRefused(f"{version.name} is already the active version.")
        version.make_default()
        now = timezone.now()
        ModelVersion.objects.filter(pk=version.pk).update(
            stage=VersionStage.ACTIVE, enabled=True, updated_at=now
        )
        if previous is not None:
            # Replaced or rolled back: no user should still pick it in the switcher.
            ModelVersion.objects.filter(pk=previous.pk).update(
                stage=VersionStage.RETIRED, enabled=False, updated_at=now
            )
        return Promotion.objects.create(
            version=version,
            previous=previous,
            comparison=comparison,
            override_reason=override_reason,
            is_rollback=is_rollback,
            promoted_by=by,
        )
