"""Per-GPU memory: weights, KV cache, recurrent state, activations, overheads; fit and capacity.

Formulas: shared/reference/modeling.md §2-4. Sharding: layer tensors split over pp stages; inside
a stage, expert tensors over ep (else tp), other matrices over tp, norms/routers replicated; KV
heads split until tp > n_kv, then replicate (vLLM `max(1, n_kv // tp)`); MLA latents replicate.
Engine budgets: vLLM `util x total - weights - activation peak - non-torch` (CUDA context and, in
0.10.x, CUDA graphs outside), SGLang `mem_fraction_static x total - weights - context`, TensorRT-LLM
`free fraction x (free after weights)`, llama.cpp context cells, transformers what it allocates.
Hybrid attention + linear-attention models follow vLLM's page alignment (modeling.md §4.2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .engines import EngineProfile, profile, sglang_mem_fraction
from .precision import FORMATS, class_bytes, kv_element_bytes
from .scenario import Scenario
from .units import GIB

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


def weights(s: Scenario) -> Weights:
    m, tp, pp, ep = s.model_spec, s.tp_degree, s.pp_degree, s.ep_degree
    by_class = class_bytes(m, FORMATS[s.weight_format])
    total = sum(by_class.values())
    layer_frac = 1 / pp
    per_gpu = 0.0
    for cls, b in by_class.items():
        if cls in VOCAB:
            continue
        split = 1 if cls in REPLICATED else (ep if (cls in EXPERT and ep > 1) else tp)
        per_gpu += b * layer_frac / split
    vocab = [by_class["embed"] / tp, by_class["lm_head"] / tp]
    per_gpu += sum(vocab) if pp == 1 else max(vocab)
    if s.spec_tokens and m.mtp_params:
        per_gpu += m.mtp_params * (sum(by_class.values()) / max(1, m.total_params)) / tp
    expert_layer = (by_class["expert_up"] + by_class["expert_down"]) / max(1, m.moe_layers) / (ep if ep > 1 else tp)
    cpu = min(s.cpu_offload_experts, m.moe_layers) * expert_layer * tp
    return Weights(per_gpu - cpu / max(1, s.gpus), total, cpu, expert_layer)


def kv_heads_per_gpu(s: Scenario) -> int:
    return max(1, s.model_spec.num_kv_heads // s.tp_degree)


def kv_bytes_per_layer_token(s: Scenario, kind: str, per_gpu: bool) -> float:
    """Bytes one token adds to one layer's cache."""
    m, b = s.model_spec, kv_element_bytes(s.kv_dtype, s.model_spec)
    if kind == "mla":
        return (m.kv_lora_rank + m.qk_rope_head_dim) * b
    if kind == "linear":
        return 0.0
    heads = kv_heads_per_gpu(s) if per_gpu else m.num_kv_heads
    return 2 * heads * m.head_dim * b


def kv_bytes_per_token(s: Scenario, per_gpu: bool = False) -> float:
    """Full-context layers only (the contract figure: 24,576 B for Qwen3-Next in bf16)."""
    total = sum(g.count * kv_bytes_per_layer_token(s, g.attention, per_gpu)
                for g in s.model_spec.layers if g.attention in ("full", "mla"))
    return total / s.pp_degree if per_gpu else total


def kv_bytes_at_context(s: Scenario, context: int, per_gpu: bool = True) -> float:
    """Cache bytes of one sequence of `context` tokens; sliding layers hold at most their window."""
    total = 0.0
    for g in s.model_spec.layers:
        tokens = min(context, (g.window or context) + BLOCK) if g.attention == "sliding" else context
        total += g.count * tokens * kv_bytes_per_layer_token(s, g.attention, per_gpu)
    return total / s.pp_degree if per_gpu else total


def state_dtype_bytes(s: Scenario) -> tuple[float, float]:
    """(conv, ssm) element bytes: llama.cpp keeps F32; SGLang defaults the SSM state to fp32."""
    if s.engine == "llamacpp":
        return 4.0, 4.0
    conv = 4.0 if s.model_spec.dtype == "float32" else 2.0
    if s.state_dtype == "fp32" or (s.state_dtype == "auto" and s.engine == "sglang"):
        return conv, 4.0
    return conv, conv


def state_bytes_per_layer(s: Scenario, per_gpu: bool) -> float:
    """Gated DeltaNet conv + recurrent state of one sequence in one layer (modeling.md §3.4)."""
    m = s.model_spec
    if not m.layers_of("linear"):
        return 0.0
    tp = s.tp_degree if per_gpu else 1
    conv_dim = 2 * m.linear_num_key_heads * m.linear_key_head_dim + m.linear_num_value_heads * m.linear_value_head_dim
    b_conv, b_ssm = state_dtype_bytes(s)
    conv = (m.linear_conv_kernel - 1 + s.spec_tokens) * conv_dim / tp * b_conv
    ssm = m.linear_num_value_heads / tp * m.linear_value_head_dim * m.linear_key_head_dim * b_ssm
    return conv + ssm


def state_bytes_per_sequence(s: Scenario, per_gpu: bool = False) -> float:
    total = s.model_spec.layers_of("linear") * state_bytes_per_layer(s, per_gpu)
    return total / s.pp_degree if per_gpu else total


@dataclass(frozen=True)
class HybridPages:
    """vLLM's shared page layout for attention + Mamba-style layers (modeling.md §4.2)."""
    block_size: int
    page_bytes: float
    group_size: int
    attn_groups: int
    state_groups: int


def hybrid_pages(s: Scenario) -> HybridPages | None:
    m = s.model_spec
    n_lin, n_att = m.layers_of("linear"), m.layers_of("full")
    if not (n_lin and n_att) or s.engine != "vllm":
        return None
    attn_1tok = kv_bytes_per_layer_token(s, "full", per_gpu=True)
    state_page = state_bytes_per_layer(s, per_gpu=True)
    block = BLOCK * math.ceil(state_page / (BLOCK * attn_1tok))
    small, large = min(n_lin, n_att), max(n_lin, n_att)
    group = large if large < 1.5 * small else small
    return HybridPages(block, block * attn_1tok, group, math.ceil(n_att / group), math.ceil(n_lin / group))


def activation_bytes(s: Scenario, p: EngineProfile, batch: int) -> float:
    """Profile-run peak: batched tokens x per-token buffers, plus fp32 logits of the sampler rows."""
    m, gpu = s.model_spec, s.gpu_spec
    if p.budget == "dynamic":  # generate(): logits of one step plus the new token's buffers
        return batch * (m.vocab_size * 4 + 8 * m.hidden_size * 2)
    if p.budget == "cells":  # llama.cpp compute buffer: ubatch 512 x (hidden + vocab logits) in fp32
        return 512 * (m.hidden_size * 4 * 4 + m.vocab_size * 4)
    tokens = s.max_num_batched_tokens or p.max_num_batched_tokens(gpu)
    seqs = s.max_num_seqs or p.max_num_seqs(gpu)
    conv_dim = 2 * m.linear_num_key_heads * m.linear_key_head_dim + m.linear_num_value_heads * m.linear_value_head_dim
    per_token = p.activation_bytes_per_token_h * m.hidden_size
    if m.layers_of("linear"):
        per_token += p.activation_linear_attn_factor * 4 * conv_dim / s.tp_degree
    sampler = seqs * m.vocab_size * 4 * 2 if p.activation_bytes_per_token_h else 0.0
    return tokens * per_token + sampler


@dataclass(frozen=True)
class Budget:
    """Per-GPU memory plan of one engine; every part in bytes."""
    weights: float
    activation: float
    overhead: float          # CUDA context, communication buffers, CUDA graphs
    kv_pool: float           # paged KV cache (and, for hybrids, state pages); may be negative
    limit: float             # what the GPU offers (torch-visible memory)
    request_bytes: float     # one request at the workload's context, as the engine reserves it
    per_request_cap: int     # engine running-request cap per replica
    pages: HybridPages | None
    plan: Weights            # the weights behind `weights` (checkpoint total, CPU-offloaded bytes)

    @property
    def total(self) -> float:
        return self.weights + self.activation + self.overhead + max(self.kv_pool, 0.0)


def _overheads(s: Scenario, p: EngineProfile) -> tuple[float, float, float]:
    """(CUDA context, communication buffers, CUDA graphs) in bytes per GPU."""
    comm = p.non_torch_gib_multi if s.tp_degree * s.ep_degree > 1 or s.dp_degree > 1 else p.non_torch_gib_single
    graphs = p.cudagraph_gib_per_layer * s.model_spec.num_layers / s.pp_degree
    return p.cuda_context_gib * GIB, comm * GIB, graphs * GIB


def memory_fraction(s: Scenario, p: EngineProfile) -> float:
    if s.gpu_memory_utilization is not None:
        return s.gpu_memory_utilization
    return sglang_mem_fraction(s.tp_degree) if p.id == "sglang" else p.default_memory_fraction


def request_bytes(s: Scenario, context: int, pages: HybridPages | None) -> float:
    """Bytes one running request holds at `context` tokens, per GPU."""
    if pages:
        blocks = pages.attn_groups * math.ceil(context / pages.block_size) + pages.state_groups * (1 + s.spec_tokens)
        return blocks * pages.page_bytes * pages.group_size
    paged = s.engine in ("vllm", "sglang", "trtllm")  # whole pages of BLOCK tokens
    kv = kv_bytes_at_context(s, BLOCK * math.ceil(context / BLOCK) if paged else context)
    return kv + state_bytes_per_sequence(s, per_gpu=True)


def budget(s: Scenario, batch: int, context: int) -> Budget:
    """The engine's plan for `batch` requests of `context` tokens (batch matters for dynamic engines)."""
    p, gpu = profile(s.engine), s.gpu_spec
    w = weights(s)
    limit = gpu.memory_gib_usable * GIB
    act = activation_bytes(s, p, batch)
    context_bytes, comm, graphs = _overheads(s, p)
    overhead = context_bytes + comm + graphs
    pages = hybrid_pages(s)
    per_request = request_bytes(s, context, pages)
    cap = s.max_num_seqs or p.max_num_seqs(gpu)
    frac = memory_fraction(s, p)
    if p.budget == "fraction_of_total":      # vLLM: context and graphs sit outside the fraction
        pool = frac * limit - w.per_gpu_bytes - act - comm
    elif p.budget == "fraction_static":      # SGLang: weights + pools fill the static fraction
        pool = frac * limit - w.per_gpu_bytes - overhead
    elif p.budget == "fraction_of_free":     # TensorRT-LLM: a fraction of what is free after loading
        pool = frac * (limit - w.per_gpu_bytes - act - overhead)
    else:                                    # llama.cpp cells / transformers: exactly what is used
        pool = batch * per_request
    return Budget(w.per_gpu_bytes, act, overhead, pool, limit, per_request, cap, pages, w)


def max_concurrency(s: Scenario, b: Budget, context: int) -> int:
    """Requests of `context` tokens that fit at once, over all attention replicas."""
    if b.kv_pool <= 0:
        return 0
    if s.engine in ("llamacpp", "transformers"):
        free = b.limit - b.weights - b.overhead - b.activation
        per_replica = int(free // request_bytes(s, context, b.pages)) if free > 0 else 0
    elif b.pages:
        blocks = int(b.kv_pool // (b.pages.page_bytes * b.pages.group_size))
        need = b.pages.attn_groups * math.ceil(context / b.pages.block_size) + b.pages.state_groups * (1 + s.spec_tokens)
        per_replica = blocks // need
    else:
        per_replica = int(b.kv_pool // request_bytes(s, context, None))
    return min(per_replica, b.per_request_cap) * s.dp_degree


def kv_pool_tokens(s: Scenario, b: Budget) -> int:
    """Token slots of the pool as the engine logs them (vLLM 0.10: blocks // groups x block size)."""
    if b.kv_pool <= 0:
        return 0
    if b.pages:
        blocks = int(b.kv_pool // (b.pages.page_bytes * b.pages.group_size))
        return blocks // (b.pages.attn_groups + b.pages.state_groups) * b.pages.block_size * s.dp_degree
    per_token = kv_bytes_per_token(s, per_gpu=True) or kv_bytes_at_context(s, 1)
    if not per_token:
        return 0
    tokens = int(b.kv_pool // per_token)
    if s.engine == "vllm":
        tokens = tokens // BLOCK * BLOCK
    return tokens * s.dp_degree


def max_context(s: Scenario, b: Budget, concurrency: int) -> int:
    """Longest context at which `concurrency` requests still fit (0 if none)."""
    if max_concurrency(s, b, 1) < concurrency:
        return 0
    lo, hi = 1, s.model_spec.max_context or 10_000_000
    if s.engine not in ("llamacpp", "transformers") and not b.pages:
        per_token = kv_bytes_per_token(s, per_gpu=True)  # full-context layers grow without bound
        if per_token:
            hi = min(hi, int(b.kv_pool / per_token) + BLOCK)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if max_concurrency(s, b, mid) >= concurrency:
            lo = mid
        else:
            hi = mid - 1
    return lo
