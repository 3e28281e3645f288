"""The one model loader: base models (optionally 4/8-bit) and their LoRA adapters.

Inference, evaluation and the shadow comparison serve through `load_spec` (loaded once per
process, adapters kept current); training asks `load_causal_lm` for a trainable base. Nothing
here runs at import time: a process loads a model on its first generation (or in
`assistant.worker.warm_up`), so the web process never pays for torch.
"""

import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from .engine import ModelSpec

log = logging.getLogger(__name__)

# Fallback when neither config nor tokenizer says how long a context may be.
DEFAULT_MAX_POSITIONS = 2048
# Tokenizers without a limit report a huge sentinel (about 1e30) as model_max_length.
_NO_LIMIT = 1_000_000


@dataclass
class LoadedModel:
    """A base model in memory and the adapters loaded onto it, by adapter name."""

    model: Any  # the base model, or a PeftModel around it once an adapter is loaded
    tokenizer: Any
    device: str
    max_positions: int
    eos_ids: frozenset[int]
    pad_id: int
    adapter_keys: dict[str, str] = field(default_factory=dict)  # adapter name -> spec.key
    # set_adapter switches shared state: one generation per model at a time.
    lock: threading.RLock = field(default_factory=threading.RLock)


_models: dict[tuple[str, str, str], LoadedModel] = {}  # (folder, quantization, precision)
_models_lock = threading.Lock()
_threads_configured = False


def configure_threads(threads: int | None = None) -> int:
    """Give torch its thread count once per process (env TORCH_THREADS, default 1).

    A CPU worker with more threads than cores generates several times slower, and several
    workers share the cores.
    """
    global _threads_configured
    import torch

    count = threads if threads is not None else int(os.environ.get("TORCH_THREADS", "1"))
    if count < 1:
        raise ValueError(f"torch threads must be at least 1, got {count}")
    if threads is not None or not _threads_configured:
        torch.set_num_threads(count)
        _threads_configured = True
    return torch.get_num_threads()


def load_base(base_model_path: str, quantization: str = "none") -> LoadedModel:
    """The base model and tokenizer of a folder, loaded on first use and kept (one copy per
    precision: a changed ASSISTANT_CPU_BF16 loads the folder again rather than serving the
    other precision's copy)."""
    device = model_device()
    dtype = load_dtype(device, quantization)
    key = (base_model_path, quantization, str(dtype))
    with _models_lock:
        if key not in _models:
            _models[key] = _load(base_model_path, quantization, dtype)
        return _models[key]


def _load(base_model_path: str, quantization: str, dtype: Any = None) -> LoadedModel:
    configure_threads()
    device = model_device()
    model = load_causal_lm(base_model_path, quantization, device=device, dtype=dtype)
    if quantization in ("", "none"):
        _pack_weights(model)  # quantised layers keep bitsandbytes' kernels
    tokenizer = load_tokenizer(base_model_path)
    eos_ids = _eos_ids(model, tokenizer)
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = min(eos_ids)  # the usual choice for models trained without padding
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=device,
        max_positions=_max_positions(model.config, tokenizer),
        eos_ids=eos_ids,
        pad_id=pad_id,
    )


# --- the one way a model is loaded -----------------------------------------


def model_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_dtype(device: str, *, training: bool = False, bf16: bool | None = None) -> Any:
    """The precision a model is loaded in on `device`.

    On the CPU: bfloat16 to serve where the cores multiply it natively (`cpu_serves_bf16`),
    float32 otherwise and always to train (plain float32 gradients, no loss scaling). On a
    GPU bfloat16 where it is supported (`bf16` says yes or no instead); without it, float16
    to serve (fast, and memory is scarce) but float32 to train: float16 training needs loss
    scaling, which the training loop does not do.
    """
    import torch

    if device == "cpu":
        return torch.bfloat16 if not training and cpu_serves_bf16() else torch.float32
    use_bf16 = torch.cuda.is_bf16_supported() if bf16 is None else bf16
    if use_bf16:
        return torch.bfloat16
    return torch.float32 if training else torch.float16


def load_dtype(device: str, quantization: str = "none", *, trainable: bool = False) -> Any:
    """The precision of a model loaded with `quantization`: `model_dtype`'s, except that a
    quantised CPU model stays float32 where bitsandbytes computes (bitsandbytes_config),
    or the two precisions would meet mid-layer."""
    quantised_on_cpu = device == "cpu" and quantization not in ("", "none")
    return model_dtype(device, training=trainable or quantised_on_cpu)


def cpu_serves_bf16() -> bool:
    """Whether CPU inference runs in bfloat16: ASSISTANT_CPU_BF16=1 or 0 says so; unset, it
    does where the CPU has AMX tiles. There oneDNN's bfloat16 matmuls are several
    times faster than float32 ones (SmolLM2, one thread, 8 rows: prefilling 400 tokens
    each 1.5 s against 7.9 s, a decoding step 74 ms against 109 ms with packed float32
    weights), which is what makes a prompt carrying knowledge from the index cheap. Without AMX
    (AVX2, or AVX-512 alone) bfloat16 runs through slow conversions: float32 stays.
    """
    import torch

    from helpdesk.env import env_bool

    if os.environ.get("ASSISTANT_CPU_BF16", "").strip():
        return env_bool("ASSISTANT_CPU_BF16", False)
    return bool(torch.cpu._is_amx_tile_supported())


def load_causal_lm(
    path: str,
    quantization: str = "none",
    *,
    device: str | None = None,
    dtype: Any = None,
    trainable: bool = False,
) -> Any:
    """The causal LM of a local folder, by the rules inference, training and evaluation share.

    On `device` (default: the GPU when there is one) in `dtype` (default: `model_dtype`),
    quantised by bitsandbytes for "8bit" or "4bit". A model to serve comes back in eval mode
    (`load_base` adds the packing, the cache and the adapters); `trainable` gives a fresh
    base in train mode for a LoRA adapter to learn on, which, quantised, needs a CUDA GPU
    (QLoRA).
    """
    os.environ["HF_HUB_OFFLINE"] = "1"  # a folder, never the hub
    from transformers import AutoModelForCausalLM

    device = device or model_device()
    dtype = dtype if dtype is not None else load_dtype(device, quantization, trainable=trainable)
    log.info("Loading %s (%s, %s) on %s", path, quantization, dtype, device)
    options: dict[str, Any] = {"local_files_only": True, "dtype": dtype}
    quantization_config = bitsandbytes_config(quantization, device, dtype)
    if quantization_config is not None:
        if trainable and device != "cuda":
            raise ValueError(f"Training on a {quantization} base (QLoRA) needs a CUDA GPU")
        options["quantization_config"] = quantization_config
        options["device_map"] = {"": 0 if device == "cuda" else "cpu"}
    model = AutoModelForCausalLM.from_pretrained(path, **options)
    if quantization_config is None:
        # transformers wraps .to() in functools.wraps, whose type asks for `self` again.
        model.to(device)  # type: ignore[arg-type]
    model.train(trainable)
    return model


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def _pack_weights(model: Any) -> None:
    """Pre-pack a float32 CPU model's linear weights for oneDNN (see assistant.packed_linear);
    ASSISTANT_PACK_WEIGHTS=0 keeps torch's plain layers."""
    from helpdesk.env import env_bool

    from .packed_linear import can_pack, pack_linear_layers

    if env_bool("ASSISTANT_PACK_WEIGHTS", True) and can_pack(model):
        pack_linear_layers(model)


def bitsandbytes_config(quantization: str, device: str = "cpu", dtype: Any = None) -> Any | None:
    """BitsAndBytesConfig for "4bit" (NF4, double quantisation) or "8bit"; None for "none".

    4-bit layers compute in float32 on the CPU and in half precision on a GPU: the model's
    own (`dtype`), or float16 under a float32 model.
    """
    if quantization in ("", "none"):
        return None
    import torch
    from transformers import BitsAndBytesConfig

    if quantization == "4bit":
        if device == "cpu":
            compute = torch.float32
        else:
            compute = dtype if dtype is not None else model_dtype(device)
            compute = torch.float16 if compute == torch.float32 else compute
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    raise ValueError(f"Unknown quantization {quantization!r}; use none, 8bit or 4bit")


def _eos_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    ids: set[int] = set()
    configured = getattr(model.generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif configured:
        ids.update(configured)
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    if not ids:
        raise ValueError("The model has no end-of-sequence token; it would never stop")
    return frozenset(ids)


def _max_positions(config: Any, tokenizer: Any) -> int:
    limits = [
        value
        for value in (
            getattr(config, "max_position_embeddings", None),
            getattr(config, "n_positions", None),
            tokenizer.model_max_length,
        )
        if isinstance(value, int) and 0 < value < _NO_LIMIT
    ]
    return min(limits) if limits else DEFAULT_MAX_POSITIONS


# --- adapters ---------------------------------------------------------------


def adapter_name(spec: ModelSpec) -> str:
    if spec.adapter_name:
        return spec.adapter_name
    return "adapter-" + hashlib.sha1(spec.adapter_path.encode()).hexdigest()[:12]


def ensure_adapter(loaded: LoadedModel, spec: ModelSpec) -> None:
    """Load the spec's adapter onto its base, or reload it if the spec's key changed
    (a new version of the adapter): workers pick it up without a restart."""
    from peft import PeftModel

    name = adapter_name(spec)
    if loaded.adapter_keys.get(name) == spec.key:
        return
    with loaded.lock:
        if not isinstance(loaded.model, PeftModel):
            loaded.model = PeftModel.from_pretrained(
                loaded.model, spec.adapter_path, adapter_name=name, is_trainable=False
            )
        else:
            # Also clears an adapter half-loaded when a time limit interrupted a reload.
            if name in loaded.model.peft_config:
                log.info("Reloading adapter %s from %s", name, spec.adapter_path)
                loaded.model.delete_adapter(name)
                loaded.adapter_keys.pop(name, None)
            loaded.model.load_adapter(spec.adapter_path, adapter_name=name, is_trainable=False)
        loaded.model.eval()
        loaded.adapter_keys[name] = spec.key


@contextmanager
def adapter_in_use(loaded: LoadedModel, spec: ModelSpec) -> Iterator[None]:
    """Run the block with the spec's adapter active, or with every adapter off."""
    from peft import PeftModel

    with loaded.lock:
        if spec.adapter_path:
            loaded.model.set_adapter(adapter_name(spec))
            context: AbstractContextManager[None] = nullcontext()
        elif isinstance(loaded.model, PeftModel):
            context = loaded.model.disable_adapter()
        else:
            context = nullcontext()
        with context:
            yield


def load_spec(spec: ModelSpec) -> LoadedModel:
    """The spec's base, with its adapter loaded and current."""
    loaded = load_base(spec.base_model_path, spec.quantization)
    if spec.adapter_path:
        ensure_adapter(loaded, spec)
    return loaded
