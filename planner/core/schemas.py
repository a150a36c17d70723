"""Frozen data types shared by every module: hardware, model architecture, results.

A model is data (STYLE rule 2): groups of identical layers, each with an attention kind
(full, sliding, mla, linear) and an MLP kind (dense or MoE), plus its parameter count by tensor
class. Results are breakdowns whose parts sum to their totals (STYLE rule 3).
"""
from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AttentionKind = Literal["full", "sliding", "mla", "linear"]

# Tensor classes. Which of them a weight format quantizes is decided in precision.py.
TENSOR_CLASSES = (
    "embed", "lm_head", "attn", "attn_small", "linear_attn", "linear_small", "mlp_up", "mlp_down",
    "expert_up", "expert_down", "shared_up", "shared_down", "router", "norm", "vision",
)


class FrozenDict(dict):
    """A dict that refuses changes: catalog specs are shared by every caller and browser session."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("catalog figures are read-only; build a new spec with model_copy(update=...)")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):  # pickle and copy rebuild it whole (st.cache_data pickles scenarios)
        return FrozenDict, (dict(self),)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LayerGroup(Frozen):
    """`count` identical decoder layers."""
    count: int = Field(ge=1)
    attention: AttentionKind
    moe: bool
    window: int | None = None  # sliding-window length in tokens, for attention == "sliding"


class ModelSpec(Frozen):
    """Architecture facts of one model, read from its config.json."""
    id: str
    architecture: str
    hidden_size: int
    vocab_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int = 0          # dense MLP width
    num_experts: int = 0
    experts_per_token: int = 0
    expert_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0  # all shared experts of a layer together
    kv_lora_rank: int = 0               # MLA latent
    qk_rope_head_dim: int = 0
    linear_num_key_heads: int = 0       # Gated DeltaNet
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0
    tied_embeddings: bool = False
    max_context: int = 0
    dtype: str = "bfloat16"
    default_weights: str = "bf16"       # the checkpoint's own format
    layers: tuple[LayerGroup, ...]
    params: dict[str, int]              # whole model, by tensor class (TENSOR_CLASSES)
    mtp_params: int = 0                 # multi-token-prediction head, loaded only for MTP decoding
    weights_bytes_exact: int | None = None  # the checkpoint's real bytes in `default_weights`, when a file tells
    notes: tuple[str, ...] = ()

    @field_validator("params", mode="after")
    @classmethod
    def _read_only(cls, v: dict) -> dict:
        return FrozenDict(v)

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy without the derived figures cached on this spec (an update may change what they sum)."""
        if update and "params" in update:
            update = {**update, "params": FrozenDict(update["params"])}
        copy = super().model_copy(update=update, deep=deep)
        for name in _DERIVED:
            copy.__dict__.pop(name, None)
        return copy

    @cached_property
    def total_params(self) -> int:
        return sum(self.params.values())

    @cached_property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @cached_property
    def moe_layers(self) -> int:
        return sum(g.count for g in self.layers if g.moe)

    @cached_property
    def params_per_expert(self) -> int:
        if not self.moe_layers:
            return 0
        expert = self.params["expert_up"] + self.params["expert_down"]
        return expert // (self.moe_layers * self.num_experts)

    @cached_property
    def active_params(self) -> int:
        """Parameters one token touches (embedding row counted as the whole table, as published)."""
        expert = self.params["expert_up"] + self.params["expert_down"]
        if not self.num_experts:
            return self.total_params
        return self.total_params - expert + expert * self.experts_per_token // self.num_experts

    def layers_of(self, kind: AttentionKind) -> int:
        return self._layer_counts.get(kind, 0)

    @cached_property
    def _layer_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for g in self.layers:
            counts[g.attention] = counts.get(g.attention, 0) + g.count
        return counts


_DERIVED = ("total_params", "is_moe", "moe_layers", "params_per_expert", "active_params", "_layer_counts")


class GpuSpec(Frozen):
    """One accelerator of data/gpus.csv; figures are per GPU."""
    id: str
    name: str
    vendor: str
    architecture: str
    generation: str                     # ampere, ada, hopper, blackwell, cdna3, cdna4, apple, rdna, cpu
    memory_gb_vendor: float
    memory_gib_usable: float            # what torch/the engine can allocate
    mem_bw_tbps: float
    bf16_dense_tflops: float
    fp8_dense_tflops: float | None
    int8_dense_tops: float | None
    fp4_dense_tflops: float | None
    native_fp8: bool
    native_fp4: bool
    scaleup_interconnect: str
    scaleup_bw_gbps_unidir: float | None
    max_gpus_scaleup_domain: int
    gpus_per_node: int
    tdp_w: float | None
    price_usd_gpu_hr: float | None
    price_note: str
    price_is_list: bool = True          # False when the catalog price is derived or undated, not a dated list price
    spec_source: str
    notes: str

    @property
    def scaleup_fabric(self) -> str:
        """`mesh` when every GPU links straight to every peer (AMD Infinity Fabric), else `switch` (NVSwitch, PCIe)."""
        return "mesh" if "full mesh" in self.scaleup_interconnect.lower() else "switch"
