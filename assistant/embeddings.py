"""Sentence embeddings from all-MiniLM-L6-v2 (mean pooling, L2-normalised) and cosine
similarity: for the knowledge index, the shadow comparison and the evaluation."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any


@cache
def _load(path: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    model.eval()
    return tokenizer, model


def embed(texts: list[str], model_path: str | Path | None = None, batch_size: int = 32) -> Any:
    """One unit-length row per text (a torch tensor), as sentence-transformers would give.

    Texts go through the model shortest first, so each batch is padded only to texts of
    about its own length: the gate's evidence embeds short answers beside passages of up to
    256 tokens, and a batch costs its rows times its longest."""
    import torch

    if model_path is None:
        from assistant.prepare import minilm_path

        model_path = minilm_path()
    tokenizer, model = _load(str(model_path))
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    rows = []
    with torch.no_grad(), _precision():
        for start in range(0, len(order), batch_size):
            batch = tokenizer(
                [texts[i] for i in order[start : start + batch_size]],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            rows.append(torch.nn.functional.normalize(pooled.float(), p=2, dim=1))
    if not rows:
        return torch.empty(0, 384)
    back = torch.tensor(sorted(range(len(order)), key=order.__getitem__))  # inverse of order
    return torch.cat(rows).index_select(0, back)


def _precision() -> Any:
    """bfloat16 autocast where CPU inference runs in bfloat16 (assistant.loading): MiniLM
    embeds 2.7x faster there and its cosines move by 0.0015 at most (64 seed questions
    and answers, mean 0.0006), far under any bar they are compared with; float32 elsewhere."""
    from contextlib import nullcontext

    import torch

    from .loading import cpu_serves_bf16

    return torch.autocast("cpu", dtype=torch.bfloat16) if cpu_serves_bf16() else nullcontext()


def embed_array(texts: list[str], model_path: str | Path | None = None) -> Any:
    """`embed` as a float32 numpy array (n x 384): what the knowledge index stores."""
    import numpy as np

    return embed(texts, model_path).numpy().astype(np.float32, copy=False)


def pairwise_cosine(answers: list[str], references: list[str]) -> list[float]:
    """Cosine similarity of each answer to its own reference."""
    a, b = embed(answers), embed(references)
    similarities: list[float] = (a * b).sum(dim=1).tolist()
    return similarities
