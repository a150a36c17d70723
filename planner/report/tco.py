"""Rent, own or call an API in words and tables: the PDF's TCO section, and the rows the dashboard shows (issue 13).

The figures come from planner.search.demand.compare_options (sizing) and planner.core.tco (prices); this module
only words and formats them, so the Cost of ownership page and the PDF print the same strings. Every default
price or factor is printed with its source and date (planner.core.tco.DEFAULT_SOURCES, data/gpu_capex.csv).
"""
from __future__ import annotations

from planner.core import tco
from planner.core.estimate import estimate_scenario
from planner.core.scenario import Scenario
from planner.search.demand import TcoResult, compare_options

OPTIONS = (("rent", "Rent (cloud GPUs)"), ("own", "Own (buy the GPUs)"), ("api", "API (pay per token)"))
PARTS = {"gpu_hours": "GPU-hours", "amortization": "purchase written off", "power": "power", "hosting": "hosting",
         "input_tokens": "input tokens", "output_tokens": "output tokens"}
VERBS = {"rent": "renting the GPUs", "own": "owning the GPUs", "api": "the API"}
EVEN = (("rent_vs_api", "Rent", "rent"), ("own_vs_api", "Own", "own"))


def compare(s: Scenario, t: tco.TcoInputs, ttft_ms_max: float | None = None, tpot_ms_max: float | None = None) -> TcoResult:
    """The comparison for the deployment `s` (one replica) at the demand in `t`."""
    return compare_options(s, t, ttft_ms_max, tpot_ms_max)


def usd_month(x: float) -> str:
    return f"${x:,.0f}"


def usd_request(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.6f}"


def rps(x: float) -> str:
    return f"{x:,.3g} requests/s"


def _parts(o: tco.OptionCost) -> str:
    return " + ".join(f"{PARTS.get(k, k)} {usd_month(v)}" for k, v in o.parts.items() if v or k != "hosting")


def _missing(r: TcoResult, name: str) -> str:
    return next((n.split(": ", 1)[1] for n in r.notes if n.startswith(name + ":")), "not priced") \
        if r.sizing.fits else "the configuration cannot serve this demand"


def option_rows(r: TcoResult) -> list[list[str]]:
    """Header + one row per option: $ per month, $ per request, what the month is made of."""
    rows = [["Option", "$ per month", "$ per request", "Made of"]]
    for name, label in OPTIONS:
        o = getattr(r, name)
        rows.append([label, "n/a", "n/a", _missing(r, name)] if o is None else
                    [label, usd_month(o.usd_per_month), usd_request(o.usd_per_request), _parts(o)])
    return rows


def cheapest_line(r: TcoResult) -> str:
    """The answer in one sentence: which option costs least at this demand, and what the others cost."""
    priced = sorted((o.usd_per_month, name) for name, _ in OPTIONS if (o := getattr(r, name)) is not None)
    (low, name), rest = priced[0], priced[1:]
    others = "; ".join(f"{VERBS[n]}: {usd_month(x)}" for x, n in rest)
    return f"Cheapest at {rps(r.requests_per_s)} at peak: {VERBS[name]}, {usd_month(low)} a month" + \
        (f" ({others})." if others else ".")


def break_even_rows(r: TcoResult) -> list[list[str]]:
    """Peak demand at which rent (own) costs as much per month as the API."""
    rows = []
    for key, label, name in EVEN:
        v = r.break_even_requests_per_s.get(key)
        if getattr(r, name) is None:
            text = "n/a: " + _missing(r, name)
        elif v is None:
            text = "none: the API is cheaper at every demand (a fully used replica still costs more)"
        else:
            text = f"{rps(v)} at peak: the API is cheaper below it, {name}ing one replica above it (up to its capacity)"
        rows.append([f"{label} = API", text])
    return rows


def sizing_rows(r: TcoResult) -> list[list[str]]:
    """Replicas, GPUs, requests in flight, headroom: how the self-hosted options are sized."""
    z = r.sizing
    if not z.fits:
        return [["Sizing", f"cannot serve {rps(r.requests_per_s)}: {z.reason}"]]
    return [["Replicas", f"{z.replicas:,} × {z.gpus_per_replica:,} GPUs"],
            ["GPUs in total", f"{z.gpus_total:,}"],
            ["Requests in flight per replica", f"{z.concurrency_per_replica:,.1f} (Little's law: arrivals × time in system)"],
            ["Headroom", f"{z.headroom:.0%} (capacity {rps(z.capacity_requests_per_s_per_replica)} per replica, "
                         f"set by the {z.limited_by})"],
            ["At this demand", f"TTFT {z.ttft_ms:,.0f} ms (with {z.queue_wait_ms:,.0f} ms waiting for a slot), "
                               f"TPOT {z.tpot_ms:.1f} ms"]]


def _given(t: tco.TcoInputs, name: str, default: float) -> tuple[float, str]:
    value = getattr(t, name)
    return (default, tco.DEFAULT_SOURCES[name]) if value is None else (value, "your input")


def _purchase(s: Scenario, t: tco.TcoInputs) -> list[str]:
    if t.capex_usd_per_gpu is not None:
        return ["Own: purchase price per GPU", f"${t.capex_usd_per_gpu:,.0f}", "your input"]
    c = tco.capex_catalog().get(s.gpu)
    if c is None:
        return ["Own: purchase price per GPU", "none", "no dated public price in data/gpu_capex.csv: give yours"]
    return ["Own: purchase price per GPU", f"${c.usd_per_gpu:,.0f} ({c.condition})", f"{c.source_date}, {c.source_url}"]


def assumption_rows(r: TcoResult, s: Scenario, t: tco.TcoInputs) -> list[list[str]]:
    """Header + every input of the comparison with its value and where it comes from (dated where it can be)."""
    gpu, cost = s.gpu_spec, estimate_scenario(s.model_copy(update={"concurrency": 1})).cost
    years, kwh = _given(t, "amortization_years", tco.AMORTIZATION_YEARS), _given(t, "usd_per_kwh", tco.USD_PER_KWH)
    pue, overhead = _given(t, "pue", tco.PUE), _given(t, "server_overhead", tco.SERVER_OVERHEAD)
    hosting = _given(t, "hosting_usd_per_month", 0.0)
    p_in, p_out = tco.api_prices(t)
    api_src = "your input" if (t.api_usd_per_m_input, t.api_usd_per_m_output) != (None, None) else tco.API_PRESET_SOURCE
    return [["Assumption", "Value", "Source, date"],
            ["Peak demand", f"{rps(r.requests_per_s)}, peak factor {r.peak_factor:g}", "your input"],
            ["Requests a month", f"{r.requests_per_month:,.0f}", f"peak / peak factor × {tco.HOURS_PER_MONTH:g} h × 3,600 s"],
            ["Request", f"{s.input_len:,} input + {s.output_len:,} output tokens", "your input"],
            ["Rent: price per GPU-hour", "none" if cost.usd_per_gpu_hour is None else f"${cost.usd_per_gpu_hour:,.2f}",
             cost.price_source],
            _purchase(s, t),
            ["Own: written off over", f"{years[0]:g} years", years[1]],
            ["Own: board power per GPU", "none" if gpu.tdp_w is None else f"{gpu.tdp_w:,.0f} W", f"{gpu.name} datasheet "
             f"(data/gpus.csv), drawn all month: an upper bound"],
            ["Own: server overhead", f"× {overhead[0]:g}", overhead[1]],
            ["Own: PUE", f"{pue[0]:g}", pue[1]],
            ["Own: electricity", f"${kwh[0]:g}/kWh", kwh[1]],
            ["Own: hosting per server", f"${hosting[0]:,.0f}/month", hosting[1]],
            ["API: price", f"${p_in:,.2f}/M input, ${p_out:,.2f}/M output tokens", api_src],
            ["Queueing", "M/G/c", r.sizing.approximation]]


def section(pdf, s: Scenario | None, t: tco.TcoInputs, ttft_ms_max: float | None, tpot_ms_max: float | None) -> None:
    """The PDF's 'Rent, own or API' section for the assessed configuration."""
    from .layout import GREY, _heading, _subheading, _table, _text
    if pdf.get_y() > pdf.page_break_trigger - 90:
        pdf.add_page()
    r = compare(s, t, ttft_ms_max, tpot_ms_max) if s is not None else None
    _heading(pdf, "Rent, own or API" + (f" at {rps(r.requests_per_s)} at peak" if r else ""))
    if r is None:
        _text(pdf, "No configuration to price: nothing fits.", 9)
        return
    _text(pdf, f"The same traffic priced three ways, for a month ({tco.HOURS_PER_MONTH:g} h) and per request. "
               f"Self-hosting is sized for the peak with whole replicas of {s.gpus:,} GPUs and billed all month.", 8.5)
    pdf.ln(1)
    _text(pdf, cheapest_line(r), 9.5, "B", h=5)
    pdf.ln(1)
    _table(pdf, option_rows(r), (34, 22, 24, 94), size=7.5, align=("LEFT", "RIGHT", "RIGHT", "LEFT"))
    _subheading(pdf, "Break-even demand", keep_mm=20)
    _table(pdf, break_even_rows(r), (30, 144), size=7.5, header=False)
    _subheading(pdf, "Sizing for the peak", keep_mm=30)
    _table(pdf, sizing_rows(r), (44, 130), size=7.5, header=False)
    _subheading(pdf, "Assumptions of the comparison", keep_mm=40)
    _table(pdf, assumption_rows(r, s, t), (38, 44, 92), size=6.5)
    for note in r.notes:
        _text(pdf, f"Note: {note}.", 7.5, colour=GREY)
