"""LoRA fine-tuning: real training on SmolLM2, registration as a candidate (the label masking
it trains with is tested in tests/assistant/test_scoring.py)."""

import json
from pathlib import Path

import pytest

from training.pipeline.finetune import TrainConfig, TrainingResult, register_adapter

SMOLLM2 = Path(__file__).resolve().parents[2] / "var" / "models" / "SmolLM2-135M-Instruct"
QA = [
    ("How do I restart the network?", "Run sudo systemctl restart NetworkManager."),
    ("How do I list hidden files?", "Use ls -la in a terminal."),
    ("How do I check free disk space?", "Run df -h and read the Avail column."),
    ("How do I update all packages?", "Run sudo apt update and then sudo apt upgrade."),
    ("How do I see my IP address?", "Run ip addr and look at inet."),
    ("How do I find a file by name?", "Use find / -name file 2>/dev/null."),
    ("How do I kill a frozen program?", "Run xkill and click its window."),
    ("How do I check the kernel version?", "Run uname -r in a terminal."),
]


def chat(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def write_chat_jsonl(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"messages": chat(q, a)}) + "\n" for q, a in pairs))
    return path


@pytest.mark.slow
@pytest.mark.django_db
def test_it_trains_the_adapter_only_lowers_the_loss_and_registers_a_candidate(
    tmp_path: Path,
) -> None:
    import torch
    from safetensors.torch import load_file

    from assistant.models import VersionStage
    from assistant.scoring import answer_loss
    from tests.factories import ModelVersionFactory
    from training.pipeline.finetune import encode_all, load_tokenizer, train_adapter

    train = write_chat_jsonl(tmp_path / "train.jsonl", QA)
    config = TrainConfig(
        base_model_path=str(SMOLLM2),
        train_path=str(train),
        validation_path=str(train),
        out_dir=str(tmp_path / "run"),
        max_steps=4,
        batch_size=8,
        max_length=64,
        lr=3e-3,
        eval_every=2,
    )
    base_weights = load_file(SMOLLM2 / "model.safetensors")

    result = train_adapter(config)

    # The training loss on the training examples falls, from the base's figure at step 0.
    assert result.train_curve[-1][1] < result.train_curve[0][1]
    assert result.val_curve[0][0] == 0 and result.best_val_loss < result.val_curve[0][1]
    # The adapter's B matrices start at zero; training moved them.
    adapter = load_file(Path(result.adapter_dir) / "adapter_model.safetensors")
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)
    # The base weights on disk did not change, nor does a base reloaded from them.
    assert all(
        torch.equal(v, load_file(SMOLLM2 / "model.safetensors")[k])
        for k, v in list(base_weights.items())[:5]
    )
    # The saved adapter, loaded on the base, scores the training answers better than the base.
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    tokenizer = load_tokenizer(str(SMOLLM2))
    examples = encode_all(tokenizer, [chat(q, a) for q, a in QA], config)
    base = AutoModelForCausalLM.from_pretrained(SMOLLM2)
    base_loss, _ = answer_loss(base, examples, 8, tokenizer.pad_token_id)
    tuned = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(SMOLLM2), result.adapter_dir
    )
    tuned_loss, _ = answer_loss(tuned, examples, 8, tokenizer.pad_token_id)
    assert tuned_loss < base_loss
    # Beside the adapter: the run's config, metrics and loss curve.
    assert json.loads((tmp_path / "run" / "config.json").read_text())["rank"] == 8
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())[
        "best_val_loss"
    ] == pytest.approx(result.best_val_loss)
    assert (tmp_path / "run" / "loss_curve.png").stat().st_size > 1000

    parent = ModelVersionFactory(base_model_path=str(SMOLLM2), gate_threshold=0.6)
    version = register_adapter(result, parent, "tuned-1")
    assert (version.enabled, version.is_default, version.stage) == (
        False,
        False,
        VersionStage.CANDIDATE,
    )
    assert version.parent == parent and version.adapter_path == str(
        Path(result.adapter_dir).resolve()
    )
    assert version.gate_threshold == 0.6


@pytest.mark.django_db
def test_it_registers_without_a_base_version(tmp_path: Path) -> None:
    result = TrainingResult(
        adapter_dir=str(tmp_path / "adapter"),
        best_val_loss=1.5,
        steps=3,
        seconds=1.0,
        stopped_early=False,
        config={
            "base_model_path": "/models/base",
            "load_in_4bit": True,
            "prompt_format": "auto",
            "system_prompt": "Be brief.",
            "rank": 8,
        },
    )
    version = register_adapter(result, None, "from-path")
    assert version.parent is None and version.quantization == "4bit"
    assert version.system_prompt == "Be brief." and not version.enabled


@pytest.mark.django_db
def test_it_trains_from_a_named_version_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command

    from assistant.models import ModelVersion
    from tests.factories import ModelVersionFactory
    from training.management.commands import train_adapter as command

    seen = []

    def fake_train(config: TrainConfig) -> TrainingResult:
        seen.append(config)
        return TrainingResult(str(tmp_path / "adapter"), 1.0, 1, 0.1, False, config=vars(config))

    monkeypatch.setattr(command, "train_adapter", fake_train)
    base = ModelVersionFactory(name="smol", prompt_format="plain", system_prompt="Be brief.")
    call_command(
        "train_adapter",
        "--version",
        "smol",
        "--train",
        "t.jsonl",
        "--validation",
        "v.jsonl",
        "--out",
        str(tmp_path),
        "--rank",
        "4",
        "--target-modules",
        "q_proj,v_proj",
        "--max-steps",
        "3",
        "--load-in-4bit",
        "--name",
        "smol-tuned",
    )
    config = seen[0]
    assert (config.base_model_path, config.rank, config.max_steps, config.load_in_4bit) == (
        base.base_model_path,
        4,
        3,
        True,
    )
    assert (config.target_modules, config.prompt_format, config.system_prompt) == (
        "q_proj,v_proj",
        "plain",
        "Be brief.",
    )
    assert ModelVersion.objects.get(name="smol-tuned").parent == base
