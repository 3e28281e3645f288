"""The training side of the admin: runs and evaluations, corrections, review, exports."""

from . import admin_feedback, admin_runs  # noqa: F401  (each registers its own models)
