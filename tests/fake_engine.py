"""A deterministic engine for tests of ticket logic: instant, and steerable by the question.

Tests (and bench/load.py) select it with ASSISTANT_ENGINE=tests.fake_engine.DeterministicEngine.

The same code paths also run against the real model in the slow tests. Markers in the last
user message steer it: "[low]" gives low confidence, "[fail]" raises, "[slow]" sleeps
FAKE_ENGINE_SLOW_S seconds (default 5) before answering.
"""

import os
import time

from assistant.confidence import GATE_SCORES
from assistant.engine import Generation, ModelSpec

HIGH = 0.95
LOW = 0.20


class DeterministicEngine:
    def __init__(self) -> None:
        self.calls: list[int] = []  # batch sizes, so tests can see batching happen

    def generate(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> list[Generation]:
        self.calls.append(len(conversations))
        return [self._answer(spec, conversation) for conversation in conversations]

    def _answer(self, spec: ModelSpec, conversation: list[dict[str, str]]) -> Generation:
        question = next(
            (turn["content"] for turn in reversed(conversation) if turn["role"] == "user"), ""
        )
        if "[fail]" in question:
            raise RuntimeError("deterministic engine asked to fail")
        if "[slow]" in question:
            time.sleep(float(os.environ.get("FAKE_ENGINE_SLOW_S", "5")))
        probability = LOW if "[low]" in question else HIGH
        source = spec.adapter_name or "base"
        text = f"Answer from {source} to: {question[:80]} (turns seen: {len(conversation)})"
        tokens = max(1, len(text.split()))
        return Generation(
            text=text,
            token_probs=[probability] * tokens,
            scores={name: probability for name in GATE_SCORES},
            token_count=tokens,
            prompt_tokens=sum(len(turn["content"].split()) for turn in conversation),
            timings={"generate_s": 0.0},
        )

    def answer_loss(
        self, spec: ModelSpec, conversations: list[list[dict[str, str]]]
    ) -> float | None:
        return None  # no weights behind it to score answers with
