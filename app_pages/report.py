"""Report page: the procurement PDF of planner.report for the scenario in the link, previewed, then downloaded.

Thin (STYLE rule 9): the scenario comes from the share link / session through ui.state like every page. By
default the PDF assesses that configuration (what the sender sized); "the cheapest that meets the targets" is
an explicit choice. Both the choice (report_on=) and the utilization live in the URL. Page 1 is previewed from
planner.report.page_one, the same text the PDF prints; the PDF is built only when the button is pressed.
"""
import datetime as dt

import streamlit as st
from pydantic import ValidationError

from planner import Scenario
from planner.core.tco import TcoInputs
from planner.report import build_report
from planner.report.build import preview_report
from planner.share import links as share
from planner.share.model_links import file_name_part
from ui import state, widgets

PAGE, URL_PATH = "report", "report"
TCO = (("requests_per_s", "Peak requests per second", "none: no comparison"),  # issue 13: rent, own or API in the PDF
       ("api_usd_per_m_input", "API $/M input tokens", "0.15"), ("api_usd_per_m_output", "API $/M output tokens", "1.5"))
KEYS = ("ttft_ms_max", "tpot_ms_max", "report_on", "utilization", *(k for k, _, _ in TCO))
DEPLOYMENT = ("gpu", "gpus", "engine", "weights", "tp", "pp", "ep", "usd_per_gpu_hour")
DEFAULTS = dict(model=share.DEFAULT_MODEL, gpu="h200-sxm", gpus=2, engine="vllm", weights=None, kv_dtype="auto",
                input_len=1024, output_len=256, concurrency=1, report_on="link", utilization=1.0)
CHOICES = {"link": "The configuration in the link (sidebar)", "cheapest": "The cheapest configuration that meets the targets"}


def _kwargs(scenario: dict, pinned: bool) -> dict:
    return scenario if pinned else {k: v for k, v in scenario.items() if k not in DEPLOYMENT}


@st.cache_data(max_entries=16, show_spinner=False)
def report_pdf(scenario: dict, pinned: bool, targets: dict, utilization: float, base_url: str, today: dt.date,
               demand: TcoInputs | None = None) -> bytes:
    return build_report(**_kwargs(scenario, pinned), **targets, utilization=utilization, base_url=base_url, today=today,
                        demand=demand)


@st.cache_data(max_entries=16, show_spinner="Choosing and checking the configuration ...")
def report_preview(scenario: dict, pinned: bool, targets: dict, utilization: float):
    return preview_report(**_kwargs(scenario, pinned), **targets, utilization=utilization)


def show_preview(one) -> None:
    """Page 1 as the PDF prints it (the same strings), in page widgets."""
    with st.container(border=True):
        st.markdown(f"#### GPU hardware recommendation\n{widgets.escape_md(one.model)}")
        st.caption(widgets.escape_md(one.scenario))
        if one.verdict_title:
            st.markdown(f"**{widgets.escape_md(one.verdict_title)}**")
        if one.title:
            st.markdown(f"##### {widgets.escape_md(one.title)}")
        for text in (one.line, one.detail):
            if text:
                st.markdown(widgets.escape_md(text))
        st.markdown(f"**{widgets.escape_md(one.verdict)}**")
        for note in one.notes:
            st.caption(widgets.escape_md(note))
        if one.figures:
            st.table({"figure": [r[0] for r in one.figures], "value": [r[1] for r in one.figures]})
        if one.others:
            st.markdown(f"**{widgets.escape_md(one.others_title)}**")
            st.dataframe([dict(zip(one.others[0], row)) for row in one.others[1:]], hide_index=True, width="stretch")
        if one.counts:
            st.caption(widgets.escape_md(one.counts))


values = widgets.page_start(PAGE, DEFAULTS, KEYS, "Recommendation report (PDF)",
                            "A document for procurement: what to buy, why, what it costs and what was assumed, with "
                            "the charts and the link that reopens this scenario.")

with st.sidebar:
    st.header("Scenario")
    chosen, spec = widgets.scenario_inputs(PAGE, values)
    c1, c2 = st.columns(2)
    targets = {name: col.number_input(label, 0.1, 600_000.0, value=None, placeholder="none", key=state.init(PAGE, name, values.get(name)))
               for col, name, label in ((c1, "ttft_ms_max", "TTFT target (ms)"), (c2, "tpot_ms_max", "TPOT target (ms)"))}

imported = not isinstance(spec, str)
report_on = st.radio("Report on", list(CHOICES), format_func=CHOICES.get, disabled=imported, horizontal=True,
                     key=state.init(PAGE, "report_on", "link" if imported else values["report_on"]),
                     help="Imported models can only be assessed on the configuration in the sidebar.")
pinned = imported or report_on == "link"
utilization = st.slider("Utilization for the monthly cost", 0.05, 1.0, step=0.05,
                        key=state.init(PAGE, "utilization", float(values["utilization"])),
                        help="Share of the 730 hours of a month the GPUs are billed.")
with st.sidebar:
    st.header("Rent, own or API (optional)")
    tco_values = {k: st.number_input(label, 0.0, 1e6, value=None, placeholder=hint, key=state.init(PAGE, k, values.get(k)))
                  for k, label, hint in TCO}
page_values = {**chosen, **targets, "report_on": report_on, "utilization": utilization, **tco_values}
state.publish(PAGE, page_values, KEYS)

scenario = {k: v for k, v in chosen.items() if v is not None} | {"model": spec}
try:  # validate before offering the button (the PDF is built later, in Streamlit's download thread)
    checked = Scenario(**_kwargs(scenario, pinned))
    demand = TcoInputs(**{k: v for k, v in tco_values.items() if v is not None}) if tco_values["requests_per_s"] else None
except ValidationError as exc:
    err = exc.errors()[0]
    st.error(f"This scenario is invalid ({err['loc'][0] if err['loc'] else 'scenario'}): "
             f"{widgets.escape_md(err['msg'].removeprefix('Value error, '))}")
    widgets.share_box(URL_PATH, page_values, KEYS)
    st.stop()

what = "this configuration" if pinned else "the cheapest configuration that meets the targets (a search of ~3,000 configurations)"
st.write(f"The PDF assesses {what}." + (f" It prices renting, owning and an API at {demand.requests_per_s:g} requests/s "
                                         "at peak." if demand else ""))
picked = {k: v for k, v in targets.items() if v}
args = (scenario, pinned, picked, utilization)
name = ("imported-" if imported else "") + file_name_part(chosen["model"])
base_url, today = state.base_url(URL_PATH), dt.date.today()
st.download_button("Download PDF", data=lambda: report_pdf(*args, base_url, today, demand),
                   file_name=f"gpu-recommendation-{name}.pdf", mime="application/pdf", on_click="ignore",
                   type="primary", icon=":material/download:")  # built on click, in Streamlit's worker thread
st.subheader("Preview of page 1")
try:
    show_preview(report_preview(*args))
except ValueError as exc:  # e.g. a search that cannot run for this model
    st.error("The report cannot be prepared: " + widgets.escape_md(str(exc)))
widgets.share_box(URL_PATH, page_values, KEYS)
