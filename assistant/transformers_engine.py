"""The real engine: HF causal LMs with LoRA adapters, loaded once per process.

Importing it loads no torch: the loader and generation import it when they first run.
"""

import time

from .engine import Generation, ModelSpec
from .generation import generate_batch
from .loading import load_spec
from .scoring import conversation_loss


class TransformersEngine:
    """Generates with the models of assistant.loading.

    Loaded bases are shared by every instance in the process (see assistant.loading), so
    a worker that warmed up at start finds its model already there.
    """

    def generate(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> list[Generation]:
        if not conversations:
            return []
        started = time.perf_counter()
        loaded = load_spec(spec)
        load_s = time.perf_counter() - started
        generations = generate_batch(loaded, spec, conversations)
        for generation in generations:
            generation.timings["load_s"] = load_s
        return generations

    def answer_loss(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> float | None:
        if not conversations:
            return None
        loss, tokens = conversation_loss(load_spec(spec), spec, conversations)
        return loss if tokens else None
