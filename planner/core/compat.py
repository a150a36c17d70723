"""Which scenarios can run at all: parallel layouts, engine x format x GPU combinations.

Each rule names the field it rejects and says what is allowed, so a user can correct it.
Sources: TensorRT-LLM runs on NVIDIA GPUs only and has no GGUF loader; FP8 kernels need Ada,
Hopper or newer under TensorRT-LLM (vLLM and SGLang fall back to Marlin W8A16 on Ampere);
NVFP4 is NVIDIA-only and TensorRT-LLM needs Blackwell for it; B300 dropped INT8 tensor cores
(shared/reference/gpus.md §3); llama.cpp serves GGUF files and owns the q8_0/q4_0 KV types.
"""
from __future__ import annotations

from .engines import ENGINES, GPU_ONLY_GENERATIONS, rules
from .precision import FORMATS, LLAMACPP_ONLY_KV


def _fail(field: str, message: str):
    raise ValueError(f"{field}: {message}")


def _problem(field: str, message: str) -> str:
    return f"{field}: {message}"


def parallel_problem(m, gpus: int, tp: int, pp: int, ep: int) -> str | None:
    """`field: reason` when the layout cannot shard model `m` (a ModelSpec), else None."""
    if gpus % (tp * pp):
        return f"tp: tp x pp = {tp} x {pp} must divide gpus = {gpus}"
    if m.num_heads % tp:
        return f"tp: tp = {tp} must divide the {m.num_heads} attention heads of {m.id}"
    if m.num_kv_heads % tp and tp % m.num_kv_heads:
        return f"tp: tp = {tp} must divide the {m.num_kv_heads} KV heads or be a multiple of them"
    if m.linear_num_key_heads and m.linear_num_key_heads % tp:
        return f"tp: tp = {tp} must divide the {m.linear_num_key_heads} linear-attention heads"
    if pp > m.num_layers:
        return f"pp: pp = {pp} exceeds the {m.num_layers} layers"
    if ep > 1:
        if not m.is_moe:
            return f"ep: {m.id} has no experts; use ep = 1"
        if ep > gpus or m.num_experts % ep:
            return f"ep: ep = {ep} must be at most gpus = {gpus} and divide the {m.num_experts} experts"
    return None


def engine_problem(gpu, weights: str, engine: str, kv_dtype: str) -> str | None:
    """`field: reason` when the engine cannot serve this format on this GPU (a GpuSpec), else None."""
    fmt, e = FORMATS[weights], rules(engine)
    vendor = gpu.vendor.lower()
    if e.gpu_vendors is not None and vendor not in e.gpu_vendors:
        return _problem("engine", f"{e.id} runs on {'/'.join(sorted(e.gpu_vendors)).upper()} GPUs only, not on {gpu.name}; "
                        f"use {' or '.join(_alternatives(lambda p: p.gpu_vendors is None and p.needs_gpu_runtime))}")
    if e.needs_gpu_runtime and gpu.generation in GPU_ONLY_GENERATIONS:
        return _problem("engine", f"{e.id} does not run on {gpu.name}; use {' or '.join(_alternatives(lambda p: not p.needs_gpu_runtime))}")
    if fmt.family == "gguf" and not e.serves_gguf:
        return _problem("weights", f"{fmt.id} is a GGUF format, served by engine {' or '.join(_alternatives(lambda p: p.serves_gguf))} "
                         f"only (not {e.id})")
    if fmt.family != "gguf" and e.other_formats is not None and fmt.id not in e.other_formats:
        return _problem("weights", f"{e.id} serves GGUF files: choose a gguf-... format (or {'/'.join(sorted(e.other_formats))}), "
                         f"not {fmt.id}")
    if fmt.id == "nvfp4" and vendor != "nvidia":
        return _problem("weights", f"nvfp4 is an NVIDIA format; {gpu.name} cannot run it (try mxfp4 or fp8)")
    if e.nvfp4_needs_hardware and fmt.id == "nvfp4" and not gpu.native_fp4:
        return _problem("weights", f"{e.id} runs nvfp4 on Blackwell GPUs only, not on {gpu.name}")
    if e.fp8_needs_hardware and fmt.id == "fp8" and not gpu.native_fp8:
        return _problem("weights", f"{e.id} needs FP8 hardware (Ada, Hopper, Blackwell) for fp8; {gpu.name} lacks it")
    if fmt.id == "int8" and gpu.int8_dense_tops is not None and gpu.int8_dense_tops < gpu.bf16_dense_tflops:
        return _problem("weights", f"{gpu.name} has no fast INT8 tensor cores; use fp8 or w8a16")
    if kv_dtype in LLAMACPP_ONLY_KV and not e.own_kv_types:
        return _problem("kv_dtype", f"{kv_dtype} KV cache is llama.cpp's; with {e.id} use auto, bf16, fp16 or fp8")
    return None


def _alternatives(rule) -> list[str]:
    return [p.id for p in ENGINES.values() if rule(p)]


def check_workload(s) -> None:
    m = s.model_spec
    if s.input_len + s.output_len < 1:
        _fail("input_len", "input_len + output_len must be at least 1 token")
    if m.max_context and s.input_len + s.output_len > m.max_context:
        _fail("input_len", f"input_len + output_len = {s.input_len + s.output_len} exceeds the "
                           f"{m.max_context}-token context of {m.id}")
    if s.spec_tokens and s.acceptance_length is None:
        _fail("acceptance_length", "required with spec_tokens > 0: the mean accepted tokens per step, "
                                   "measured for your workload (engines log it as 'mean acceptance length')")
    if s.acceptance_length is not None and s.acceptance_length > s.spec_tokens + 1:
        _fail("acceptance_length", f"at most spec_tokens + 1 = {s.spec_tokens + 1}")
    if s.cpu_offload_experts:
        if not rules(s.engine).cpu_expert_offload:
            _fail("cpu_offload_experts", "expert offload to CPU is a llama.cpp feature (--n-cpu-moe); use engine "
                                         + " or ".join(_alternatives(lambda p: p.cpu_expert_offload)))
        if s.cpu_offload_experts > m.moe_layers:
            _fail("cpu_offload_experts", f"at most the {m.moe_layers} MoE layers of {m.id}")


def check_scenario(s) -> None:
    problem = (parallel_problem(s.model_spec, s.gpus, s.tp_degree, s.pp_degree, s.ep_degree)
               or engine_problem(s.gpu_spec, s.weight_format, s.engine, s.kv_dtype))
    if problem:
        raise ValueError(problem)
    check_workload(s)
