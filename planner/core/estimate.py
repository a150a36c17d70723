"""planner.estimate(**scenario): does it fit, how fast, what per million tokens (shared/DESIGN.md §2).

One pass: the Scenario is resolved to a Deployment (cached per layout), then memory -> speed -> cost
read it.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import memory as mem
from . import uncertainty
from .constants import Constants
from .cost import cost
from .deployment import Deployment, resolve
from .results import Band, Estimate, Memory, Performance
from .scenario import Scenario
from .throughput import Figures, figures, performance
from .units import GIB


def _fit_reason(s: Scenario, d: Deployment, b: mem.Budget, context: int, max_c: int) -> str | None:
    gib = lambda x: f"{x / GIB:.1f} GiB"  # noqa: E731
    if b.weights > b.limit:
        return (f"weights {gib(b.weights)} per GPU exceed the {gib(b.limit)} of one {d.gpu.name} "
                f"({d.gpus} GPU{'s' if d.gpus > 1 else ''}, tp={d.tp}, pp={d.pp})")
    if b.kv_pool <= 0:
        return (f"no room for the KV cache: weights {gib(b.weights)} + activations {gib(b.activation)} + overhead "
                f"{gib(b.overhead)} per GPU leave {gib(b.kv_pool)} of the engine's budget")
    if max_c < 1:
        return (f"one request of {context:,} tokens needs {gib(b.request_bytes)} of KV cache per GPU; "
                f"the pool holds {gib(b.kv_pool)}")
    if b.total > b.limit * 1.0001:
        return f"{gib(b.total)} per GPU exceed the {gib(b.limit)} available"
    return None


def _memory(d: Deployment, b: mem.Budget, max_c: int, running: int) -> Memory:
    w = d.weights
    return Memory(
        weights_gib_per_gpu=b.weights / GIB, weights_gb_total=w.total_bytes / 1e9,
        kv_cache_gib_per_gpu=max(b.kv_pool, 0.0) / GIB, kv_cache_tokens=mem.kv_pool_tokens(d, b),
        kv_bytes_per_token=d.kv_bytes_per_token, kv_bytes_per_token_per_gpu=d.kv_bytes_per_token_per_gpu,
        state_bytes_per_sequence=d.state_bytes_per_sequence, activation_gib_per_gpu=b.activation / GIB,
        overhead_gib_per_gpu=b.overhead / GIB, total_gib_per_gpu=b.total / GIB, gpu_memory_gib=b.limit / GIB,
        free_gib_per_gpu=(b.limit - b.total) / GIB, max_concurrency=max_c,
        max_context_at_concurrency=mem.max_context(d, b, max(1, running)) if max_c else 0,
        cpu_offload_gib=w.cpu_bytes / GIB, block_size_tokens=d.pages.block_size if d.pages else mem.BLOCK)


def _load(s: Scenario, d: Deployment, b: mem.Budget, max_c: int) -> tuple[int, int]:
    """(requests in flight, requests decoding together) at the scenario's concurrency."""
    if s.concurrency == "max":  # offline: as many as memory and the engine admit, sized at the average context
        reserve = s.input_len + round(d.engine.kv_reserve_output_share * s.output_len)
        running = max(0, mem.max_concurrency(d, b, max(1, reserve)))
        return running, running
    return s.concurrency, min(s.concurrency, max_c)


@dataclass(slots=True)  # built for every configuration of a sweep: no frozen-setattr cost
class Assessment:
    """One pass over a scenario: its deployment, the engine's memory plan, whether and how fast it runs."""
    deployment: Deployment
    budget: mem.Budget
    reason: str | None           # why it does not fit, or None
    max_concurrency: int
    concurrency: int
    running: int
    figures: Figures | None      # None when it cannot run
    notes: tuple[str, ...]


def assess(s: Scenario, constants: Constants | None = None) -> Assessment:
    """Memory then speed of a validated Scenario, as plain figures (sweeps use this directly)."""
    d = resolve(s, constants)
    context = s.input_len + s.output_len
    want = None if s.concurrency == "max" else s.concurrency
    b = mem.budget(d, 1, context)
    max_c = mem.max_concurrency(d, b, context)
    concurrency, running = _load(s, d, b, max_c)
    if d.engine.allocates_per_request and running > 1:  # cells and tensors for the requests that run
        b = mem.budget(d, running, context)
    reason = _fit_reason(s, d, b, context, max_c)
    notes = ()
    if reason is None and want and want > max_c:
        notes = (f"only {max_c} of {want} requests fit at once; the others queue (TTFT includes the wait)",)
    fig = figures(d, s, concurrency, running) if reason is None and running >= 1 else None
    return Assessment(d, b, reason, max_c, concurrency, running, fig, notes)


def estimate_scenario(s: Scenario, constants: Constants | None = None) -> Estimate:
    """Estimate a validated Scenario; `constants` replaces data/engine_constants.csv (fits, what-ifs)."""
    a = assess(s, constants)
    perf = performance(a.figures) if a.figures else Performance(concurrency=a.concurrency)
    return Estimate(scenario=_dump(s), fits=a.reason is None, reason=a.reason,
                    memory=_memory(a.deployment, a.budget, a.max_concurrency, a.running), performance=perf,
                    cost=cost(s, perf if a.reason is None else None), notes=list(a.notes),
                    uncertainty=bands(s, perf) if a.figures else {})


def bands(s: Scenario, perf: Performance) -> dict[str, Band]:
    """80 % intervals of the performance figures, with the evidence of this engine on this GPU family."""
    level, rows = uncertainty.evidence(s.engine, s.gpu_spec.generation)
    out = {}
    for figure in uncertainty.FIGURES:
        interval = uncertainty.band(figure, getattr(perf, figure), level)
        if interval:
            out[figure] = Band(low=interval[0], high=interval[1], evidence=level, rows=rows)
    return out


def _dump(s: Scenario) -> dict:
    d = s.model_dump(exclude={"model"}, exclude_none=True)
    d.update(model=s.model_id, tp=s.tp_degree, pp=s.pp_degree, ep=s.ep_degree, weights=s.weight_format)
    return d


def estimate(**scenario) -> Estimate:
    """Validate the scenario (pydantic ValidationError naming the field) and estimate it."""
    return estimate_scenario(Scenario(**scenario))
