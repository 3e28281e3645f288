"""The generation API the rest of the product sees: no Django in here.

`Engine.generate(spec, conversations)` answers a batch of conversations with one model and
returns, for each, the text and its confidence scores.
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


class TransformersEngine:
    """The real engine: HF causal LMs with LoRA adapters, loaded once per process.

    Loaded bases are shared by every instance in the process (see assistant.loading), so
    a worker that warmed up at start finds its model already there.
    """

    def generate(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> list[Generation]:
        import time

        from .generation import generate_batch
        from .loading import load_spec

        if not conversations:
            return []
        started = time.perf_counter()
        loaded = load_spec(spec)
        load_s = time.perf_counter() - started
        generations = generate_batch(loaded, spec, conversations)
        for generation in generations:
            generation.timings["load_s"] = load_s
        return generations
