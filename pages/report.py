"""Report page: the procurement PDF of planner.report.plan for the current scenario, behind "Download PDF".

Thin (STYLE rule 9): the scenario comes from the share link / session through ui.state like every
page; the PDF is built by planner.report.build_report, cached, and only when the button is pressed.
"""
import datetime as dt

import streamlit as st
from pydantic import ValidationError

from planner import Scenario
from planner.share import links as share
from planner.report import build_report
from ui import state, widgets

PAGE, URL_PATH = "report", "report"
TARGETS = ("ttft_ms_max", "tpot_ms_max")
DEPLOYMENT = ("gpu", "gpus", "engine", "weights", "tp", "pp", "ep", "usd_per_gpu_hour")
DEFAULTS = dict(model=share.DEFAULT_MODEL, gpu="h200-sxm", gpus=2, engine="vllm", weights=None, kv_dtype="auto",
                input_len=1024, output_len=256, concurrency=1)


@st.cache_data(max_entries=16, show_spinner=False)
def report_pdf(scenario: dict, pinned: bool, targets: dict, utilization: float, base_url: str, today: dt.date) -> bytes:
    kwargs = scenario if pinned else {k: v for k, v in scenario.items() if k not in DEPLOYMENT}
    return build_report(**kwargs, **targets, utilization=utilization, base_url=base_url, today=today)


values = widgets.page_start(PAGE, DEFAULTS, TARGETS, "Recommendation report (PDF)",
                            "A document for procurement: what to buy, why, what it costs and what was assumed, with "
                            "the charts and the link that reopens this scenario.")

with st.sidebar:
    st.header("Scenario")
    chosen, spec = widgets.scenario_inputs(PAGE, values)
    c1, c2 = st.columns(2)
    targets = {name: col.number_input(label, 0.1, 600_000.0, value=None, placeholder="none", key=state.init(PAGE, name, values.get(name)))
               for col, name, label in ((c1, "ttft_ms_max", "TTFT target (ms)"), (c2, "tpot_ms_max", "TPOT target (ms)"))}
state.publish(PAGE, {**chosen, **targets}, TARGETS)

imported = not isinstance(spec, str)
mode = st.radio("Report on", ["The cheapest configuration that meets the targets", "The configuration in the sidebar"],
                index=1 if imported else 0, disabled=imported, key=f"{PAGE}_mode",
                help="Imported models can only be assessed on the configuration in the sidebar.")
pinned = imported or mode.startswith("The configuration")
utilization = st.slider("Utilization for the monthly cost", 0.05, 1.0, 1.0, 0.05, key=f"{PAGE}_utilization",
                        help="Share of the 730 hours of a month the GPUs are billed.")

scenario = {k: v for k, v in chosen.items() if v is not None} | {"model": spec}
try:  # validate before offering the button (the PDF is built later, in Streamlit's download thread)
    checked = Scenario(**(scenario if pinned else {k: v for k, v in scenario.items() if k not in DEPLOYMENT}))
except ValidationError as exc:
    err = exc.errors()[0]
    st.error(f"This scenario is invalid ({err['loc'][0] if err['loc'] else 'scenario'}): "
             f"{widgets.escape_md(err['msg'].removeprefix('Value error, '))}")
    st.stop()

what = "this configuration" if pinned else "the cheapest configuration that meets the targets (a search of ~3,000 configurations)"
st.write(f"The PDF assesses {what}. Building it takes a few seconds.")
name = (chosen["model"].split("/")[-1] or "model").replace(" ", "_")
args = (scenario, pinned, {k: v for k, v in targets.items() if v}, utilization, state.base_url(URL_PATH), dt.date.today())
st.download_button("Download PDF", data=lambda: report_pdf(*args),  # built on click, in Streamlit's worker thread
                   file_name=f"gpu-recommendation-{name}.pdf", mime="application/pdf", on_click="ignore",
                   type="primary", icon=":material/download:")
