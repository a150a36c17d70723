"""Dollars per million tokens from the price of the GPUs and the throughput they sustain.

$/Mtok = gpus x $/GPU-hour / (tokens/s x 3600) x 1e6 (shared/reference/modeling.md §7). Output tokens
are priced at the aggregate output rate; input tokens at the prefill rate of the same GPUs, so a
buyer can compare with per-token API prices.
"""
from __future__ import annotations

from .results import Cost, Performance
from .scenario import Scenario

SECONDS_PER_HOUR = 3600.0


def usd_per_million(usd_per_hour: float, tokens_per_s: float | None) -> float | None:
    if not tokens_per_s or tokens_per_s <= 0:
        return None
    return usd_per_hour / (tokens_per_s * SECONDS_PER_HOUR) * 1e6


def cost(s: Scenario, perf: Performance | None) -> Cost:
    gpu = s.gpu_spec
    price = s.usd_per_gpu_hour if s.usd_per_gpu_hour is not None else gpu.price_usd_gpu_hr
    source = "user input" if s.usd_per_gpu_hour is not None else (
        f"catalog typical on-demand price ({gpu.price_note[:160]})" if price is not None else "no catalog price: enter $/GPU-hour")
    if s.usd_per_gpu_hour is None and price is not None and not gpu.price_is_list:
        source = f"catalog estimate, not a dated list price ({gpu.price_note[:160]})"
    if price is None:
        return Cost(price_source=source)
    per_hour = price * s.gpus
    out_rate = perf.output_tokens_per_s if perf else None
    in_rate = perf.prefill_tokens_per_s * s.dp_degree if perf and perf.prefill_tokens_per_s else None
    return Cost(usd_per_gpu_hour=price, usd_per_hour=per_hour,
                usd_per_million_output_tokens=usd_per_million(per_hour, out_rate),
                usd_per_million_input_tokens=usd_per_million(per_hour, in_rate), price_source=source)
