"""Search GPU x count x weight format x engine for a workload; rank by cost per request.

Every configuration is kept: those that cannot run say why (validation rule, memory, or a missed
service target such as "TPOT 41 ms > 30 ms target"), so the Compare page and the PDF can show
what was considered and why it lost.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from planner.core import catalog
from planner.core.engines import rules
from planner.core.compat import engine_problem, parallel_problem
from planner.core.cost import split
from planner.core import uncertainty
from planner.core.estimate import assess
from planner.core.precision import FORMATS
from planner.core.scenario import ENGINES, Scenario
from planner.core.schemas import ModelSpec
from planner.core.units import GIB

COUNTS = (1, 2, 4, 8)
SEARCH_FORMATS = ("bf16", "fp8", "int4-awq", "mxfp4", "nvfp4", "gguf-q4_k_m", "gguf-q8_0")


class Candidate(BaseModel):
    model_config = ConfigDict(frozen=True)
    rank: int | None = None
    gpu: str
    gpu_name: str
    gpus: int
    engine: str
    weights: str
    tp: int
    pp: int
    fits: bool
    meets_targets: bool
    reason: str | None
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    output_tokens_per_s: float | None = None
    output_tokens_per_s_per_user: float | None = None
    usd_per_hour: float | None = None
    usd_per_million_output_tokens: float | None = None
    usd_per_million_input_tokens: float | None = None
    usd_per_request: float | None = None  # all GPU time of a request (planner/core/cost.py); at a demand, all replicas
    replicas: int | None = None           # with requests_per_s: replicas of this configuration for the demand
    weights_gib_per_gpu: float | None = None
    total_gib_per_gpu: float | None = None
    gpu_memory_gib: float | None = None
    max_concurrency: int | None = None
    evidence: str | None = None           # calibrated | related | extrapolated (planner/core/uncertainty.py)
    ttft_ms_high: float | None = None     # pessimistic ends of the 80 % bands
    tpot_ms_high: float | None = None
    usd_per_request_high: float | None = None


class Recommendation(BaseModel):
    model_config = ConfigDict(frozen=True)
    model: str
    input_len: int
    output_len: int
    concurrency: int | str
    ttft_ms_max: float | None
    tpot_ms_max: float | None
    budget_usd_per_hour: float | None
    requests_per_s: float | None = None  # peak demand, when sized by demand
    pessimistic: bool = False            # targets and ranking judged at the pessimistic end of each band
    allow_extrapolated: bool = False     # False: no extrapolated candidate ranks above a better-evidenced one
    candidates: list[Candidate]

    @property
    def best(self) -> Candidate | None:
        return next((c for c in self.candidates if c.meets_targets), None)

    @property
    def evaluated(self) -> int:
        return len(self.candidates)


def _formats(m: ModelSpec) -> list[str]:
    formats = [m.default_weights] + [f for f in SEARCH_FORMATS if f != m.default_weights]
    return [f for f in formats if f != "mxfp4" or m.is_moe]


def _valid_format(weights: str) -> str:
    w = str(weights).strip().lower()
    if w not in FORMATS:
        raise ValueError(f"weights: unknown weight format {w!r}; allowed: {', '.join(FORMATS)}")
    return w


def _layout(engine: str, count: int) -> dict:
    return {"pp": count, "tp": 1} if rules(engine).search_split == "pp" else {"tp": count}


def _target_misses(c: dict, queued: bool, concurrency, list_price: bool, ttft_max, tpot_max, budget,
                   pessimistic: bool = False) -> list[str]:
    misses = []
    if queued:
        misses.append(f"only {c['max_concurrency']} of {concurrency} requests fit at once; the rest queue")
    misses += _latency_misses(c, ttft_max, tpot_max, pessimistic)
    if budget is not None and c["usd_per_hour"] is not None and c["usd_per_hour"] > budget:
        misses.append(f"${c['usd_per_hour']:.2f}/hour > ${budget:g}/hour budget")
    if c["usd_per_million_output_tokens"] is None:
        misses.append("no price for this GPU: enter $/GPU-hour to rank it")
    elif not list_price:
        misses.append("its catalog price is an estimate, not a dated list price: enter $/GPU-hour to rank it")
    return misses


def _latency_misses(c: dict, ttft_max, tpot_max, pessimistic: bool) -> list[str]:
    """TPOT and TTFT above their targets, judged at the slow end of their 80 % bands when pessimistic."""
    judged, words = ("_high", " at the slow end of its 80 % band") if pessimistic else ("", "")
    misses = []
    for name, target in (("TPOT", tpot_max), ("TTFT", ttft_max)):
        value = c[name.lower() + "_ms" + judged]
        if target is not None and value is not None and value > target:
            misses.append(f"{name} {value:.3g} ms{words} > {target:g} ms target")
    return misses


def _at_demand(c: Candidate, update: dict, targets: tuple) -> Candidate:
    """A candidate re-sized for a demand: its bands' slow ends follow the new figures, and a pessimistic
    search judges the targets there again."""
    sized = c.model_copy(update=update)
    if not sized.meets_targets or sized.evidence is None:
        return sized
    highs = _slow_ends(sized.evidence, sized.ttft_ms, sized.tpot_ms, sized.usd_per_request)
    ttft_max, tpot_max, _, pessimistic = targets
    misses = _latency_misses(highs, ttft_max, tpot_max, True) if pessimistic else []
    if misses:
        highs.update(meets_targets=False, reason="; ".join(misses))
    return sized.model_copy(update=highs)


def _pessimistic_ends(s: Scenario, f, usd_per_request: float | None) -> dict:
    """The slow ends of the 80 % bands of TTFT, TPOT and cost per request, with their evidence."""
    level, _ = uncertainty.evidence(s.engine, s.gpu_spec.generation)
    return dict(evidence=level, **_slow_ends(level, f.ttft_ms, f.tpot_ms, usd_per_request))


def _slow_ends(level: str, ttft_ms: float, tpot_ms: float, usd_per_request: float | None) -> dict:
    """`*_high`: each figure at the slow end of its 80 % band at an evidence level (cost follows throughput)."""
    return dict(ttft_ms_high=ttft_ms * uncertainty.multipliers("ttft_ms", level)[1],
                tpot_ms_high=tpot_ms * uncertainty.multipliers("tpot_ms", level)[1],
                usd_per_request_high=(usd_per_request / uncertainty.multipliers("output_tokens_per_s", level)[0]
                                      if usd_per_request else None))


@contextmanager
def _collector_paused():
    """The sweep allocates thousands of short-lived, acyclic objects; Python's cycle collector would walk
    every long-lived object (catalog, resolved deployments) again and again meanwhile (a third of the time).
    Reference counting still frees everything; the collector runs as usual afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _on_gpu(base: Scenario, gpu: str, price: float | None) -> Scenario:
    """The validated workload `base` on one catalog GPU (ids from the catalog need no second validation)."""
    return Scenario.model_construct(**{**_fields(base), "gpu": gpu, "usd_per_gpu_hour": price})


def _fields(s: Scenario) -> dict:
    return {k: getattr(s, k) for k in Scenario.model_fields}


_PROBLEMS: dict[tuple, tuple] = {}  # layout -> (spec, why it cannot run or None): the same for every workload


def _problem(on_gpu: Scenario, count: int, engine: str, weights: str, layout: dict) -> str | None:
    """`field: reason` why a layout cannot run (engine x format x GPU x sharding rules), remembered per layout:
    a sweep with a new workload asks the same questions again."""
    spec = on_gpu.model_spec
    key = (id(spec), on_gpu.gpu, count, engine, weights, on_gpu.kv_dtype)
    hit = _PROBLEMS.get(key)
    if hit is not None and hit[0] is spec:
        return hit[1]
    tp = layout["tp"]
    pp = layout.get("pp") or (count if rules(engine).splits_layers_by_default and not tp else 1)
    problem = parallel_problem(spec, count, tp, pp, 1) or engine_problem(on_gpu.gpu_spec, weights, engine, on_gpu.kv_dtype)
    if len(_PROBLEMS) > 50_000:
        _PROBLEMS.clear()
    _PROBLEMS[key] = (spec, problem)
    return problem


@lru_cache(maxsize=20_000)
def _cannot_run_cached(items: tuple, reason: str) -> Candidate:
    return Candidate(**dict(items), fits=False, meets_targets=False, reason=reason)


def _cannot_run(base: dict, reason: str) -> Candidate:
    """The (frozen, shareable) candidate of a layout that cannot run: the same for every workload."""
    return _cannot_run_cached(tuple(base.items()), reason)


def _configured(on_gpu: Scenario, count: int, engine: str, weights: str) -> Scenario | str:
    """One configuration of a GPU's template, or `field: reason` why it cannot run. The ids come from the
    catalog and the engine and format tables, so only the combination rules run; model_copy keeps the
    template's resolved model and GPU, which the update does not change."""
    layout = _layout(engine, count)
    return _problem(on_gpu, count, engine, weights, layout) or on_gpu.model_copy(
        update={"gpus": count, "engine": engine, "weights": weights, "tp": None, "pp": None, **layout})


def evaluate(on_gpu: Scenario, count: int, engine: str, weights: str, targets: tuple) -> Candidate:
    """One configuration of a GPU's validated workload template, judged against the targets."""
    base = dict(gpu=on_gpu.gpu, gpu_name=on_gpu.gpu_spec.name, gpus=count, engine=engine, weights=weights,
                **{"pp": 1, **_layout(engine, count)})
    s = _configured(on_gpu, count, engine, weights)
    if isinstance(s, str):
        return _cannot_run(base, s)
    a = assess(s)
    f, b = a.figures, a.budget
    price = s.usd_per_gpu_hour if s.usd_per_gpu_hour is not None else s.gpu_spec.price_usd_gpu_hr
    c = split(s, f, price) if price is not None else None
    row = dict(base, usd_per_hour=c and c.usd_per_hour, weights_gib_per_gpu=b.weights / GIB, total_gib_per_gpu=b.total / GIB,
               gpu_memory_gib=b.limit / GIB, max_concurrency=a.max_concurrency)
    if a.reason is not None:
        return Candidate(**row, fits=False, meets_targets=False, reason=a.reason)
    row.update(ttft_ms=f.ttft_ms, tpot_ms=f.tpot_ms, output_tokens_per_s=f.output_tokens_per_s,
               output_tokens_per_s_per_user=f.output_tokens_per_s_per_user,
               usd_per_million_output_tokens=c and c.usd_per_million_output_tokens,
               usd_per_million_input_tokens=c and c.usd_per_million_input_tokens, usd_per_request=c and c.usd_per_request)
    row.update(_pessimistic_ends(s, f, row["usd_per_request"]))
    queued = isinstance(s.concurrency, int) and a.max_concurrency < s.concurrency
    list_price = s.gpu_spec.price_is_list or s.usd_per_gpu_hour is not None
    misses = _target_misses(row, queued, s.concurrency, list_price, *targets)
    return Candidate(**row, fits=True, meets_targets=not misses, reason="; ".join(misses) or None)


def _sort_key(pessimistic: bool, allow_extrapolated: bool):
    """Targets met first; then (unless allowed) better evidence before extrapolation; then cost per request
    (the $/M input and output halves add up to it, cost.py), at the band's slow end when pessimistic."""
    def key(c: Candidate):
        cost = c.usd_per_request_high if pessimistic else c.usd_per_request
        guess = c.evidence == "extrapolated" and not allow_extrapolated
        return (not c.meets_targets, not c.fits, guess, cost if cost is not None else float("inf"), c.gpus, c.gpu, c.engine)
    return key


def recommend(model: str | ModelSpec, input_len: int = 1024, output_len: int = 256, concurrency: int | str = 1,
              ttft_ms_max: float | None = None, tpot_ms_max: float | None = None,
              budget_usd_per_hour: float | None = None, gpus: list[str] | None = None,
              engines: list[str] | None = None, counts: tuple[int, ...] = COUNTS,
              weights: list[str] | None = None, kv_dtype: str = "auto",
              prices: dict[str, float] | None = None, requests_per_s: float | None = None,
              pessimistic: bool = False, allow_extrapolated: bool = False) -> Recommendation:
    """Rank every catalog GPU x count x weight format x engine for one workload and service targets.
    `prices` overrides the catalog's $/GPU-hour by GPU id (needed to rank GPUs without a list price).
    `requests_per_s` (peak, open loop) sizes each configuration's replicas instead of using `concurrency`.
    `pessimistic` judges targets and cost at the slow end of each figure's 80 % band; unless
    `allow_extrapolated`, a configuration no published measurement backs ranks after those that are."""
    spec = Scenario(model=model, input_len=input_len, output_len=output_len, concurrency=concurrency).model_spec
    model = model if isinstance(model, ModelSpec) else spec.id
    workload = dict(input_len=input_len, output_len=output_len, kv_dtype=kv_dtype,
                    concurrency=concurrency if requests_per_s is None else 1)  # demand mode: screen at one request
    targets = (ttft_ms_max, tpot_ms_max, budget_usd_per_hour, pessimistic)
    gpu_ids = [catalog.gpu(g).id for g in gpus] if gpus else list(catalog.gpus())
    for e in engines or ():
        if e not in ENGINES:
            raise ValueError(f"engines: unknown engine {e!r}; allowed: {', '.join(ENGINES)}")
    prices = {catalog.gpu(g).id: p for g, p in (prices or {}).items()}
    formats = [_valid_format(w) for w in weights] if weights else _formats(spec)
    base = Scenario(model=model, engine="llamacpp", weights="bf16", **workload)  # the workload, validated once
    for g, price in prices.items():  # the user's prices, validated like any scenario field
        Scenario(**{**_fields(base), "usd_per_gpu_hour": price})
    priced = {g: _on_gpu(base, g, prices.get(g)) for g in gpu_ids}
    with _collector_paused():
        cands = [evaluate(priced[g], n, e, w, targets)
                 for g in gpu_ids for n in counts for w in formats for e in (engines or ENGINES)]
        if requests_per_s is not None:  # replicas for the demand (planner/search/demand.py)
            from .demand import at_demand
            cands = [_at_demand(c, at_demand(c.model_dump(), model, workload, requests_per_s, targets[:3]), targets)
                     if c.meets_targets else c for c in cands]  # the others miss at one request or lack a price
        ranked = sorted(cands, key=_sort_key(pessimistic, allow_extrapolated))
        ranked = [c.model_copy(update={"rank": i + 1, "reason": _evidence_note(c, allow_extrapolated)})
                  if c.meets_targets else c for i, c in enumerate(ranked)]
    return Recommendation(model=spec.id, input_len=input_len, output_len=output_len, concurrency=concurrency,
                          ttft_ms_max=ttft_ms_max, tpot_ms_max=tpot_ms_max, budget_usd_per_hour=budget_usd_per_hour,
                          requests_per_s=requests_per_s, pessimistic=pessimistic, allow_extrapolated=allow_extrapolated,
                          candidates=ranked)


def _evidence_note(c: Candidate, allow_extrapolated: bool) -> str | None:
    if c.evidence != "extrapolated":
        return c.reason
    return ("no published measurement of this engine or GPU family backs it"
            + ("" if allow_extrapolated else ": ranked after configurations that have one"))


def shortfall(c: Candidate, ttft_ms_max: float | None = None, tpot_ms_max: float | None = None,
              budget_usd_per_hour: float | None = None, concurrency: int | str | None = None) -> float:
    """How far a candidate misses its targets: the largest ratio achieved / target (1.0 = exactly on target).

    Ranks the closest misses when nothing meets every target; below 1 means only a price is missing.
    A configuration that does not fit misses by infinity.
    """
    if not c.fits:
        return float("inf")
    ratios = [0.0]
    for value, target in ((c.ttft_ms, ttft_ms_max), (c.tpot_ms, tpot_ms_max), (c.usd_per_hour, budget_usd_per_hour)):
        if value is not None and target:
            ratios.append(value / target)
    if isinstance(concurrency, int) and c.max_concurrency:  # requests beyond what memory holds queue
        ratios.append(concurrency / c.max_concurrency if c.max_concurrency < concurrency else 0.0)
    return max(ratios)
