"""Linear layers on oneDNN's pre-packed weights: same results as nn.Linear, ties kept,
gradients still possible, and the loader packs only float32 CPU models unless told not to."""

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from assistant.packed_linear import PackedLinear, can_pack, pack_linear_layers  # noqa: E402

from .tiny_models import tiny_qwen2  # noqa: E402

pytestmark = pytest.mark.skipif(
    not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN"
)


def _tiny_model(tied: bool):
    torch.manual_seed(0)
    return tiny_qwen2(vocab_size=300, tied=tied).eval()


@pytest.mark.parametrize("shape", [(1, 48), (8, 48), (32, 48), (4, 1, 48), (2, 7, 48)])
@pytest.mark.parametrize("bias", [True, False])
def test_a_packed_layer_gives_what_the_plain_one_gives(shape, bias) -> None:
    torch.manual_seed(1)
    plain = torch.nn.Linear(48, 96, bias=bias)
    packed = PackedLinear.from_linear(plain)
    inputs = torch.randn(*shape)

    with torch.inference_mode():
        expected, got = plain(inputs), packed(inputs)

    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    assert packed.weight is plain.weight
    assert "packed_weight" not in packed.state_dict()


def test_packing_a_model_keeps_its_tied_output_layer_and_its_logits() -> None:
    model = _tiny_model(tied=True)
    input_ids = torch.randint(0, 300, (3, 11))
    with torch.inference_mode():
        before = model(input_ids).logits

    count = pack_linear_layers(model)

    # 7 projections per layer and the output layer.
    assert count == 2 * 7 + 1
    assert isinstance(model.lm_head, PackedLinear)
    assert model.lm_head.weight is model.model.embed_tokens.weight
    with torch.inference_mode():
        after = model(input_ids).logits
    assert torch.allclose(after, before, atol=1e-4)
    assert pack_linear_layers(model) == 0  # already packed: nothing left to swap


def test_gradients_still_flow_through_a_packed_layer() -> None:
    torch.manual_seed(2)
    plain = torch.nn.Linear(16, 8)
    packed = PackedLinear.from_linear(torch.nn.Linear(16, 8))
    packed.load_state_dict(plain.state_dict())
    inputs = torch.randn(4, 16)

    plain(inputs).sum().backward()
    packed(inputs).sum().backward()

    assert torch.allclose(packed.weight.grad, plain.weight.grad, atol=1e-6)


def test_only_float32_cpu_models_can_be_packed() -> None:
    model = _tiny_model(tied=False)
    assert can_pack(model)
    assert not can_pack(model.to(torch.bfloat16))
    assert not can_pack(torch.nn.Module())  # no weights at all


@pytest.mark.parametrize("setting, packed", [(None, True), ("0", False)])
def test_the_loader_packs_the_served_model_unless_turned_off(
    tmp_path: Path, smollm2_path: Path, monkeypatch, setting, packed
) -> None:
    from transformers import AutoTokenizer

    from assistant.loading import _load

    folder = tmp_path / "tiny"
    _tiny_model(tied=True).save_pretrained(folder)
    AutoTokenizer.from_pretrained(smollm2_path, local_files_only=True).save_pretrained(folder)
    monkeypatch.setenv("ASSISTANT_CPU_BF16", "0")  # packing is for float32 models
    if setting is None:
        monkeypatch.delenv("ASSISTANT_PACK_WEIGHTS", raising=False)
    else:
        monkeypatch.setenv("ASSISTANT_PACK_WEIGHTS", setting)

    loaded = _load(str(folder), "none")

    assert isinstance(loaded.model.lm_head, PackedLinear) is packed
    assert isinstance(loaded.model.model.layers[0].mlp.up_proj, PackedLinear) is packed
