"""Keys and values with room reserved for the answer, so a decoding step writes in place.

transformers' DynamicLayer appends each step's keys and values with torch.cat, copying the
whole cache of every layer at every step: the longer the prompt, the dearer each token of
the answer. With a long prompt (400 tokens, as grounded prompts with notes once were)
that copy was a quarter of a decoding step (SmolLM2, bfloat16, 8 rows, one thread: 78 ms
a step at 400 tokens of context against 58 ms at 60; torch's profiler put 20 ms of it in
aten::cat). A `ReservedLayer` allocates the prompt plus `room` tokens once and hands
attention a view of the part written so far: 69 ms a step at 400 tokens, the same tokens
out.

A layer that something else rewrote (crop, a batch reordered or repeated: the views are
then new tensors) falls back to DynamicLayer's own append, so nothing depends on generate()
calling only `update`.
"""

from __future__ import annotations

from typing import Any

from transformers.cache_utils import DynamicLayer


class ReservedLayer(DynamicLayer):
    """A DynamicLayer whose keys and values are views into buffers with room to grow."""

    _key_buffer: Any
    _value_buffer: Any

    @classmethod
    def reserve(cls, layer: Any, room: int) -> None:
        """Turn a filled DynamicLayer into a ReservedLayer with `room` more tokens."""
        keys, values = layer.keys, layer.values
        rows, heads, length, _ = keys.shape
        key_buffer = keys.new_empty((rows, heads, length + room, keys.shape[3]))
        value_buffer = values.new_empty((rows, heads, length + room, values.shape[3]))
        key_buffer[:, :, :length] = keys
        value_buffer[:, :, :length] = values
        layer.__class__ = cls
        layer._key_buffer, layer._value_buffer = key_buffer, value_buffer
        layer.keys, layer.values = key_buffer[:, :, :length], value_buffer[:, :, :length]

    def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> Any:
        keys: Any = self.keys
        start = keys.shape[2]
        end = start + key_states.shape[2]
        if not self._in_buffers(end):
            return super().update(key_states, value_states, *args, **kwargs)
        self._key_buffer[:, :, start:end] = key_states
        self._value_buffer[:, :, start:end] = value_states
        self.keys = self._key_buffer[:, :, :end]
        self.values = self._value_buffer[:, :, :end]
        return self.keys, self.values

    def _in_buffers(self, end: int) -> bool:
        """Whether the keys and values are still the views this layer handed out (not
        tensors something else put there) and `end` tokens fit."""
        keys: Any = self.keys
        values: Any = self.values
        return bool(
            end <= self._key_buffer.shape[2]
            and keys.data_ptr() == self._key_buffer.data_ptr()
            and values.data_ptr() == self._value_buffer.data_ptr()
            and keys.shape[0] == self._key_buffer.shape[0]
        )


def reserve_room(cache: Any, room: int) -> Any:
    """The cache with `room` tokens reserved in each of its plain growing layers (others,
    sliding-window or quantised, are left as they are)."""
    if room > 0:
        for layer in cache.layers:
            if type(layer) is DynamicLayer and layer.keys is not None and layer.keys.dim() == 4:
                ReservedLayer.reserve(layer, room)
    return cache
