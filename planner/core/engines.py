"""Engine profiles: memory accounting rules, batch limits and efficiency constants, one place.

Every constant says where it came from: an engine source file, a logged figure from
shared/reference/modeling.md, or a fit to data/calibration.csv (scripts/fit_engines.py, which
minimises the log error of the speed rows with the efficiencies bounded to physical ranges).
"""
from __future__ import annotations

from dataclasses import dataclass

from .schemas import GpuSpec

# Decode-kernel bandwidth efficiency by weight-kernel class, relative to a 16-bit GEMV.
# Dequantising kernels read fewer bytes but run below the bandwidth roofline: gpt-fast on A100 reaches
# 68.5 % of peak for BF16 but 52 % for int8 and 42 % for int4 weight-only (shared/reference/gpus.md §4.1).
# The 4-bit and FP4 terms below sit under gpt-fast's ratio: they also carry the MoE kernels of the
# gpt-oss rows (Triton matmul_ogs / Marlin MXFP4 on Hopper and Ampere), the only 4-bit rows in the data.
FORMAT_BANDWIDTH_EFFICIENCY = {
    "16bit": 1.0,
    "native_8bit": 0.76,        # FP8 / INT8 W8A8 (fit: calibration.csv FP8 rows on H100/H200)
    "native_fp4": 0.61,         # NVFP4 / MXFP4 on Blackwell (fit: calibration.csv B200 rows)
    "weight_only_8bit": 0.76,   # gpt-fast int8 weight-only 52 % / 68.5 % BF16 = 0.76 (gpus.md §4.1)
    "weight_only_4bit": 0.3,    # fit: gpt-oss MXFP4 on H100/H200/A100 rows (gpt-fast int4 alone: 0.61)
    "gguf": 0.48,               # llama.cpp kernels (fit: calibration.csv llama.cpp rows)
}

# Fixed cost of each expert a MoE layer touches in one step (grouped-GEMM tiles, routing, launch):
# vLLM fused_moe reaches only 28 % of HBM peak at batch 1 on 4.7 MB experts (modeling.md §1). Fit.
EXPERT_OVERHEAD_US = 0.17  # fit: calibration.csv MoE rows
# Expert parallelism: the busiest rank sets the pace (uneven expert load; EPLB only mitigates it),
# and each dispatch/combine all-to-all pays a latency far above an NVLink all-reduce's. Fit.
EP_IMBALANCE = 1.8           # fit (upper bound of the search): TensorRT-LLM DEP rows c125-c150
ALLTOALL_LATENCY_US = 120.0   # fit (upper bound of the search): same rows
# Paged decode attention relative to the weight GEMV's bandwidth (fit: long-context rows; the fit
# found no penalty).
ATTENTION_EFFICIENCY = 1.0

# Per-generation ceiling of achievable HBM bandwidth, relative to NVIDIA Hopper (gpus.md §4.1: 80-90 %
# of spec for large streaming reads on NVIDIA HBM parts, lower on AMD, LPDDR and GDDR parts). Blackwell
# is a fit to the B200 rows of calibration.csv (2025 software on 7.7 TB/s parts); the non-NVIDIA values
# are priors from gpus.md (AMD reaches a lower share of peak), not fits: no rows measure them.
GENERATION_BANDWIDTH = {"ampere": 1.0, "hopper": 1.0, "blackwell": 0.6, "ada": 0.95, "cdna3": 0.75,
                        "cdna4": 0.75, "apple": 0.85, "rdna": 0.85, "cpu": 0.7, "other": 0.9}

# Per-generation share of dense peak that large GEMMs reach, relative to NVIDIA (gpus.md §4.2, MAMF:
# H100 80 %, MI300X/MI325X 51-60 %, MI355X 62-68 %): prefill on AMD parts is slower than their peak suggests.
GENERATION_COMPUTE = {"cdna3": 0.51 / 0.80, "cdna4": 0.65 / 0.80}


@dataclass(frozen=True)
class EngineProfile:
    id: str
    label: str
    budget: str                       # fraction_of_total | fraction_static | fraction_of_free | cells | dynamic
    default_memory_fraction: float    # vLLM gpu_memory_utilization, SGLang mem_fraction_static, TRT free fraction
    cuda_context_gib: float           # created before the engine measures memory (outside the budget)
    non_torch_gib_single: float       # NCCL / custom all-reduce / cuBLAS workspaces, tp = 1
    non_torch_gib_multi: float        # the same when GPUs talk to each other
    activation_bytes_per_token_h: float   # profile-run peak per batched token, in units of hidden_size bytes
    activation_linear_attn_factor: float  # extra per batched token per conv channel (fp32) of linear attention
    cudagraph_gib_per_layer: float    # CUDA graph pools not counted in the budget
    mem_efficiency: float             # η_m: fraction of HBM bandwidth reached by decode (fit)
    compute_efficiency: float         # η_c: fraction of dense peak reached by prefill GEMMs (fit)
    layer_overhead_us: float          # fixed cost per layer per decode step: launches, small kernels (fit)
    step_overhead_ms: float           # per decode step: scheduler, sampler, CPU (fit)
    seq_overhead_us: float            # CPU work per running sequence per step (scheduler, sampler, output
                                      # streaming); overlaps the GPU step, binds at large batch (fit)
    ttft_overhead_ms: float           # per request: HTTP, tokenizer, scheduling, detokenizer (fit)
    allreduce_latency_us: float       # per all-reduce at decode message sizes
    kv_reserve_output_share: float    # share of output_len reserved per running request when sizing batches
    max_batch_large_gpu: int          # default running-request cap (vLLM max_num_seqs etc.)
    max_batch_small_gpu: int
    max_batched_tokens_large_gpu: int
    max_batched_tokens_small_gpu: int
    source: str

    def max_num_seqs(self, gpu: GpuSpec) -> int:
        return self.max_batch_large_gpu if _large(gpu) else self.max_batch_small_gpu

    def max_num_batched_tokens(self, gpu: GpuSpec) -> int:
        return self.max_batched_tokens_large_gpu if _large(gpu) else self.max_batched_tokens_small_gpu


def _large(gpu: GpuSpec) -> bool:
    """vLLM arg_utils: GPUs with >= 70 GiB that are not A100 get the large batch defaults."""
    return gpu.memory_gib_usable >= 70 and "A100" not in gpu.name


VLLM = EngineProfile(
    id="vllm", label="vLLM (V1)", budget="fraction_of_total",
    default_memory_fraction=0.9,        # vllm/config/cache.py gpu_memory_utilization
    cuda_context_gib=0.5,               # modeling.md §4.1: ~0.5-0.6 GiB before the baseline snapshot
    non_torch_gib_single=0.07,          # modeling.md §4.1: 0.02-0.07 GiB at TP1
    non_torch_gib_multi=1.38,           # modeling.md §4.1: 1.38 GiB logged at TP2 (Qwen3-Next, 2xH200)
    activation_bytes_per_token_h=44.0,  # fit: Qwen3-0.6B on A100 leaves 69.66 GiB KV (calibration c269)
    activation_linear_attn_factor=30.0,  # fit: Qwen3-Next TP2 peak 5.58 GiB at 8192 tokens (modeling.md §4.1)
    cudagraph_gib_per_layer=0.049,      # 2.37 GiB logged for 48 layers at TP2 (modeling.md §4.1), unbudgeted in 0.10.x
    mem_efficiency=0.93, compute_efficiency=0.4, layer_overhead_us=47.0, step_overhead_ms=0.6,
    seq_overhead_us=149.0, ttft_overhead_ms=53.0, allreduce_latency_us=9.0,  # custom all-reduce 8.7-9.5 us (modeling.md §5.5)
    kv_reserve_output_share=0.5,        # pages are allocated as tokens arrive
    max_batch_large_gpu=1024, max_batch_small_gpu=256,  # vllm/engine/arg_utils.py defaults
    max_batched_tokens_large_gpu=8192, max_batched_tokens_small_gpu=2048,
    source="vllm/config/cache.py, vllm/engine/arg_utils.py, vllm/utils/mem_utils.py; fit to calibration.csv")

SGLANG = EngineProfile(
    id="sglang", label="SGLang", budget="fraction_static",
    default_memory_fraction=0.88,       # sglang server_args: 0.88 at tp 1 (0.87 tp2, 0.85 tp4, 0.81 tp8)
    cuda_context_gib=0.5, non_torch_gib_single=0.3, non_torch_gib_multi=1.5,
    activation_bytes_per_token_h=0.0, activation_linear_attn_factor=0.0,  # inside the static fraction's rest
    cudagraph_gib_per_layer=0.0,
    mem_efficiency=0.88, compute_efficiency=0.6, layer_overhead_us=50.0, step_overhead_ms=0.5,
    seq_overhead_us=338.0, ttft_overhead_ms=60.0, allreduce_latency_us=6.0,  # optimized custom all-reduce 3.7-9 us (sglang#2904)
    kv_reserve_output_share=0.5,
    max_batch_large_gpu=2048, max_batch_small_gpu=1024,  # req_to_token_pool caps running requests
    max_batched_tokens_large_gpu=16384, max_batched_tokens_small_gpu=8192,  # chunked_prefill_size
    source="sglang/srt/server_args.py; fit to calibration.csv")

TRTLLM = EngineProfile(
    id="trtllm", label="TensorRT-LLM", budget="fraction_of_free",
    default_memory_fraction=0.9,        # KvCacheConfig.free_gpu_memory_fraction
    cuda_context_gib=0.5, non_torch_gib_single=0.3, non_torch_gib_multi=0.6,
    activation_bytes_per_token_h=16.0, activation_linear_attn_factor=30.0,
    cudagraph_gib_per_layer=0.0,
    mem_efficiency=0.69, compute_efficiency=0.54, layer_overhead_us=58.0, step_overhead_ms=0.3,
    seq_overhead_us=19.0, ttft_overhead_ms=60.0, allreduce_latency_us=6.0,
    kv_reserve_output_share=1.0,        # GUARANTEED_NO_EVICT reserves each request's full length
    max_batch_large_gpu=2048, max_batch_small_gpu=2048,   # trtllm default max_batch_size
    max_batched_tokens_large_gpu=8192, max_batched_tokens_small_gpu=8192,  # default max_num_tokens
    source="tensorrt_llm/llmapi/llm_args.py defaults; fit to calibration.csv")

LLAMACPP = EngineProfile(
    id="llamacpp", label="llama.cpp", budget="cells",
    default_memory_fraction=1.0, cuda_context_gib=0.3, non_torch_gib_single=0.0, non_torch_gib_multi=0.0,
    activation_bytes_per_token_h=0.0, activation_linear_attn_factor=0.0, cudagraph_gib_per_layer=0.0,
    mem_efficiency=0.585, compute_efficiency=0.1, layer_overhead_us=17.0, step_overhead_ms=0.5,
    seq_overhead_us=50.0, ttft_overhead_ms=10.0, allreduce_latency_us=20.0,
    kv_reserve_output_share=1.0,        # each slot owns n_ctx / n_parallel cells
    max_batch_large_gpu=64, max_batch_small_gpu=64,
    max_batched_tokens_large_gpu=2048, max_batched_tokens_small_gpu=2048,  # -b 2048 / -ub 512
    source="llama.cpp tools/server, src/llama-context.cpp; fit to calibration.csv")

TRANSFORMERS = EngineProfile(
    id="transformers", label="HF Transformers (generate)", budget="dynamic",
    default_memory_fraction=1.0, cuda_context_gib=0.0, non_torch_gib_single=0.0, non_torch_gib_multi=0.0,
    activation_bytes_per_token_h=0.0, activation_linear_attn_factor=0.0, cudagraph_gib_per_layer=0.0,
    mem_efficiency=0.36, compute_efficiency=0.4, layer_overhead_us=86.0, step_overhead_ms=3.0,
    seq_overhead_us=100.0, ttft_overhead_ms=20.0, allreduce_latency_us=30.0, kv_reserve_output_share=1.0,
    max_batch_large_gpu=256, max_batch_small_gpu=256,
    max_batched_tokens_large_gpu=1 << 30, max_batched_tokens_small_gpu=1 << 30,  # no chunking
    source="transformers generate(), eager PyTorch; fit to calibration.csv")

ENGINES = {p.id: p for p in (VLLM, SGLANG, TRTLLM, LLAMACPP, TRANSFORMERS)}


def profile(engine_id: str) -> EngineProfile:
    try:
        return ENGINES[engine_id]
    except KeyError:
        raise ValueError(f"unknown engine {engine_id!r}; allowed: {', '.join(ENGINES)}") from None


def sglang_mem_fraction(tp: int) -> float:
    """sglang/srt/server_args.py default mem_fraction_static by tensor-parallel size."""
    return 0.79 if tp >= 16 else 0.81 if tp >= 8 else 0.85 if tp >= 4 else 0.87 if tp >= 2 else 0.88
