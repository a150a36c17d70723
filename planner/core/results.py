"""Result types of planner.estimate: memory, performance and cost breakdowns (shared/DESIGN.md §2)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Memory(_Result):
    """Per-GPU figures in GiB unless the name says otherwise; the parts sum to total_gib_per_gpu."""
    weights_gib_per_gpu: float
    weights_gb_total: float
    kv_cache_gib_per_gpu: float          # the engine's KV pool (hybrids: attention pages + state pages)
    kv_cache_tokens: int
    kv_bytes_per_token: float            # whole model, full-context layers, before sharding
    kv_bytes_per_token_per_gpu: float
    state_bytes_per_sequence: float      # whole model (linear-attention / SSM layers)
    activation_gib_per_gpu: float
    overhead_gib_per_gpu: float          # CUDA context, communication buffers, CUDA graphs
    total_gib_per_gpu: float
    gpu_memory_gib: float                # what torch can allocate on one GPU
    free_gib_per_gpu: float
    max_concurrency: int                 # requests of input_len + output_len tokens that fit at once
    max_context_at_concurrency: int      # longest input + output at the scenario's concurrency
    cpu_offload_gib: float
    block_size_tokens: int


class Performance(_Result):
    """Speed at the scenario's concurrency; every figure is None when the scenario does not fit."""
    concurrency: int | None = None                     # requests in flight (closed loop); for "max", the batch that fits
    running_batch: int | None = None                   # requests decoding together (concurrency capped by memory and engine)
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    itl_ms: float | None = None
    output_tokens_per_s: float | None = None           # all users, output tokens over wall time
    output_tokens_per_s_per_user: float | None = None  # 1 / TPOT
    e2e_latency_s: float | None = None
    prefill_tokens_per_s: float | None = None          # one prompt alone
    request_throughput_per_s: float | None = None
    decode_step_ms: dict[str, float] | None = None     # weights, attention, state, communication, fixed, per_sequence
    bound: str | None = None                           # what dominates the decode step


class Cost(_Result):
    """Rented GPUs (planner/core/cost.py). The input and output $/M figures split the GPU time between prefill
    and decode, so input_len x input + output_len x output ($/M over 1e6) = usd_per_request: add them like API prices."""
    usd_per_gpu_hour: float | None = None
    usd_per_hour: float | None = None
    usd_per_million_output_tokens: float | None = None   # decode share of the GPU time, per output token
    usd_per_million_input_tokens: float | None = None    # prefill share of the GPU time, per input token
    usd_per_request: float | None = None                 # all GPU time of one request at this concurrency
    usd_per_million_tokens_blended: float | None = None  # usd_per_request over input + output tokens
    usd_per_million_output_tokens_all_in: float | None = None  # every GPU-second charged to output (what a probe measures)
    prefill_share: float | None = None                   # share of a request's GPU time that is prefill (0..1)
    gpu_s_per_request: float | None = None               # GPU-seconds per request (GPUs / requests per second)
    price_source: str = ""


class Band(_Result):
    """An 80 % interval for one predicted figure (planner/core/uncertainty.py)."""
    low: float
    high: float
    evidence: Literal["calibrated", "related", "extrapolated"]  # measurements of this engine on this GPU family?
    rows: int                                                   # how many published measurements back it


class Estimate(_Result):
    scenario: dict
    fits: bool
    reason: str | None
    memory: Memory
    performance: Performance
    cost: Cost
    notes: list[str]
    uncertainty: dict[str, Band] = {}   # performance figure -> interval; empty when it does not run
