"""Decode step and prefill times from a per-operator roofline plus fixed costs.

shared/reference/modeling.md §5: decode reads the dense weights, the union of experts the batch
touches E(1-(1-k/E)^B), the KV cache at the real context and the recurrent state (read + write);
each operator takes max(bytes / (η_m BW), FLOPs / (η_c F)), except the grouped expert GEMMs, whose
weight streaming and FLOPs add (`_expert_time`); tensor parallelism adds two
all-reduces per layer (α + 2(n-1)/n M / busbw), expert parallelism two all-to-alls per MoE layer,
and every step pays a fixed per-layer and per-step cost. Prefill is the same sum over chunks of
at most max_num_batched_tokens tokens, with causal attention FLOPs 2 n_q d_h L^2 per layer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from .memory import VOCAB, kv_bytes_at_context
from .precision import compute_tflops, kernel_class, kv_element_bytes
from .units import MS, TB, TFLOP, US

if TYPE_CHECKING:
    from .deployment import Deployment
    from .schemas import ModelSpec

EXPERT = ("expert_up", "expert_down")
SMALL = ("norm", "router", "attn_small", "linear_small")
PCIE_BUSBW_GBPS = 20.0   # PCIe pairs without NVLink: ~20-50 GB/s (modeling.md §5.5)
NVLINK_BUSBW_SHARE = 0.8  # ring collectives reach ~80 % of unidirectional NVLink (gpus.md §5)
PCIE_LATENCY_FACTOR = 2.5  # all-reduce latency over PCIe relative to NVLink (modeling.md §5.5)
# A grouped expert GEMM pads each expert's rows to whole tiles: vLLM's moe_align_block_size pads every
# expert's token count to a multiple of BLOCK_SIZE_M, and Hopper's wgmma multiplies 64-row tiles
# (PTX wgmma.mma_async m64nNk16). Few tokens per expert therefore cost a whole tile of FLOPs.
MOE_TILE_ROWS = 64
HOST_DRAM_TBPS = 0.2      # dual-channel-class server DRAM as reached by llama.cpp (modeling.md §4.4: 50-400 GB/s)


def expert_union(num_experts: int, top_k: int, tokens: float) -> float:
    """Expected distinct experts touched by `tokens` tokens with uniform top-k routing."""
    if not num_experts:
        return 0.0
    return num_experts * (1 - (1 - top_k / num_experts) ** tokens)


@dataclass(slots=True)  # built for every configuration of a sweep: no frozen-setattr cost
class Step:
    """One forward step on one GPU, in seconds, by component (they sum to `total`).

    `per_sequence` is the engine's work for each running sequence of the step (input preparation,
    sampling, output processing). It adds to the step: held out, the rows of three sources (ROCm blog,
    gpustack, sgl-cookbook) fit an additive cost better than one hidden behind the GPU step (AMD speed
    21 % against 33 %, scripts/validate.py); overlapping schedulers hide the scheduling, not this."""
    weights: float
    attention: float
    state: float
    communication: float
    fixed: float
    per_sequence: float = 0.0

    @property
    def total(self) -> float:
        return self.weights + self.attention + self.state + self.communication + self.fixed + self.per_sequence

    def blend(self, other: Step, share: float) -> Step:
        """The mean of `share` of these steps and `1 - share` of `other`."""
        keep = 1 - share
        return Step(*(share * getattr(self, f) + keep * getattr(other, f) for f in self.__slots__))


@dataclass(frozen=True)
class Rates:
    """What one GPU of the deployment reaches: bytes/s for weights and for KV/state, FLOP/s, collectives."""
    weights_bps: float
    memory_bps: float
    kv_bps: float           # the decode attention kernel's read of the KV cache
    flops: float
    attention_flops: float  # score and value products run in BF16 whatever the weights' format (FlashAttention)
    busbw_bps: float
    allreduce_s: float      # latency of one all-reduce between 2 GPUs (PCIe-only parts pay more)
    allreduce_hop_s: float  # added per GPU beyond 2 (a switched fabric's traversals; 0 on a full mesh)
    alltoall_s: float
    ep_imbalance: float     # expert FLOPs of the busiest expert-parallel rank over the mean (1 without ep)


# GEMM kernels of one layer's attention by kind: the qkv and output projections; MLA the fused q/kv
# down-projection, q_b_proj, the two absorbed kv_b batched matmuls (w_kc, w_vc) and o_proj (DeepSeek-V3);
# Gated DeltaNet in_proj_qkvz, in_proj_ba and out_proj (Qwen3-Next).
ATTENTION_GEMMS = {"full": 2, "sliding": 2, "mla": 5, "linear": 3}


def gemm_launches(m: ModelSpec) -> int:
    """GEMM kernels of one pass through the model's layers: each layer's attention (`ATTENTION_GEMMS`), then
    gate_up + down of a dense MLP, or the router and the shared expert's gate_up + down of an MoE layer (the
    routed experts are the MoE kernel's own, `moe_layer_overhead_us`). At decode batch sizes each costs a
    fixed latency beyond its bytes (`gemm_launch_us`), so layers with more GEMMs cost more."""
    total = 0
    for g in m.layers:
        ffn = (1 + (2 if m.shared_expert_intermediate_size else 0)) if g.moe else 2
        total += g.count * (ATTENTION_GEMMS[g.attention] + ffn)
    return total


def dense_per_gpu(d: Deployment) -> tuple[float, float]:
    """(bytes, params) of the non-expert matrices one GPU reads per step, embedding table excluded."""
    m, by_class = d.model, d.class_bytes
    nbytes = params = 0.0
    for cls, b in by_class.items():
        if cls in EXPERT or cls in ("embed", "vision"):  # a gather, and a tower that runs on images only
            continue
        split = 1 if cls in SMALL else d.tp
        share = (1 / split) if cls in VOCAB else 1 / (split * d.pp)
        nbytes += b * share
        params += m.params[cls] * share
    if m.tied_embeddings:  # the tied table is the lm_head matmul too
        nbytes += by_class["embed"] / d.tp
        params += m.params["embed"] / d.tp
    return nbytes, params


def _kernel_constant(c, engine: str, name: str) -> float:
    """A kernel constant of an engine's own kernels (`<engine>.<name>`) where they differ, else the shared one."""
    return c.get(f"{engine}.{name}", c[name])


def kv_share(d: Deployment) -> float:
    """Share of HBM peak the engine's decode attention kernel reads the KV cache at on Hopper: its own
    kernel where it has one (`<engine>.attention_bw.<16bit|8bit>`), else vLLM's."""
    kv = "16bit" if kv_element_bytes(d.kv_dtype, d.model) >= 2 else "8bit"
    return _kernel_constant(d.constants, d.engine.id, f"attention_bw.{kv}")


def _peer_links(busbw_bps: float) -> bool:
    """Whether the GPUs reach each other over NVLink / Infinity Fabric rather than PCIe only."""
    return busbw_bps > PCIE_BUSBW_GBPS * 1e9 * 1.01


def rates(d: Deployment) -> Rates:
    gpu, c, p = d.gpu, d.constants, d.engine
    hbm = c.get(f"generation_bw.{gpu.generation}", c["generation_bw.other"]) * c.get(f"gpu_bw.{gpu.id}", 1.0)
    eff = p.mem_efficiency * hbm
    kernels, cls = p.kernels_from or p.id, kernel_class(d.fmt, gpu)
    weight_eff = eff * _kernel_constant(c, kernels, f"format_bw.{cls}")
    peak = compute_tflops(d.fmt, gpu)
    generation_share = c.get(f"generation_compute.{gpu.generation}", 1.0)
    share = generation_share
    if gpu.fp4_dense_tflops and peak == gpu.fp4_dense_tflops:  # FP4 GEMMs reach less of their doubled peak
        share *= c["fp4_compute_share"]
    if cls == "weight_only_4bit":  # the GEMM dequantises 4-bit weights in its main loop
        share *= _kernel_constant(c, kernels, "weight_only_4bit_compute_share")
    flops = peak * TFLOP * p.compute_efficiency * share
    attention_flops = gpu.bf16_dense_tflops * TFLOP * p.compute_efficiency * generation_share
    nvlink = gpu.max_gpus_scaleup_domain >= d.tp and gpu.scaleup_bw_gbps_unidir and gpu.max_gpus_scaleup_domain > 1
    busbw = gpu.scaleup_bw_gbps_unidir * 1e9 * NVLINK_BUSBW_SHARE if nvlink else PCIE_BUSBW_GBPS * 1e9
    hbm_bps = gpu.mem_bw_tbps * TB
    return Rates(hbm_bps * weight_eff, hbm_bps * eff, hbm_bps * hbm * kv_share(d), flops, attention_flops or flops, busbw,
                 p.allreduce_latency_us * US * (1.0 if _peer_links(busbw) else PCIE_LATENCY_FACTOR),
                 c[f"allreduce_hop_us.{gpu.scaleup_fabric}"] * US,
                 c["alltoall_latency_us"] * US,
                 c["ep_imbalance"] if d.ep > 1 else 1.0)


class Collectives(NamedTuple):
    """A step's collectives on one GPU: `fixed_s + per_token_s x tokens`, plus `one_shot_per_token_s` per token
    while the all-reduce message of fewer than `one_shot_tokens` tokens goes in one stage (`one_shot_bytes`)."""
    fixed_s: float
    per_token_s: float
    one_shot_tokens: float
    one_shot_per_token_s: float


def communication_terms(d: Deployment) -> Collectives:
    """The tensor-parallel all-reduces (two per layer), expert-parallel all-to-alls (two per MoE layer) and
    pipeline hand-offs: latency plus bytes / bus bandwidth."""
    m, r, tp, ep = d.model, d.rates, d.tp, d.ep
    layers, token_bytes = m.num_layers / d.pp, m.hidden_size * 2
    fixed = per_token = one_shot = 0.0
    if tp > 1:
        fixed += 2 * layers * (r.allreduce_s + (tp - 2) * r.allreduce_hop_s)
        per_token += 2 * layers * 2 * (tp - 1) / tp * token_bytes / r.busbw_bps
        # a one-stage all-reduce reads the whole message from every peer: tp - 1 messages, not 2 (tp - 1) / tp
        one_shot = 2 * layers * ((tp - 1) - 2 * (tp - 1) / tp) * token_bytes / r.busbw_bps
    if ep > 1 and m.is_moe:
        moe_layers = m.moe_layers / d.pp
        fixed += 2 * moe_layers * r.alltoall_s
        per_token += 2 * moe_layers * m.experts_per_token * token_bytes * (ep - 1) / ep / r.busbw_bps
    if d.pp > 1:
        fixed += (d.pp - 1) / d.pp * r.allreduce_s
        per_token += (d.pp - 1) / d.pp * token_bytes / r.busbw_bps
    below = one_shot_bytes(tp) / token_bytes if _peer_links(r.busbw_bps) else 0.0  # the custom all-reduce needs them
    return Collectives(fixed, per_token, below, one_shot)


def one_shot_bytes(tp: int) -> float:
    """Largest all-reduce message the custom all-reduce sends in one stage: every GPU then reads the whole
    message from each of its tp - 1 peers, instead of 2 (tp - 1) / tp of it in a reduce-scatter + all-gather
    (vLLM csrc/custom_all_reduce.cuh, which SGLang's is: 1-stage for 2 GPUs, and below 512 KB up to 4 GPUs or
    256 KB up to 8; AIConfigurator's all-reduce tables grow by (tp - 1) x message / link bandwidth below it)."""
    return float("inf") if tp <= 2 else 512 * 1024 if tp <= 4 else 256 * 1024 if tp <= 8 else 0.0


def communication(d: Deployment, tokens_local: float) -> float:
    """Collectives of one step with `tokens_local` tokens on this GPU."""
    c = d.communication_terms
    per_token = c.per_token_s + (c.one_shot_per_token_s if tokens_local < c.one_shot_tokens else 0.0)
    return c.fixed_s + per_token * tokens_local


def attention_terms(d: Deployment) -> tuple[float, tuple[tuple[float, int | None], ...]]:
    """Per-GPU attention FLOPs per query token: (context-free part of linear attention, ((FLOPs per cached
    token, sliding window or None), ...) of the other layer groups). Scores and values: 2 n_q d per token."""
    m, tp = d.model, d.tp
    linear, spans = 0.0, []
    for g in m.layers:
        if g.attention == "linear":
            linear += g.count * 6 * (m.linear_num_value_heads / tp) * m.linear_key_head_dim * m.linear_value_head_dim
        else:
            dim = (2 * m.kv_lora_rank + m.qk_rope_head_dim) if g.attention == "mla" else 2 * m.head_dim
            spans.append((g.count * 2 * m.num_heads / tp * dim, g.window))
    return linear / d.pp, tuple((c / d.pp, w) for c, w in spans)


def _attention_flops(d: Deployment, tokens: float, context: float, causal: bool) -> float:
    """Score and value FLOPs per GPU for `tokens` queries against `context` cached tokens (half for causal)."""
    linear, spans = d.attention_terms
    share = 0.5 if causal else 1.0
    return tokens * (linear + share * sum(c * (min(context, w) if w else context) for c, w in spans))


def expert_terms(d: Deployment) -> tuple[int, int, float, float]:
    """(experts, experts per token, FLOPs per routed token on one GPU, bytes per touched expert per layer)."""
    m = d.model
    split = d.ep if d.ep > 1 else d.tp
    flops = 2 * m.experts_per_token * m.params_per_expert * m.moe_layers / d.pp / split
    return m.num_experts, m.experts_per_token, flops, d.weights.expert_bytes_per_layer_per_gpu / max(1, m.num_experts)


def _experts(d: Deployment, layers: float, tokens: float) -> tuple[float, float, float, float]:
    """(experts touched per layer, bytes one GPU reads, FLOPs one GPU runs, the same FLOPs with each touched
    expert's rows padded to whole tiles) for `tokens` routed tokens."""
    experts, top_k, flops_per_token, bytes_per_expert = d.expert_terms
    if not experts:
        return 0.0, 0.0, 0.0, 0.0
    touched = expert_union(experts, top_k, tokens)
    rows = tokens * top_k / touched if touched else 0.0  # rows each touched expert multiplies
    padded = max(MOE_TILE_ROWS, rows + MOE_TILE_ROWS / 2) if rows else 0.0  # half a tile wasted on average
    flops = flops_per_token * tokens
    return touched, bytes_per_expert * layers * touched, flops, flops * (padded / rows if rows else 1.0)


def _expert_time(r: Rates, expert_bytes: float, flops: float, padded_flops: float, imbalance: float = 1.0) -> float:
    """Seconds of the grouped expert GEMMs: a kernel of its own after the dense GEMMs, which streams each touched
    expert's weights and then multiplies its rows, so the two add rather than overlap (AIConfigurator's
    TensorRT-LLM and vLLM MoE tables on H100/H200/B200 between 512 and 8,192 tokens: latency ~ bytes/BW + FLOPs/peak,
    1.3-2.3x the larger of the two); a row tile padded beyond the rows is the floor at few rows per expert. The busiest
    expert-parallel rank multiplies `imbalance` times the mean rows; its weight reads are the mean's (power-law over
    balanced routing ~1.0 at <= 1k tokens, where every rank reads all its experts)."""
    return max(expert_bytes / r.weights_bps + flops * imbalance / r.flops, padded_flops * imbalance / r.flops)


def decode_step(d: Deployment, batch: float, context: float, tokens_per_seq: int = 1, prefill_tokens: float = 0.0,
                prompt_len: int = 0) -> Step:
    """One step of `batch` decoding sequences at `context` tokens plus `prefill_tokens` prompt tokens
    (of `prompt_len`-token prompts) of arriving requests (over all replicas), per GPU."""
    return decode_steps(d, batch, context, tokens_per_seq, (prefill_tokens,), prompt_len)[0]


def decode_steps(d: Deployment, batch: float, context: float, tokens_per_seq: int, prefills: tuple[float, ...],
                 prompt_len: int = 0) -> list[Step]:
    """`decode_step` for one running batch with each of several prompt loads (a duty cycle's chunk step and
    decode-only step): what does not depend on the prompt tokens is computed once."""
    p, m, r = d.engine, d.model, d.rates
    local = batch / d.dp                      # sequences whose attention this GPU runs
    dense_bytes, dense_params = d.dense
    gpu_layers = (m.moe_layers - min(d.cpu_offload_experts, m.moe_layers)) / d.pp
    kv_s = local * kv_bytes_at_context(d, int(context)) / r.kv_bps
    decode_flops = _attention_flops(d, local * tokens_per_seq, context, causal=False)
    state = 2 * local * d.state_bytes_per_sequence_per_gpu / r.memory_bps
    fixed = d.layers_fixed_s + p.step_overhead_ms * MS
    per_sequence = local * d.pp * p.seq_overhead_us * US
    steps = []
    for prefill_tokens in prefills:
        tokens_local = (batch * tokens_per_seq + prefill_tokens) / d.dp
        routed = (batch * tokens_per_seq + prefill_tokens) / max(1, d.dp // d.ep) if d.ep > 1 else tokens_local
        touched, expert_bytes, expert_flops, padded_flops = _experts(d, gpu_layers, routed)
        gemm = (max(dense_bytes / r.weights_bps, 2 * tokens_local * dense_params / r.flops)
                + _expert_time(r, expert_bytes, expert_flops, padded_flops, r.ep_imbalance))
        if d.cpu_offload_experts:
            gemm += _cpu_experts_time(d, touched)
        attn_flops = decode_flops
        if prefill_tokens:
            attn_flops += _attention_flops(d, prefill_tokens / d.dp, prompt_len, causal=True)
        attention = max(kv_s, attn_flops / r.attention_flops)
        steps.append(Step(gemm, attention, state, communication(d, tokens_local), fixed, per_sequence))
    return steps


def _cpu_experts_time(d: Deployment, touched: float) -> float:
    """Experts kept in host RAM are read by the CPU at DRAM speed (llama.cpp --n-cpu-moe)."""
    m = d.model
    if not d.cpu_offload_experts or not m.num_experts:
        return 0.0
    offloaded = min(d.cpu_offload_experts, m.moe_layers)
    per_layer = d.weights.cpu_bytes / max(1, offloaded)
    return offloaded * per_layer * touched / m.num_experts / (HOST_DRAM_TBPS * TB)


def prefill_chunks(d: Deployment, prompt: int, prompts: int = 1) -> list[float]:
    """GPU seconds of each step that prefills `prompts` prompts of `prompt` tokens batched together, chunked
    by the engine's batched-token budget. Batched prompts share the weight reads and the GEMMs; each attends
    only to itself."""
    m, r = d.model, d.rates
    chunk = min(prompt, max(1, d.max_num_batched_tokens // prompts))  # tokens of each prompt per step
    dense_bytes, dense_params = d.dense
    fixed = d.layers_fixed_s
    steps, done = [], 0
    while done < prompt:
        n = min(chunk, prompt - done)
        tokens = n * prompts
        _, expert_bytes, expert_flops, padded_flops = _experts(d, m.moe_layers / d.pp, tokens)
        gemm = (max(dense_bytes / r.weights_bps, 2 * tokens * dense_params / r.flops)
                + _expert_time(r, expert_bytes, expert_flops, padded_flops))
        per_prompt = _attention_flops(d, n, done + n / 2, causal=False) if done else _attention_flops(d, n, n, causal=True)
        cached = prompts * kv_bytes_at_context(d, done) if done else 0.0  # the chunks before this one, read back
        attention = max(cached / r.memory_bps, prompts * per_prompt / r.attention_flops)
        steps.append(gemm + attention + communication(d, tokens) + fixed)
        done += n
    return steps


def chunks_time(d: Deployment, chunks: list[float], launch_s: float = 0.0) -> float:
    """Seconds of a prefill's chunk steps. An engine that launches its prefill kernels eagerly spends
    `launch_s` of CPU time per chunk (`Deployment.prefill_launch_s`); a chunk takes the longer of that and
    its GPU time."""
    return sum(max(t, launch_s) for t in chunks) + d.engine.step_overhead_ms * MS if chunks else 0.0


def prefill_time(d: Deployment, prompt: int, prompts: int = 1, launch_s: float = 0.0) -> float:
    """Seconds to prefill `prompts` prompts of `prompt` tokens batched together (`prefill_chunks`,
    `chunks_time`)."""
    return chunks_time(d, prefill_chunks(d, prompt, prompts), launch_s)
