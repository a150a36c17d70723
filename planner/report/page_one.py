"""What page 1 of the recommendation PDF says, as text: the Report page previews the same strings.

Scenario sentence, decision title, the plain-language line (planner.report.wording), verdict, headline
figures, the alternatives table and the search counts. planner.report.pdf lays these out; nothing here draws.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from planner.core.engines import profile
from planner.core.results import Estimate
from planner.core.scenario import Scenario
from planner.core.schemas import ModelSpec
from planner.share.model_links import display_model_name
from .plan import HOURS_PER_MONTH, Plan, ReportOptions, node_words
from . import ranges
from .wording import decision_line, gpu_label


@dataclass
class PageOne:
    model: str                       # the model as shown (imported names sanitized and marked)
    scenario: str
    verdict_title: str               # "Does not fit." etc., or ""
    title: str                       # "Recommended: 1 × AMD Instinct MI325X 256 GB", or ""
    line: str                        # the plain-language decision, or "" when there is nothing to buy
    detail: str                      # engine, weights, KV cache, parallelism, nodes
    verdict: str
    notes: list[str] = field(default_factory=list)
    figures: list[list[str]] = field(default_factory=list)
    others_title: str = ""
    others: list[list[str]] = field(default_factory=list)   # header row first
    counts: str = ""
    range_note: str = ""                                    # what the 80 % ranges mean and what backs them


def _money(v: float | None, spec: str = ",.2f") -> str:
    return "n/a (no price)" if v is None else f"${v:{spec}}"


def config_label(c, short: bool = False) -> str:
    """'2 × NVIDIA H200 SXM 141 GB · vLLM · bf16' (short: without the vendor, for chart axes); names, never ids."""
    name = gpu_label(c.gpu)
    engine = profile(c.engine).label
    weights = c.weight_format if isinstance(c, Scenario) else c.weights
    return f"{c.gpus} × {name.split(' ', 1)[-1] if short else name} · {engine} · {weights}"


def model_title(s: Scenario) -> str:
    """The model as the title, footer and scenario text show it (imported names sanitized and marked)."""
    return display_model_name(s.model_id, isinstance(s.model, ModelSpec))


def _billions(n: int) -> str:
    return f"{n / 1e9:,.1f}B" if n < 9.95e9 else f"{n / 1e9:,.0f}B"


def scenario_words(s: Scenario, opts: ReportOptions, pinned: bool = False) -> str:
    m = s.model_spec
    size = f"{_billions(m.total_params)} parameters" + (f", {_billions(m.active_params)} active per token" if m.is_moe else "")
    users = ("as many concurrent requests as memory allows" if s.concurrency == "max"
             else f"{s.concurrency:,} concurrent request{'s' if s.concurrency != 1 else ''}")
    targets = [f"time to first token ≤ {opts.ttft_ms_max:,g} ms" if opts.ttft_ms_max else None,
               f"time per output token ≤ {opts.tpot_ms_max:g} ms (≥ {1000 / opts.tpot_ms_max:,.1f} tokens/s per user)"
               if opts.tpot_ms_max else None]
    targets = [t for t in targets if t]
    goal = ("Service targets: " + "; ".join(targets) + "." if targets
            else "No latency target was set." if pinned
            else "No latency target was set, so the cheapest configuration that fits is chosen.")
    return (f"Serve {model_title(s)} ({size}; checkpoint in {m.default_weights}) to {users}, each with a "
            f"{s.input_len:,}-token prompt and a {s.output_len:,}-token answer. {goal}")


def headline_figures(est: Estimate, s: Scenario, opts: ReportOptions) -> list[list[str]]:
    """The page-1 figures, formatted exactly as printed (tests format planner.estimate the same way); each
    predicted figure with its 80 % range and evidence (planner.report.ranges)."""
    p, c, m, u = est.performance, est.cost, est.memory, est.uncertainty
    month_h = HOURS_PER_MONTH * opts.utilization
    monthly = None if c.usd_per_hour is None else c.usd_per_hour * month_h
    tokens_month = p.output_tokens_per_s * 3600 * month_h / 1e6
    rate = u.get("output_tokens_per_s")
    return [
        ["Time to first token (TTFT)", ranges.with_range(p.ttft_ms, u.get("ttft_ms"), ",.0f", "ms")],
        ["Time per output token (TPOT)", ranges.with_range(p.tpot_ms, u.get("tpot_ms"), ",.1f", "ms")],
        ["Output tokens/s per user", ranges.with_range(p.output_tokens_per_s_per_user,
                                                       u.get("output_tokens_per_s_per_user"), ",.1f")],
        ["Output tokens/s, all users", f"{p.output_tokens_per_s:,.0f} (running batch {p.running_batch:,})"
         + _range_after(rate, ",.0f")],
        ["Max concurrency (memory and engine)", f"{m.max_concurrency:,} requests of {s.input_len + s.output_len:,} tokens"],
        ["Price", "no catalog price for this GPU (set usd_per_gpu_hour)" if c.usd_per_gpu_hour is None
         else f"{_money(c.usd_per_gpu_hour)} per GPU-hour, {_money(c.usd_per_hour)} per hour in all"],
        ["Cost per million output tokens", _money(c.usd_per_million_output_tokens, ",.3f") + _range_after(
            ranges.of_cost(c.usd_per_million_output_tokens, p.output_tokens_per_s, rate), ",.3f", "$")],
        ["Cost per million input tokens", _money(c.usd_per_million_input_tokens, ",.4f") + _range_after(
            ranges.of_cost(c.usd_per_million_input_tokens, p.prefill_tokens_per_s, u.get("prefill_tokens_per_s")),
            ",.4f", "$")],
        [f"Per month at {opts.utilization:.0%} utilization ({month_h:,.0f} h)",
         f"{_money(monthly, ',.0f')} for {tokens_month:,.0f} million output tokens"
         + _range_after(ranges.of_rate(tokens_month, p.output_tokens_per_s, rate), ",.0f")],
    ]


def _range_after(band, spec: str, prefix: str = "") -> str:
    """'; range 101–522, calibrated · 16 measurements' after a figure whose own text goes first."""
    if band is None:
        return ""
    return f"; range {prefix}{band.low:{spec}}–{prefix}{band.high:{spec}}, {ranges.evidence(band)}"


def range_note(est: Estimate | None, s: Scenario | None) -> str:
    """What the ranges mean and what backs them (one line under the figures)."""
    band = est.uncertainty.get("tpot_ms") if est is not None and est.fits else None
    if band is None or s is None:
        return ""
    return f"{ranges.MEANING} {ranges.evidence_sentence(band, profile(s.engine).label, s.gpu_spec.generation)}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _verdict(plan: Plan, opts: ReportOptions) -> str:
    if plan.status == "nothing_fits":
        what = "This configuration cannot run the model: " if plan.subject else ""
        return what + ("; ".join(plan.misses) or "no configuration in the search fits in memory") + "."
    if plan.misses:
        return "Misses the targets: " + "; ".join(plan.misses) + "."
    p = plan.estimate.performance
    met = [f"TTFT {p.ttft_ms:,.0f} ms ≤ {opts.ttft_ms_max:,g} ms" if opts.ttft_ms_max else None,
           f"TPOT {p.tpot_ms:.1f} ms ≤ {opts.tpot_ms_max:g} ms" if opts.tpot_ms_max else None]
    met = [m for m in met if m]
    return ("Meets the targets: " + "; ".join(met) + "." if met else "Fits in memory; no latency target was set.")


def _num(v, spec: str) -> str:
    return "–" if v is None else f"{v:{spec}}"


def _decision(plan: Plan, opts: ReportOptions) -> tuple[str, str, str, str]:
    s, est = plan.subject, plan.estimate
    pinned = "gpu" in plan.base
    verdicts = {"misses_targets": "No configuration meets the service targets.",
                "nothing_fits": "Does not fit." if pinned else "Nothing fits: no configuration searched can hold the model."}
    titles = {"recommended": "Recommended: ", "pinned": "Configuration assessed: ",
              "misses_targets": "Closest miss: ", "nothing_fits": "Configuration assessed: " if pinned else "Closest: "}
    if not s:
        return verdicts.get(plan.status, ""), "", "", ""
    line = (decision_line(s, est, opts.utilization)
            if est is not None and est.fits and plan.status in ("recommended", "pinned") and not plan.misses else "")
    detail = " · ".join(filter(None, (
        profile(s.engine).label, f"weights {s.weight_format}", f"KV cache {s.kv_dtype}",
        f"tensor parallel {s.tp_degree}, pipeline parallel {s.pp_degree}", node_words(s))))
    return verdicts.get(plan.status, ""), titles[plan.status] + f"{s.gpus} × {gpu_label(s.gpu)}", line, detail


def _others(plan: Plan) -> list[list[str]]:
    """Alternatives with each predicted figure over its 80 % range (second line) and the evidence behind them."""
    if not plan.others:
        return []
    why = {"recommended": "Why not chosen", "pinned": "How it compares"}
    rows = [["Configuration", "TTFT ms", "TPOT ms", "tokens/s", "$/M out", "Evidence",
             why.get(plan.status, "Why") if not plan.misses else "Why"]]
    for c, reason in plan.others:
        rate = ranges.candidate_band(c, "output_tokens_per_s")
        cost = ranges.of_cost(c.usd_per_million_output_tokens, c.output_tokens_per_s, rate)
        rows.append([config_label(c), _cell(c.ttft_ms, ranges.candidate_band(c, "ttft_ms"), ",.0f"),
                     _cell(c.tpot_ms, ranges.candidate_band(c, "tpot_ms"), ",.1f"),
                     _cell(c.output_tokens_per_s, rate, ",.0f"), _cell(c.usd_per_million_output_tokens, cost, ",.3f"),
                     ranges.evidence(rate).replace(" · ", " ·\n") if rate else (c.evidence or "–"), reason])
    return rows


def _cell(value, band, spec: str) -> str:
    """'21.0' over '(17.0–26.0)': a table cell of a figure and its 80 % range."""
    return _num(value, spec) + ("" if band is None or value is None else f"\n({band.low:{spec}}–{band.high:{spec}})")


def _counts(plan: Plan, opts: ReportOptions) -> str:
    if not plan.evaluated:
        return ""
    has_targets = opts.ttft_ms_max is not None or opts.tpot_ms_max is not None
    ranked = "meet the targets and have" if has_targets else "have"
    return (f"{plan.evaluated:,} configurations evaluated (GPU type × count × weight format × engine); "
            f"{plan.fitting:,} fit in memory; {plan.meeting:,} {ranked} a dated list price (or yours) and are "
            "ranked by cost per request (all GPU time of one request, prompt and answer).")


def page_one(plan: Plan, opts: ReportOptions, workload: Scenario) -> PageOne:
    """Every sentence and table of page 1 (the share link aside)."""
    verdict_title, title, line, detail = _decision(plan, opts)
    est = plan.estimate
    return PageOne(model=model_title(workload), scenario=scenario_words(workload, opts, pinned="gpu" in plan.base),
                   verdict_title=verdict_title, title=title, line=line, detail=detail, verdict=_verdict(plan, opts),
                   notes=[f"Note: {n.rstrip('.')}." for n in (est.notes if est else [])],
                   figures=headline_figures(est, plan.subject, opts) if est and est.fits else [],
                   others_title=plan.others_title, others=_others(plan), counts=_counts(plan, opts),
                   range_note=range_note(est, plan.subject))
