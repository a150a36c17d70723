"""Bytes per weight and per KV element for every format, and which tensors each format quantizes.

Bits per weight include scales (shared/reference/modeling.md §2.2): FP8 block-128 8 + 32/16384,
AWQ/GPTQ g128 4 + 16/128 + 4/128, MXFP4 4 + 8/32, NVFP4 4 + 8/16. GGUF block sizes from llama.cpp
`ggml/src/ggml-common.h`; K-quant mixes (Q4_K_M, ...) follow llama.cpp `src/llama-quant.cpp`: the
output matrix goes to Q6_K and half of the ffn_down matrices one type up, which reproduces the
Qwen3-Next Q4_K_M file (48.4 GB) and Q5_K_M file (56.7 GB) within 0.5 %.
Embeddings, lm_head, routers, norms and small linear-attention projections stay 16-bit in
engine formats (vLLM builds Qwen3-Next's `gate` with quant_config=None; gpt-oss
`modules_to_not_convert`); GGUF files quantize the embeddings too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .schemas import GpuSpec, ModelSpec

LINEAR = frozenset({"attn", "linear_attn", "mlp_up", "mlp_down", "expert_up", "expert_down", "shared_up", "shared_down"})
EXPERTS = frozenset({"expert_up", "expert_down"})
ALL_BUT_NORMS = frozenset(LINEAR | {"embed", "lm_head", "router", "linear_small", "attn_small"})
DOWN = ("mlp_down", "expert_down", "shared_down")


@dataclass(frozen=True)
class WeightFormat:
    id: str
    bits: float                  # effective bits per quantized weight, scales included
    compute: str                 # GEMM input precision when the GPU has it natively: bf16 | fp8 | int8 | fp4
    native: str | None           # hardware feature needed to run at `compute`; else weight-only at bf16
    quantizes: frozenset = LINEAR
    promote: tuple = ()          # GGUF mixes: ((tensor class, fraction, bits), ...)
    family: str = "engine"       # engine | gguf
    label: str = ""
    extra: dict = field(default_factory=dict)


def _gguf(name: str, bits: float, label: str, promote: tuple = ()) -> WeightFormat:
    return WeightFormat(f"gguf-{name}", bits, "bf16", None, ALL_BUT_NORMS, promote, "gguf", label)


def _mix(base_bits: float, down_bits: float | None, output_bits: float = 6.5625, down_share: float = 0.5) -> tuple:
    rules = [("lm_head", 1.0, output_bits)]
    if down_bits:
        rules += [(c, down_share, down_bits) for c in DOWN]
    return tuple(rules)


Q2K, Q3K, Q4K, Q5K, Q6K = 2.625, 3.4375, 4.5, 5.5, 6.5625
FORMATS: dict[str, WeightFormat] = {f.id: f for f in [
    WeightFormat("bf16", 16, "bf16", None, frozenset(), label="BF16"),
    WeightFormat("fp16", 16, "bf16", None, frozenset(), label="FP16"),
    WeightFormat("fp8", 8 + 32 / 16384, "fp8", "fp8", label="FP8 (E4M3, 128x128 block scales)"),
    WeightFormat("int8", 8 + 32 / 4096, "int8", "int8", label="INT8 W8A8 (per-channel scales)"),
    WeightFormat("w8a16", 8 + 16 / 4096, "bf16", None, label="INT8 weight-only (W8A16)"),
    WeightFormat("int4-awq", 4 + 16 / 128 + 4 / 128, "bf16", None, label="AWQ 4-bit, group 128"),
    WeightFormat("int4-gptq", 4 + 16 / 128 + 4 / 128, "bf16", None, label="GPTQ 4-bit, group 128"),
    WeightFormat("mxfp4", 4.25, "fp8", "fp4", EXPERTS, label="MXFP4 (E2M1 + E8M0 per 32), MoE experts"),
    WeightFormat("nvfp4", 4.5, "fp4", "fp4", label="NVFP4 (E2M1 + FP8 scale per 16)"),
    _gguf("f32", 32, "GGUF F32"), _gguf("f16", 16, "GGUF F16"), _gguf("bf16", 16, "GGUF BF16"),
    _gguf("q8_0", 8.5, "GGUF Q8_0"), _gguf("q6_k", Q6K, "GGUF Q6_K"),
    _gguf("q5_k_m", Q5K, "GGUF Q5_K_M", _mix(Q5K, Q6K)), _gguf("q5_k_s", Q5K, "GGUF Q5_K_S", _mix(Q5K, None)),
    _gguf("q5_0", 5.5, "GGUF Q5_0", _mix(5.5, None)), _gguf("q5_1", 6.0, "GGUF Q5_1", _mix(6.0, None)),
    _gguf("q4_k_m", Q4K, "GGUF Q4_K_M", _mix(Q4K, Q6K)), _gguf("q4_k_s", Q4K, "GGUF Q4_K_S", _mix(Q4K, Q5K, down_share=0.125)),
    _gguf("q4_0", 4.5, "GGUF Q4_0", _mix(4.5, None)), _gguf("q4_1", 5.0, "GGUF Q4_1", _mix(5.0, None)),
    _gguf("q3_k_l", Q3K, "GGUF Q3_K_L", _mix(Q3K, Q5K, down_share=1.0)), _gguf("q3_k_m", Q3K, "GGUF Q3_K_M", _mix(Q3K, Q4K)),
    _gguf("q3_k_s", Q3K, "GGUF Q3_K_S", _mix(Q3K, None)), _gguf("q2_k", Q2K, "GGUF Q2_K", _mix(Q2K, Q3K, down_share=1.0)),
    _gguf("iq4_xs", 4.25, "GGUF IQ4_XS", _mix(4.25, None)), _gguf("iq4_nl", 4.5, "GGUF IQ4_NL", _mix(4.5, None)),
    _gguf("iq3_s", 3.4375, "GGUF IQ3_S", _mix(3.4375, None)), _gguf("iq3_xxs", 3.0625, "GGUF IQ3_XXS", _mix(3.0625, None)),
    _gguf("iq2_s", 2.5625, "GGUF IQ2_S", _mix(2.5625, None)), _gguf("iq2_xs", 2.3125, "GGUF IQ2_XS", _mix(2.3125, None)),
    _gguf("iq2_xxs", 2.0625, "GGUF IQ2_XXS", _mix(2.0625, None)), _gguf("iq1_m", 1.75, "GGUF IQ1_M", _mix(1.75, None)),
    _gguf("iq1_s", 1.5625, "GGUF IQ1_S", _mix(1.5625, None)), _gguf("mxfp4", 4.25, "GGUF MXFP4", _mix(4.25, None)),
    _gguf("tq1_0", 1.6875, "GGUF TQ1_0", _mix(1.6875, None)), _gguf("tq2_0", 2.0625, "GGUF TQ2_0", _mix(2.0625, None)),
]}

# KV cache element sizes in bytes; q8_0/q4_0 are llama.cpp block types (34 B / 32, 18 B / 32).
KV_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp32": 4.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
KV_ALIASES = {"f16": "fp16", "f32": "fp32", "float16": "fp16", "bfloat16": "bf16", "fp8_e4m3": "fp8", "fp8_e5m2": "fp8"}
LLAMACPP_ONLY_KV = {"q8_0", "q4_0"}


def weight_bits(fmt: WeightFormat, tensor_class: str) -> float:
    """Average bits per weight of one tensor class under a format."""
    if tensor_class == "norm":
        return 32.0 if fmt.family == "gguf" else 16.0
    base = fmt.bits if tensor_class in fmt.quantizes else 16.0
    for cls, share, bits in fmt.promote:
        if cls == tensor_class:
            return share * bits + (1 - share) * base
    return base


def class_bytes(model: ModelSpec, fmt: WeightFormat) -> dict[str, float]:
    """Bytes of every tensor class of the whole model (no sharding). When an imported file told the
    checkpoint's real size (GGUF tensor table, safetensors headers) and the format is the checkpoint's
    own, the classes are scaled to that size: mixes such as a Q8_0 embedding in a Q4_1 file."""
    eff = effective_format(model, fmt)
    out = {cls: n * weight_bits(eff, cls) / 8 for cls, n in model.params.items()}
    if model.weights_bytes_exact and fmt.id == model.default_weights:
        scale = model.weights_bytes_exact / sum(out.values())
        out = {cls: b * scale for cls, b in out.items()}
    return out


def effective_format(model: ModelSpec, fmt: WeightFormat) -> WeightFormat:
    """MXFP4 quantizes the experts of MoE models (gpt-oss) but every linear layer of a dense model."""
    if fmt.id == "mxfp4" and not model.is_moe:
        return WeightFormat("mxfp4", fmt.bits, fmt.compute, fmt.native, LINEAR, label=fmt.label)
    return fmt


def kv_element_bytes(kv_dtype: str, model: ModelSpec) -> float:
    """`auto` is the model's own dtype (vLLM --kv-cache-dtype auto)."""
    if kv_dtype == "auto":
        return 4.0 if model.dtype == "float32" else 2.0
    return KV_BYTES[KV_ALIASES.get(kv_dtype, kv_dtype)]


def runs_native(fmt: WeightFormat, gpu: GpuSpec) -> bool:
    """Whether the GPU has the hardware type the format computes in (else weight-only dequant)."""
    if fmt.native is None:
        return True
    if fmt.native == "fp8":
        return gpu.native_fp8
    if fmt.native == "fp4":
        return gpu.native_fp4
    if fmt.native == "int8":
        return bool(gpu.int8_dense_tops) and gpu.int8_dense_tops >= gpu.bf16_dense_tflops
    return False


def compute_tflops(fmt: WeightFormat, gpu: GpuSpec) -> float:
    """Dense peak of the GEMMs as the format runs on this GPU."""
    if runs_native(fmt, gpu):
        peak = {"fp8": gpu.fp8_dense_tflops, "int8": gpu.int8_dense_tops, "fp4": gpu.fp4_dense_tflops}.get(fmt.compute)
        if peak:
            return peak
    if fmt.bits >= 6 and fmt.compute in ("fp8", "fp4") and gpu.native_fp8 and gpu.fp8_dense_tflops:
        return gpu.fp8_dense_tflops
    # 4-bit weights without FP4 tensor cores are dequantised in the kernel and multiplied in BF16:
    # TensorRT-LLM examples/models/core/gpt_oss/README.md (MoE support matrix: Hopper = BF16 activations
    # x MXFP4 weights, TRITON/CUTLASS; Blackwell = MXFP8 x MXFP4); vLLM's Marlin and Triton matmul_ogs
    # MXFP4 paths on Hopper and Ampere are W4A16 too.
    return gpu.bf16_dense_tflops


def kernel_class(fmt: WeightFormat, gpu: GpuSpec) -> str:
    """Which decode-kernel efficiency term applies (engines.FORMAT_BANDWIDTH_EFFICIENCY)."""
    if fmt.family == "gguf":
        return "gguf"
    if fmt.bits >= 15:
        return "16bit"
    if runs_native(fmt, gpu) and fmt.native is not None:
        return "native_fp4" if fmt.native == "fp4" else "native_8bit"
    return "weight_only_4bit" if fmt.bits < 6 else "weight_only_8bit"
