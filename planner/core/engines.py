"""Engine profiles: every engine-specific rule as data, one place, one list of ids.

A profile holds the rules read from each engine's source (how it budgets memory, whether it pages the
KV cache, its batch caps, where it keeps recurrent state, which formats and GPUs it serves) and, once
read through `profile` with data/engine_constants.csv, the efficiency constants of the speed model. No other module
compares engine names: they read these fields.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from .constants import Constants, load
from .schemas import GpuSpec

# The constants of data/engine_constants.csv that each profile carries (`<engine>.<field>`).
TUNED_FIELDS = ("mem_efficiency", "compute_efficiency", "layer_overhead_us", "step_overhead_ms", "seq_overhead_us",
                "ttft_overhead_ms", "prefill_launch_us", "allreduce_latency_us", "activation_bytes_per_token_h",
                "activation_linear_attn_factor")
# Shares of HBM bandwidth and peak compute are properties of the kernels an engine runs (`kernels_from`).
KERNEL_FIELDS = ("mem_efficiency", "compute_efficiency")
GPU_ONLY_GENERATIONS = frozenset({"apple", "cpu", "rdna"})  # where the CUDA/ROCm serving engines do not run


@dataclass(frozen=True)
class EngineProfile:
    id: str
    label: str
    source: str
    # memory budget -------------------------------------------------------------------------------
    budget: str                       # fraction_of_total | fraction_static | fraction_of_free | cells | dynamic
    default_memory_fraction: float    # vLLM gpu_memory_utilization, SGLang mem_fraction_static, TRT free fraction
    cuda_context_gib: float           # created before the engine measures memory (outside the budget)
    non_torch_gib_single: float       # NCCL / custom all-reduce / cuBLAS workspaces, tp = 1
    non_torch_gib_multi: float        # the same when GPUs talk to each other
    cudagraph_gib_per_layer: float    # CUDA graph pools not counted in the budget
    kv_reserve_output_share: float    # share of output_len reserved per running request when sizing batches
    memory_fraction_by_tp: tuple[tuple[int, float], ...] = ()  # (min tp, fraction), largest tp first
    paged: bool = True                # KV in whole pages of BLOCK tokens (else exact cells or tensors)
    hybrid_page_alignment: bool = False  # attention and recurrent state share one page size (vLLM)
    pool_tokens_in_blocks: bool = False  # the logged pool size is rounded down to whole blocks (vLLM)
    state_fp32: str = "none"          # recurrent state kept in fp32 by default: none | ssm | all
    # batching -------------------------------------------------------------------------------------
    max_batch_large_gpu: int = 256    # default running-request cap (vLLM max_num_seqs etc.)
    max_batch_small_gpu: int = 256
    max_batched_tokens_large_gpu: int = 8192
    max_batched_tokens_small_gpu: int = 8192
    # where it runs and what it serves ---------------------------------------------------------------
    splits_layers_by_default: bool = False  # several GPUs run whole layers one after another (pp = gpus)
    search_split: str = "tp"          # how recommend spreads a model over N GPUs: tp | pp
    gpu_vendors: frozenset | None = None     # None: any vendor
    needs_gpu_runtime: bool = True    # CUDA/ROCm only: not on Apple, CPUs or consumer RDNA
    serves_gguf: bool = False
    other_formats: frozenset | None = None   # non-GGUF formats it loads; None: all
    fp8_needs_hardware: bool = False  # fp8 only on GPUs with FP8 tensor cores (no W8A16 fallback)
    nvfp4_needs_hardware: bool = False
    own_kv_types: bool = False        # the q8_0 / q4_0 KV cache types
    cpu_expert_offload: bool = False  # --n-cpu-moe
    # how the engine's own benchmark tool sends requests, the default of Scenario.arrivals: "lockstep" when
    # closed-loop clients with equal lengths finish and re-send together, "random" when lengths vary
    bench_arrivals: str = "lockstep"
    # the scheduler launches step n+1 before it processes step n's output: a request's first token leaves one
    # decode step after its prefill (SGLang's zero-overhead batch scheduler, lmsys.org/blog/2024-12-04-sglang-v0-4;
    # TensorRT-LLM's PyTorch backend does the same, docs/source/features/overlap-scheduler.md: "introduces one
    # extra decoding step", but the TensorRT-LLM rows of data/calibration.csv come from its C++ runtime)
    overlap_schedule: bool = False
    kernels_from: str = ""            # the engine whose GEMM, MoE and attention kernels this one runs (KERNEL_FIELDS)
    # speed constants (data/engine_constants.csv, filled in by `profile`) -------------------------------
    mem_efficiency: float = 0.0       # η_m: fraction of HBM bandwidth reached by decode
    compute_efficiency: float = 0.0   # η_c: fraction of dense peak reached by prefill GEMMs
    layer_overhead_us: float = 0.0    # fixed cost per layer per decode step: launches, small kernels
    step_overhead_ms: float = 0.0     # per decode step: scheduler, sampler, CPU
    seq_overhead_us: float = 0.0      # engine work per running sequence per step, added to the step
    ttft_overhead_ms: float = 0.0     # per request: HTTP, tokenizer, scheduling, detokenizer
    prefill_launch_us: float = 0.0    # CPU per GEMM (and the kernels around it) of a prefill run outside CUDA graphs
    allreduce_latency_us: float = 0.0  # per all-reduce at decode message sizes
    activation_bytes_per_token_h: float = 0.0   # profile-run peak per batched token, in hidden_size bytes
    activation_linear_attn_factor: float = 0.0  # extra per batched token per conv channel (fp32) of linear attention

    @property
    def allocates_per_request(self) -> bool:
        """llama.cpp cells and transformers tensors are sized to the requests, not a pre-reserved pool."""
        return self.budget in ("cells", "dynamic")

    def max_num_seqs(self, gpu: GpuSpec) -> int:
        return self.max_batch_large_gpu if _large(gpu) else self.max_batch_small_gpu

    def max_num_batched_tokens(self, gpu: GpuSpec) -> int:
        return self.max_batched_tokens_large_gpu if _large(gpu) else self.max_batched_tokens_small_gpu

    def memory_fraction(self, tp: int) -> float:
        return next((f for min_tp, f in self.memory_fraction_by_tp if tp >= min_tp), self.default_memory_fraction)


def _large(gpu: GpuSpec) -> bool:
    """vLLM arg_utils: GPUs with >= 70 GiB that are not A100 get the large batch defaults."""
    return gpu.memory_gib_usable >= 70 and "A100" not in gpu.name


VLLM = EngineProfile(
    id="vllm", label="vLLM (V1)", budget="fraction_of_total",
    source="vllm/config/cache.py, vllm/engine/arg_utils.py, vllm/utils/mem_utils.py",
    default_memory_fraction=0.9,        # vllm/config/cache.py gpu_memory_utilization
    cuda_context_gib=0.5,               # modeling.md §4.1: ~0.5-0.6 GiB before the baseline snapshot
    non_torch_gib_single=0.07,          # modeling.md §4.1: 0.02-0.07 GiB at TP1
    non_torch_gib_multi=1.38,           # modeling.md §4.1: 1.38 GiB logged at TP2 (Qwen3-Next, 2xH200)
    cudagraph_gib_per_layer=0.049,      # 2.37 GiB logged for 48 layers at TP2 (modeling.md §4.1), unbudgeted in 0.10.x
    kv_reserve_output_share=0.5,        # pages are allocated as tokens arrive
    hybrid_page_alignment=True, pool_tokens_in_blocks=True,  # vllm/v1/core/kv_cache_utils.py (modeling.md §4.2)
    max_batch_large_gpu=1024, max_batch_small_gpu=256,  # vllm/engine/arg_utils.py defaults
    max_batched_tokens_large_gpu=8192, max_batched_tokens_small_gpu=2048,
    bench_arrivals="lockstep")          # vllm bench serve --random-range-ratio 0.0: every request input_len long

SGLANG = EngineProfile(
    id="sglang", label="SGLang", budget="fraction_static", source="sglang/srt/server_args.py",
    default_memory_fraction=0.88,       # sglang server_args: 0.88 at tp 1
    memory_fraction_by_tp=((16, 0.79), (8, 0.81), (4, 0.85), (2, 0.87)),  # server_args mem_fraction_static by tp
    cuda_context_gib=0.5, non_torch_gib_single=0.3, non_torch_gib_multi=1.5, cudagraph_gib_per_layer=0.0,
    kv_reserve_output_share=0.5,
    state_fp32="ssm",                   # server_args: mamba_ssm_dtype float32 by default
    bench_arrivals="random",            # bench_serving --random-range-ratio 0.0: lengths uniform in [1, L]
    # the same GEMM and attention kernels as vLLM: cuBLAS and CUTLASS FP8 GEMMs, the Triton fused_moe kernel
    # (sglang/srt/layers/moe/fused_moe_triton is vLLM's), FlashInfer attention; the fit pools both engines' rows
    kernels_from="vllm", overlap_schedule=True,  # on unless --disable-overlap-schedule
    max_batch_large_gpu=2048, max_batch_small_gpu=1024,  # req_to_token_pool caps running requests
    max_batched_tokens_large_gpu=16384, max_batched_tokens_small_gpu=8192)  # chunked_prefill_size

TRTLLM = EngineProfile(
    id="trtllm", label="TensorRT-LLM", budget="fraction_of_free", source="tensorrt_llm/llmapi/llm_args.py defaults",
    default_memory_fraction=0.9,        # KvCacheConfig.free_gpu_memory_fraction
    cuda_context_gib=0.5, non_torch_gib_single=0.3, non_torch_gib_multi=0.6, cudagraph_gib_per_layer=0.0,
    kv_reserve_output_share=1.0,        # GUARANTEED_NO_EVICT reserves each request's full length
    max_batch_large_gpu=2048, max_batch_small_gpu=2048,   # trtllm default max_batch_size
    max_batched_tokens_large_gpu=8192, max_batched_tokens_small_gpu=8192,  # default max_num_tokens
    gpu_vendors=frozenset({"nvidia"}), fp8_needs_hardware=True, nvfp4_needs_hardware=True)

LLAMACPP = EngineProfile(
    id="llamacpp", label="llama.cpp", budget="cells", source="llama.cpp tools/server, src/llama-context.cpp",
    default_memory_fraction=1.0, cuda_context_gib=0.3, non_torch_gib_single=0.0, non_torch_gib_multi=0.0,
    cudagraph_gib_per_layer=0.0,
    kv_reserve_output_share=1.0,        # each slot owns n_ctx / n_parallel cells
    paged=False, state_fp32="all",      # llama-memory-recurrent.cpp keeps r/s states in F32
    max_batch_large_gpu=64, max_batch_small_gpu=64,
    max_batched_tokens_large_gpu=2048, max_batched_tokens_small_gpu=2048,  # -b 2048 / -ub 512
    splits_layers_by_default=True, search_split="pp",  # --split-mode layer is the default
    needs_gpu_runtime=False, serves_gguf=True, other_formats=frozenset({"bf16", "fp16"}),
    own_kv_types=True, cpu_expert_offload=True)

TRANSFORMERS = EngineProfile(
    id="transformers", label="HF Transformers (generate)", budget="dynamic", source="transformers generate(), eager PyTorch",
    default_memory_fraction=1.0, cuda_context_gib=0.0, non_torch_gib_single=0.0, non_torch_gib_multi=0.0,
    cudagraph_gib_per_layer=0.0, kv_reserve_output_share=1.0, paged=False,
    max_batch_large_gpu=256, max_batch_small_gpu=256,
    max_batched_tokens_large_gpu=1 << 30, max_batched_tokens_small_gpu=1 << 30,  # no chunking
    splits_layers_by_default=True,      # device_map="auto" places whole layers on each GPU
    needs_gpu_runtime=False)

ENGINES = {p.id: p for p in (VLLM, SGLANG, TRTLLM, LLAMACPP, TRANSFORMERS)}
ENGINE_IDS = tuple(ENGINES)


def rules(engine_id: str) -> EngineProfile:
    """The engine's rules only (its speed constants unset): for the compatibility and layout checks."""
    try:
        return ENGINES[engine_id]
    except KeyError:
        raise ValueError(f"unknown engine {engine_id!r}; allowed: {', '.join(ENGINES)}") from None


def profile(engine_id: str, constants: Constants | None = None, generation: str = "") -> EngineProfile:
    """The engine's rules with its speed constants (data/engine_constants.csv unless `constants` is given),
    on a GPU generation where the file holds the engine's own value for it (`constant_name`)."""
    rules(engine_id)  # an unknown id raises, naming the allowed ones
    return _tuned(engine_id, constants or load(), generation)


def constant_name(engine_id: str, field: str, generation: str = "", constants: Constants | None = None) -> str:
    """The data/engine_constants.csv row behind an engine's speed constant: `<engine>.<field>.<generation>`
    where the engine was measured on that GPU generation alone (a cited prior), else `<engine>.<field>`
    of the engine whose kernels it runs."""
    if generation:
        own = f"{engine_id}.{field}.{generation}"
        if own in (constants or load()):
            return own
    source = ENGINES[engine_id].kernels_from if field in KERNEL_FIELDS else ""
    return f"{source or engine_id}.{field}"


@lru_cache(maxsize=256)
def _tuned(engine_id: str, constants: Constants, generation: str) -> EngineProfile:
    return replace(ENGINES[engine_id],
                   **{f: constants[constant_name(engine_id, f, generation, constants)] for f in TUNED_FIELDS})
