"""Teacher-forced loss of reference answers under a model, on the answer tokens only.

Training watches it on its validation set, evaluation reports it and the shadow comparison
compares versions by it: one encoding (the prompt as at inference, then the answer and its
end marker) and one loss, so the figures compare with each other.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .engine import ModelSpec
from .loading import LoadedModel, adapter_in_use
from .prompting import render_prompt, uses_chat_template

IGNORE_INDEX = -100  # labels with this value add nothing to the cross-entropy loss
LOSS_BATCH = 8  # examples per forward pass when scoring: bounded memory on long answers


@dataclass
class EncodedExample:
    input_ids: list[int]
    labels: list[int]  # IGNORE_INDEX on the prompt, token ids on the answer


def render_answer(
    tokenizer: Any, messages: list[dict[str, str]], system_prompt: str, prompt_format: str
) -> str:
    """What follows the prompt in a finished conversation: the answer and its end marker."""
    *question, answer = messages
    prompt = render_prompt(
        tokenizer, question, prompt_format=prompt_format, system_prompt=system_prompt
    )
    if uses_chat_template(tokenizer, prompt_format):
        turns = [{"role": "system", "content": system_prompt}] if system_prompt else []
        full: str = tokenizer.apply_chat_template(turns + messages, tokenize=False)
        if full.startswith(prompt):
            return full[len(prompt) :]
    return f" {answer['content'].strip()}{tokenizer.eos_token or ''}"


def encode_example(
    tokenizer: Any,
    messages: list[dict[str, str]],
    max_length: int,
    system_prompt: str = "",
    prompt_format: str = "auto",
) -> EncodedExample | None:
    """Token ids with the prompt masked out of the labels; None when the prompt alone
    leaves no room for an answer (a loss on no tokens teaches nothing)."""
    prompt = render_prompt(
        tokenizer, messages[:-1], prompt_format=prompt_format, system_prompt=system_prompt
    )
    answer = render_answer(tokenizer, messages, system_prompt, prompt_format)
    # As at inference: a template writes its own special tokens, the plain format gets the
    # tokenizer's usual ones (a BOS for Llama-like tokenizers).
    plain = not uses_chat_template(tokenizer, prompt_format)
    prompt_ids = tokenizer(prompt, add_special_tokens=plain)["input_ids"]
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    room = max_length - len(prompt_ids)
    if room < 1 or not answer_ids:
        return None
    answer_ids = answer_ids[:room]
    return EncodedExample(
        input_ids=prompt_ids + answer_ids,
        labels=[IGNORE_INDEX] * len(prompt_ids) + answer_ids,
    )


def collate(examples: list[EncodedExample], pad_token_id: int) -> dict[str, Any]:
    """Right-pad a batch; padding is masked in both the attention and the labels.

    The mask comes from the lengths, not from the pad id: many tokenizers pad with the
    end-of-turn token, which is also the answer's last (trained) token.
    """
    import torch

    width = max(len(e.input_ids) for e in examples)
    input_ids, labels, attention = [], [], []
    for e in examples:
        pad = width - len(e.input_ids)
        input_ids.append(e.input_ids + [pad_token_id] * pad)
        labels.append(e.labels + [IGNORE_INDEX] * pad)
        attention.append([1] * len(e.input_ids) + [0] * pad)
    return {
        "input_ids": torch.tensor(input_ids),
        "labels": torch.tensor(labels),
        "attention_mask": torch.tensor(attention),
    }


def batches(
    examples: list[EncodedExample], batch_size: int, pad_token_id: int
) -> Iterator[dict[str, Any]]:
    for start in range(0, len(examples), batch_size):
        yield collate(examples[start : start + batch_size], pad_token_id)


def summed_nll(logits: Any, labels: Any) -> tuple[Any, int]:
    """Summed negative log-likelihood of the labelled tokens, and how many there were."""
    import torch.nn.functional as F

    # Position t predicts token t+1.
    shifted_logits = logits[:, :-1, :].float()
    shifted_labels = labels[:, 1:]
    nll = F.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.size(-1)),
        shifted_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )
    return nll, int((shifted_labels != IGNORE_INDEX).sum().item())


def answer_loss(
    model: Any, examples: list[EncodedExample], batch_size: int, pad_token_id: int
) -> tuple[float, int]:
    """Teacher-forced negative log-likelihood per answer token, and how many tokens.

    Token-weighted over the whole set (not a mean of batch means), so the figure does not
    depend on how examples fall into batches.
    """
    import torch

    device = next(model.parameters()).device
    total_nll, total_tokens = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for batch in batches(examples, batch_size, pad_token_id):
            batch = {k: v.to(device) for k, v in batch.items()}
            logits = model(
                input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
            ).logits
            nll, tokens = summed_nll(logits, batch["labels"])
            total_nll += nll.item()
            total_tokens += tokens
    model.train(was_training)
    return (total_nll / total_tokens if total_tokens else float("nan")), total_tokens


def conversation_loss(
    loaded: LoadedModel,
    spec: ModelSpec,
    conversations: list[list[dict[str, str]]],
    max_length: int = 512,
) -> tuple[float, int]:
    """Loss per answer token of each conversation's last (assistant) turn under the spec's
    model, prompted as the spec prompts; and how many answer tokens there were."""
    encoded = (
        encode_example(loaded.tokenizer, c, max_length, spec.system_prompt, spec.prompt_format)
        for c in conversations
    )
    usable = [e for e in encoded if e is not None]
    with adapter_in_use(loaded, spec):
        return answer_loss(loaded.model, usable, LOSS_BATCH, loaded.pad_id)
