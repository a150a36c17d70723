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

from dataclasses import dataclass

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


@dataclass(slots=True)  # built for every configuration of a sweep: no frozen-setattr cost
class Split:
    """A request's GPU time in dollars: what `cost` reports, as plain numbers (sweeps use it directly)."""
    usd_per_gpu_hour: float
    usd_per_hour: float
    usd_per_request: float | None = None
    prefill_share: float | None = None
    usd_per_million_output_tokens: float | None = None   # the decode share, per output token
    usd_per_million_input_tokens: float | None = None    # the prefill share, per input token


def split(s: Scenario, perf, price: float | None = None) -> Split | None:
    """GPU time of one request priced and split between prefill and decode; None without a price.
    `perf` is anything with Performance's throughput fields (None when the scenario does not run)."""
    price = _price(s)[0] if price is None else price
    if price is None:
        return None
    per_hour = price * s.gpus
    share = prefill_share(s, perf) if perf else None
    if share is None:
        return Split(price, per_hour)
    per_request = per_hour / SECONDS_PER_HOUR / perf.request_throughput_per_s
    return Split(price, per_hour, per_request, share, _per_token(per_request * (1 - share), s.output_len),
                 _per_token(per_request * share, s.input_len))


def cost(s: Scenario, perf: Performance | None) -> Cost:
    price, source = _price(s)
    c = split(s, perf, price)
    if c is None:
        return Cost(price_source=source)
    if c.usd_per_request is None:
        return Cost(usd_per_gpu_hour=c.usd_per_gpu_hour, usd_per_hour=c.usd_per_hour, price_source=source)
    return Cost(usd_per_gpu_hour=c.usd_per_gpu_hour, usd_per_hour=c.usd_per_hour,
                usd_per_million_output_tokens=c.usd_per_million_output_tokens,
                usd_per_million_input_tokens=c.usd_per_million_input_tokens,
                usd_per_request=c.usd_per_request, prefill_share=c.prefill_share,
                gpu_s_per_request=s.gpus / perf.request_throughput_per_s,
                usd_per_million_tokens_blended=_per_token(c.usd_per_request, s.input_len + s.output_len),
                usd_per_million_output_tokens_all_in=usd_per_million(c.usd_per_hour, perf.output_tokens_per_s),
                price_source=source)
