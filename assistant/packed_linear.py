"""Linear layers whose weights oneDNN packs once, for float32 inference on the CPU.

A plain `nn.Linear` on the CPU multiplies through MKL's sgemm, which repacks the whole
weight matrix on every call. For one row that hardly matters (the call reads the weights
once either way), but at decoding batch sizes (8 to 32 rows) the repacking costs more than
the multiplication itself: on the 2-core AVX2 machine a batch-8 decoding step of SmolLM2
took 1.8 times a single one, and the 49152 x 576 output layer alone took 29 ms for 8 rows
against 10 ms for a single row. oneDNN takes the weights packed ahead of time
(`mkldnn._reorder_linear_weight`) and then runs at any row count without repacking: the
output layer for 8 rows drops to 10 ms and a batch-8 decoding step to about 1.3 times a
single one. The single row gets a little faster too.

The packed copy is a second copy of every linear weight (about 540 MB more for SmolLM2),
kept beside the original because PEFT adapters, the tied embedding and anything that reads
`weight` still use it. Only float32 CPU models are packed; quantised and GPU models keep
their own kernels.
"""

import logging
from typing import Any

import torch
from torch import nn

log = logging.getLogger(__name__)

# The row count oneDNN picks its packed layout for. Any count runs on it afterwards; a
# layout for 8 or 32 rows serves 1 to several hundred rows about equally well, while one
# packed for a single row is slow for batches.
PACKED_FOR_ROWS = 32


class PackedLinear(nn.Linear):
    """An nn.Linear (same weight Parameter, so ties and adapters keep working) that
    multiplies with oneDNN's pre-packed copy of the weight whenever no gradient is wanted."""

    packed_weight: torch.Tensor

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "PackedLinear":
        packed = cls.__new__(cls)
        nn.Module.__init__(packed)
        packed.in_features, packed.out_features = linear.in_features, linear.out_features
        packed.weight = linear.weight  # the same Parameter: a tied embedding stays tied
        packed.bias = linear.bias
        # A plain attribute, not a buffer: it stays out of state_dict() and .to(). Serving
        # never changes base weights in place; anything that did would have to repack.
        packed.packed_weight = torch.ops.mkldnn._reorder_linear_weight(
            linear.weight.detach(), PACKED_FOR_ROWS
        )
        return packed

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and (input.requires_grad or self.weight.requires_grad):
            return super().forward(input)  # the packed op has no backward
        output: torch.Tensor = torch.ops.mkldnn._linear_pointwise(
            input, self.packed_weight, self.bias, "none", [], ""
        )
        return output


def can_pack(model: Any) -> bool:
    """Float32 weights on the CPU, and a torch built with oneDNN."""
    parameter = next(model.parameters(), None)
    return (
        parameter is not None
        and parameter.device.type == "cpu"
        and parameter.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_reorder_linear_weight")
    )


def pack_linear_layers(model: nn.Module) -> int:
    """Swap every float32 nn.Linear of the model for a PackedLinear; returns how many.

    Call it on a base model before adapters are loaded: PEFT then wraps the packed layers.
    """
    targets = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is nn.Linear and child.weight.dtype == torch.float32
    ]
    for parent, name, child in targets:
        setattr(parent, name, PackedLinear.from_linear(child))
    log.info("Packed %d linear layers for oneDNN", len(targets))
    return len(targets)
