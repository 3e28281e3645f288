"""The training app's models, each owned by the part of training/ it belongs to."""

from .feedback.models import DataExport, Erasure, ExampleSource, ReviewState, TrainingExample
from .pipeline.models import RunStatus, TrainingRun
from .releases.models import Promotion, ShadowComparison

__all__ = [
    "DataExport",
    "Erasure",
    "ExampleSource",
    "Promotion",
    "ReviewState",
    "RunStatus",
    "ShadowComparison",
    "TrainingExample",
    "TrainingRun",
]
