"""planner.estimate(**scenario): does it fit, how fast, what per million tokens (shared/DESIGN.md §2)."""
from __future__ import annotations

from . import memory as mem
from .cost import cost
from .engines import profile
from .results import Estimate, Memory, Performance
from .scenario import Scenario
from .throughput import performance
from .units import GIB


def _fit_reason(s: Scenario, b: mem.Budget, context: int, max_c: int) -> str | None:
    gib = lambda x: f"{x / GIB:.1f} GiB"  # noqa: E731
    if b.weights > b.limit:
        return (f"weights {gib(b.weights)} per GPU exceed the {gib(b.limit)} of one {s.gpu_spec.name} "
                f"({s.gpus} GPU{'s' if s.gpus > 1 else ''}, tp={s.tp_degree}, pp={s.pp_degree})")
    if b.kv_pool <= 0:
        return (f"no room for the KV cache: weights {gib(b.weights)} + activations {gib(b.activation)} + overhead "
                f"{gib(b.overhead)} per GPU leave {gib(b.kv_pool)} of the engine's budget")
    if max_c < 1:
        return (f"one request of {context:,} tokens needs {gib(b.request_bytes)} of KV cache per GPU; "
                f"the pool holds {gib(b.kv_pool)}")
    if b.total > b.limit * 1.0001:
        return f"{gib(b.total)} per GPU exceed the {gib(b.limit)} available"
    return None


def _memory(s: Scenario, b: mem.Budget, max_c: int, running: int) -> Memory:
    w = b.plan
    state_seq = mem.state_bytes_per_sequence(s)
    return Memory(
        weights_gib_per_gpu=b.weights / GIB, weights_gb_total=w.total_bytes / 1e9,
        kv_cache_gib_per_gpu=max(b.kv_pool, 0.0) / GIB, kv_cache_tokens=mem.kv_pool_tokens(s, b),
        kv_bytes_per_token=mem.kv_bytes_per_token(s), kv_bytes_per_token_per_gpu=mem.kv_bytes_per_token(s, per_gpu=True),
        state_bytes_per_sequence=state_seq, activation_gib_per_gpu=b.activation / GIB,
        overhead_gib_per_gpu=b.overhead / GIB, total_gib_per_gpu=b.total / GIB, gpu_memory_gib=b.limit / GIB,
        free_gib_per_gpu=(b.limit - b.total) / GIB, max_concurrency=max_c,
        max_context_at_concurrency=mem.max_context(s, b, max(1, running)) if max_c else 0,
        cpu_offload_gib=w.cpu_bytes / GIB, block_size_tokens=b.pages.block_size if b.pages else mem.BLOCK)


def estimate_scenario(s: Scenario) -> Estimate:
    context = s.input_len + s.output_len
    want = None if s.concurrency == "max" else s.concurrency
    b = mem.budget(s, want or 1, context)
    max_c = mem.max_concurrency(s, b, context)
    if want is None:  # offline: as many as memory and the engine admit, sized at the average context
        reserve = s.input_len + round(profile(s.engine).kv_reserve_output_share * s.output_len)
        running = max(0, mem.max_concurrency(s, b, max(1, reserve)))
        concurrency = running
    else:
        if s.engine in ("llamacpp", "transformers"):
            b = mem.budget(s, want, context)
        running, concurrency = min(want, max_c), want
    reason = _fit_reason(s, b, context, max_c)
    notes = []
    if reason is None and want and want > max_c:
        notes.append(f"only {max_c} of {want} requests fit at once; the others queue (TTFT includes the wait)")
    perf = performance(s, concurrency, running) if reason is None and running >= 1 else Performance(concurrency=concurrency)
    return Estimate(scenario=_dump(s), fits=reason is None, reason=reason, memory=_memory(s, b, max_c, running),
                    performance=perf, cost=cost(s, perf if reason is None else None), notes=notes)


def _dump(s: Scenario) -> dict:
    d = s.model_dump(exclude={"model"}, exclude_none=True)
    d.update(model=s.model_id, tp=s.tp_degree, pp=s.pp_degree, ep=s.ep_degree, weights=s.weight_format)
    return d


def estimate(**scenario) -> Estimate:
    """Validate the scenario (pydantic ValidationError naming the field) and estimate it."""
    return estimate_scenario(Scenario(**scenario))
