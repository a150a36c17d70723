"""`quantization_config` of a checkpoint -> the planner's default weight format and what stays 16-bit.

Readers follow the field names the loaders use: vLLM `fp8.py` (`weight_block_size`, `ignored_layers`),
AutoAWQ/GPTQ (`bits`, `group_size`, `modules_to_not_convert`), llm-compressor's compressed-tensors
(`config_groups.*.weights.{num_bits,type,strategy,group_size}`, `ignore`, `format`), gpt-oss MXFP4
(`modules_to_not_convert`) and NVIDIA ModelOpt (`quant_algo` FP8 / NVFP4, `exclude_modules`).
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class QuantInfo(BaseModel):
    """What a checkpoint's quantization_config says."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    method: str                         # quant_method as written
    weights: str                        # planner weight format id (planner/precision.py FORMATS)
    bits: float | None = None
    group_size: int | None = None       # weights per scale along the input dimension
    block_size: tuple[int, ...] | None = None  # 2-D block scales (fp8 128x128)
    activations: str | None = None      # e.g. "fp8 dynamic", None = weight-only
    unquantized_modules: tuple[str, ...] = ()
    note: str = ""


def _modules(q: dict, *keys: str) -> tuple[str, ...]:
    out: list[str] = []
    for key in keys:
        value = q.get(key)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            out += [str(v) for v in value]
    return tuple(dict.fromkeys(out))


def _int_format(bits: int, method: str) -> str:
    """4-bit integer weight-only -> AWQ/GPTQ class; 8-bit integer weight-only -> w8a16."""
    if bits >= 8:
        return "w8a16"
    return "int4-awq" if method == "awq" else "int4-gptq"


def _compressed_tensors(q: dict) -> QuantInfo:
    groups = [g for g in (q.get("config_groups") or {}).values() if isinstance(g, dict)]
    group = groups[0] if groups else {}
    w, a = group.get("weights") or {}, group.get("input_activations") or {}
    bits, kind = int(w.get("num_bits") or 8), str(w.get("type") or "int")
    fmt_name = str(q.get("format", ""))
    if kind == "float" and bits == 4:
        weights = "nvfp4" if int(w.get("group_size") or 16) == 16 else "mxfp4"
    elif kind == "float":
        weights = "fp8"
    elif bits == 8 and a.get("num_bits") == 8:
        weights = "int8"
    else:
        weights = _int_format(bits, "gptq")
    act = f"{a.get('type', 'int')}{a.get('num_bits')} {'dynamic' if a.get('dynamic') else 'static'}" if a else None
    block = tuple(w["block_structure"]) if isinstance(w.get("block_structure"), list) else None
    return QuantInfo(method="compressed-tensors", weights=weights, bits=bits, group_size=w.get("group_size"),
                     block_size=block, activations=act, unquantized_modules=_modules(q, "ignore"),
                     note=f"format {fmt_name}, strategy {w.get('strategy', '?')}")


def _modelopt(q: dict) -> QuantInfo:
    algo = str(q.get("quant_algo") or (q.get("quantization") or {}).get("quant_algo") or "").upper()
    weights = "nvfp4" if "FP4" in algo else "fp8" if "FP8" in algo else "int4-awq" if "AWQ" in algo else "bf16"
    return QuantInfo(method="modelopt", weights=weights, bits=4 if weights == "nvfp4" else 8,
                     group_size=q.get("group_size") or (16 if weights == "nvfp4" else None),
                     activations="fp8" if weights == "fp8" else ("fp4" if weights == "nvfp4" else None),
                     unquantized_modules=_modules(q, "exclude_modules", "ignore"), note=f"quant_algo {algo}")


def quant_info(config: dict) -> QuantInfo | None:
    """Read `quantization_config` (or ModelOpt's `quantization`); None when the checkpoint is 16-bit."""
    q = config.get("quantization_config") or config.get("compression_config")
    if not isinstance(q, dict):
        return None
    method = str(q.get("quant_method", "")).lower()
    if method in ("fp8", "fbgemm_fp8"):
        block = q.get("weight_block_size")
        return QuantInfo(method=method, weights="fp8", bits=8, block_size=tuple(block) if block else None,
                         activations=f"fp8 {q.get('activation_scheme', 'dynamic')}",
                         unquantized_modules=_modules(q, "ignored_layers", "modules_to_not_convert"))
    if method in ("awq", "gptq", "auto-round", "autoround"):
        bits = int(q.get("bits") or q.get("w_bit") or 4)
        return QuantInfo(method=method, weights=_int_format(bits, method), bits=bits,
                         group_size=q.get("group_size") or q.get("q_group_size"),
                         unquantized_modules=_modules(q, "modules_to_not_convert"))
    if method == "mxfp4":
        return QuantInfo(method=method, weights="mxfp4", bits=4, group_size=32,
                         unquantized_modules=_modules(q, "modules_to_not_convert"))
    if method == "compressed-tensors":
        return _compressed_tensors(q)
    if method in ("modelopt", "modelopt_fp4", "nvfp4"):
        return _modelopt(q) if method == "modelopt" else QuantInfo(
            method=method, weights="nvfp4", bits=4, group_size=16, unquantized_modules=_modules(q, "exclude_modules"))
    if method == "bitsandbytes":
        four = bool(q.get("load_in_4bit"))
        return QuantInfo(method=method, weights="int4-gptq" if four else "w8a16", bits=4 if four else 8,
                         group_size=64 if four else None, unquantized_modules=_modules(q, "llm_int8_skip_modules"),
                         note="bitsandbytes NF4/INT8 has no planner format of its own: sized as the nearest one")
    return QuantInfo(method=method or "unknown", weights="bf16",
                     note=f"quant_method {method!r} is not known to the planner: sized as bf16")
