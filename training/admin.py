"""The training side of the admin: each part of training/ registers its own models."""

from .feedback import admin as feedback_admin  # noqa: F401
from .pipeline import admin as pipeline_admin  # noqa: F401
from .releases import admin as releases_admin  # noqa: F401
from .releases import version_admin  # noqa: F401
