"""Decode step and prefill times from a per-operator roofline plus fixed costs.

shared/reference/modeling.md §5: decode reads the dense weights, the union of experts the batch
touches E(1-(1-k/E)^B), the KV cache at the real context and the recurrent state (read + write);
each operator takes max(bytes / (η_m BW), FLOPs / (η_c F)); tensor parallelism adds two
all-reduces per layer (α + 2(n-1)/n M / busbw), expert parallelism two all-to-alls per MoE layer,
and every step pays a fixed per-layer and per-step cost. Prefill is the same sum over chunks of
at most max_num_batched_tokens tokens, with causal attention FLOPs 2 n_q d_h L^2 per layer.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import engines
from .engines import EngineProfile, profile
from .memory import VOCAB, kv_bytes_at_context, state_bytes_per_sequence, weights
from .precision import FORMATS, class_bytes, compute_tflops, effective_format, kernel_class
from .scenario import Scenario
from .units import TB, TFLOP, US, MS

EXPERT = ("expert_up", "expert_down")
SMALL = ("norm", "router", "attn_small", "linear_small")
PCIE_BUSBW_GBPS = 20.0   # PCIe pairs without NVLink: ~20-50 GB/s (modeling.md §5.5)
NVLINK_BUSBW_SHARE = 0.8  # ring collectives reach ~80 % of unidirectional NVLink (gpus.md §5)


def expert_union(num_experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts touched by `tokens` tokens with uniform top-k routing."""
    if not num_experts:
        return 0.0
    return num_experts * (1 - (1 - top_k / num_experts) ** tokens)


@dataclass(frozen=True)
class Step:
    """One forward step on one GPU, in seconds, by component (they sum to `total`).

    `cpu_wait` is the time the GPU idles while the engine's CPU side (scheduling, sampling, output
    streaming for every running sequence) finishes; the two overlap, so only the excess counts."""
    weights: float
    attention: float
    state: float
    communication: float
    fixed: float
    cpu_wait: float = 0.0

    @property
    def total(self) -> float:
        return self.weights + self.attention + self.state + self.communication + self.fixed + self.cpu_wait


def _dense_per_gpu(s: Scenario) -> tuple[float, float]:
    """(bytes, params) of the non-expert matrices one GPU reads per step, embedding table excluded."""
    m = s.model_spec
    by_class = class_bytes(m, FORMATS[s.weight_format])
    tp, pp = s.tp_degree, s.pp_degree
    nbytes = params = 0.0
    for cls, b in by_class.items():
        if cls in EXPERT or cls in ("embed", "vision"):  # a gather, and a tower that runs on images only
            continue
        split = 1 if cls in SMALL else tp
        share = (1 / split) if cls in VOCAB else 1 / (split * pp)
        nbytes += b * share
        params += m.params[cls] * share
    if m.tied_embeddings:  # the tied table is the lm_head matmul too
        nbytes += by_class["embed"] / tp
        params += m.params["embed"] / tp
    return nbytes, params


def _bandwidth(s: Scenario, p: EngineProfile) -> float:
    gpu = s.gpu_spec
    fmt = effective_format(s.model_spec, FORMATS[s.weight_format])
    eff = p.mem_efficiency * engines.GENERATION_BANDWIDTH.get(gpu.generation, 0.9) * gpu.decode_bw_factor
    weight_eff = eff * engines.FORMAT_BANDWIDTH_EFFICIENCY[kernel_class(fmt, gpu)]
    return gpu.mem_bw_tbps * TB * weight_eff, gpu.mem_bw_tbps * TB * eff


def _flops_rate(s: Scenario, p: EngineProfile) -> float:
    share = engines.GENERATION_COMPUTE.get(s.gpu_spec.generation, 1.0)
    return compute_tflops(FORMATS[s.weight_format], s.gpu_spec) * TFLOP * p.compute_efficiency * share


def _busbw(s: Scenario) -> float:
    gpu = s.gpu_spec
    if gpu.max_gpus_scaleup_domain >= s.tp_degree and gpu.scaleup_bw_gbps_unidir and gpu.max_gpus_scaleup_domain > 1:
        return gpu.scaleup_bw_gbps_unidir * 1e9 * NVLINK_BUSBW_SHARE
    return PCIE_BUSBW_GBPS * 1e9


def communication(s: Scenario, p: EngineProfile, tokens_local: float, tokens_global: float) -> float:
    """Tensor-parallel all-reduces, expert-parallel all-to-alls and pipeline hand-offs of one step."""
    m, tp, ep = s.model_spec, s.tp_degree, s.ep_degree
    layers = m.num_layers / s.pp_degree
    pcie = _busbw(s) < PCIE_BUSBW_GBPS * 1e9 * 1.01
    alpha = p.allreduce_latency_us * US * (2.5 if pcie else 1.0)
    t = 0.0
    if tp > 1:
        msg = tokens_local * m.hidden_size * 2
        t += 2 * layers * (alpha + 2 * (tp - 1) / tp * msg / _busbw(s))
    if ep > 1 and m.is_moe:
        moe_layers = m.moe_layers / s.pp_degree
        msg = tokens_local * m.experts_per_token * m.hidden_size * 2 * (ep - 1) / ep
        t += 2 * moe_layers * (engines.ALLTOALL_LATENCY_US * US + msg / _busbw(s))
    if s.pp_degree > 1:
        t += (s.pp_degree - 1) / s.pp_degree * (alpha + tokens_local * m.hidden_size * 2 / _busbw(s))
    return t


def _attention_flops(s: Scenario, tokens: float, context: float, causal: bool) -> float:
    """Score and value FLOPs per GPU for `tokens` queries against `context` cached tokens."""
    m, tp = s.model_spec, s.tp_degree
    heads = m.num_heads / tp
    flops = 0.0
    for g in m.layers:
        if g.attention == "linear":
            flops += g.count * tokens * 6 * (m.linear_num_value_heads / tp) * m.linear_key_head_dim * m.linear_value_head_dim
            continue
        span = min(context, g.window) if g.window else context
        dim = (2 * m.kv_lora_rank + m.qk_rope_head_dim) if g.attention == "mla" else 2 * m.head_dim
        flops += g.count * tokens * 2 * heads * dim * (span / 2 if causal else span)
    return flops / s.pp_degree


def _experts(s: Scenario, expert_layer_bytes: float, layers: float, tokens: float) -> tuple[float, float, float]:
    """(experts touched per layer, bytes one GPU reads, FLOPs one GPU runs) for `tokens` routed tokens."""
    m = s.model_spec
    if not m.num_experts:
        return 0.0, 0.0, 0.0
    touched = expert_union(m.num_experts, m.experts_per_token, tokens)
    split = s.ep_degree if s.ep_degree > 1 else s.tp_degree
    flops = 2 * tokens * m.experts_per_token * m.params_per_expert * m.moe_layers / s.pp_degree / split
    return touched, expert_layer_bytes * layers * touched / m.num_experts, flops


def decode_step(s: Scenario, batch: float, context: float, tokens_per_seq: int = 1, prefill_tokens: float = 0.0) -> Step:
    """One step of `batch` decoding sequences at `context` tokens plus `prefill_tokens` prompt tokens
    of arriving requests (over all replicas), per GPU."""
    p, m = profile(s.engine), s.model_spec
    bw_weights, bw = _bandwidth(s, p)
    flops_rate = _flops_rate(s, p)
    local = batch / s.dp_degree                      # sequences whose attention this GPU runs
    tokens_local = (batch * tokens_per_seq + prefill_tokens) / s.dp_degree
    tokens_global = (batch * tokens_per_seq + prefill_tokens) / max(1, s.dp_degree // s.ep_degree)
    dense_bytes, dense_params = _dense_per_gpu(s)
    w = weights(s)
    gpu_layers = (m.moe_layers - min(s.cpu_offload_experts, m.moe_layers)) / s.pp_degree
    routed = tokens_global if s.ep_degree > 1 else tokens_local
    touched, expert_bytes, expert_flops = _experts(s, w.expert_bytes_per_layer_per_gpu, gpu_layers, routed)
    imbalance = engines.EP_IMBALANCE if s.ep_degree > 1 else 1.0
    gemm = max((dense_bytes + expert_bytes * imbalance) / bw_weights,
               (2 * tokens_local * dense_params + expert_flops * imbalance) / flops_rate)
    gemm += _cpu_experts_time(s, touched)
    per_gpu_experts = touched / (s.ep_degree if s.ep_degree > 1 else 1)
    gemm += per_gpu_experts * gpu_layers * engines.EXPERT_OVERHEAD_US * US
    kv = local * kv_bytes_at_context(s, int(context))
    attn_flops = _attention_flops(s, local * tokens_per_seq, context, causal=False)
    if prefill_tokens:
        attn_flops += _attention_flops(s, prefill_tokens / s.dp_degree, s.input_len, causal=True)
    attention = max(kv / (bw * engines.ATTENTION_EFFICIENCY), attn_flops / flops_rate)
    state = 2 * local * state_bytes_per_sequence(s, per_gpu=True) / bw
    fixed = m.num_layers / s.pp_degree * p.layer_overhead_us * US + p.step_overhead_ms * MS
    comm = communication(s, p, tokens_local, tokens_global)
    gpu_time = gemm + attention + state + comm + fixed
    cpu_time = local * s.pp_degree * p.seq_overhead_us * US
    return Step(gemm, attention, state, comm, fixed, max(0.0, cpu_time - gpu_time))


def _cpu_experts_time(s: Scenario, touched: float) -> float:
    """Experts kept in host RAM are read by the CPU at DRAM speed (llama.cpp --n-cpu-moe)."""
    m = s.model_spec
    if not s.cpu_offload_experts or not m.num_experts:
        return 0.0
    w = weights(s)
    per_layer = w.cpu_bytes / max(1, min(s.cpu_offload_experts, m.moe_layers))
    host_bw = 0.2 * TB  # dual-channel-class server DRAM as reached by llama.cpp (modeling.md §4.4: 50-400 GB/s)
    return min(s.cpu_offload_experts, m.moe_layers) * per_layer * touched / m.num_experts / host_bw


def prefill_time(s: Scenario, prompt: int) -> float:
    """Seconds to prefill one prompt alone, chunked by the engine's batched-token budget."""
    if prompt <= 0:
        return 0.0
    p, m = profile(s.engine), s.model_spec
    chunk = min(prompt, s.max_num_batched_tokens or p.max_num_batched_tokens(s.gpu_spec))
    bw_weights, bw = _bandwidth(s, p)
    flops_rate = _flops_rate(s, p)
    dense_bytes, dense_params = _dense_per_gpu(s)
    w = weights(s)
    total, done = 0.0, 0
    while done < prompt:
        n = min(chunk, prompt - done)
        _, expert_bytes, expert_flops = _experts(s, w.expert_bytes_per_layer_per_gpu, m.moe_layers / s.pp_degree, n)
        gemm = max((dense_bytes + expert_bytes) / bw_weights, (2 * n * dense_params + expert_flops) / flops_rate)
        attn_flops = _attention_flops(s, n, done + n / 2, causal=False) if done else _attention_flops(s, n, n, causal=True)
        attention = max(kv_bytes_at_context(s, done) / bw, attn_flops / flops_rate)
        total += gemm + attention + communication(s, p, n, n) + m.num_layers / s.pp_degree * p.layer_overhead_us * US
        done += n
    return total + p.step_overhead_ms * MS
