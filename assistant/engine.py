"""The contract between the product and an engine: what to load, what comes back.

`Engine.generate(spec, conversations)` answers a batch of conversations with one model and
returns, for each, the text and its confidence scores. Only data and the protocol live here
(no Django, no torch), so everyone can import it; the real engine is
`assistant.transformers_engine.TransformersEngine`.
"""

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to load and prompt one model version (hashable: a cache key)."""

    key: str  # changes whenever the version's weights or settings change
    base_model_path: str
    adapter_path: str = ""
    adapter_name: str = ""
    quantization: str = "none"  # "none", "8bit" or "4bit"
    prompt_format: str = "auto"  # "auto", "chat_template" or "plain"
    system_prompt: str = ""
    max_new_tokens: int = 96
    repetition_penalty: float = 1.0


@dataclass
class Generation:
    text: str
    token_probs: list[float]  # probability of each chosen token, from the raw logits
    scores: dict[str, float]  # every confidence score, by assistant.confidence.ScoreName
    token_count: int
    prompt_tokens: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    def generate(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> list[Generation]:
        """Answer each conversation ([{"role": "user"|"assistant", "content": ...}, ...])."""
        ...

    def answer_loss(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> float | None:
        """Teacher-forced loss per answer token of each conversation's last turn (the
        reference answer) under the spec's model; None when the engine has no weights to
        score with, or no answer token fits."""
        ...
