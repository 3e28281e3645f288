"""The batch prefill: groups of rows by length, and a merged cache that gives generate()
the same first step as its own padded prefill."""

import itertools
import random

import pytest

from assistant import prefill
from assistant.prefill import length_groups, prefilled_cache, prefixed_and_padded

from .tiny_models import tiny_qwen2

PAD = 2


def _cost(groups: list[list[int]], lengths: list[int], pass_cost: int) -> int:
    return sum(pass_cost + len(group) * max(lengths[row] for row in group) for group in groups)


def _least_cost_by_brute_force(lengths: list[int], pass_cost: int) -> int:
    rows = sorted((row for row, n in enumerate(lengths) if n > 0), key=lengths.__getitem__)
    best = None
    for cuts in itertools.product([False, True], repeat=max(len(rows) - 1, 0)):
        groups, current = [], [rows[0]] if rows else []
        for row, cut in zip(rows[1:], cuts, strict=True):
            if cut:
                groups.append(current)
                current = []
            current.append(row)
        groups += [current] if current else []
        cost = _cost(groups, lengths, pass_cost)
        best = cost if best is None else min(best, cost)
    return best or 0


def test_it_gives_rows_of_very_different_lengths_passes_of_their_own() -> None:
    assert length_groups([1, 1, 1, 50], pass_cost=32) == [[0, 1, 2], [3]]
    assert length_groups([5, 5, 6], pass_cost=32) == [[0, 1, 2]]  # padding is cheaper
    assert length_groups([0, 4, 0, 3], pass_cost=32) == [[3, 1]]  # nothing to prefill: no pass
    assert length_groups([0, 0], pass_cost=32) == []


@pytest.mark.parametrize("seed", range(20))
def test_its_groups_cost_the_least_of_every_way_to_cut_the_sorted_rows(seed: int) -> None:
    generator = random.Random(seed)
    lengths = [
        generator.choice([0, 1, 2, 5, 9, 30, 31, 60]) for _ in range(generator.randint(1, 9))
    ]
    pass_cost = generator.choice([1, 8, 32])

    groups = length_groups(lengths, pass_cost)

    assert sorted(row for group in groups for row in group) == [
        row for row, n in enumerate(lengths) if n > 0
    ]
    assert _cost(groups, lengths, pass_cost) == _least_cost_by_brute_force(lengths, pass_cost)


@pytest.fixture(scope="module")
def model():
    import torch

    torch.manual_seed(0)
    return tiny_qwen2(vocab_size=300).eval()


def _first_step_logits(model, prefix, suffixes, with_cache: bool):
    import torch

    input_ids, attention_mask = prefixed_and_padded(prefix, suffixes, PAD, "cpu")
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    with torch.inference_mode():
        if with_cache:
            cache = prefilled_cache(model, prefix, suffixes, PAD, "cpu")
            assert cache is not None
            assert cache.get_seq_length() == input_ids.shape[1] - 1  # all but the last column
            inputs["cache"] = cache
        output = model.generate(
            **inputs,
            max_new_tokens=1,
            do_sample=False,
            pad_token_id=PAD,
            output_logits=True,
            return_dict_in_generate=True,
        )
    return output.logits[0]


@pytest.mark.parametrize(
    "prefix",
    [[10, 11, 12, 13, 14, 15, 16, 17, 18], []],
    ids=["shared prefix", "no prefix"],
)
def test_the_merged_cache_gives_generate_the_same_first_step(model, monkeypatch, prefix) -> None:
    import torch

    monkeypatch.setattr(prefill, "PASS_COST_TOKENS", 2)  # several groups even when tiny
    suffixes = [
        [40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51],
        [60],  # nothing of its own to prefill: only its last token
        [70, 71, 72],
        [80, 81, 82, 83, 84, 85, 86, 87],
        [90, 91],
    ]

    expected = _first_step_logits(model, prefix, suffixes, with_cache=False)
    got = _first_step_logits(model, prefix, suffixes, with_cache=True)

    assert torch.allclose(got, expected, atol=1e-4)
    assert len(length_groups([len(ids) - 1 for ids in suffixes], 2)) >= 2


def test_one_group_without_a_prefix_is_left_to_generate(model) -> None:
    assert prefilled_cache(model, [], [[5, 6, 7], [8, 9, 10]], PAD, "cpu") is None


def test_one_group_is_prefilled_here_when_asked_to_always(model) -> None:
    cache = prefilled_cache(model, [], [[5, 6, 7], [8, 9, 10]], PAD, "cpu", always=True)

    assert cache is not None and cache.get_seq_length() == 2
    assert prefilled_cache(model, [], [[5], [8]], PAD, "cpu", always=True) is None  # nothing to do
