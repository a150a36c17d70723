"""Pure sweeps behind the Planner and Models charts: one planner call per point, no Streamlit.

Memory versus context uses the engine plan of planner.core.memory (weights, activations, overhead and
one request's pages at each context); concurrency sweeps and the "nearest configuration that fits"
call planner.estimate_scenario on neighbouring scenarios, so the charts agree with the headline numbers.
"""
from __future__ import annotations

import math

from pydantic import ValidationError

from planner.core.deployment import resolve
from planner.core.engines import rules
from planner.core.estimate import estimate_scenario
from planner.core import memory as mem
from planner.core.precision import FORMATS, class_bytes
from planner.core.scenario import Scenario
from planner.core.units import GB, GIB

CHART_FORMATS = ("bf16", "fp8", "int8", "int4-awq", "mxfp4", "nvfp4", "gguf-q8_0", "gguf-q6_k", "gguf-q4_k_m", "gguf-q2_k")
CONCURRENCY_LEVELS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _running(s: Scenario, est) -> int:
    return est.performance.running_batch or (1 if s.concurrency == "max" else s.concurrency)


def context_points(s: Scenario, est, n: int = 40) -> list[dict]:
    """Per-GPU memory the scenario's requests need at contexts from 128 tokens to the model's limit."""
    top = s.model_spec.max_context or max(4 * (s.input_len + s.output_len), 32_768)
    contexts = sorted({round(math.exp(math.log(128) + i * (math.log(top) - math.log(128)) / (n - 1))) for i in range(n)}
                      | {s.input_len + s.output_len})
    batch = _running(s, est)
    per_gpu = math.ceil(batch / s.dp_degree)
    d = resolve(s)
    b = mem.budget(d, batch, s.input_len + s.output_len)
    fixed = b.weights + b.activation + b.overhead
    rows = []
    for ctx in contexts:
        need = mem.request_bytes(d, ctx) * per_gpu
        fits = est.memory.kv_cache_gib_per_gpu > 0 and mem.max_concurrency(d, b, ctx) >= batch
        rows.append(dict(context=ctx, need_gib=(fixed + need) / GIB, kv_gib=need / GIB, fits=fits))
    return rows


def concurrency_points(s: Scenario, levels=CONCURRENCY_LEVELS) -> list[dict]:
    """Throughput and latency of the scenario at each closed-loop concurrency (not fitting: skipped), with the
    80 % band of each figure (`tpot_ms_low`, `tpot_ms_high`, ...) and the evidence behind it."""
    rows = []
    for c in levels:
        est = estimate_scenario(s.model_copy(update={"concurrency": c}))
        p = est.performance
        if est.fits and p.tpot_ms is not None:
            rows.append(dict(concurrency=c, output_tokens_per_s=p.output_tokens_per_s, tpot_ms=p.tpot_ms,
                             ttft_ms=p.ttft_ms, per_user_tokens_per_s=p.output_tokens_per_s_per_user,
                             **_band_ends(est, ("output_tokens_per_s", "tpot_ms", "ttft_ms"))))
        if c >= est.memory.max_concurrency:
            break
    return rows


def _band_ends(est, figures) -> dict:
    """`<figure>_low` / `<figure>_high`: the 80 % band of each figure (None when the estimate has none), and
    the evidence behind the bands (one level per estimate)."""
    out = {"evidence": next((b.evidence for b in est.uncertainty.values()), None)}
    for f in figures:
        band = est.uncertainty.get(f)
        out[f + "_low"], out[f + "_high"] = (band.low, band.high) if band else (None, None)
    return out


def format_points(model, formats=CHART_FORMATS) -> list[dict]:
    """Weight bytes of the whole checkpoint in each format (scales included), in GB and GiB."""
    rows = []
    for f in formats:
        if f == "mxfp4" and not model.is_moe:
            continue
        total = sum(class_bytes(model, FORMATS[f]).values())
        rows.append(dict(weights=f, label=FORMATS[f].label or f, weights_gb=total / GB, weights_gib=total / GIB))
    return rows


def _variants(s: Scenario) -> list[tuple[str, dict]]:
    out = [(f"fits with {n} GPUs (tp={n})", dict(gpus=n, tp=n, pp=None)) for n in (2, 4, 8) if n > s.gpus]
    gguf_only = rules(s.engine).other_formats is not None  # llama.cpp: GGUF types (and 16-bit) only
    if not gguf_only:
        out += [(f"fits in {w} weights", dict(weights=w)) for w in ("fp8", "nvfp4", "int4-awq") if w != s.weight_format]
        out += [("fits with an fp8 KV cache", dict(kv_dtype="fp8"))]
    else:
        out += [(f"fits in {w}", dict(weights=w)) for w in ("gguf-q4_k_m", "gguf-q2_k") if w != s.weight_format]
    out += [(f"fits in fp8 on {n} GPUs (tp={n})", dict(gpus=n, tp=n, pp=None, weights="fp8")) for n in (2, 4, 8)
            if n > s.gpus and not gguf_only]
    return out


def nearest_fits(s: Scenario, limit: int = 3) -> list[tuple[str, dict]]:
    """Neighbouring configurations that fit, each as (sentence, changed scenario keys)."""
    found = []
    for label, change in _variants(s):
        try:
            est = estimate_scenario(Scenario(**{**s.model_dump(exclude_none=True), **change}))
        except ValidationError:
            continue
        if est.fits:
            found.append((label, change))
        if len(found) >= limit:
            break
    if s.concurrency != "max" and len(found) < limit:
        est = estimate_scenario(s)
        if est.memory.max_concurrency >= 1 and est.memory.max_concurrency < s.concurrency:
            found.append((f"fits at concurrency {est.memory.max_concurrency}", dict(concurrency=est.memory.max_concurrency)))
    return found
