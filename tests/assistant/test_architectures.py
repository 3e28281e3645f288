"""One engine for every base: tiny random Qwen2 (chat template) and GPT-Neo (plain format)
folders built here, with LoRA adapters loaded, switched and reloaded by version key."""

import shutil
from pathlib import Path

import pytest

from assistant.engine import Generation, ModelSpec
from assistant.transformers_engine import TransformersEngine

from .tiny_models import tiny_qwen2

NEW_TOKENS = 6
QUESTION = [{"role": "user", "content": "How do I mount a USB disk?"}]


def _tiny_gpt_neo(vocab_size: int):
    # Width 64, like tiny_qwen2: bitsandbytes quantises 4-bit weights in blocks of 64.
    from transformers import GPTNeoConfig, GPTNeoForCausalLM

    config = GPTNeoConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        num_layers=2,
        num_heads=4,
        attention_types=[[["global", "local"], 1]],
        window_size=64,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
    )
    return GPTNeoForCausalLM(config)


ARCHITECTURES = {"qwen2": tiny_qwen2, "gpt_neo": _tiny_gpt_neo}


def _build(root: Path, name: str, smollm2_path: Path) -> Path:
    """A base folder with the SmolLM2 tokenizer (no chat template for GPT-Neo, like the
    original) and two LoRA adapters with different, non-zero weights."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)
    if name == "gpt_neo":
        tokenizer.chat_template = None
    torch.manual_seed(0)
    base = root / name
    ARCHITECTURES[name](len(tokenizer)).save_pretrained(base)
    tokenizer.save_pretrained(base)
    for seed, adapter in ((1, "adapter-a"), (2, "adapter-b")):
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_pretrained(base, local_files_only=True)
        lora = LoraConfig(
            r=4,
            lora_alpha=8,
            target_modules=["q_proj", "v_proj"],
            init_lora_weights=False,  # random B too, so the adapter changes the output
            task_type="CAUSAL_LM",
        )
        get_peft_model(model, lora).save_pretrained(root / f"{name}-{adapter}")
    return base


@pytest.fixture(scope="module", params=list(ARCHITECTURES))
def base(request, tmp_path_factory, smollm2_path: Path) -> Path:
    return _build(tmp_path_factory.mktemp("models"), request.param, smollm2_path)


def _spec(base: Path, adapter: str = "", key: str = "1") -> ModelSpec:
    return ModelSpec(
        key=f"{adapter}:{key}",
        base_model_path=str(base),
        adapter_path=str(base.with_name(f"{base.name}-{adapter}")) if adapter else "",
        adapter_name=adapter,
        max_new_tokens=NEW_TOKENS,
        repetition_penalty=1.0,
    )


def _answer(spec: ModelSpec) -> Generation:
    [generation] = TransformersEngine().generate(spec, [QUESTION])
    return generation


def test_it_generates_with_the_prompt_format_of_each_architecture(base: Path) -> None:
    from assistant.generation import prompt_ids
    from assistant.loading import load_spec

    spec = _spec(base)
    generation = _answer(spec)

    loaded = load_spec(spec)
    prompt = loaded.tokenizer.decode(prompt_ids(loaded, spec, [QUESTION])[0])
    if base.name == "qwen2":
        assert prompt.startswith("<|im_start|>") and prompt.endswith("<|im_start|>assistant\n")
    else:
        assert prompt == "User: How do I mount a USB disk?\nAssistant:"
    assert 1 <= generation.token_count <= NEW_TOKENS
    assert len(generation.token_probs) == generation.token_count


def test_it_answers_a_batch_exactly_as_one_at_a_time(base: Path) -> None:
    spec = _spec(base, "adapter-a")
    conversations = [
        QUESTION,
        [{"role": "user", "content": "hi"}],
        [{"role": "user", "content": "Why is apt so slow on my old laptop with a spinning disk?"}],
    ]
    engine = TransformersEngine()

    batched = engine.generate(spec, conversations)
    alone = [engine.generate(spec, [conversation])[0] for conversation in conversations]

    assert [g.token_count for g in batched] == [g.token_count for g in alone]
    assert [g.text for g in batched] == [g.text for g in alone]
    for together, single in zip(batched, alone, strict=True):
        assert together.token_probs == pytest.approx(single.token_probs, abs=1e-5)


def test_it_changes_the_output_logits_when_an_adapter_is_loaded(base: Path) -> None:
    import torch

    from assistant.generation import prompt_ids
    from assistant.loading import adapter_in_use, load_spec

    bare, adapted = _spec(base), _spec(base, "adapter-a")
    load_spec(adapted)
    loaded = load_spec(bare)
    input_ids = torch.tensor(prompt_ids(loaded, bare, [QUESTION]))

    with torch.inference_mode():
        with adapter_in_use(loaded, bare):
            bare_logits = loaded.model(input_ids).logits
        with adapter_in_use(loaded, adapted):
            adapted_logits = loaded.model(input_ids).logits

    assert not torch.allclose(bare_logits, adapted_logits, atol=1e-4)
    assert _answer(bare).token_probs != pytest.approx(_answer(adapted).token_probs, abs=1e-6)


def test_it_scores_a_reference_answer_with_the_adapter_of_the_spec(base: Path) -> None:
    from peft import PeftModel

    from assistant.loading import load_causal_lm
    from assistant.scoring import answer_loss, encode_example
    from training.pipeline.finetune import load_tokenizer

    answered = [[*QUESTION, {"role": "assistant", "content": "Run lsblk, then mount it."}]]
    engine = TransformersEngine()

    adapted = engine.answer_loss(_spec(base, "adapter-a"), answered)
    bare = engine.answer_loss(_spec(base), answered)

    tokenizer = load_tokenizer(str(base))
    example = encode_example(tokenizer, answered[0], 512)
    fresh = PeftModel.from_pretrained(
        load_causal_lm(str(base), trainable=True), base.with_name(f"{base.name}-adapter-a")
    )
    expected, _tokens = answer_loss(fresh, [example], 1, tokenizer.pad_token_id)
    assert adapted == pytest.approx(expected, rel=1e-4)
    assert bare != pytest.approx(adapted, rel=1e-4)
    assert engine.answer_loss(_spec(base), []) is None


def test_its_adapters_wrap_the_packed_layers_of_a_float32_base(
    base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from peft.tuners.lora import LoraLayer

    from assistant.loading import load_spec
    from assistant.packed_linear import PackedLinear

    monkeypatch.setenv("ASSISTANT_CPU_BF16", "0")  # packing is for float32 weights
    # Copies no earlier test has loaded (the base stays loaded in its first precision).
    for folder in (base, base.with_name(f"{base.name}-adapter-a")):
        shutil.copytree(folder, tmp_path / folder.name)
    loaded = load_spec(_spec(tmp_path / base.name, "adapter-a"))

    adapted = [module for module in loaded.model.modules() if isinstance(module, LoraLayer)]
    assert adapted, "the adapter must wrap some layers"
    assert all(isinstance(module.base_layer, PackedLinear) for module in adapted)


def test_it_switches_between_two_adapters_on_one_base(base: Path) -> None:
    from assistant.loading import load_base

    bare_before = _answer(_spec(base))
    first_a = _answer(_spec(base, "adapter-a"))
    first_b = _answer(_spec(base, "adapter-b"))
    again_a = _answer(_spec(base, "adapter-a"))
    bare_after = _answer(_spec(base))

    assert set(load_base(str(base)).adapter_keys) >= {"adapter-a", "adapter-b"}
    assert again_a.token_probs == pytest.approx(first_a.token_probs, abs=1e-6)
    assert bare_after.token_probs == pytest.approx(bare_before.token_probs, abs=1e-6)
    assert first_b.token_probs != pytest.approx(first_a.token_probs, abs=1e-6)
    assert first_a.token_probs != pytest.approx(bare_before.token_probs, abs=1e-6)


def test_it_reloads_an_adapter_when_its_version_key_changes(base: Path, tmp_path: Path) -> None:
    # A version whose adapter folder is retrained in place: same name, new weights.
    moving = tmp_path / "moving"
    shutil.copytree(base.with_name(f"{base.name}-adapter-a"), moving)
    spec = ModelSpec(
        key="moving:1",
        base_model_path=str(base),
        adapter_path=str(moving),
        adapter_name="moving",
        max_new_tokens=NEW_TOKENS,
        repetition_penalty=1.0,
    )
    old = _answer(spec)
    shutil.rmtree(moving)
    shutil.copytree(base.with_name(f"{base.name}-adapter-b"), moving)
    expected_new = _answer(_spec(base, "adapter-b"))

    unchanged_key = _answer(spec)
    new_key = _answer(ModelSpec(**{**spec.__dict__, "key": "moving:2"}))

    assert unchanged_key.token_probs == pytest.approx(old.token_probs, abs=1e-6)
    assert new_key.token_probs == pytest.approx(expected_new.token_probs, abs=1e-6)
    assert new_key.token_probs != pytest.approx(old.token_probs, abs=1e-6)


def test_it_builds_the_bitsandbytes_config_for_each_quantization() -> None:
    from assistant.loading import bitsandbytes_config

    assert bitsandbytes_config("none") is None
    four = bitsandbytes_config("4bit")
    assert four.load_in_4bit and four.bnb_4bit_quant_type == "nf4"
    assert bitsandbytes_config("8bit").load_in_8bit
    with pytest.raises(ValueError, match="quantization"):
        bitsandbytes_config("3bit")


@pytest.mark.parametrize("quantization", ["8bit", pytest.param("4bit", marks=pytest.mark.slow)])
def test_it_loads_a_quantized_base_with_an_adapter(base: Path, quantization: str) -> None:
    from assistant.loading import load_base

    spec = ModelSpec(**{**_spec(base, "adapter-a").__dict__, "quantization": quantization})

    generation = _answer(spec)

    assert 1 <= generation.token_count <= NEW_TOKENS
    assert "adapter-a" in load_base(str(base), quantization).adapter_keys
    assert load_base(str(base), quantization) is not load_base(str(base))
