"""Planner page (default, served at `/`): one scenario in the sidebar, memory, speed and cost at once."""
import streamlit as st
from pydantic import ValidationError

from planner import Scenario
from planner.report import wording
from planner.share import links as share
from ui import charts, compute, explain, state, widgets

PAGE, URL_PATH = "planner", ""   # default page: share links point at `/?...` (DESIGN.md §5)
DEFAULTS = dict(model=share.DEFAULT_MODEL, gpu="h200-sxm", gpus=2, engine="vllm", weights=None, kv_dtype="auto",
                input_len=1024, output_len=256, concurrency=1)

KEYS = ("tpot_ms_max", *share.CALIBRATION_KEYS)
values = widgets.page_start(PAGE, DEFAULTS, KEYS, "LLM inference planner",
                            "Pick a model and hardware in the sidebar; memory, speed and cost answer at once. "
                            "Units and definitions at the bottom.")

with st.sidebar:
    st.header("Scenario")
    chosen, spec = widgets.scenario_inputs(PAGE, values)
    chosen["usd_per_gpu_hour"] = widgets.price_input(PAGE, chosen["gpu"], values)
    chosen.update(widgets.advanced_inputs(PAGE, values))
chosen.update({k: values.get(k) for k in KEYS})
query = state.publish(PAGE, chosen, KEYS)
calibration = share.calibration_of(chosen)
if calibration:
    st.info(f"Calibrated by a probe of a live endpoint: decode time x{calibration.decode_time_factor:.2f}, prefill time "
            f"x{calibration.prefill_time_factor:.2f}" + ("" if calibration.ttft_overhead_ms is None else
            f", TTFT overhead {calibration.ttft_overhead_ms:.0f} ms") + ". Every figure below uses these factors.",
            icon=":material/tune:")
    if st.button("Remove the calibration", key="planner_uncalibrate"):
        st.session_state[state.SHARED].update(dict.fromkeys(share.CALIBRATION_KEYS))
        st.rerun()

try:
    scenario = Scenario(**{k: v for k, v in chosen.items() if k in share.SCENARIO_KEYS and v is not None}
                        | {"model": spec, "calibration": calibration})
except ValidationError as exc:
    err = exc.errors()[0]
    field = err["loc"][0] if err["loc"] else "scenario"
    st.error(f"This scenario is invalid ({field}): {widgets.escape_md(err['msg'].removeprefix('Value error, '))}")
    scenario = None

if scenario is not None:
    est = compute.estimate(scenario)
    gpu = scenario.gpu_spec
    where = (widgets.model_name(scenario.model_id) + f" on {scenario.gpus} × {widgets.gpu_label(gpu.id)} "
             f"({scenario.engine}, {scenario.weight_format} weights)")
    if est.fits:  # the plain-language decision first (the same sentence as PDF page 1), the technical figures below
        st.success("**Fits.** " + widgets.escape_md(wording.decision_line(scenario, est)), icon=":material/check_circle:")
        st.caption(widgets.escape_md(" ".join([*est.notes, wording.WORDS_NOTE])))
    else:
        st.error(f"Does not fit: {where}. {widgets.escape_md(est.reason or '')}")
        fixes = compute.nearest_fits(scenario)
        st.info("Nearest configurations that fit: " + ("; ".join(label for label, _ in fixes) if fixes
                else "none among more GPUs, fp8/4-bit weights, an fp8 KV cache or lower concurrency."))
        widgets.apply_buttons(PAGE, fixes)
    widgets.metrics(est)
    st.plotly_chart(charts.memory_bar(est.memory.model_dump(), widgets.gpu_label(gpu.id)), width="stretch")
    state_mib = est.memory.state_bytes_per_sequence / 2**20
    st.caption(explain.MEMORY + (f" This model keeps {state_mib:,.1f} MiB of linear-attention state per request (whole model, "
                                 f"before sharding) in the same pool, plus {est.memory.kv_bytes_per_token:,.0f} bytes of KV "
                                 "cache per token." if state_mib else ""))
    left, right = st.columns(2)
    running = est.performance.running_batch or (1 if scenario.concurrency == "max" else scenario.concurrency)
    with left:
        st.plotly_chart(charts.memory_vs_context(compute.context_points(scenario), scenario.input_len + scenario.output_len,
                                                 est.memory.gpu_memory_gib, est.memory.total_gib_per_gpu if est.fits else None,
                                                 running), width="stretch")
        st.caption(explain.CONTEXT)
    with right:
        current = dict(concurrency=running, **est.performance.model_dump(include={"output_tokens_per_s", "tpot_ms"}))
        st.plotly_chart(charts.throughput_vs_concurrency(compute.concurrency_points(scenario), current,
                                                         values.get("tpot_ms_max")), width="stretch")
        st.caption(explain.CONCURRENCY)
    with st.expander("Memory details"):
        st.dataframe([{"figure": k, "value": v} for k, v in est.memory.model_dump().items()], hide_index=True)

with st.expander("Units and metric definitions"):
    st.markdown(explain.UNITS)
widgets.share_box(URL_PATH, chosen, KEYS)
