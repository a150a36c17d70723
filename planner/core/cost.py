"""What a request costs on rented GPUs: GPU time per request, split between prefill and decode.

GPU-seconds per request = GPUs / requests per second at the scenario's concurrency (closed loop,
shared/reference/modeling.md §7). The prompt's share of that time is its prefill work (input tokens
/ prefill tokens/s on its replica); decode gets the rest. Input tokens carry the prefill share and
output tokens the decode share, so the two $/M figures ADD like an API's prices:
    input_len x usd_per_million_input_tokens / 1e6 + output_len x usd_per_million_output_tokens / 1e6
    = usd_per_request
(before issue 13 each charged the whole GPU-hour, and adding them double counted the overlap).
`usd_per_million_output_tokens_all_in` charges every GPU-second to output tokens: what a probe
measures ($/hour over output tokens/s); never add an input price to it.
"""
from __future__ import annotations

from .results import Cost, Performance
from .scenario import Scenario

SECONDS_PER_HOUR = 3600.0


def usd_per_million(usd_per_hour: float, tokens_per_s: float | None) -> float | None:
    """$ per million tokens when every GPU-second is charged to these tokens."""
    if not tokens_per_s or tokens_per_s <= 0:
        return None
    return usd_per_hour / (tokens_per_s * SECONDS_PER_HOUR) * 1e6


def prefill_share(s: Scenario, perf: Performance) -> float | None:
    """Share of a request's GPU time that is its prompt's prefill (0..1); None without throughput."""
    if not perf.request_throughput_per_s:
        return None
    if not s.input_len or not perf.prefill_tokens_per_s:
        return 0.0
    seconds_per_request = 1.0 / perf.request_throughput_per_s           # whole deployment
    prefill_s = s.input_len / (perf.prefill_tokens_per_s * s.dp_degree)  # one replica of dp, in deployment time
    return min(1.0, prefill_s / seconds_per_request)


def _per_token(usd: float, tokens: int) -> float | None:
    return usd / tokens * 1e6 if tokens > 0 else None


def _price(s: Scenario) -> tuple[float | None, str]:
    gpu = s.gpu_spec
    price = s.usd_per_gpu_hour if s.usd_per_gpu_hour is not None else gpu.price_usd_gpu_hr
    if s.usd_per_gpu_hour is not None:
        return price, "user input"
    if price is None:
        return None, "no catalog price: enter $/GPU-hour"
    if not gpu.price_is_list:
        return price, f"catalog estimate, not a dated list price ({gpu.price_note[:160]})"
    return price, f"catalog typical on-demand price ({gpu.price_note[:160]})"


def cost(s: Scenario, perf: Performance | None) -> Cost:
    price, source = _price(s)
    if price is None:
        return Cost(price_source=source)
    per_hour = price * s.gpus
    share = prefill_share(s, perf) if perf else None
    if share is None:
        return Cost(usd_per_gpu_hour=price, usd_per_hour=per_hour, price_source=source)
    per_request = per_hour / SECONDS_PER_HOUR / perf.request_throughput_per_s
    return Cost(usd_per_gpu_hour=price, usd_per_hour=per_hour,
                usd_per_million_output_tokens=_per_token(per_request * (1 - share), s.output_len),
                usd_per_million_input_tokens=_per_token(per_request * share, s.input_len),
                usd_per_request=per_request, prefill_share=share,
                gpu_s_per_request=s.gpus / perf.request_throughput_per_s,
                usd_per_million_tokens_blended=_per_token(per_request, s.input_len + s.output_len),
                usd_per_million_output_tokens_all_in=usd_per_million(per_hour, perf.output_tokens_per_s),
                price_source=source)
