"""LoRA / QLoRA fine-tuning of a causal LM on chat JSONL, with the loss on the answer only.

Reads top to bottom: config -> examples -> tokens with masked labels (assistant.scoring, as
evaluation encodes them) -> model with adapter (assistant.loading, the one loader) -> training
loop with gradient accumulation and early stopping -> adapter, config, metrics, plot.

    python manage.py train_adapter --version smollm2 --train var/data/train.jsonl \
        --validation var/data/validation.jsonl --out var/models/adapters/run1 --max-steps 40

`train_adapter(config)` does the training and knows nothing of Django; `register_adapter`
records the result as a new, inactive ModelVersion.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.scoring import (
    IGNORE_INDEX,
    EncodedExample,
    answer_loss,
    batches,
    encode_example,
    summed_nll,
)

if TYPE_CHECKING:
    from assistant.models import ModelVersion

log = logging.getLogger(__name__)

DEFAULT_SYSTEM_PROMPT = "You are a helpful IT helpdesk assistant. Answer briefly and concretely."


@dataclass
class TrainConfig:
    base_model_path: str  # folder of any HF causal LM (config.json, weights, tokenizer)
    train_path: str  # chat JSONL: {"messages": [..., {"role": "assistant", ...}]} per line
    validation_path: str  # same format; early stopping watches its answer-only loss
    out_dir: str  # adapter, config.json, metrics.json and loss_curve.png land here
    rank: int = 8  # LoRA rank r: capacity of the low-rank update
    alpha: int = 16  # LoRA alpha: the update is scaled by alpha / rank
    dropout: float = 0.05  # dropout on the LoRA branch's input
    target_modules: str = "all-linear"  # "all-linear" or comma-separated names (q_proj,v_proj)
    lr: float = 2e-4  # peak AdamW learning rate, after linear warm-up
    weight_decay: float = 0.0  # AdamW weight decay on the adapter weights
    warmup_ratio: float = 0.05  # share of optimizer steps spent warming the learning rate up
    epochs: float = 1.0  # passes over the training set (ignored when max_steps > 0)
    max_steps: int = 0  # optimizer steps to run; 0 means as many as the epochs give
    batch_size: int = 8  # examples per forward pass
    grad_accum: int = 1  # forward passes per optimizer step (effective batch = product)
    max_length: int = 192  # tokens per example, prompt included; longer answers are cut
    eval_every: int = 20  # optimizer steps between validation passes
    eval_limit: int = 200  # validation examples per pass (0 = all): keeps CPU passes short
    early_stopping_patience: int = 3  # validation passes without improvement before stopping
    load_in_4bit: bool = False  # QLoRA: NF4 base through bitsandbytes (needs a CUDA GPU)
    bf16: bool | None = None  # None: bf16 on a GPU that supports it, float32 elsewhere
    limit: int = 0  # use only the first N training examples (0 = all): for quick runs
    seed: int = 69  # shuffling, adapter initialisation and dropout
    prompt_format: str = "auto"  # "auto" (chat template if any), "chat_template" or "plain"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT  # kept as in inference so prompts match
    torch_threads: int = 1  # CPU threads; more than the cores makes torch slower
    gradient_checkpointing: bool = False  # trade compute for memory on big bases


@dataclass
class TrainingResult:
    adapter_dir: str
    best_val_loss: float
    steps: int
    seconds: float
    stopped_early: bool
    train_curve: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    val_curve: list[tuple[int, float]] = field(default_factory=list)  # (step, loss)
    examples: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


Progress = Callable[[float, dict[str, Any]], None]  # (fraction done, latest figures)


# --- examples and tokens --------------------------------------------------------------


def read_chat_jsonl(path: str | Path, limit: int = 0) -> list[list[dict[str, str]]]:
    """The message lists of a chat JSONL file whose last message is the assistant's."""
    conversations = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            messages = json.loads(line)["messages"]
            if messages and messages[-1]["role"] == "assistant":
                conversations.append(messages)
            if limit and len(conversations) >= limit:
                break
    return conversations


def render_prompt(
    tokenizer: Any, messages: list[dict[str, str]], system_prompt: str, prompt_format: str
) -> str:
    """The text the model sees before it answers: assistant.prompting's, as at inference."""
    from assistant.prompting import render_prompt as inference_prompt

    return inference_prompt(
        tokenizer, messages, prompt_format=prompt_format, system_prompt=system_prompt
    )


def encode_all(
    tokenizer: Any, conversations: list[list[dict[str, str]]], config: TrainConfig
) -> list[EncodedExample]:
    encoded = (
        encode_example(tokenizer, c, config.max_length, config.system_prompt, config.prompt_format)
        for c in conversations
    )
    return [e for e in encoded if e is not None]


# --- model --------------------------------------------------------------------------


def pick_device(config: TrainConfig) -> tuple[str, Any]:
    """The device and training precision of assistant.loading; CPU threads from the config."""
    from assistant.loading import configure_threads, model_device, model_dtype

    device = model_device()
    if device == "cpu":
        configure_threads(config.torch_threads)
    return device, model_dtype(device, training=True, bf16=config.bf16)


def load_tokenizer(path: str) -> Any:
    """The base's tokenizer, padding with its end-of-sequence token if it has no pad token
    (the mask, not the pad id, keeps padding out of the loss: see assistant.scoring.collate)."""
    from assistant.loading import load_tokenizer as base_tokenizer

    tokenizer = base_tokenizer(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_base_model(path: str, device: str, dtype: Any, load_in_4bit: bool = False) -> Any:
    """A trainable base from the one loader (assistant.loading), NF4 for QLoRA."""
    from assistant.loading import load_causal_lm

    quantization = "4bit" if load_in_4bit else "none"
    return load_causal_lm(path, quantization, device=device, dtype=dtype, trainable=True)


def add_lora(model: Any, config: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if config.load_in_4bit:
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing
        )
    elif config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    targets: str | list[str] = config.target_modules
    if targets != "all-linear":
        targets = [name.strip() for name in config.target_modules.split(",") if name.strip()]
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


# --- training -----------------------------------------------------------------------


def train_adapter(config: TrainConfig, progress: Progress | None = None) -> TrainingResult:
    """Train a LoRA adapter on the answers of `config.train_path`; save it with its
    run config, metrics and loss curve under `config.out_dir`."""
    import torch
    from tqdm.auto import tqdm

    started = time.monotonic()
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    device, dtype = pick_device(config)
    out_dir = Path(config.out_dir)
    adapter_dir = out_dir / "adapter"
    out_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = load_tokenizer(config.base_model_path)
    pad_id = tokenizer.pad_token_id
    train_set = encode_all(tokenizer, read_chat_jsonl(config.train_path, config.limit), config)
    validation = read_chat_jsonl(config.validation_path, config.eval_limit)
    validation_set = encode_all(tokenizer, validation, config)
    if not train_set:
        raise ValueError(f"No usable training examples in {config.train_path}")

    model = load_base_model(config.base_model_path, device, dtype, config.load_in_4bit)
    model = add_lora(model, config)
    model.train()

    micro_batches_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total_steps = config.max_steps or max(
        1, math.ceil(micro_batches_per_epoch * config.epochs / config.grad_accum)
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    warmup = int(total_steps * config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: _lr_factor(step, warmup, total_steps)
    )

    train_curve: list[tuple[int, float]] = []
    val_curve: list[tuple[int, float]] = []
    best_val, evals_since_best, stopped_early = float("inf"), 0, False
    if validation_set:  # step 0: the base model's figure, for the curve to start from
        val_curve.append((0, answer_loss(model, validation_set, config.batch_size, pad_id)[0]))
    micro = _endless_micro_batches(train_set, config.batch_size, pad_id, config.seed)
    bar = tqdm(total=total_steps, desc="train", unit="step")
    for step in range(1, total_steps + 1):
        step_loss = _optimizer_step(model, micro, config.grad_accum, optimizer, device)
        scheduler.step()
        train_curve.append((step, step_loss))
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.3f}")
        due = step % config.eval_every == 0 or step == total_steps
        if validation_set and due:
            val_loss, _ = answer_loss(model, validation_set, config.batch_size, pad_id)
            val_curve.append((step, val_loss))
            if val_loss < best_val:
                best_val, evals_since_best = val_loss, 0
                model.save_pretrained(adapter_dir)  # the best adapter is the one kept
            else:
                evals_since_best += 1
            if evals_since_best >= config.early_stopping_patience:
                stopped_early = True
        if progress:
            progress(step / total_steps, {"step": step, "loss": step_loss, "best_val": best_val})
        if stopped_early:
            break
    bar.close()
    if not adapter_dir.exists():  # no validation examples: keep the last weights
        model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)

    result = TrainingResult(
        adapter_dir=str(adapter_dir),
        best_val_loss=best_val,
        steps=len(train_curve),
        seconds=round(time.monotonic() - started, 1),
        stopped_early=stopped_early,
        train_curve=train_curve,
        val_curve=val_curve,
        examples={"train": len(train_set), "validation": len(validation_set)},
        config=asdict(config),
    )
    save_run_files(result, out_dir)
    return result


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / (warmup + 1)
    return max(0.0, (total - step) / max(1, total - warmup))


def _endless_micro_batches(
    examples: list[EncodedExample], batch_size: int, pad_token_id: int, seed: int
) -> Iterator[dict[str, Any]]:
    """Reshuffled every epoch, so max_steps can run past one pass over the data."""
    order = list(examples)
    rng = random.Random(seed)
    while True:
        rng.shuffle(order)
        yield from batches(order, batch_size, pad_token_id)


def _optimizer_step(
    model: Any, micro: Iterator[dict[str, Any]], grad_accum: int, optimizer: Any, device: str
) -> float:
    """One optimizer step over `grad_accum` micro-batches; returns the answer-token loss.

    Each micro-batch loss is weighted by its answer tokens so the step's gradient is the
    mean over all its tokens, not a mean of micro-batch means.
    """
    loaded = [{k: v.to(device) for k, v in next(micro).items()} for _ in range(grad_accum)]
    tokens = sum(int((b["labels"][:, 1:] != IGNORE_INDEX).sum()) for b in loaded)
    total = 0.0
    for batch in loaded:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        nll, _ = summed_nll(logits, batch["labels"])
        (nll / max(tokens, 1)).backward()
        total += nll.item()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total / max(tokens, 1)


def save_run_files(result: TrainingResult, out_dir: Path) -> None:
    """config.json, metrics.json and loss_curve.png beside the adapter."""
    (out_dir / "config.json").write_text(json.dumps(result.config, indent=2))
    metrics = {
        # No validation set leaves it infinite, which JSON cannot hold.
        "best_val_loss": result.best_val_loss if math.isfinite(result.best_val_loss) else None,
        "steps": result.steps,
        "seconds": result.seconds,
        "stopped_early": result.stopped_early,
        "examples": result.examples,
        "train_curve": result.train_curve,
        "val_curve": result.val_curve,
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_loss_curve(result, out_dir / "loss_curve.png")


def plot_loss_curve(result: TrainingResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if result.train_curve:
        ax.plot(*zip(*result.train_curve, strict=True), label="train", alpha=0.6)
    if result.val_curve:
        ax.plot(*zip(*result.val_curve, strict=True), "o-", label="validation")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss per answer token")
    ax.set_title("LoRA fine-tuning")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- registry -----------------------------------------------------------------------


def register_adapter(
    result: TrainingResult, base: ModelVersion | None, name: str = ""
) -> ModelVersion:
    """A new candidate version for the adapter: disabled until someone compares and promotes it."""
    from assistant.models import ModelVersion, Quantization, VersionStage

    config = result.config
    name = name or f"{Path(result.adapter_dir).parent.name}-{int(time.time())}"
    settings_from_base = {}
    if base is not None:
        settings_from_base = {
            "generation": base.generation,
            "gate_score": base.gate_score,
            "gate_threshold": base.gate_threshold,
        }
    return ModelVersion.objects.create(
        name=name,
        base_model_path=config["base_model_path"],
        adapter_path=os.path.abspath(result.adapter_dir),
        quantization=Quantization.INT4 if config["load_in_4bit"] else Quantization.NONE,
        prompt_format=config["prompt_format"],
        system_prompt=config["system_prompt"],
        enabled=False,
        is_default=False,
        stage=VersionStage.CANDIDATE,
        parent=base,
        notes=f"LoRA r={config['rank']} trained {result.steps} steps; "
        f"best validation loss {result.best_val_loss:.4f}",
        **settings_from_base,
    )


def config_for_version(base: ModelVersion, **overrides: Any) -> TrainConfig:
    """A training config whose base model, prompt format and system prompt match a version."""
    return TrainConfig(
        base_model_path=base.base_model_path,
        prompt_format=base.prompt_format,
        system_prompt=base.system_prompt,
        **overrides,
    )
