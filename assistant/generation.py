"""Batched greedy generation on a loaded model: prompts in, answers with confidence out."""

import time
from typing import Any

from .confidence import answer_length, batch_confidence
from .engine import Generation, ModelSpec
from .loading import LoadedModel, adapter_in_use
from .prefill import (
    MIN_SHARED_PREFIX,
    prefilled_cache,
    prefixed_and_padded,
    shared_prefix_length,
)
from .prompting import PLAIN_STOP, clean_answer, encode_prompt, uses_chat_template


def prompt_ids(
    loaded: LoadedModel, spec: ModelSpec, conversations: list[list[dict[str, str]]]
) -> list[list[int]]:
    budget = loaded.max_positions - spec.max_new_tokens
    return [
        encode_prompt(
            loaded.tokenizer,
            conversation,
            prompt_format=spec.prompt_format,
            system_prompt=spec.system_prompt,
            max_prompt_tokens=budget,
        )
        for conversation in conversations
    ]


def batch_inputs(loaded: LoadedModel, prompts: list[list[int]], room: int = 0) -> dict[str, Any]:
    """generate() inputs for a batch, most of its prefill already done (see
    assistant.prefill): the shared prefix once, the rows in groups of similar length, and
    `room` tokens reserved in the cache for the answer (assistant.reserved_cache), so the
    decoding steps of a long, grounded prompt do not copy its cache. Call it where
    generate() runs (inside the adapter's context): the cache depends on the adapter."""
    from .reserved_cache import reserve_room

    shared = shared_prefix_length(prompts) if len(prompts) > 1 else 0
    prefix = prompts[0][:shared] if shared >= MIN_SHARED_PREFIX else []
    suffixes = [ids[len(prefix) :] for ids in prompts]
    input_ids, attention_mask = prefixed_and_padded(prefix, suffixes, loaded.pad_id, loaded.device)
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    cache = prefilled_cache(
        loaded.model, prefix, suffixes, loaded.pad_id, loaded.device, always=room > 0
    )
    if cache is not None:
        inputs["cache"] = reserve_room(cache, room)
    return inputs


def generation_options(loaded: LoadedModel, spec: ModelSpec) -> dict[str, Any]:
    """Greedy decoding; the raw logits come back for the confidence scores."""
    options: dict[str, Any] = {
        "do_sample": False,
        # The model's own generation_config may carry sampling settings; greedy ignores them.
        "temperature": None,
        "top_p": None,
        "top_k": None,
        "max_new_tokens": spec.max_new_tokens,
        "repetition_penalty": spec.repetition_penalty,
        "pad_token_id": loaded.pad_id,
        "eos_token_id": sorted(loaded.eos_ids),
        "output_logits": True,
        "return_dict_in_generate": True,
    }
    if not uses_chat_template(loaded.tokenizer, spec.prompt_format):
        # A plain-format model goes on to write the user's next turn: stop it there.
        options |= {"stop_strings": [PLAIN_STOP], "tokenizer": loaded.tokenizer}
    return options


def generate_batch(
    loaded: LoadedModel, spec: ModelSpec, conversations: list[list[dict[str, str]]]
) -> list[Generation]:
    """Answer the conversations in one generate() call (the adapter must already be loaded)."""
    import torch

    prompts = prompt_ids(loaded, spec, conversations)
    started = time.perf_counter()
    with adapter_in_use(loaded, spec), torch.inference_mode():
        inputs = batch_inputs(loaded, prompts, room=spec.max_new_tokens)
        # The prompts' own cost (prefilled above, all but each row's last token): what a
        # longer, grounded prompt adds (bench/grounding.py).
        prefill_s = time.perf_counter() - started
        output = loaded.model.generate(**inputs, **generation_options(loaded, spec))
    generated = output.sequences[:, inputs["input_ids"].shape[1] :].cpu()
    plain = not uses_chat_template(loaded.tokenizer, spec.prompt_format)
    rows = generated.tolist()
    lengths = [answer_tokens(loaded, tokens, plain) for tokens in rows]
    confidences = batch_confidence(output.logits, generated, lengths)
    elapsed = time.perf_counter() - started
    results = []
    for row, confidence in enumerate(confidences):
        text = loaded.tokenizer.decode(rows[row][: lengths[row]], skip_special_tokens=True)
        results.append(
            Generation(
                text=clean_answer(text, plain=plain),
                token_probs=confidence.token_probs,
                scores=confidence.scores,
                token_count=lengths[row],
                prompt_tokens=len(prompts[row]),
                timings={
                    "generate_s": elapsed,
                    "prefill_s": prefill_s,
                    "batch_size": float(len(conversations)),
                },
            )
        )
    return results


def answer_tokens(loaded: LoadedModel, tokens: list[int], plain: bool) -> int:
    """How many generated tokens are the answer: up to and including the EOS or, in the
    plain format, the stop string that began the user's next turn."""
    length = answer_length(tokens, loaded.eos_ids)
    if plain and PLAIN_STOP in loaded.tokenizer.decode(tokens[:length]):
        # Shortest prefix that contains the stop string: the padding after it is not ours.
        for end in range(1, length + 1):
            if PLAIN_STOP in loaded.tokenizer.decode(tokens[:end]):
                return end
    return length
