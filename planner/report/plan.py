"""Hardware recommendation PDF for procurement (issue #5): what to buy, why, what it costs, what was assumed.

`build_report(model=..., input_len=..., ...) -> bytes`. Page 1 is the decision (planner.recommend, or the
pinned configuration when `gpu` is given); then the evidence: memory, latency/throughput and cost charts
(planner/report_charts.py), assumptions with price sources and engine constants, predicted against
measured probe results, and the share URL. fpdf2 with vector charts, no browser; same inputs and `today`
give the same bytes.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from planner.core.estimate import estimate_scenario
from planner.search.recommend import Candidate, recommend, shortfall
from planner.core.results import Estimate
from planner.core.scenario import Scenario
from planner.core.schemas import ModelSpec

DEFAULT_BASE_URL = "http://localhost:8501"
HOURS_PER_MONTH = 730.0  # 8,760 h / 12
SHARE_KEYS = ("model", "gpu", "gpus", "engine", "weights", "kv_dtype", "input_len", "output_len", "concurrency",
              "ttft_ms_max", "tpot_ms_max")
LAYOUT_KEYS = ("tp", "pp", "ep")  # only meaningful for a pinned configuration


# Inputs ---------------------------------------------------------------------------------------------
class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProbeStat(_Loose):
    mean: float | None = None
    p50: float | None = None


class ProbeLevel(_Loose):
    concurrency: int = Field(ge=1)
    ttft_ms: ProbeStat | None = None
    tpot_ms: ProbeStat | None = None
    output_tokens_per_s: float | None = None


class ProbeResults(_Loose):
    """The part of planner.probe.run's JSON the report reads; other keys are ignored on purpose."""
    levels: list[ProbeLevel] = Field(min_length=1)
    url: str | None = Field(None, max_length=300)
    model: str | None = Field(None, max_length=200)
    input_len: int | None = None
    output_len: int | None = None


class ReportOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    ttft_ms_max: float | None = Field(None, gt=0, le=3_600_000)
    tpot_ms_max: float | None = Field(None, gt=0, le=60_000)
    utilization: float = Field(1.0, gt=0, le=1.0, description="share of the month the GPUs are billed")
    base_url: str = DEFAULT_BASE_URL
    search_gpus: tuple[str, ...] | None = None

    @field_validator("base_url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {v!r}")
        return v.rstrip("/")


def load_probe_results(source) -> ProbeResults:
    """Accept a ProbeResults, a dict, or a path to planner.probe.run's JSON output."""
    if isinstance(source, ProbeResults):
        return source
    if isinstance(source, (str, Path)):
        source = json.loads(Path(source).read_text())
    return ProbeResults.model_validate(source)


# The decision ---------------------------------------------------------------------------------------
@dataclass
class Plan:
    status: str                    # recommended | pinned | misses_targets | nothing_fits
    subject: Scenario | None       # the configuration the figures and charts describe
    estimate: Estimate | None
    misses: list[str]              # target misses or the fit reason of the subject
    others: list[tuple[Candidate, str]] = field(default_factory=list)  # alternatives or closest misses, with why
    others_title: str = "Alternatives considered"
    evaluated: int = 0
    meeting: int = 0               # meet every target and have a dated list price (or the user's): ranked
    fitting: int = 0               # fit in memory, whatever their price or latency
    base: dict = field(default_factory=dict)  # the caller's scenario keywords (workload and pins)


def _key(c) -> tuple:
    return (c.gpu, c.gpus, c.engine, c.weights)


def _target_misses(est: Estimate, opts: ReportOptions) -> list[str]:
    if not est.fits:
        return [est.reason or "does not fit"]
    p, out = est.performance, []
    if opts.tpot_ms_max is not None and p.tpot_ms > opts.tpot_ms_max:
        out.append(f"TPOT {p.tpot_ms:.1f} ms > {opts.tpot_ms_max:g} ms target")
    if opts.ttft_ms_max is not None and p.ttft_ms > opts.ttft_ms_max:
        out.append(f"TTFT {p.ttft_ms:,.0f} ms > {opts.ttft_ms_max:g} ms target")
    return out


def _distinct(cands, exclude: tuple | None, limit: int) -> list[Candidate]:
    """Prefer other GPU types (more useful to a buyer than the same GPU on another engine)."""
    pool = [c for c in cands if _key(c) != exclude]
    picked, gpus_seen = [], {exclude[0]} if exclude else set()
    for c in pool:
        if c.gpu not in gpus_seen and len(picked) < limit:
            picked.append(c)
            gpus_seen.add(c.gpu)
    picked += [c for c in pool if c not in picked][: limit - len(picked)]
    return picked


def _miss_reason(c: Candidate, opts: ReportOptions) -> str:
    """Target misses with the same precision as the table (recommend's own text rounds TPOT to 1 ms)."""
    if not c.fits:
        return c.reason or "does not fit"
    out = []
    if opts.tpot_ms_max is not None and c.tpot_ms is not None and c.tpot_ms > opts.tpot_ms_max:
        out.append(f"TPOT {c.tpot_ms:.1f} ms > {opts.tpot_ms_max:g} ms target")
    if opts.ttft_ms_max is not None and c.ttft_ms is not None and c.ttft_ms > opts.ttft_ms_max:
        out.append(f"TTFT {c.ttft_ms:,.0f} ms > {opts.ttft_ms_max:g} ms target")
    return "; ".join(out) or c.reason or ""


def _queue_note(c: Candidate, concurrency) -> str:
    if isinstance(concurrency, int) and c.max_concurrency is not None and c.max_concurrency < concurrency:
        return f"; only {c.max_concurrency:,} of {concurrency:,} requests fit at once, the rest queue"
    return ""


def _why_alternative(c: Candidate, est: Estimate, opts: ReportOptions, pinned: bool = False) -> str:
    """Why it lost to the recommendation; for a pinned (user-chosen) configuration, how it compares instead."""
    base = est.cost.usd_per_request  # what planner.recommend ranks by (the $/M halves add up to it)
    alt = c.usd_per_request
    queue = _queue_note(c, est.scenario.get("concurrency"))
    if not c.meets_targets:
        return f"misses a target: {_miss_reason(c, opts)}{queue}"
    if alt is None or base is None:
        return "no dated price to compare costs" + queue
    pct = (alt / base - 1) * 100
    money = f"(${alt:,.5f} vs ${base:,.5f} per request)"
    if abs(pct) < 0.5:
        return ("also meets the targets at the same cost per request" if pinned else
                "same cost per request; ranked lower on GPU count or name") + queue
    if pinned:
        word = "dearer" if pct > 0 else "cheaper"
        return f"also meets the targets, {abs(pct):.0f} % {word} {money}{queue}"
    return f"costs {pct:.0f} % more {money}{queue}"


def _alternatives(cands: list[Candidate], est: Estimate, subject: Scenario, opts: ReportOptions,
                  pinned: bool = False) -> list:
    has_targets = opts.ttft_ms_max is not None or opts.tpot_ms_max is not None
    key = (subject.gpu, subject.gpus, subject.engine, subject.weight_format)
    queues = lambda c: bool(_queue_note(c, subject.concurrency))  # noqa: E731 - memory holds fewer than asked
    picked = _distinct(sorted((c for c in cands if c.meets_targets), key=queues), key, 2)
    base = est.cost.usd_per_request
    if has_targets and base is not None:
        cheaper = [c for c in cands if c.fits and not c.meets_targets and c.usd_per_request is not None
                   and c.usd_per_request < base]
        picked += sorted(cheaper, key=lambda c: c.usd_per_request)[:1]
    return [(c, _why_alternative(c, est, opts, pinned)) for c in picked]


def _shortfall(c: Candidate, opts: ReportOptions) -> float:
    return shortfall(c, opts.ttft_ms_max, opts.tpot_ms_max)


def _closest_misses(cands: list[Candidate], opts: ReportOptions) -> list[tuple[Candidate, str]]:
    fitting = sorted((c for c in cands if c.fits), key=lambda c: (_shortfall(c, opts), c.usd_per_hour or 0))
    if fitting:
        return [(c, _miss_reason(c, opts)) for c in _distinct(fitting, None, 3)]
    sized = [c for c in cands if c.weights_gib_per_gpu and c.gpu_memory_gib]
    sized.sort(key=lambda c: (c.weights_gib_per_gpu / c.gpu_memory_gib, c.gpus))
    return [(c, c.reason or "") for c in _distinct(sized or cands, None, 3)]


def _from_candidate(c: Candidate, base: dict) -> Scenario:
    rest = {k: v for k, v in base.items() if k not in LAYOUT_KEYS + ("gpu", "gpus", "engine", "weights")}
    return Scenario(**rest, gpu=c.gpu, gpus=c.gpus, engine=c.engine, weights=c.weights, tp=c.tp, pp=c.pp)


def estimate_candidate(base: dict, c: Candidate) -> Estimate | None:
    """A table row re-estimated in full (memory breakdown) with the report's workload."""
    try:
        return estimate_scenario(_from_candidate(c, base))
    except (ValidationError, ValueError):
        return None


def _search(base: dict, opts: ReportOptions, pinned_space: bool):
    kw = dict(model=base["model"], input_len=base["input_len"], output_len=base["output_len"],
              concurrency=base["concurrency"], ttft_ms_max=opts.ttft_ms_max, tpot_ms_max=opts.tpot_ms_max,
              kv_dtype=base.get("kv_dtype", "auto"), gpus=list(opts.search_gpus) if opts.search_gpus else None)
    if pinned_space:
        kw.update(engines=[base["engine"]] if base.get("engine") else None,
                  weights=[base["weights"]] if base.get("weights") else None,
                  counts=(base["gpus"],) if base.get("gpus") else (1, 2, 4, 8))
    return recommend(**kw)


def make_plan(base: dict, opts: ReportOptions) -> Plan:
    """Choose the configuration (pinned, or the cheapest that meets the targets) and what to compare it with."""
    has_targets = opts.ttft_ms_max is not None or opts.tpot_ms_max is not None
    if base.get("gpu"):
        subject = Scenario(**base)
        est = estimate_scenario(subject)
        misses = _target_misses(est, opts)
        plan = Plan("pinned" if est.fits else "nothing_fits", subject, est, misses)
        if isinstance(subject.model, ModelSpec):  # planner.recommend searches catalog models only
            plan.others_title = "Alternatives (not searched for an imported model)"
            return plan
        rec = _search(base, opts, pinned_space=False)
        plan.evaluated, plan.meeting, plan.fitting = _counts(rec)
        if not misses:
            plan.others = _alternatives(rec.candidates, est, subject, opts, pinned=True)
        else:
            works = "meets the targets" if has_targets else "fits in memory"
            plan.others_title = f"What {'would meet the targets' if has_targets else 'would run it'} instead" \
                if rec.best else "Closest misses"
            meeting = [c for c in rec.candidates if c.meets_targets]
            plan.others = ([(c, works + _queue_note(c, subject.concurrency)) for c in _distinct(meeting, None, 3)]
                           if meeting else _closest_misses(rec.candidates, opts))
        return plan
    if isinstance(workload_scenario(base).model, ModelSpec):  # validates the workload before the search
        raise ValueError("model: an imported model has no catalog entry to search; pin a gpu to assess it")
    rec = _search(base, opts, pinned_space=True)
    counts = dict(zip(("evaluated", "meeting", "fitting"), _counts(rec)))
    if rec.best:
        subject = _from_candidate(rec.best, base)
        est = estimate_scenario(subject)
        return Plan("recommended", subject, est, _target_misses(est, opts),
                    _alternatives(rec.candidates, est, subject, opts), **counts)
    closest = _closest_misses(rec.candidates, opts)
    fits = any(c.fits for c in rec.candidates)
    subject = _from_candidate(closest[0][0], base) if closest else None
    est = estimate_scenario(subject) if subject else None
    return Plan("misses_targets" if fits else "nothing_fits", subject, est, _target_misses(est, opts) if est else [],
                closest, "Closest misses", **counts)


def _counts(rec) -> tuple[int, int, int]:
    """Configurations evaluated, ranked (meet every target with a dated price), fitting in memory."""
    return rec.evaluated, sum(c.meets_targets for c in rec.candidates), sum(c.fits for c in rec.candidates)


def workload_scenario(base: dict) -> Scenario:
    """Model and workload alone (the deployment keys may be incomplete until the search fills them)."""
    return Scenario(**{k: base[k] for k in ("model", "input_len", "output_len", "concurrency") if k in base})


def share_url(s: Scenario, opts: ReportOptions) -> str:
    """Dashboard link that reopens the scenario (the default page is served at /, shared/DESIGN.md §5)."""
    values = dict(model=s.model_id, gpu=s.gpu, gpus=s.gpus, engine=s.engine, weights=s.weight_format,
                  kv_dtype=s.kv_dtype, input_len=s.input_len, output_len=s.output_len, concurrency=s.concurrency,
                  ttft_ms_max=opts.ttft_ms_max, tpot_ms_max=opts.tpot_ms_max)
    try:
        from planner.share.links import share_url as dashboard_url  # the dashboard's own encoder (versioned)
    except ImportError:
        return f"{opts.base_url}/?" + urlencode({k: _plain(values[k]) for k in SHARE_KEYS if values[k] is not None})
    return dashboard_url(opts.base_url, values)


def _plain(v):
    return f"{v:g}" if isinstance(v, float) else v


def sweep(s: Scenario, extra_levels=()) -> list[tuple[int, Estimate]]:
    """Estimates at powers of two around the scenario's concurrency (and at the probed levels)."""
    n = s.concurrency if isinstance(s.concurrency, int) else 64
    top = min(4096, max(16, 4 * n))
    levels = sorted({2 ** i for i in range(int(math.log2(top)) + 1)} | {n} | set(extra_levels))
    return [(c, estimate_scenario(s.model_copy(update={"concurrency": c}))) for c in levels]


def nodes(s: Scenario) -> int:
    return math.ceil(s.gpus / max(1, s.gpu_spec.gpus_per_node))


def node_words(s: Scenario) -> str:
    """'2 servers of 8 GPUs' for a purchase that spans servers; '' when the GPUs fit in one."""
    n = nodes(s)
    per = s.gpu_spec.gpus_per_node
    return (f"{n:,} servers of {per:,} GPUs" if per > 1 else f"{n:,} workstations or servers, one GPU each") if n > 1 else ""
