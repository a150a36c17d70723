"""Per-level statistics of a probe: percentiles, throughput over wall time, goodput, cost.

Definitions in planner.probe.models.DEFINITIONS (shared/DESIGN.md §3). Percentiles are numpy.percentile's
default linear interpolation (Hyndman-Fan type 7), as vLLM's benchmark_serving.py computes them. ITL
statistics pool every gap of every request (vLLM does too; GuideLLM takes them over per-request means).
Per-user tokens/s is 1 / mean TPOT, the planner's definition, not the mean of per-request 1 / TPOT.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from .models import LevelResult, RequestResult, Stats


def stats(values: list[float], scale: float = 1.0) -> Stats:
    """mean/p50/p90/p99 of values × scale; all None for no values."""
    if not values:
        return Stats()
    a = np.asarray(values, dtype=float) * scale
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return Stats(mean=float(a.mean()), p50=float(p50), p90=float(p90), p99=float(p99))


def _source(done: list[RequestResult]) -> str:
    kinds = {r.token_count_source for r in done}
    return "none" if not kinds else kinds.pop() if len(kinds) == 1 else "mixed"


def _meets(r: RequestResult, ttft_ms_target: float | None, tpot_ms_target: float | None) -> bool:
    if ttft_ms_target is not None and (r.ttft_s is None or r.ttft_s * 1e3 > ttft_ms_target):
        return False
    tpot = r.tpot_s
    return tpot_ms_target is None or (tpot is not None and tpot * 1e3 <= tpot_ms_target)


def usd_per_million(output_tokens_per_s: float | None, usd_per_gpu_hour: float | None, gpus: int) -> float | None:
    """$/h of the deployment over output tokens per hour, per million."""
    if not output_tokens_per_s or usd_per_gpu_hour is None:
        return None
    return usd_per_gpu_hour * gpus / (output_tokens_per_s * 3600) * 1e6


def level(concurrency: int, results: list[RequestResult], wall_time_s: float, ttft_ms_target: float | None = None,
          tpot_ms_target: float | None = None, usd_per_gpu_hour: float | None = None, gpus: int = 1) -> LevelResult:
    """Aggregate one closed-loop level; errors are counted by kind and do not enter the timings."""
    done = [r for r in results if r.ok]
    out = sum(r.output_tokens for r in done)
    tpots = [r.tpot_s for r in done if r.tpot_s is not None]
    rate = (lambda n: n / wall_time_s if wall_time_s > 0 and done else None)
    tps = rate(out)
    return LevelResult(
        concurrency=concurrency, requests=len(results), completed=len(done), errors=len(results) - len(done),
        error_kinds=dict(Counter(r.error_kind or "other" for r in results if not r.ok)),
        ttft_ms=stats([r.ttft_s for r in done], 1e3), tpot_ms=stats(tpots, 1e3),
        itl_ms=stats([g for r in done for g in r.itl_s], 1e3), e2e_latency_s=stats([r.e2e_s for r in done]),
        output_tokens=out, input_tokens=sum(r.input_tokens or 0 for r in done),
        output_tokens_per_s=tps,
        output_tokens_per_s_per_user=1 / float(np.mean(tpots)) if tpots and np.mean(tpots) > 0 else None,
        request_throughput_per_s=rate(len(done)), token_count_source=_source(done),
        goodput_per_s=rate(sum(_meets(r, ttft_ms_target, tpot_ms_target) for r in done)),
        wall_time_s=wall_time_s, usd_per_million_output_tokens=usd_per_million(tps, usd_per_gpu_hour, gpus),
        cached_input_tokens=_cached(done))


def _cached(done: list[RequestResult]) -> int | None:
    """Prompt tokens served from the server's cache, when any request's usage said."""
    told = [r.cached_input_tokens for r in done if r.cached_input_tokens is not None]
    return sum(told) if told else None
