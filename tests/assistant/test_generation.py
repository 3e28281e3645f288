"""Batch preparation and answer boundaries, without running a model."""

import pytest

from assistant.engine import ModelSpec
from assistant.generation import (
    answer_tokens,
    generation_options,
)
from assistant.loading import LoadedModel
from assistant.prefill import prefixed_and_padded, shared_prefix_length

EOS = 2


def _loaded(tokenizer) -> LoadedModel:
    return LoadedModel(
        model=None,
        tokenizer=tokenizer,
        device="cpu",
        max_positions=2048,
        eos_ids=frozenset({EOS}),
        pad_id=EOS,
    )


def test_it_pads_on_the_left_so_every_prompt_ends_at_the_last_column() -> None:
    input_ids, attention_mask = prefixed_and_padded([], [[5, 6, 7], [8]], pad_id=0, device="cpu")

    assert input_ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert attention_mask.tolist() == [[1, 1, 1], [0, 0, 1]]


def test_it_puts_the_shared_prefix_first_and_the_padding_after_it() -> None:
    input_ids, attention_mask = prefixed_and_padded(
        [1, 2], [[5, 6, 7], [8]], pad_id=0, device="cpu"
    )

    assert input_ids.tolist() == [[1, 2, 5, 6, 7], [1, 2, 0, 0, 8]]
    assert attention_mask.tolist() == [[1, 1, 1, 1, 1], [1, 1, 0, 0, 1]]


@pytest.mark.parametrize(
    ("prompts", "shared"),
    [
        ([[1, 2, 3, 4], [1, 2, 5]], 2),
        ([[1, 2, 3], [1, 2, 3, 4]], 2),  # the shorter prompt keeps a token of its own
        ([[1, 2], [3, 2]], 0),
        ([[1, 2, 3]], 0),  # one prompt: nothing to share
        ([[7, 8, 9], [7, 8, 9]], 2),
    ],
)
def test_it_finds_the_prefix_every_prompt_shares(prompts, shared) -> None:
    assert shared_prefix_length(prompts) == shared


def test_it_decodes_greedily_and_keeps_the_raw_logits(chat_tokenizer) -> None:
    spec = ModelSpec(key="k", base_model_path="/m", max_new_tokens=7, repetition_penalty=1.3)

    options = generation_options(_loaded(chat_tokenizer), spec)

    assert options["do_sample"] is False
    assert options["output_logits"] and options["return_dict_in_generate"]
    assert (options["max_new_tokens"], options["repetition_penalty"]) == (7, 1.3)
    assert "stop_strings" not in options  # the chat template ends turns with EOS


def test_it_stops_a_plain_format_model_at_the_next_user_turn(plain_tokenizer) -> None:
    spec = ModelSpec(key="k", base_model_path="/m")

    options = generation_options(_loaded(plain_tokenizer), spec)

    assert options["stop_strings"] == ["\nUser:"]


def test_it_ends_a_plain_answer_with_the_stop_string(plain_tokenizer) -> None:
    answer = plain_tokenizer(" Restart the service.", add_special_tokens=False)["input_ids"]
    stop = plain_tokenizer("\nUser:", add_special_tokens=False)["input_ids"]
    tokens = answer + stop + [EOS, EOS]

    assert answer_tokens(_loaded(plain_tokenizer), tokens, plain=True) == len(answer + stop)


@pytest.mark.parametrize("plain", [True, False])
def test_it_ends_an_answer_at_its_first_eos(plain_tokenizer, plain: bool) -> None:
    answer = plain_tokenizer(" Reboot.", add_special_tokens=False)["input_ids"]

    length = answer_tokens(_loaded(plain_tokenizer), [*answer, EOS, EOS, EOS], plain=plain)

    assert length == len(answer) + 1
