"""Room reserved in the cache: decoding writes in place, and gives what appending gives."""

import pytest

from assistant.prefill import prefilled_cache, prefixed_and_padded
from assistant.reserved_cache import ReservedLayer, reserve_room

from .tiny_models import tiny_qwen2

PAD = 2
SUFFIXES = [[40, 41, 42, 43, 44, 45, 46], [60, 61], [70, 71, 72, 73]]
NEW_TOKENS = 6


@pytest.fixture(scope="module")
def model():
    import torch

    torch.manual_seed(0)
    return tiny_qwen2(vocab_size=300).eval()


def _generate(model, room: int, new_tokens: int = NEW_TOKENS):
    import torch

    input_ids, attention_mask = prefixed_and_padded([], SUFFIXES, PAD, "cpu")
    with torch.inference_mode():
        cache = prefilled_cache(model, [], SUFFIXES, PAD, "cpu", always=True)
        cache = reserve_room(cache, room)
        output = model.generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            cache=cache,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
            do_sample=False,
            pad_token_id=PAD,
            output_logits=True,
            return_dict_in_generate=True,
        )
    return output, cache


def test_it_decodes_exactly_as_the_appending_cache_does(model) -> None:
    import torch

    appended, _ = _generate(model, room=0)
    reserved, cache = _generate(model, room=NEW_TOKENS)

    assert torch.equal(reserved.sequences, appended.sequences)
    for got, expected in zip(reserved.logits, appended.logits, strict=True):
        assert torch.allclose(got, expected, atol=1e-5)
    assert all(type(layer) is ReservedLayer for layer in cache.layers)


def test_each_step_writes_into_the_buffer_it_reserved(model) -> None:
    _, cache = _generate(model, room=NEW_TOKENS)

    for layer in cache.layers:
        assert layer.keys.data_ptr() == layer._key_buffer.data_ptr()
        assert layer.values.data_ptr() == layer._value_buffer.data_ptr()
        # Prompt (all but each row's last token) + the last tokens and answers fed back.
        assert layer.keys.shape[2] == max(map(len, SUFFIXES)) - 1 + NEW_TOKENS
        assert layer._key_buffer.shape[2] >= layer.keys.shape[2]


def test_past_its_room_it_appends_like_any_cache(model) -> None:
    import torch

    appended, _ = _generate(model, room=0)
    short, cache = _generate(model, room=2)  # room for two steps of six

    assert torch.equal(short.sequences, appended.sequences)
    assert cache.layers[0].keys.data_ptr() != cache.layers[0]._key_buffer.data_ptr()


def test_a_rewritten_layer_is_appended_to_not_overwritten(model) -> None:
    import torch

    _, cache = _generate(model, room=NEW_TOKENS + 4)
    layer = cache.layers[0]
    with torch.inference_mode():  # as generate() runs
        layer.crop(3 - layer.keys.shape[2])  # a view of the buffer still: written in place, at 3
        keys = torch.ones_like(layer.keys[:, :, :1])
        layer.update(keys, keys.clone())
        assert layer.keys.shape[2] == 4
        assert layer.keys.data_ptr() == layer._key_buffer.data_ptr()
        assert torch.equal(layer.keys[:, :, 3:], keys)

        layer.batch_repeat_interleave(2)  # a new tensor: the buffer no longer holds the layer
        before = layer.keys.clone()
        layer.update(keys.repeat_interleave(2, 0), keys.repeat_interleave(2, 0))
        assert layer.keys.shape[0] == 2 * len(SUFFIXES) and layer.keys.shape[2] == 5
        assert torch.equal(layer.keys[:, :, :4], before)
