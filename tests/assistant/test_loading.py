"""The one model loader: device and precision rules, trainable bases, and no other loader."""

from pathlib import Path

import pytest
import torch

from assistant import loading

from .tiny_models import tiny_qwen2

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory, smollm2_path: Path) -> Path:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny") / "qwen2"
    tiny_qwen2(len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    ("device", "bf16_supported", "training", "bf16", "expected"),
    [
        ("cpu", True, False, None, torch.bfloat16),  # bf16_supported: AMX tiles on the CPU
        ("cpu", False, False, None, torch.float32),
        ("cpu", True, True, True, torch.float32),
        ("cuda", True, False, None, torch.bfloat16),
        ("cuda", True, True, None, torch.bfloat16),
        ("cuda", False, False, None, torch.float16),
        ("cuda", False, True, None, torch.float32),  # no float16 training: no loss scaling
        ("cuda", True, True, False, torch.float32),
    ],
)
def test_it_picks_the_precision_for_the_device_and_the_purpose(
    monkeypatch, device, bf16_supported, training, bf16, expected
) -> None:
    monkeypatch.delenv("ASSISTANT_CPU_BF16", raising=False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: bf16_supported)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: bf16_supported)

    assert loading.model_dtype(device, training=training, bf16=bf16) == expected


@pytest.mark.parametrize(("setting", "expected"), [("1", torch.bfloat16), ("0", torch.float32)])
def test_the_cpu_precision_can_be_set_whatever_the_cpu_has(monkeypatch, setting, expected) -> None:
    monkeypatch.setenv("ASSISTANT_CPU_BF16", setting)
    for amx in (True, False):
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda amx=amx: amx)
        assert loading.model_dtype("cpu") == expected
    assert loading.model_dtype("cpu", training=True) == torch.float32


def test_a_bad_cpu_precision_setting_is_refused(monkeypatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("ASSISTANT_CPU_BF16", "fast")
    with pytest.raises(ImproperlyConfigured, match="ASSISTANT_CPU_BF16"):
        loading.model_dtype("cpu")


def test_4bit_layers_compute_in_half_precision_on_a_gpu() -> None:
    def compute(device: str, dtype: object) -> object:
        return loading.bitsandbytes_config("4bit", device, dtype).bnb_4bit_compute_dtype

    assert compute("cpu", None) == torch.float32
    assert compute("cuda", torch.bfloat16) == torch.bfloat16
    assert compute("cuda", torch.float32) == torch.float16


def test_a_trainable_base_is_fresh_in_train_mode_and_unpacked(tiny_base: Path) -> None:
    from assistant.packed_linear import PackedLinear

    served = loading.load_base(str(tiny_base)).model
    trainable = loading.load_causal_lm(str(tiny_base), trainable=True)

    assert trainable is not served and trainable.training and not served.training
    assert not any(isinstance(m, PackedLinear) for m in trainable.modules())
    assert next(trainable.parameters()).dtype == torch.float32


def test_training_on_a_quantised_base_needs_a_gpu(tiny_base: Path) -> None:
    from training.pipeline.finetune import load_base_model

    with pytest.raises(ValueError, match="CUDA"):
        load_base_model(str(tiny_base), "cpu", torch.float32, load_in_4bit=True)


def test_no_other_module_builds_a_model_or_its_quantisation() -> None:
    # prepare.py converts the shipped GGUF file once; every model after it comes from here.
    allowed = {ROOT / "assistant" / "loading.py", ROOT / "assistant" / "prepare.py"}
    builders = [
        str(path.relative_to(ROOT))
        for part in ("assistant", "tickets", "training", "jobs")
        for path in (ROOT / part).rglob("*.py")
        if path not in allowed
        and any(
            name in path.read_text()
            for name in ("BitsAndBytesConfig", "AutoModelForCausalLM", "PeftModel.from_pretrained")
        )
    ]
    assert builders == []
