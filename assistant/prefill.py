"""The prefill of a batch (its prompts' keys and values), with as little padding as we can.

generate() prefills a left-padded batch as one block, every row as wide as the longest
prompt. Helpdesk prompts share a long prefix (the system turn) and differ a lot in length
after it: a batch of 32 seed questions has 481 tokens of its own after the shared 31,
padded to 32 x 51 = 1,632, and on a CPU a prefill costs its rows times its width. So a
batch is prefilled here, in parts, before generate() runs:

1. the shared prefix once, as a batch of one; its cache is repeated for every row;
2. each row's own tokens but its last, in groups of rows of similar length, each group one
   pass over the model padded only to its own longest row (`length_groups`);
3. the groups' caches merged into one in generate()'s layout: prefix, padding, own tokens.

Every row's last token is left for generate() to feed, so its first step yields every row's
first answer token at once. Positions come from the attention mask, as generate() computes
them, so each token sits at the position it has in its unpadded prompt.
"""

import copy
import math
from typing import Any

# The prefix's own pass costs about one decoding step (every weight is read once more), so
# a prefix of a token or two (the plain format's "User:") is cheaper left in the rows.
MIN_SHARED_PREFIX = 8
# What one more pass over the model costs, in tokens of prefill: a pass reads every weight
# once and pays the per-layer overheads, about as much as prefilling 32 tokens on the CPU
# (measured with SmolLM2: a 1-token pass ~90 ms, ~2.4 ms a token in a wide prefill).
PASS_COST_TOKENS = 32


def prefixed_and_padded(
    prefix: list[int], suffixes: list[list[int]], pad_id: int, device: str
) -> tuple[Any, Any]:
    """Rows of `prefix + padding + suffix`: the shared prefix first (same columns in every
    row, so one cached copy of its keys and values serves them all), the padding between,
    so that every row's next token is last. Positions come from the attention mask, so a
    row's tokens sit at the same positions as in the unpadded prompt."""
    import torch

    width = max(len(ids) for ids in suffixes)
    rows, start = len(suffixes), len(prefix)
    input_ids = torch.full((rows, start + width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((rows, start + width), dtype=torch.long)
    input_ids[:, :start] = torch.tensor(prefix, dtype=torch.long)
    attention_mask[:, :start] = 1
    for row, ids in enumerate(suffixes):
        input_ids[row, start + width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, start + width - len(ids) :] = 1
    return input_ids.to(device), attention_mask.to(device)


def shared_prefix_length(prompts: list[list[int]]) -> int:
    """Tokens every prompt begins with (the system turn, the template's opening), leaving
    each prompt at least one token of its own for generate() to feed."""
    if len(prompts) < 2:
        return 0
    shortest = min(len(ids) for ids in prompts)
    length = 0
    while length < shortest - 1 and all(ids[length] == prompts[0][length] for ids in prompts):
        length += 1
    return length


def length_groups(lengths: list[int], pass_cost: int) -> list[list[int]]:
    """Rows (indices) with tokens to prefill, in groups that make the least work: each
    group costs `pass_cost` plus its rows times its longest row. Sorted by length, the
    best cut points come from a small dynamic programme over the rows."""
    rows = sorted(
        (row for row, length in enumerate(lengths) if length > 0), key=lengths.__getitem__
    )
    best = [0.0] + [math.inf] * len(rows)  # best[k]: least cost of the k shortest rows
    cut = [0] * (len(rows) + 1)
    for end in range(1, len(rows) + 1):
        longest = lengths[rows[end - 1]]
        for start in range(end):
            cost = best[start] + pass_cost + (end - start) * longest
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], len(rows)
    while end:
        groups.append(rows[cut[end] : end])
        end = cut[end]
    return groups[::-1]


def prefix_cache(model: Any, prefix: list[int], device: str) -> Any:
    """The cache of the shared prefix, computed as a batch of one."""
    import torch

    input_ids = torch.tensor([prefix], dtype=torch.long, device=device)
    return model(input_ids=input_ids, use_cache=True, logits_to_keep=1).cache


def prefilled_cache(
    model: Any,
    prefix: list[int],
    suffixes: list[list[int]],
    pad_id: int,
    device: str,
    *,
    always: bool = False,
) -> Any | None:
    """A cache for the rows `prefixed_and_padded(prefix, suffixes)` lays out: the prefix and
    every row's own tokens but its last. Where the model's cache cannot be merged
    (sliding-window or quantised layers) it holds the prefix alone; None when there is
    nothing to gain over generate()'s own prefill (no prefix and a single group), unless
    `always` (a cache of our own can have room reserved in it), or nothing to prefill."""
    own = [len(ids) - 1 for ids in suffixes]
    groups = length_groups(own, PASS_COST_TOKENS)
    if not prefix and ((len(groups) < 2 and not always) or not any(own)):
        return None
    shared = prefix_cache(model, prefix, device) if prefix else None
    if shared is not None and not _mergeable(shared):
        return _repeated(shared, len(suffixes))
    parts = []
    for group in groups:
        cache = _group_cache(model, shared, [suffixes[row][:-1] for row in group], pad_id, device)
        if not _mergeable(cache):
            return None if shared is None else _repeated(shared, len(suffixes))
        parts.append((group, cache))
    waiting = [row for row, length in enumerate(own) if length == 0]
    if waiting:  # only the last token of their own: the prefix, if any, and padding
        parts.append((waiting, None if shared is None else _repeated(shared, len(waiting))))
    return _merged(parts, len(prefix), max(own))


def _mergeable(cache: Any) -> bool:
    """Plain growing layers only: their states are whole [rows, heads, length, dim] tensors."""
    from transformers.cache_utils import DynamicLayer

    return all(type(layer) is DynamicLayer for layer in cache.layers)


def _repeated(cache: Any, rows: int) -> Any:
    repeated = copy.deepcopy(cache)
    repeated.batch_repeat_interleave(rows)
    return repeated


def _group_cache(model: Any, shared: Any, rows: list[list[int]], pad_id: int, device: str) -> Any:
    """One pass over a group of rows on top of the prefix: padded to the group's longest."""
    import torch

    start = 0 if shared is None else shared.get_seq_length()
    input_ids, own_mask = prefixed_and_padded([], rows, pad_id, device)
    # As generate() numbers them: the prefix takes 0..start-1, padding takes no position.
    position_ids = (start + own_mask.cumsum(-1) - 1).clamp(min=start)
    prefix_mask = own_mask.new_ones((len(rows), start))
    attention_mask = torch.cat([prefix_mask, own_mask], 1)
    output = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        cache=None if shared is None else _repeated(shared, len(rows)),
        use_cache=True,
        logits_to_keep=1,
    )
    return output.cache


def _merged(parts: list[tuple[list[int], Any]], start: int, width: int) -> Any:
    """One cache for every row, in the rows' own order: each part widened (zero columns
    between the prefix and its own columns) to the prefix plus `width`. A part without a
    cache (no prefix, nothing of its own to prefill) is all zero columns."""
    import torch

    order = [row for group, _ in parts for row in group]
    back = torch.tensor(sorted(range(len(order)), key=order.__getitem__))  # inverse of order
    merged = next(cache for _, cache in parts if cache is not None)
    for index, layer in enumerate(merged.layers):
        for name in ("keys", "values"):
            like = getattr(layer, name)
            blocks = [
                _widened(
                    like.new_zeros((len(group), like.shape[1], 0, like.shape[3]))
                    if cache is None
                    else getattr(cache.layers[index], name),
                    start,
                    start + width,
                )
                for group, cache in parts
            ]
            setattr(layer, name, torch.cat(blocks).index_select(0, back.to(like.device)))
    return merged


def _widened(states: Any, start: int, columns: int) -> Any:
    """[rows, heads, length, dim] states with zero columns inserted after the prefix."""
    import torch

    missing = columns - states.shape[2]
    if missing == 0:
        return states
    rows, heads, _, dim = states.shape
    padding = states.new_zeros((rows, heads, missing, dim))
    return torch.cat([states[:, :, :start], padding, states[:, :, start:]], dim=2)
