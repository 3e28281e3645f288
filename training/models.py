"""The training app's models, each owned by the part of training/ it belongs to."""

from .feedback.models import DataExport, Erasure, ExampleSource, ReviewState, TrainingExample
from .pipeline.models import Dataset, DatasetSource, DatasetSplit, EvaluationRun, TrainingRun
from .releases.models import Promotion, ShadowComparison

__all__ = [
    "DataExport",
    "Dataset",
    "DatasetSource",
    "DatasetSplit",
    "Erasure",
    "EvaluationRun",
    "ExampleSource",
    "Promotion",
    "ReviewState",
    "ShadowComparison",
    "TrainingExample",
    "TrainingRun",
]
