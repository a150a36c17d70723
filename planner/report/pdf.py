"""Layout of the recommendation PDF (planner/report.py decides, this module prints).

fpdf2 with matplotlib's bundled DejaVu fonts (Unicode ×, ≤, ·), A4, grey rules and shading only,
so the document prints well in black and white. The creation date is fixed to `today` so the
same inputs give the same bytes (fpdf2 derives the file /ID from the content and that date).
"""
from __future__ import annotations

import datetime as dt

from planner.core import __version__
from planner.core import catalog
from planner.core.engines import profile
from planner.core.schemas import ModelSpec
from planner.share.model_links import display_model_name
from .plan import HOURS_PER_MONTH, Plan, ProbeResults, ReportOptions, node_words
from .wording import WORDS_NOTE, decision_line, gpu_label
from planner.core.results import Estimate
from planner.core.scenario import Scenario
from .layout import (GREY, INK, RULE, SHADE, _heading, _image, _new_pdf, _subheading, _table,  # noqa: F401
                     _text, _url_lines)

METRICS = (
    ("TTFT", "time to first token: request sent until the first non-empty token arrives"),
    ("TPOT", "time per output token: (end-to-end latency - TTFT) / (output tokens - 1); tokens/s per user = 1000 / TPOT"),
    ("ITL", "inter-token latency: the gaps between streamed chunks"),
    ("Throughput", "output tokens/s = all output tokens of all users / wall time"),
    ("Concurrency", "closed loop: N requests in flight; a new one starts when one finishes"),
    ("Units", "memory per GPU in GiB (2^30 bytes); model sizes in GB (10^9 bytes); prices in US$"),
)


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
    """The page-1 figures, formatted exactly as printed (tests format planner.estimate the same way)."""
    p, c, m = est.performance, est.cost, est.memory
    month_h = HOURS_PER_MONTH * opts.utilization
    monthly = None if c.usd_per_hour is None else c.usd_per_hour * month_h
    tokens_month = p.output_tokens_per_s * 3600 * month_h / 1e6
    return [
        ["Time to first token (TTFT)", f"{p.ttft_ms:,.0f} ms"],
        ["Time per output token (TPOT)", f"{p.tpot_ms:,.1f} ms"],
        ["Output tokens/s per user", f"{p.output_tokens_per_s_per_user:,.1f}"],
        ["Output tokens/s, all users", f"{p.output_tokens_per_s:,.0f} (running batch {p.running_batch:,})"],
        ["Max concurrency (memory and engine)", f"{m.max_concurrency:,} requests of {s.input_len + s.output_len:,} tokens"],
        ["Price", "no catalog price for this GPU (set usd_per_gpu_hour)" if c.usd_per_gpu_hour is None
         else f"{_money(c.usd_per_gpu_hour)} per GPU-hour, {_money(c.usd_per_hour)} per hour in all"],
        ["Cost per million output tokens", _money(c.usd_per_million_output_tokens, ",.3f")],
        ["Cost per million input tokens", _money(c.usd_per_million_input_tokens, ",.4f")],
        [f"Per month at {opts.utilization:.0%} utilization ({month_h:,.0f} h)",
         f"{_money(monthly, ',.0f')} for {tokens_month:,.0f} million output tokens"],
    ]


def _decision_box(pdf, plan: Plan, opts: ReportOptions) -> None:
    s, est = plan.subject, plan.estimate
    pinned = "gpu" in plan.base
    verdicts = {"misses_targets": "No configuration meets the service targets.",
                "nothing_fits": "Does not fit." if pinned else "Nothing fits: no configuration searched can hold the model."}
    titles = {"recommended": "Recommended: ", "pinned": "Configuration assessed: ",
              "misses_targets": "Closest miss: ", "nothing_fits": "Configuration assessed: " if pinned else "Closest: "}
    pdf.set_fill_color(*SHADE)
    if plan.status in verdicts:
        _text(pdf, verdicts[plan.status], 13, "B", h=7, fill=True, padding=(2, 2, 0, 2))
    if s:
        _text(pdf, titles[plan.status] + f"{s.gpus} × {gpu_label(s.gpu)}", 11 if plan.status in verdicts else 13, "B",
              h=7, fill=True, padding=(2, 2, 1, 2))
        if est is not None and est.fits and plan.status in ("recommended", "pinned") and not plan.misses:  # plain words
            _text(pdf, decision_line(s, est, opts.utilization), 10, h=5.2, fill=True, padding=(0, 2, 1, 2))
        detail = " · ".join(filter(None, (
            profile(s.engine).label, f"weights {s.weight_format}", f"KV cache {s.kv_dtype}",
            f"tensor parallel {s.tp_degree}, pipeline parallel {s.pp_degree}", node_words(s))))
        _text(pdf, detail, 8.5, h=4.6, fill=True, padding=(0, 2, 1, 2), colour=GREY)
    verdict = _verdict(plan, opts)
    _text(pdf, verdict, 10, "B", h=5.2, fill=True, padding=(0, 2, 2, 2))
    for note in (est.notes if est else []):  # e.g. requests that queue because memory holds fewer
        _text(pdf, f"Note: {note.rstrip('.')}.", 8.5, h=4.5, fill=True, padding=(0, 2, 2, 2))
    pdf.ln(2)
    if est and est.fits:
        _table(pdf, headline_figures(est, s, opts), (48, 52), size=8, header=False)
        _text(pdf, WORDS_NOTE, 7, colour=GREY)


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


def _others_table(pdf, plan: Plan) -> None:
    _heading(pdf, plan.others_title)
    if not plan.others:
        _text(pdf, "planner.recommend searches catalog models only." if not plan.evaluated
              else "None: no other configuration in the search met the targets.", 9)
        return
    why = {"recommended": "Why not chosen", "pinned": "How it compares"}
    rows = [["Configuration", "TTFT ms", "TPOT ms", "tokens/s", "$/M out",
             why.get(plan.status, "Why") if not plan.misses else "Why"]]
    for c, why in plan.others:
        rows.append([config_label(c), _num(c.ttft_ms, ",.0f"), _num(c.tpot_ms, ",.1f"),
                     _num(c.output_tokens_per_s, ",.0f"), _num(c.usd_per_million_output_tokens, ",.3f"), why])
    _table(pdf, rows, (50, 14, 14, 16, 14, 66), size=7.5)


def _num(v, spec: str) -> str:
    return "–" if v is None else f"{v:{spec}}"


def _page_one(pdf, plan: Plan, opts: ReportOptions, base: Scenario, today: dt.date) -> None:
    pdf.add_page()
    _text(pdf, "GPU hardware recommendation", 19, "B", h=9)
    _text(pdf, model_title(base), 12.5, h=6.5, colour=GREY)
    calibrated = " (calibrated by a probe)" if plan.subject and plan.subject.calibration else ""
    _text(pdf, f"Prepared {today:%d %B %Y} with LLM inference hardware planner {__version__}. All figures are "
               f"predictions of the planner's model{calibrated}; see Assumptions.", 8, colour=GREY)
    _heading(pdf, "Scenario")
    _text(pdf, scenario_words(base, opts, pinned="gpu" in plan.base), 10, h=5)
    _heading(pdf, "Decision")
    _decision_box(pdf, plan, opts)
    _others_table(pdf, plan)
    has_targets = opts.ttft_ms_max is not None or opts.tpot_ms_max is not None
    if plan.evaluated:
        ranked = "meet the targets and have" if has_targets else "have"
        _text(pdf, f"{plan.evaluated:,} configurations evaluated (GPU type × count × weight format × engine); "
                   f"{plan.fitting:,} fit in memory; {plan.meeting:,} {ranked} a dated list price (or yours) and are "
                   "ranked by cost per million output tokens.", 8, colour=GREY)
    _share(pdf, plan, opts, today)


# Evidence ---------------------------------------------------------------------------------------------
def _compared(plan: Plan) -> list[tuple[str, Estimate]]:
    """The subject and the configurations of the page-1 table, estimated with the same workload."""
    from .plan import estimate_candidate
    rows = [(config_label(plan.subject, short=True), plan.estimate)] if plan.estimate else []
    s = plan.subject
    subject_key = (s.gpu, s.gpus, s.engine, s.weight_format) if s else None
    for c, _ in plan.others:
        if (c.gpu, c.gpus, c.engine, c.weights) == subject_key:
            continue
        est = estimate_candidate(plan.base, c)
        if est is not None:
            rows.append((config_label(c, short=True), est))
    return rows


def _memory_figure(pdf, compared: list[tuple[str, Estimate]]) -> None:
    from .charts import MemoryBar, memory_chart
    bars = [MemoryBar(label, e.memory.weights_gib_per_gpu, e.memory.kv_cache_gib_per_gpu, e.memory.activation_gib_per_gpu,
                      e.memory.overhead_gib_per_gpu, e.memory.gpu_memory_gib) for label, e in compared]
    if bars:
        _image(pdf, memory_chart(bars), "Figure 1. Memory per GPU against what one GPU can allocate")


def _probe_points(probe: ProbeResults | None):
    from .charts import SweepPoint
    if probe is None:
        return []
    mean = lambda stat: stat.mean if stat and stat.mean is not None else (stat.p50 if stat else None)  # noqa: E731
    return [SweepPoint(lv.concurrency, mean(lv.ttft_ms), mean(lv.tpot_ms), lv.output_tokens_per_s) for lv in probe.levels]


def _sweep_figure(pdf, plan: Plan, opts: ReportOptions, probe: ProbeResults | None) -> None:
    from .plan import sweep
    from .charts import SweepPoint, sweep_chart
    est = plan.estimate
    if not (est and est.fits):
        _text(pdf, "Figure 2 (latency and throughput versus concurrency) is not drawn: the configuration does not "
                   "fit in memory.", 9, colour=GREY)
        return
    measured = _probe_points(probe)
    points = [SweepPoint(c, e.performance.ttft_ms, e.performance.tpot_ms, e.performance.output_tokens_per_s)
              for c, e in sweep(plan.subject, [m.concurrency for m in measured])]
    _image(pdf, sweep_chart(points, est.performance.concurrency, opts.ttft_ms_max, opts.tpot_ms_max, measured),
           "Figure 2. Latency and throughput versus concurrency (targets dashed, scenario dotted)")


def _cost_figure(pdf, plan: Plan, compared: list[tuple[str, Estimate]]) -> None:
    from .charts import cost_chart
    rows = [(label, e.cost.usd_per_million_output_tokens) for label, e in compared if e.fits]
    if not rows:
        _text(pdf, "Figure 3 (cost per million output tokens) is not drawn: no configuration compared here fits.", 9, colour=GREY)
        return
    subject_fits = bool(plan.estimate and plan.estimate.fits)
    word = {"recommended": "recommended", "pinned": "assessed"}.get(plan.status, "closest miss")
    _image(pdf, cost_chart([r[0] for r in rows], [r[1] for r in rows], 0 if subject_fits else None, word),
           "Figure 3. Cost per million output tokens across the configurations compared")


def _probe_section(pdf, plan: Plan, probe: ProbeResults) -> None:
    from .plan import sweep
    _heading(pdf, "Predicted versus measured")
    if not (plan.estimate and plan.estimate.fits):
        _text(pdf, "Probe results were given, but the configuration does not fit, so there is no prediction to compare.", 9)
        return
    predicted = dict(sweep(plan.subject, [lv.concurrency for lv in probe.levels]))
    rows = [["Requests in flight", "TTFT predicted", "TTFT measured", "TPOT predicted", "TPOT measured",
             "tokens/s predicted", "tokens/s measured"]]
    for m in _probe_points(probe):
        p = predicted[m.concurrency].performance
        rows.append([f"{m.concurrency:,}", _num(p.ttft_ms, ",.0f") + " ms", _num(m.ttft_ms, ",.0f") + " ms" + _err(p.ttft_ms, m.ttft_ms),
                     _num(p.tpot_ms, ",.1f") + " ms", _num(m.tpot_ms, ",.1f") + " ms" + _err(p.tpot_ms, m.tpot_ms),
                     _num(p.output_tokens_per_s, ",.0f"), _num(m.output_tokens_per_s, ",.0f") + _err(p.output_tokens_per_s, m.output_tokens_per_s)])
    _table(pdf, rows, (20, 22, 28, 22, 28, 24, 30), size=7.5, align=("LEFT",) + ("RIGHT",) * 6)
    what = f" of {probe.model}" if probe.model else ""
    where = f" at {probe.url}" if probe.url else ""
    load = (f", {probe.input_len:,}-token prompts and {probe.output_len:,}-token answers"
            if probe.input_len is not None and probe.output_len is not None else "")
    _text(pdf, f"Probe{what}{where}{load}. Measured: means over each load level of the probe. In brackets: prediction error relative to the "
               "measurement. Measured points are drawn as crosses in Figure 2.", 8, colour=GREY)


def _err(pred, meas) -> str:
    return "" if not pred or not meas else f" ({(pred / meas - 1) * 100:+.0f} %)"


# Assumptions, share link, document ----------------------------------------------------------------------
def _price_rows(plan: Plan) -> list[list[str]]:
    rows_by_id = {r["id"]: r for r in catalog.gpu_rows()}
    ids = list(dict.fromkeys(([plan.subject.gpu] if plan.subject else []) + [c.gpu for c, _ in plan.others]))
    out = [["GPU", "$/GPU-hour", "Price points (date, source)"]]
    for gid in ids:
        row, g = rows_by_id.get(gid, {}), catalog.gpu(gid)
        price = _money(g.price_usd_gpu_hr) if g.price_usd_gpu_hr is not None else "no catalog price"
        out.append([g.name, price, (row.get("price_points") or "none recorded") + _urls(row)])
    return out


def _urls(row: dict) -> str:
    urls = (row.get("price_source_urls") or "").strip()
    return f"\nSources: {urls}" if urls else ""


def _engine_rows(s: Scenario) -> list[list[str]]:
    """The engine profile's constants in plain words (the appendix; a purchaser never needs the code names)."""
    e = profile(s.engine)
    return [["What the planner assumes about the serving software", "Value"],
            ["Share of the memory bandwidth reached while writing the answer", f"{e.mem_efficiency:.0%}"],
            ["Share of the peak compute reached while reading the prompt", f"{e.compute_efficiency:.0%}"],
            ["Fixed time per model layer for each word-piece (token) written", f"{e.layer_overhead_us:g} µs"],
            ["Fixed time per generation step (scheduling, sampling)", f"{e.step_overhead_ms:g} ms"],
            ["Fixed time per request before the answer starts (network, tokenizer)", f"{e.ttft_overhead_ms:g} ms"],
            ["Time for the GPUs to exchange results once (when several GPUs share a model)",
             f"{e.allreduce_latency_us:g} µs"],
            ["Share of each GPU's memory the software sets aside for the model", f"{e.default_memory_fraction:.0%}"]]


def _calibration_text(s: Scenario) -> str:
    c = s.calibration
    if c is None:
        return ("Not calibrated: the constants are the engine profile's defaults, fitted to data/calibration.csv, "
                "not to a probe of your deployment.")
    overhead = f", TTFT overhead {c.ttft_overhead_ms:g} ms" if c.ttft_overhead_ms is not None else ""
    return (f"Calibrated by a probe: decode time × {c.decode_time_factor:g}, prefill time × {c.prefill_time_factor:g}"
            f"{overhead}. Source: {c.source or 'not stated'}.")


def _assumptions(pdf, plan: Plan, opts: ReportOptions) -> None:
    if pdf.get_y() > pdf.page_break_trigger - 70:  # keep the heading with its tables
        pdf.add_page()
    _heading(pdf, "Assumptions")
    s, est = plan.subject, plan.estimate
    _text(pdf, "GPU prices", 10, "B", h=5.5)  # no extra space right under the heading
    if est is not None:
        _text(pdf, f"Price used for {s.gpu_spec.name}: {est.cost.price_source}.", 8)
    _text(pdf, f"Monthly cost assumes the GPUs are billed only for the hours in use: {HOURS_PER_MONTH:g} h × "
               f"{opts.utilization:.0%} utilization.", 8)
    pdf.ln(1)
    _table(pdf, _price_rows(plan), (34, 18, 122), size=6.5)
    if s is not None:
        _subheading(pdf, f"Serving software: {profile(s.engine).label}", keep_mm=30)
        _text(pdf, "Speeds come from the planner's model of this software, whose constants are listed in plain words "
                   "in the appendix. " + _calibration_text(s), 8.5)
    _subheading(pdf, "Metric definitions", keep_mm=60)
    _table(pdf, [[name, text] for name, text in METRICS], (24, 150), size=8, header=False)


def _appendix(pdf, plan: Plan) -> None:
    """Engine constants, for the engineer who checks the prediction (moved off the purchaser's pages)."""
    if plan.subject is None:
        return
    e = profile(plan.subject.engine)
    _heading(pdf, "Appendix: how the serving software is modelled")
    _text(pdf, f"{e.label}: constants of the planner's engine profile (planner/core/engines.py), each cited there; "
               f"sources: {e.source}.", 8)
    pdf.ln(1)
    _table(pdf, _engine_rows(plan.subject), (144, 30), size=7.5, align=("LEFT", "RIGHT"))


def _share(pdf, plan: Plan, opts: ReportOptions, today: dt.date) -> None:
    from .plan import share_url
    _heading(pdf, "Reopen this scenario in the dashboard")
    if plan.subject is None:
        _text(pdf, "No configuration to link to.", 9)
        return
    url = share_url(plan.subject, opts)
    pdf.set_font("Sans", "", 7.5)
    pdf.set_text_color(0, 0, 160)
    for line in _url_lines(url, 100):
        pdf.cell(0, 4, line, link=url, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _text(pdf, f"Generated {today.isoformat()} by LLM inference hardware planner {__version__}.", 8, colour=GREY)


def render(plan: Plan, opts: ReportOptions, workload: Scenario, probe: ProbeResults | None, today: dt.date) -> bytes:
    """Lay the plan out as an A4 PDF and return its bytes."""
    footer = f"GPU hardware recommendation · {model_title(workload)} · {today.isoformat()} · planner {__version__}"
    pdf = _new_pdf(footer)
    pdf.set_creation_date(dt.datetime(today.year, today.month, today.day, tzinfo=dt.timezone.utc))
    pdf.set_producer(f"planner {__version__}")
    pdf.set_title(f"GPU hardware recommendation: {model_title(workload)}")
    _page_one(pdf, plan, opts, workload, today)
    pdf.add_page()
    _heading(pdf, "Evidence", space=0)
    compared = _compared(plan)
    _memory_figure(pdf, compared)
    _sweep_figure(pdf, plan, opts, probe)
    _cost_figure(pdf, plan, compared)
    if probe is not None:
        _probe_section(pdf, plan, probe)
    _assumptions(pdf, plan, opts)
    _appendix(pdf, plan)
    return bytes(pdf.output())
