"""Per-GPU memory: weights, KV cache, recurrent state, activations, overheads; fit and capacity.

Formulas: shared/reference/modeling.md §2-4. Sharding: layer tensors split over pp stages; inside
a stage, expert tensors over ep (else tp), other matrices over tp, norms/routers replicated; KV
heads split until tp > n_kv, then replicate (vLLM `max(1, n_kv // tp)`); MLA latents replicate.
Engine budgets: vLLM `util x total - weights - activation peak - non-torch` (CUDA context and, in
0.10.x, CUDA graphs outside), SGLang `mem_fraction_static x total - weights - context`, TensorRT-LLM
`free fraction x (free after weights)`, llama.cpp context cells, transformers what it allocates.
Hybrid attention + linear-attention models follow vLLM's page alignment (modeling.md §4.2).
Every function reads a resolved Deployment (planner.core.deployment), whose per-layout figures
are computed once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .precision import FORMATS, class_bytes, kv_element_bytes
from .units import GIB

if TYPE_CHECKING:
    from .deployment import Deployment

REPLICATED = {"norm", "router", "attn_small", "linear_small"}
VOCAB = {"embed", "lm_head"}
EXPERT = {"expert_up", "expert_down"}
BLOCK = 16  # vLLM default block_size in tokens


@dataclass(frozen=True)
class Weights:
    per_gpu_bytes: float
    total_bytes: float       # the checkpoint as stored (whole model, one copy)
    cpu_bytes: float         # experts offloaded to host RAM (llama.cpp --n-cpu-moe)
    expert_bytes_per_layer_per_gpu: float  # one layer's routed experts on one GPU, all experts


@dataclass(frozen=True)
class KvGroup:
    """Layers of one attention kind: bytes one token adds to each layer, whole model and per GPU."""
    count: int
    kind: str
    window: int | None
    bytes_per_token: float
    bytes_per_token_per_gpu: float


def class_bytes_of(d: Deployment) -> dict[str, float]:
    return class_bytes(d.model, FORMATS[d.weight_format])


def weights(d: Deployment) -> Weights:
    m, tp, pp, ep = d.model, d.tp, d.pp, d.ep
    by_class = d.class_bytes
    total = sum(by_class.values())
    per_gpu = 0.0
    for cls, b in by_class.items():
        if cls in VOCAB:
            continue
        split = 1 if cls in REPLICATED else (ep if (cls in EXPERT and ep > 1) else tp)
        per_gpu += b / pp / split
    vocab = [by_class["embed"] / tp, by_class["lm_head"] / tp]
    per_gpu += sum(vocab) if pp == 1 else max(vocab)
    if d.spec_tokens and m.mtp_params:
        per_gpu += m.mtp_params * (total / max(1, m.total_params)) / tp
    expert_layer = (by_class["expert_up"] + by_class["expert_down"]) / max(1, m.moe_layers) / (ep if ep > 1 else tp)
    cpu = min(d.cpu_offload_experts, m.moe_layers) * expert_layer * tp
    return Weights(per_gpu - cpu / max(1, d.gpus), total, cpu, expert_layer)


def _kv_layer_token(d: Deployment, kind: str, per_gpu: bool) -> float:
    """Bytes one token adds to one layer's cache."""
    m, b = d.model, kv_element_bytes(d.kv_dtype, d.model)
    if kind == "mla":
        return (m.kv_lora_rank + m.qk_rope_head_dim) * b
    if kind == "linear":
        return 0.0
    heads = max(1, m.num_kv_heads // d.tp) if per_gpu else m.num_kv_heads
    return 2 * heads * m.head_dim * b


def kv_groups(d: Deployment) -> tuple[KvGroup, ...]:
    return tuple(KvGroup(g.count, g.attention, g.window, _kv_layer_token(d, g.attention, False),
                         _kv_layer_token(d, g.attention, True)) for g in d.model.layers)


def kv_bytes_per_token(d: Deployment, per_gpu: bool = False) -> float:
    """Full-context layers only (the contract figure: 24,576 B for Qwen3-Next in bf16)."""
    total = sum(g.count * (g.bytes_per_token_per_gpu if per_gpu else g.bytes_per_token)
                for g in d.kv_layers if g.kind in ("full", "mla"))
    return total / d.pp if per_gpu else total


def kv_bytes_at_context(d: Deployment, context: int, per_gpu: bool = True) -> float:
    """Cache bytes of one sequence of `context` tokens; sliding layers hold at most their window."""
    total = 0.0
    for g in d.kv_layers:
        tokens = min(context, (g.window or context) + BLOCK) if g.kind == "sliding" else context
        total += g.count * tokens * (g.bytes_per_token_per_gpu if per_gpu else g.bytes_per_token)
    return total / d.pp if per_gpu else total


def _conv_channels(m) -> int:
    """Channels of the Gated DeltaNet short convolution: q and k (key heads) plus v (value heads)."""
    return 2 * m.linear_num_key_heads * m.linear_key_head_dim + m.linear_num_value_heads * m.linear_value_head_dim


def state_dtype_bytes(d: Deployment) -> tuple[float, float]:
    """(conv, ssm) element bytes: the engine's default (llama.cpp F32, SGLang F32 SSM) or the user's."""
    conv = 4.0 if d.model.dtype == "float32" else 2.0
    if d.engine.state_fp32 == "all":
        return 4.0, 4.0
    if d.state_dtype == "fp32" or (d.state_dtype == "auto" and d.engine.state_fp32 == "ssm"):
        return conv, 4.0
    return conv, conv


def state_bytes_per_layer(d: Deployment, per_gpu: bool) -> float:
    """Gated DeltaNet conv + recurrent state of one sequence in one layer (modeling.md §3.4)."""
    m = d.model
    if not m.layers_of("linear"):
        return 0.0
    tp = d.tp if per_gpu else 1
    conv_dim = _conv_channels(m)
    b_conv, b_ssm = state_dtype_bytes(d)
    conv = (m.linear_conv_kernel - 1 + d.spec_tokens) * conv_dim / tp * b_conv
    ssm = m.linear_num_value_heads / tp * m.linear_value_head_dim * m.linear_key_head_dim * b_ssm
    return conv + ssm


def state_bytes_per_sequence(d: Deployment, per_gpu: bool = False) -> float:
    total = d.model.layers_of("linear") * state_bytes_per_layer(d, per_gpu)
    return total / d.pp if per_gpu else total


@dataclass(frozen=True)
class HybridPages:
    """vLLM's shared page layout for attention + Mamba-style layers (modeling.md §4.2)."""
    block_size: int
    page_bytes: float
    group_size: int
    attn_groups: int
    state_groups: int


def hybrid_pages(d: Deployment) -> HybridPages | None:
    m = d.model
    n_lin, n_att = m.layers_of("linear"), m.layers_of("full")
    if not (n_lin and n_att) or not d.engine.hybrid_page_alignment:
        return None
    attn_1tok = _kv_layer_token(d, "full", per_gpu=True)
    state_page = state_bytes_per_layer(d, per_gpu=True)
    block = BLOCK * math.ceil(state_page / (BLOCK * attn_1tok))
    small, large = min(n_lin, n_att), max(n_lin, n_att)
    group = large if large < 1.5 * small else small
    return HybridPages(block, block * attn_1tok, group, math.ceil(n_att / group), math.ceil(n_lin / group))


def activation_bytes(d: Deployment, batch: int) -> float:
    """Profile-run peak: batched tokens x per-token buffers, plus fp32 logits of the sampler rows."""
    m, p = d.model, d.engine
    if p.budget == "dynamic":  # generate(): logits of one step plus the new token's buffers
        return batch * (m.vocab_size * 4 + 8 * m.hidden_size * 2)
    if p.budget == "cells":  # llama.cpp compute buffer: ubatch 512 x (hidden + vocab logits) in fp32
        return 512 * (m.hidden_size * 4 * 4 + m.vocab_size * 4)
    conv_dim = _conv_channels(m)
    per_token = p.activation_bytes_per_token_h * m.hidden_size
    if m.layers_of("linear"):
        per_token += p.activation_linear_attn_factor * 4 * conv_dim / d.tp
    sampler = d.max_num_seqs * m.vocab_size * 4 * 2 if p.activation_bytes_per_token_h else 0.0
    return d.max_num_batched_tokens * per_token + sampler


def overheads(d: Deployment) -> tuple[float, float, float]:
    """(CUDA context, communication buffers, CUDA graphs) in bytes per GPU."""
    p = d.engine
    comm = p.non_torch_gib_multi if d.tp * d.ep > 1 or d.dp > 1 else p.non_torch_gib_single
    graphs = p.cudagraph_gib_per_layer * d.model.num_layers / d.pp
    return p.cuda_context_gib * GIB, comm * GIB, graphs * GIB


@dataclass(slots=True)  # built for every configuration of a sweep: no frozen-setattr cost
class Budget:
    """Per-GPU memory plan of one engine; every part in bytes."""
    weights: float
    activation: float
    overhead: float          # CUDA context, communication buffers, CUDA graphs
    kv_pool: float           # paged KV cache (and, for hybrids, state pages); may be negative
    limit: float             # what the GPU offers (torch-visible memory)
    request_bytes: float     # one request at the workload's context, as the engine reserves it

    @property
    def total(self) -> float:
        return self.weights + self.activation + self.overhead + max(self.kv_pool, 0.0)


def _blocks_needed(d: Deployment, context: int) -> int:
    pg = d.pages
    return pg.attn_groups * math.ceil(context / pg.block_size) + pg.state_groups * (1 + d.spec_tokens)


def request_bytes(d: Deployment, context: int) -> float:
    """Bytes one running request holds at `context` tokens, per GPU."""
    if d.pages:
        return _blocks_needed(d, context) * d.pages.page_bytes * d.pages.group_size
    kv = kv_bytes_at_context(d, BLOCK * math.ceil(context / BLOCK) if d.engine.paged else context)
    return kv + d.state_bytes_per_sequence_per_gpu


def budget(d: Deployment, batch: int, context: int) -> Budget:
    """The engine's plan for `batch` requests of `context` tokens (batch matters for dynamic engines)."""
    p, w = d.engine, d.weights.per_gpu_bytes
    limit = d.limit_bytes
    act = activation_bytes(d, batch)
    context_bytes, comm, graphs = d.overheads
    overhead = context_bytes + comm + graphs
    per_request = request_bytes(d, context)
    frac = d.memory_fraction
    if p.budget == "fraction_of_total":      # vLLM: context and graphs sit outside the fraction
        pool = frac * limit - w - act - comm
    elif p.budget == "fraction_static":      # SGLang: weights + pools fill the static fraction
        pool = frac * limit - w - overhead
    elif p.budget == "fraction_of_free":     # TensorRT-LLM: a fraction of what is free after loading
        pool = frac * (limit - w - act - overhead)
    else:                                    # llama.cpp cells / transformers: exactly what is used
        pool = batch * per_request
    return Budget(w, act, overhead, pool, limit, per_request)


def _room(d: Deployment, b: Budget) -> float:
    """Bytes per GPU that requests can take: the pool, or what is free for engines that allocate per request
    (transformers' step buffers grow with the batch, so they count per request instead)."""
    if d.engine.allocates_per_request:
        fixed = 0.0 if d.engine.budget == "dynamic" else b.activation
        return b.limit - b.weights - b.overhead - fixed
    return b.kv_pool


def _per_request(d: Deployment, context: int) -> float:
    """What one more running request costs an engine that allocates per request (or the paged pool)."""
    extra = activation_bytes(d, 1) if d.engine.budget == "dynamic" else 0.0
    return request_bytes(d, context) + extra


def max_concurrency(d: Deployment, b: Budget, context: int) -> int:
    """Requests of `context` tokens that fit at once, over all attention replicas."""
    room = _room(d, b)
    if b.kv_pool <= 0 or room <= 0:
        return 0
    if d.pages and not d.engine.allocates_per_request:
        per_replica = int(room // (d.pages.page_bytes * d.pages.group_size)) // _blocks_needed(d, context)
    else:
        per_replica = int(room // _per_request(d, context))
    return min(per_replica, d.max_num_seqs) * d.dp


def kv_pool_tokens(d: Deployment, b: Budget) -> int:
    """Token slots of the pool as the engine logs them (vLLM 0.10: blocks // groups x block size)."""
    if b.kv_pool <= 0:
        return 0
    if d.pages:
        pg = d.pages
        blocks = int(b.kv_pool // (pg.page_bytes * pg.group_size))
        return blocks // (pg.attn_groups + pg.state_groups) * pg.block_size * d.dp
    per_token = d.kv_bytes_per_token_per_gpu or kv_bytes_at_context(d, 1)
    if not per_token:
        return 0
    tokens = int(b.kv_pool // per_token)
    if d.engine.pool_tokens_in_blocks:
        tokens = tokens // BLOCK * BLOCK
    return tokens * d.dp


def _tokens_within(d: Deployment, nbytes: float) -> float:
    """Largest context whose KV (sliding layers capped at their window) fits in `nbytes` per GPU."""
    caps = sorted(((g.window + BLOCK), g.count * g.bytes_per_token_per_gpu / d.pp)
                  for g in d.kv_layers if g.kind == "sliding" and g.window)
    slope = sum(g.count * g.bytes_per_token_per_gpu for g in d.kv_layers) / d.pp
    x = used = 0.0
    for cap, group_slope in caps:
        if used + slope * (cap - x) >= nbytes:
            break
        used, x, slope = used + slope * (cap - x), cap, slope - group_slope
    return x + (nbytes - used) / slope if slope > 1e-12 else math.inf


def max_context(d: Deployment, b: Budget, concurrency: int) -> int:
    """Longest context at which `concurrency` requests still fit (0 if none); the inverse of request_bytes."""
    per_replica = math.ceil(concurrency / d.dp)
    room = _room(d, b)
    if b.kv_pool <= 0 or room <= 0 or per_replica > d.max_num_seqs or max_concurrency(d, b, 1) < concurrency:
        return 0
    ceiling = d.model.max_context or 10_000_000
    if d.pages and not d.engine.allocates_per_request:
        pg = d.pages
        blocks = int(room // (pg.page_bytes * pg.group_size)) // per_replica - pg.state_groups * (1 + d.spec_tokens)
        return max(0, min(ceiling, blocks // pg.attn_groups * pg.block_size))
    share = room / per_replica - d.state_bytes_per_sequence_per_gpu - (_per_request(d, 0) - request_bytes(d, 0))
    tokens = _tokens_within(d, share)
    if d.engine.paged:
        tokens = math.floor(tokens / BLOCK) * BLOCK if math.isfinite(tokens) else tokens
    return int(max(0, min(ceiling, math.floor(tokens) if math.isfinite(tokens) else ceiling)))
