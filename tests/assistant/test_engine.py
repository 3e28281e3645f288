"""The real engine on the shipped SmolLM2: batching, raw-logit confidence, loading once."""

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.confidence import ScoreName
from assistant.engine import Generation, ModelSpec
from assistant.transformers_engine import TransformersEngine

QUESTIONS = [
    "How do I update Ubuntu?",
    "My wifi keeps dropping after suspend on a ThinkPad with Intel wireless. What should I check first?",
    "what is sudo",
]


def _spec(path: Path, **overrides: object) -> ModelSpec:
    options = {
        "key": "smollm2:1",
        "base_model_path": str(path),
        "system_prompt": "You are a helpful IT helpdesk assistant.",
        "max_new_tokens": 24,
        "repetition_penalty": 1.1,
    } | overrides
    return ModelSpec(**options)


def _conversation(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


def test_it_does_not_import_torch_when_the_engine_module_is_imported() -> None:
    code = (
        "import sys, assistant.engine, assistant.transformers_engine, assistant.loading, "
        "assistant.generation, assistant.prompting, assistant.confidence, assistant.worker; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# How far a batch row's token probabilities may be from the same answer's alone: float32
# rounds the same sums differently by ~1e-6; bfloat16 (7 mantissa bits) by ~1e-2.
BATCH_TOLERANCE = {"0": 1e-4, "1": 5e-2}


@pytest.mark.slow
@pytest.mark.parametrize("bf16", sorted(BATCH_TOLERANCE))
def test_it_answers_a_batch_exactly_as_one_at_a_time(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch, bf16: str
) -> None:
    monkeypatch.setenv("ASSISTANT_CPU_BF16", bf16)
    engine = TransformersEngine()
    spec = _spec(smollm2_path)
    conversations = [_conversation(q) for q in QUESTIONS]

    batched = engine.generate(spec, conversations)
    alone = [engine.generate(spec, [conversation])[0] for conversation in conversations]

    assert [g.text for g in batched] == [g.text for g in alone]
    assert [g.token_count for g in batched] == [g.token_count for g in alone]
    assert len({g.prompt_tokens for g in batched}) == 3  # really different lengths
    for together, single in zip(batched, alone, strict=True):
        assert together.token_probs == pytest.approx(single.token_probs, abs=BATCH_TOLERANCE[bf16])
        assert together.scores == pytest.approx(single.scores, abs=BATCH_TOLERANCE[bf16])


@pytest.mark.slow
def test_a_batch_is_prefilled_with_the_shared_system_turn_computed_once(smollm2_path) -> None:
    import torch

    from assistant.generation import batch_inputs, prompt_ids
    from assistant.loading import load_spec
    from assistant.prefill import shared_prefix_length

    spec = _spec(smollm2_path)
    loaded = load_spec(spec)
    prompts = prompt_ids(loaded, spec, [_conversation(q) for q in QUESTIONS])
    shared = shared_prefix_length(prompts)
    system_turn = loaded.tokenizer.decode(prompts[0][:shared])

    with torch.inference_mode():
        inputs = batch_inputs(loaded, prompts)

    assert "You are a helpful IT helpdesk assistant." in system_turn
    assert inputs["input_ids"].shape[0] == len(QUESTIONS)
    assert inputs["input_ids"][:, :shared].tolist() == [prompts[0][:shared]] * len(QUESTIONS)
    # Everything but the last column is prefilled: generate() feeds every row's last token.
    assert inputs["cache"].get_seq_length() == inputs["input_ids"].shape[1] - 1
    # The system turn's keys are one computation repeated, not one per row.
    keys = inputs["cache"].layers[-1].keys[:, :, :shared]
    assert all(torch.equal(keys[row], keys[0]) for row in range(len(QUESTIONS)))


@pytest.mark.slow
def test_it_returns_text_scores_and_timings(smollm2_path: Path) -> None:
    [generation] = TransformersEngine().generate(_spec(smollm2_path), [_conversation(QUESTIONS[0])])

    assert isinstance(generation, Generation)
    assert generation.text and generation.text == generation.text.strip()
    assert "<|im_end|>" not in generation.text
    assert 1 <= generation.token_count <= 24
    assert len(generation.token_probs) == generation.token_count
    assert all(0.0 < p <= 1.0 for p in generation.token_probs)
    assert set(generation.scores) == set(ScoreName)
    assert 0.0 < generation.scores[ScoreName.MEAN_TOP] <= 1.0
    assert generation.prompt_tokens > 10
    assert {"load_s", "generate_s"} <= set(generation.timings)


@pytest.mark.slow
def test_it_scores_chosen_tokens_from_raw_logits_not_penalised_ones(
    smollm2_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A strong repetition penalty changes the processed scores; the probabilities must be
    those of the model itself, as a plain forward pass over prompt + answer gives them
    (in float32: bfloat16's rounding differs between the two ways of computing them)."""
    import torch

    monkeypatch.setenv("ASSISTANT_CPU_BF16", "0")

    from assistant.generation import prompt_ids
    from assistant.loading import load_spec

    spec = _spec(smollm2_path, repetition_penalty=1.8, max_new_tokens=12)
    conversation = _conversation("Say yes yes yes yes yes yes.")
    [generation] = TransformersEngine().generate(spec, [conversation])

    loaded = load_spec(spec)
    [prompt] = prompt_ids(loaded, spec, [conversation])
    answer_ids = _greedy_answer_ids(loaded, spec, prompt)
    with torch.inference_mode():
        logits = loaded.model(torch.tensor([prompt + answer_ids])).logits[0]
    probabilities = torch.softmax(logits[len(prompt) - 1 : -1].double(), dim=-1)
    expected = probabilities[torch.arange(len(answer_ids)), torch.tensor(answer_ids)]

    assert generation.token_probs == pytest.approx(expected.tolist(), abs=1e-4)


def _greedy_answer_ids(loaded, spec: ModelSpec, prompt: list[int]) -> list[int]:
    import torch

    from assistant.confidence import answer_length
    from assistant.generation import generation_options

    with torch.inference_mode():
        output = loaded.model.generate(
            input_ids=torch.tensor([prompt]), **generation_options(loaded, spec)
        )
    ids = output.sequences[0, len(prompt) :].tolist()
    return ids[: answer_length(ids, loaded.eos_ids)]


@pytest.mark.slow
def test_it_loads_a_base_once_per_process(smollm2_path: Path) -> None:
    from assistant.loading import load_base

    spec = _spec(smollm2_path, max_new_tokens=2)
    engine = TransformersEngine()
    engine.generate(spec, [_conversation("hi")])

    [second] = TransformersEngine().generate(spec, [_conversation("hi")])

    assert second.timings["load_s"] < 0.5
    assert load_base(str(smollm2_path)) is load_base(str(smollm2_path))


def test_it_answers_nothing_for_no_conversations(tmp_path: Path) -> None:
    # No conversations: nothing to load, even for a folder that does not exist.
    assert TransformersEngine().generate(_spec(tmp_path / "missing"), []) == []
