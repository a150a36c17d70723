"""Cost of ownership page: rent, own or call an API for a peak demand (issue 13).

Thin (STYLE rule 9): widgets -> Scenario + planner.core.tco.TcoInputs (validated) -> planner.report.tco.compare
(planner.search.demand sizing and pricing) -> ui.tco_charts and the rows planner.report.tco prints in the PDF.
Every input is in the share link (planner.share.links validates the TCO keys with TcoInputs' own rules).
"""
import streamlit as st
from pydantic import ValidationError

from planner import Scenario
from planner.core import catalog, tco
from planner.report import tco as words
from planner.search.demand import cost_curves
from planner.share import links as share
from ui import state, tco_charts, widgets

PAGE, URL_PATH = "tco", "tco"
OWN = (("capex_usd_per_gpu", "Purchase price per GPU ($)", 1000.0), ("amortization_years", "Written off over (years)", 1.0),
       ("usd_per_kwh", "Electricity ($/kWh)", 0.01), ("pue", "PUE", 0.05), ("server_overhead", "Server power overhead (×)", 0.05),
       ("hosting_usd_per_month", "Hosting per server ($/month)", 100.0))
API = (("api_usd_per_m_input", "API $ per million input tokens", 0.05), ("api_usd_per_m_output", "API $ per million output tokens", 0.1))
DEMAND = (("requests_per_s", "Peak requests per second", 0.5), ("peak_factor", "Peak factor (peak / mean)", 0.5))
KEYS = ("ttft_ms_max", "tpot_ms_max", *(k for group in (DEMAND, OWN, API) for k, _, _ in group))
DEFAULTS = dict(model=share.DEFAULT_MODEL, gpu="h100-sxm", gpus=4, engine="vllm", weights=None, kv_dtype="auto",
                input_len=4000, output_len=500, concurrency=1, ttft_ms_max=2000.0, tpot_ms_max=50.0, requests_per_s=2.0)


def _default(name: str, gpu: str) -> str:
    """What an empty box means, as its placeholder."""
    if name == "capex_usd_per_gpu":
        c = tco.capex_catalog().get(gpu)
        return f"{c.usd_per_gpu:,.0f} ({c.source_date})" if c else "needed: no sourced price"
    defaults = dict(amortization_years=tco.AMORTIZATION_YEARS, usd_per_kwh=tco.USD_PER_KWH, pue=tco.PUE,
                    server_overhead=tco.SERVER_OVERHEAD, hosting_usd_per_month=0.0, peak_factor=1.0,
                    api_usd_per_m_input=tco.API_PRESET[0], api_usd_per_m_output=tco.API_PRESET[1])
    return f"{defaults[name]:g} (default)"


def _numbers(group, values: dict, gpu: str) -> dict:
    """Optional number boxes (empty = the default in the placeholder); bounds are TcoInputs' (checked below)."""
    return {name: st.number_input(label, 0.0, 1e7, value=None, step=step, placeholder="required" if name == "requests_per_s"
                                  else _default(name, gpu),
                                  key=state.init(PAGE, name, values.get(name)))
            for name, label, step in group}


@st.cache_data(max_entries=64, show_spinner="Sizing replicas and pricing rent, own and the API ...")
def comparison(s: Scenario, t: tco.TcoInputs, ttft_ms_max, tpot_ms_max):
    r = words.compare(s, t, ttft_ms_max, tpot_ms_max)
    return r, cost_curves(r, s)


def _invalid(exc: ValidationError, what: str) -> None:
    err = exc.errors()[0]
    st.error(f"{what} is invalid ({err['loc'][0] if err['loc'] else 'input'}): "
             f"{widgets.escape_md(err['msg'].removeprefix('Value error, '))}")


values = widgets.page_start(PAGE, DEFAULTS, KEYS, "Cost of ownership: rent, own or call an API",
                            "How many GPUs a peak demand needs, and what the same traffic costs a month and per request "
                            "on rented GPUs, on GPUs you buy, and through an API. Sources of every default below.")

with st.sidebar:
    st.header("Deployment (one replica)")
    model = widgets.model_input(PAGE, values)
    spec = state.resolve_model(model)
    values["weights"] = values.get("weights") or (catalog.model(spec) if isinstance(spec, str) else spec).default_weights
    chosen = dict(model=model, **widgets.hardware_inputs(PAGE, values))
    c1, c2 = st.columns(2)
    chosen["input_len"] = c1.number_input("Input tokens", 0, 10_000_000, step=256, key=state.init(PAGE, "input_len", values["input_len"]))
    chosen["output_len"] = c2.number_input("Output tokens", 0, 10_000_000, step=64, key=state.init(PAGE, "output_len", values["output_len"]))
    chosen["usd_per_gpu_hour"] = widgets.price_input(PAGE, chosen["gpu"], values)
    st.header("Demand and targets")
    chosen.update(_numbers(DEMAND, values, chosen["gpu"]))
    c1, c2 = st.columns(2)
    for col, name, label in ((c1, "ttft_ms_max", "TTFT target (ms)"), (c2, "tpot_ms_max", "TPOT target (ms)")):
        chosen[name] = col.number_input(label, 0.0, 600_000.0, value=None, placeholder="none",
                                        key=state.init(PAGE, name, values.get(name)))
    st.header("Own")
    chosen.update(_numbers(OWN, values, chosen["gpu"]))
    st.header("API")
    chosen.update(_numbers(API, values, chosen["gpu"]))
state.publish(PAGE, chosen, KEYS)

try:
    scenario = Scenario(**{k: v for k, v in chosen.items() if k in share.SCENARIO_KEYS and v is not None} | {"model": spec})
    inputs = tco.TcoInputs(**{k: chosen[k] for k in share.TCO_KEYS if chosen.get(k) is not None})
except ValidationError as exc:
    _invalid(exc, "This input")
    scenario = inputs = None
if inputs is not None and inputs.requests_per_s is None:
    st.info("Enter the peak requests per second in the sidebar.")
elif scenario is not None:
    targets = [chosen[k] or None for k in ("ttft_ms_max", "tpot_ms_max")]
    result, curves = comparison(scenario, inputs, *targets)
    z = result.sizing
    (st.success if z.fits else st.warning)(widgets.escape_md(words.cheapest_line(result)))
    if z.fits:
        cols = st.columns(4)
        cols[0].metric("Replicas", f"{z.replicas:,}", help=f"Each {z.gpus_per_replica:,} × {widgets.gpu_label(scenario.gpu)}")
        cols[1].metric("GPUs in total", f"{z.gpus_total:,}")
        cols[2].metric("Requests in flight per replica", f"{z.concurrency_per_replica:,.1f}",
                       help="Little's law: arrival rate per replica × time in the system (waiting + served).")
        cols[3].metric("Headroom", f"{z.headroom:.0%}", help="Replicas × capacity per replica / demand - 1.")
    else:
        st.error("This configuration cannot serve the demand: " + widgets.escape_md(z.reason or ""))
    st.plotly_chart(tco_charts.monthly_cost(curves, result), width="stretch")
    st.caption("Rent and own are staircases: whole replicas sized for the peak and billed all month. The API is billed "
               "per token at the mean demand (peak / peak factor). Diamonds: the break-even demands.")
    st.subheader("The three options")
    table = words.option_rows(result)
    st.dataframe([dict(zip(table[0], row)) for row in table[1:]], hide_index=True, width="stretch")
    st.table({"": [r[0] for r in words.break_even_rows(result)], "break-even": [r[1] for r in words.break_even_rows(result)]})
    with st.expander("Sizing for the peak", expanded=True):
        st.table({"figure": [r[0] for r in words.sizing_rows(result)], "value": [r[1] for r in words.sizing_rows(result)]})
    st.subheader("Assumptions, with their sources and dates")
    rows = words.assumption_rows(result, scenario, inputs)
    st.table({name: [row[i] for row in rows[1:]] for i, name in enumerate(rows[0])})  # wraps the long sources
    for note in result.notes:
        st.caption("Note: " + widgets.escape_md(note))
widgets.share_box(URL_PATH, chosen, KEYS)
