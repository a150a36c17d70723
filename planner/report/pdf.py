"""Layout of the recommendation PDF (planner/report.py decides, this module prints).

fpdf2 (charts drawn as vectors) with matplotlib's bundled DejaVu fonts (Unicode ×, ≤, ·), A4, grey rules and shading only,
so the document prints well in black and white. The creation date is fixed to `today` so the
same inputs give the same bytes (fpdf2 derives the file /ID from the content and that date).
"""
from __future__ import annotations

import datetime as dt

from planner.core import __version__
from planner.core import catalog, constants
from planner.core.engines import constant_name, profile
from .page_one import PageOne, _money, _num, config_label, model_title, page_one
from .plan import HOURS_PER_MONTH, Plan, ProbeResults, ReportOptions
from .ranges import family_name
from .wording import WORDS_NOTE
from planner.core.results import Estimate
from planner.core.scenario import Scenario
from .layout import GREY, SHADE, _heading, _new_pdf, _subheading, _table, _text, _url_lines

METRICS = (
    ("TTFT", "time to first token: request sent until the first non-empty token arrives"),
    ("TPOT", "time per output token: (end-to-end latency - TTFT) / (output tokens - 1); tokens/s per user = 1000 / TPOT"),
    ("ITL", "inter-token latency: the gaps between streamed chunks"),
    ("Throughput", "output tokens/s = all output tokens of all users / wall time"),
    ("Concurrency", "closed loop: N requests in flight; a new one starts when one finishes"),
    ("Units", "memory per GPU in GiB (2^30 bytes); model sizes in GB (10^9 bytes); prices in US$"),
)


def _decision_box(pdf, one: PageOne) -> None:
    pdf.set_fill_color(*SHADE)
    if one.verdict_title:
        _text(pdf, one.verdict_title, 13, "B", h=7, fill=True, padding=(2, 2, 0, 2))
    if one.title:
        _text(pdf, one.title, 11 if one.verdict_title else 13, "B", h=7, fill=True, padding=(2, 2, 1, 2))
    if one.line:  # the plain-language decision (planner.report.wording), the same sentence as the Planner page
        _text(pdf, one.line, 10, h=5.2, fill=True, padding=(0, 2, 1, 2))
    if one.detail:
        _text(pdf, one.detail, 8.5, h=4.6, fill=True, padding=(0, 2, 1, 2), colour=GREY)
    _text(pdf, one.verdict, 10, "B", h=5.2, fill=True, padding=(0, 2, 2, 2))
    for note in one.notes:  # e.g. requests that queue because memory holds fewer
        _text(pdf, note, 8.5, h=4.5, fill=True, padding=(0, 2, 2, 2))
    pdf.ln(2)
    if one.figures:
        _table(pdf, one.figures, (60, 114), size=8, header=False)
        _text(pdf, " ".join(filter(None, (one.range_note, WORDS_NOTE))), 7, colour=GREY)


def _others_table(pdf, plan: Plan, one: PageOne) -> None:
    _heading(pdf, one.others_title)
    if not one.others:
        _text(pdf, "planner.recommend searches catalog models only." if not plan.evaluated
              else "None: no other configuration in the search met the targets.", 9)
        return
    _table(pdf, one.others, (36, 21, 16, 21, 19, 23, 38), size=6.5)


def _page_one(pdf, plan: Plan, opts: ReportOptions, base: Scenario, today: dt.date) -> None:
    one = page_one(plan, opts, base)
    pdf.add_page()
    _text(pdf, "GPU hardware recommendation", 19, "B", h=9)
    _text(pdf, one.model, 12.5, h=6.5, colour=GREY)
    calibrated = " (calibrated by a probe)" if plan.subject and plan.subject.calibration else ""
    _text(pdf, f"Prepared {today:%d %B %Y} with LLM inference hardware planner {__version__}. All figures are "
               f"predictions of the planner's model{calibrated}; see Assumptions.", 8, colour=GREY)
    _heading(pdf, "Scenario")
    _text(pdf, one.scenario, 10, h=5)
    _heading(pdf, "Decision")
    _decision_box(pdf, one)
    _others_table(pdf, plan, one)
    if one.counts:
        _text(pdf, one.counts, 8, colour=GREY)
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
        memory_chart(pdf, bars, "Figure 1. Memory per GPU against what one GPU can allocate")


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
    sweep_chart(pdf, points, est.performance.concurrency, opts.ttft_ms_max, opts.tpot_ms_max, measured,
                "Figure 2. Latency and throughput versus concurrency (targets dashed, scenario dotted)")


def _cost_figure(pdf, plan: Plan, compared: list[tuple[str, Estimate]]) -> None:
    from .charts import cost_chart
    rows = [(label, e.cost.usd_per_request) for label, e in compared if e.fits]
    if not rows:
        _text(pdf, "Figure 3 (cost per request) is not drawn: no configuration compared here fits.", 9, colour=GREY)
        return
    subject_fits = bool(plan.estimate and plan.estimate.fits)
    word = {"recommended": "recommended", "pinned": "assessed"}.get(plan.status, "closest miss")
    cost_chart(pdf, [r[0] for r in rows], [r[1] for r in rows], 0 if subject_fits else None,
               "Figure 3. Cost per request across the configurations compared (what the ranking uses)",
               "US$ per request: all GPU time of one request", word)


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


STATUS_WORDS = {"fit": "fitted", "prior": "prior", "source": "source"}  # the appendix's column, explained by STATUS_NOTE
STATUS_NOTE = ("Fitted = fitted to published measurements (data/calibration.csv); prior = a cited estimate no "
               "measurement pins; source = read from the engine's code or a datasheet.")
ENGINE_ROWS = (  # (plain words, engine profile field or None for a rule of the engine's source, format)
    ("Share of the memory bandwidth reached while writing the answer", "mem_efficiency", "{:.0%}"),
    ("Share of the peak compute reached while reading the prompt", "compute_efficiency", "{:.0%}"),
    ("Fixed time per model layer for each word-piece (token) written", "layer_overhead_us", "{:.3g} µs"),
    ("Fixed time per generation step (scheduling, sampling)", "step_overhead_ms", "{:.3g} ms"),
    ("Fixed time per request before the answer starts (network, tokenizer)", "ttft_overhead_ms", "{:.3g} ms"),
    ("Time for the GPUs to exchange results once (when several GPUs share a model)", "allreduce_latency_us", "{:.3g} µs"),
)


def _status(name: str) -> str:
    """What a constant of data/engine_constants.csv is: fitted, a cited prior or read from a source."""
    return STATUS_WORDS[constants.load().row(name).status]


def _engine_rows(s: Scenario) -> list[list[str]]:
    """The engine profile's constants in plain words, each with what it is (the appendix; a purchaser never needs
    the code names): only constants with status `fit` are called fitted."""
    gen = s.gpu_spec.generation
    e = profile(s.engine, generation=gen)
    rows = [["What the planner assumes about the serving software", "Value", "What it is"]]
    rows += [[words, fmt.format(getattr(e, f)), _status(constant_name(s.engine, f, gen))] for words, f, fmt in ENGINE_ROWS]
    rows.append(["Share of each GPU's memory the software sets aside for the model", f"{e.default_memory_fraction:.0%}",
                 STATUS_WORDS["source"]])
    return rows + _gpu_rows(s)


def _gpu_rows(s: Scenario) -> list[list[str]]:
    """The GPU family's constants, relative to Hopper (where most measurements are), with what each is."""
    table, gen = constants.load(), s.gpu_spec.generation
    named = ((f"generation_bw.{gen}", f"Memory bandwidth reached on {family_name(gen)} GPUs, relative to Hopper"),
             (f"generation_compute.{gen}", f"Compute reached on {family_name(gen)} GPUs, relative to Hopper"),
             (f"generation_fixed.{gen}", f"Fixed time per layer on {family_name(gen)} GPUs, relative to Hopper"),
             (f"gpu_bw.{s.gpu}", f"Memory bandwidth reached on the {s.gpu_spec.name}, relative to its family"))
    names = {c.name for c in table.rows()} - {"generation_bw.hopper"}  # the reference itself: 100 % by definition
    return [[words, f"{table[name]:.0%}", _status(name)] for name, words in named if name in names]


def _calibration_text(s: Scenario) -> str:
    c = s.calibration
    if c is None:
        e = constants.load()
        names = [constant_name(s.engine, f, s.gpu_spec.generation) for _, f, _ in ENGINE_ROWS]
        counts = {st: sum(e.row(n).status == st for n in names) for st in STATUS_WORDS}
        return (f"Not calibrated by a probe of your deployment: of its {len(ENGINE_ROWS)} speed constants, {counts['fit']} "
                f"are fitted to published measurements, {counts['prior']} cited priors, {counts['source']} from its source.")
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
    _text(pdf, f"{e.label}: speed constants from data/engine_constants.csv (each cited there), rules from {e.source}. "
               f"{STATUS_NOTE}", 8)
    pdf.ln(1)
    _table(pdf, _engine_rows(plan.subject), (134, 20, 20), size=7.5, align=("LEFT", "RIGHT", "LEFT"))


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


def render(plan: Plan, opts: ReportOptions, workload: Scenario, probe: ProbeResults | None, today: dt.date,
           demand=None) -> bytes:
    """Lay the plan out as an A4 PDF and return its bytes; `demand` (planner.core.tco.TcoInputs) adds rent/own/API."""
    footer = f"GPU hardware recommendation · {model_title(workload)} · {today.isoformat()} · planner {__version__}"
    pdf = _new_pdf(footer)
    pdf.set_creation_date(dt.datetime(today.year, today.month, today.day, tzinfo=dt.timezone.utc))
    pdf.set_producer(f"planner {__version__}")
    pdf.set_title(f"GPU hardware recommendation: {model_title(workload)}")
    _page_one(pdf, plan, opts, workload, today)
    if pdf.page == 1:  # the evidence starts a page, unless page 1 ran over (then it follows the share link)
        pdf.add_page()
    _heading(pdf, "Evidence", space=0 if pdf.get_y() <= pdf.t_margin else 6)
    compared = _compared(plan)
    _memory_figure(pdf, compared)
    _sweep_figure(pdf, plan, opts, probe)
    _cost_figure(pdf, plan, compared)
    if probe is not None:
        _probe_section(pdf, plan, probe)
    if demand is not None:  # issue 13: rent, own or API at the demand (planner.report.tco)
        from .tco import section
        section(pdf, plan.subject if plan.estimate and plan.estimate.fits else None, demand, opts.ttft_ms_max, opts.tpot_ms_max)
    _assumptions(pdf, plan, opts)
    _appendix(pdf, plan)
    return bytes(pdf.output())
