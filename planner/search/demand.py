"""How many replicas of one configuration serve a demand level within the TTFT/TPOT targets (issue 13).

Demand is open loop: requests arrive at random (Poisson) at a peak rate, given directly or as tokens
per day x a peak factor. One replica (the scenario's GPUs) holds `slots` requests at once (memory and
the engine's batch cap, planner.estimate's max_concurrency). At arrival rate λ per replica the mean
number being served n solves λ = X(n), X = the closed-loop request throughput at n requests (linear
between whole n, X(0) = 0), so each is served in S = n / λ (Little's law). Queueing for a free slot
near saturation uses the M/G/c approximation of Allen and Cunneen: c = slots servers, offered load
a = n, Wq = ErlangC(c, a) x S / (c - a) x (ca² + cs²) / 2 with ca² = 1 (Poisson arrivals) and
cs² = SERVICE_CV2. Requests in flight per replica = λ x (S + Wq), again Little's law. A replica's
capacity is the largest λ whose TTFT (+ Wq) and TPOT meet the targets; replicas = ceil(demand /
capacity), so the count never falls as demand grows, and headroom = replicas x capacity / demand - 1.
"""
from __future__ import annotations

import math
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from planner.core import tco
from planner.core.estimate import assess, estimate_scenario
from planner.core.results import Performance
from planner.core.scenario import Scenario

SERVICE_CV2 = 1.0   # squared coefficient of variation of service time: output lengths in chat traffic spread
                    # about as widely as an exponential (cs² = 1); equal-length benchmark requests have ~0
APPROXIMATION = ("M/G/c queue, Allen-Cunneen approximation (Erlang C x (1 + cs²)/2, cs² = "
                 f"{SERVICE_CV2:g}); service at n requests from the closed-loop model; Little's law")
SECONDS_PER_DAY = 86_400.0


class Sizing(BaseModel):
    """Replicas of one configuration for a peak demand, and the operating point of each replica."""
    model_config = ConfigDict(frozen=True)
    fits: bool
    reason: str | None = None
    requests_per_s: float                        # peak demand, all replicas
    replicas: int | None = None
    gpus_per_replica: int
    gpus_total: int | None = None
    capacity_requests_per_s_per_replica: float | None = None  # the most one replica takes within the targets
    limited_by: str | None = None                # what sets that capacity
    headroom: float | None = None                # replicas x capacity / demand - 1
    requests_per_s_per_replica: float | None = None
    running_per_replica: float | None = None     # mean requests being served (n)
    concurrency_per_replica: float | None = None  # mean requests in the replica, waiting or served: λ x time in system
    slots_per_replica: int | None = None
    utilization: float | None = None             # n / slots
    p_wait: float | None = None                  # probability an arrival waits for a slot (Erlang C)
    queue_wait_ms: float | None = None
    time_in_system_s: float | None = None
    ttft_ms: float | None = None                 # includes the wait for a slot
    tpot_ms: float | None = None
    approximation: str = APPROXIMATION


def peak_requests_per_s(input_len: int, output_len: int, requests_per_s: float | None = None,
                        tokens_per_day: float | None = None, peak_factor: float | None = None) -> float:
    """Peak requests/s from requests/s (already the peak) or tokens per day (input + output) x peak factor."""
    if requests_per_s is not None:
        return requests_per_s
    if tokens_per_day is None:
        raise ValueError("requests_per_s: give the peak requests per second or tokens_per_day")
    return tokens_per_day / SECONDS_PER_DAY / max(1, input_len + output_len) * (peak_factor or 1.0)


def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load `load` (Erlang B recursion, stable for large c)."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
        if b < 1e-18:  # past the load B only shrinks (b_k < load / k b_{k-1}): the rest cannot lift it
            return 0.0
    return b / (1 - load / servers * (1 - b))


_NOT_RUNNING = Performance()  # every figure None: n requests do not run


class _Curve:
    """Closed-loop performance of one replica at n requests, estimated once per whole n."""

    def __init__(self, s: Scenario):
        self.s = s
        self._at = lru_cache(maxsize=None)(self._estimate)

    def _estimate(self, n: int):
        """The speed figures at n requests (planner.core.estimate.assess: no result objects built)."""
        return assess(self.s.model_copy(update={"concurrency": n})).figures or _NOT_RUNNING

    def throughput(self, n: float) -> float:
        lo, hi = math.floor(n), math.ceil(n)
        x_hi = self._at(hi).request_throughput_per_s or 0.0  # None: n requests do not run (memory)
        x_lo = (self._at(lo).request_throughput_per_s or 0.0) if lo >= 1 else 0.0
        return x_lo + (x_hi - x_lo) * (n - lo) if hi > lo else x_hi

    def at(self, n: float) -> Performance:
        return self._at(max(1, math.ceil(n - 1e-9)))  # latency of the next whole request: conservative


def _point(curve: _Curve, n: float, slots: int) -> dict:
    """The operating point with n requests being served on average."""
    lam = curve.throughput(n)
    perf = curve.at(n)
    if lam <= 0 or perf.ttft_ms is None:  # does not run at n (e.g. the engine's memory budget grows with n)
        return dict(requests_per_s_per_replica=0.0, queue_wait_ms=math.inf, ttft_ms=math.inf, tpot_ms=math.inf)
    service_s = n / lam
    p_wait = erlang_c(slots, n)
    wait_s = p_wait * service_s / (slots - n) * (1 + SERVICE_CV2) / 2 if n < slots else math.inf
    return dict(requests_per_s_per_replica=lam, running_per_replica=n, p_wait=p_wait, queue_wait_ms=wait_s * 1e3,
                time_in_system_s=service_s + wait_s, concurrency_per_replica=lam * (service_s + wait_s),
                ttft_ms=perf.ttft_ms + wait_s * 1e3, tpot_ms=perf.tpot_ms, utilization=n / slots)


def _misses(p: dict, ttft_ms_max: float | None, tpot_ms_max: float | None) -> str | None:
    if not math.isfinite(p["tpot_ms"]):
        return "memory slots"
    if tpot_ms_max is not None and p["tpot_ms"] > tpot_ms_max:
        return "TPOT target"
    if ttft_ms_max is not None and p["ttft_ms"] > ttft_ms_max:
        return "TTFT target"
    if not math.isfinite(p["queue_wait_ms"]):
        return "memory slots"
    return None


def _capacity(curve: _Curve, slots: int, targets: tuple) -> tuple[float, str]:
    """(largest n that meets the targets, what stops it going higher): bisection over whole n, then within one."""
    ok = lambda n: _misses(_point(curve, n, slots), *targets)  # noqa: E731 - None when n meets every target
    lo, hi, why = 0, slots, "memory slots"
    while hi - lo > 1:  # whole n only: one estimate per step
        mid = (lo + hi) // 2
        miss = ok(mid)
        lo, hi, why = (mid, hi, why) if miss is None else (lo, mid, miss)
    x, y = float(lo), float(hi)
    for _ in range(12):  # within [lo, lo + 1], to 1/4096 of a request: both ends already estimated
        mid = (x + y) / 2
        miss = ok(mid)
        x, y, why = (mid, y, why) if miss is None else (x, mid, miss)
    return x, why


def _solve_running(curve: _Curve, lam: float, n_max: float) -> float:
    """n with X(n) = lam: bisection over whole n, then exact on the straight piece between two of them."""
    lo, hi = 0, max(1, math.ceil(n_max))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if curve.throughput(mid) < lam else (lo, mid)
    x_lo, x_hi = curve.throughput(lo), curve.throughput(hi)
    return min(n_max, lo + (lam - x_lo) / (x_hi - x_lo)) if x_hi > x_lo else float(hi)


def size(s: Scenario, requests_per_s: float, ttft_ms_max: float | None = None,
         tpot_ms_max: float | None = None) -> Sizing:
    """The smallest number of replicas of `s` (its GPUs are one replica) that serve the peak demand."""
    if not requests_per_s > 0:
        raise ValueError("requests_per_s: must be above 0")
    base = dict(requests_per_s=requests_per_s, gpus_per_replica=s.gpus)
    one = estimate_scenario(s.model_copy(update={"concurrency": 1}))
    if not one.fits:
        return Sizing(fits=False, reason=one.reason, **base)
    curve, slots, targets = _Curve(s), one.memory.max_concurrency, (ttft_ms_max, tpot_ms_max)
    floor = _point(curve, 1e-6, slots)
    miss = _misses(floor, *targets)
    if miss is not None:
        return Sizing(fits=False, reason=f"misses the {miss} even with one request at a time "
                      f"(TTFT {floor['ttft_ms']:,.0f} ms, TPOT {floor['tpot_ms']:.1f} ms); more replicas cannot help", **base)
    n_cap, why = _capacity(curve, slots, targets)
    cap = curve.throughput(n_cap)
    replicas = max(1, math.ceil(requests_per_s / cap - 1e-9))
    point = _point(curve, _solve_running(curve, requests_per_s / replicas, n_cap), slots)
    return Sizing(fits=True, replicas=replicas, gpus_total=replicas * s.gpus, capacity_requests_per_s_per_replica=cap,
                  limited_by=why, headroom=replicas * cap / requests_per_s - 1, slots_per_replica=slots, **point, **base)


def at_demand(c: dict, model, workload: dict, requests_per_s: float, targets: tuple) -> dict:
    """Fields of a fitting planner.recommend candidate re-priced for a demand: replicas, $/hour for all of them,
    $ per request, and the per-replica operating point; targets missed at one request cannot be helped."""
    ttft_ms_max, tpot_ms_max, budget = targets
    s = Scenario(model=model, gpu=c["gpu"], gpus=c["gpus"], engine=c["engine"], weights=c["weights"], tp=c["tp"],
                 pp=c["pp"], **{**workload, "concurrency": 1})
    z = size(s, requests_per_s, ttft_ms_max, tpot_ms_max)
    price_misses = [m for m in (c["reason"] or "").split("; ") if "price" in m]
    if not z.fits:
        return dict(meets_targets=False, reason="; ".join([z.reason or "", *price_misses]).strip("; "))
    per_hour = c["usd_per_hour"] * z.replicas if c["usd_per_hour"] is not None else None
    misses = ([f"${per_hour:,.2f}/hour for {z.replicas} replicas > ${budget:g}/hour budget"]
              if budget is not None and per_hour is not None and per_hour > budget else []) + price_misses
    return dict(meets_targets=not misses, reason="; ".join(misses) or None, replicas=z.replicas, usd_per_hour=per_hour,
                usd_per_request=per_hour / 3600 / requests_per_s if per_hour is not None else None,
                ttft_ms=z.ttft_ms, tpot_ms=z.tpot_ms, output_tokens_per_s=z.requests_per_s_per_replica * s.output_len,
                output_tokens_per_s_per_user=1000 / z.tpot_ms if z.tpot_ms else None)


class TcoResult(BaseModel):
    """Rent, own and API for one configuration at a peak demand (`python -m planner tco --json`)."""
    model_config = ConfigDict(frozen=True)
    replicas: int | None
    gpus_total: int | None
    concurrency_per_replica: float | None
    requests_per_s: float
    peak_factor: float
    requests_per_month: float
    sizing: Sizing
    rent: tco.OptionCost | None      # None: no $/GPU-hour for this GPU
    own: tco.OptionCost | None       # None: no sourced purchase price; give capex_usd_per_gpu
    api: tco.OptionCost
    break_even_requests_per_s: dict[str, float | None]  # rent_vs_api, own_vs_api
    notes: list[str]


def _replica_month(option: tco.OptionCost | None, replicas: int) -> float | None:
    return option.usd_per_month / replicas if option is not None else None


def compare_options(s: Scenario, t: tco.TcoInputs, ttft_ms_max: float | None = None,
                    tpot_ms_max: float | None = None) -> TcoResult:
    """Size `s` (one replica) for the demand in `t` and price rent, own and the API the same way."""
    peak_factor = t.peak_factor or 1.0
    demand = peak_requests_per_s(s.input_len, s.output_len, t.requests_per_s, t.tokens_per_day, peak_factor)
    z = size(s, demand, ttft_ms_max, tpot_ms_max)
    requests = tco.requests_per_month(demand, peak_factor)
    api_opt, notes, rent_opt, own_opt = tco.api(s.input_len, s.output_len, t, requests), [], None, None
    if z.fits:
        gpu, est = s.gpu_spec, estimate_scenario(s.model_copy(update={"concurrency": 1}))
        if est.cost.usd_per_gpu_hour is not None:
            rent_opt = tco.rent(z.gpus_total, est.cost.usd_per_gpu_hour, requests, est.cost.price_source[:120])
        else:
            notes.append(f"rent: no catalog $/GPU-hour for {gpu.name}; give usd_per_gpu_hour")
        capex = tco.capex_catalog().get(gpu.id)
        price = t.capex_usd_per_gpu or (capex.usd_per_gpu if capex else None)
        source = "user input" if t.capex_usd_per_gpu else (
            f"{capex.condition}, {capex.source_date}, {capex.source_url}" if capex else "")
        if price is None:
            notes.append(f"own: no sourced purchase price for {gpu.name} in data/gpu_capex.csv; give capex_usd_per_gpu")
        elif gpu.tdp_w is None:
            notes.append(f"own: no board power (tdp_w) for {gpu.name} in data/gpus.csv")
        else:
            servers = math.ceil(z.gpus_total / max(1, gpu.gpus_per_node))
            own_opt = tco.own(z.gpus_total, servers, price, gpu.tdp_w, t, requests, source)
    else:
        notes.append(f"this configuration cannot serve the demand: {z.reason}")
    per_request = tco.api_usd_per_request(s.input_len, s.output_len, t)
    cap = z.capacity_requests_per_s_per_replica or 0.0
    even = {name: tco.break_even_requests_per_s(_replica_month(opt, z.replicas), cap, per_request, peak_factor)
            if opt is not None else None for name, opt in (("rent_vs_api", rent_opt), ("own_vs_api", own_opt))}
    return TcoResult(replicas=z.replicas, gpus_total=z.gpus_total, concurrency_per_replica=z.concurrency_per_replica,
                     requests_per_s=demand, peak_factor=peak_factor, requests_per_month=requests, sizing=z,
                     rent=rent_opt, own=own_opt, api=api_opt, break_even_requests_per_s=even, notes=notes)


def cost_curves(r: TcoResult, s: Scenario, points: int = 60) -> dict[str, list[float]]:
    """Monthly cost of each option against peak demand, from 0 to past the demand and the break-evens."""
    cap = r.sizing.capacity_requests_per_s_per_replica
    top = max([r.requests_per_s, *(v for v in r.break_even_requests_per_s.values() if v)]) * 1.5
    demands = [top * i / points for i in range(points + 1)]
    api_per_rps = r.api.usd_per_month / r.requests_per_s if r.requests_per_s else 0.0
    out = {"requests_per_s": demands, "api": [d * api_per_rps for d in demands]}
    for name, opt in (("rent", r.rent), ("own", r.own)):
        if opt is not None and cap:
            out[name] = tco.monthly_curve(demands, cap, opt.usd_per_month / r.replicas)
    return out
