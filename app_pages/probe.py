"""Probe page: measure a live OpenAI-compatible endpoint, compare with the planner, calibrate.

Widgets -> planner.probe.run.ProbeJob (a background thread; a fragment polls it for live figures) ->
planner.probe.calibrate (predicted vs measured, least-squares fit) -> ui.probe_charts. State travels in the
share link like every page's (ui.state, planner.share.links; old probe links are read too). The API key
lives only in its password widget: never in st.query_params, saved JSON or messages.
"""
import streamlit as st
from pydantic import ValidationError

from planner.core import catalog, net as probe_safety
from planner.core.errors import one_line
from planner.core.precision import FORMATS
from planner.core.scenario import ENGINES
from planner.probe.calibrate import SavedRun, calibrate, compare, load, save
from planner.probe.models import DEFINITIONS, ProbeConfig
from planner.probe.run import ProbeJob
from ui import probe_charts, state, widgets
from ui import probe_upload  # issue #14

PAGE, URL_PATH = "probe", "probe"
KEYS = ("url", "levels", "requests", "api", "served")
DEFAULTS = dict(model="Qwen/Qwen3-0.6B", gpu="cpu-2s-epyc-genoa", gpus=1, engine="llamacpp", weights="gguf-q8_0",
                input_len=128, output_len=64, url="http://127.0.0.1:8080", levels="1,4,16", requests=8, api="chat",
                served=None)
# links made before the Probe page used the shared scheme: il=, ol=, n=, smodel= ... and model= for the served name
LEGACY = {"il": "input_len", "ol": "output_len", "n": "requests", "smodel": "model", "sgpu": "gpu", "sgpus": "gpus",
          "sengine": "engine", "sweights": "weights", "model": "served"}


def upgrade_legacy_link() -> None:
    """Rewrite an old probe link (no v=, old names) into the shared scheme before the page reads it."""
    q = st.query_params
    if "v" in q or not any(k in q for k in LEGACY if k != "model"):
        return
    q.from_dict({LEGACY.get(k, k): q.get_all(k)[-1] for k in q.keys()})


upgrade_legacy_link()
values = widgets.page_start(PAGE, DEFAULTS, KEYS, "Probe a live endpoint",
                            "Streams requests to any OpenAI-compatible server (vLLM, SGLang, TensorRT-LLM, llama.cpp, "
                            "hosted APIs) at closed-loop concurrency levels, then sets the planner's prediction beside "
                            "each measured figure.")
if lim := probe_safety.limits():
    st.info(f"Hosted instance: internal and private addresses are refused; at most {lim.max_levels} levels, "
            f"concurrency {lim.max_concurrency}, {lim.max_requests_per_level} requests per level, "
            f"{lim.max_output_len} output tokens, {lim.max_duration_s:g} s per run.")

chosen = {k: values.get(k) for k in (*KEYS, *DEFAULTS)}
c1, c2 = st.columns([3, 2])
chosen["url"] = c1.text_input("Endpoint URL", key=state.init(PAGE, "url", values["url"]),
                              help="base URL; /v1/chat/completions is appended")
key = c2.text_input("API key", type="password", key="probe_key", help="sent only as a Bearer header; never saved")
c1, c2, c3, c4, c5 = st.columns(5)
chosen["served"] = c1.text_input("Served model (blank: first of /v1/models)", key=state.init(PAGE, "served", values["served"] or "")) or None
chosen["api"] = c2.selectbox("API", ["chat", "completions"], key=state.init(PAGE, "api", values["api"]))
chosen["levels"] = c3.text_input("Concurrency levels", key=state.init(PAGE, "levels", values["levels"]))
chosen["requests"] = c4.number_input("Requests per level", 1, 10_000, key=state.init(PAGE, "requests", values["requests"]))
timeout = c5.number_input("Timeout (s)", 1.0, 3600.0, 60.0, key="probe_timeout",
                          help="longest request, connect to last byte; also the longest silence")
c1, c2, c3, c4, c5 = st.columns(5)
chosen["input_len"] = c1.number_input("Prompt tokens", 1, 200_000, key=state.init(PAGE, "input_len", values["input_len"]))
chosen["output_len"] = c2.number_input("Output tokens", 1, 100_000, key=state.init(PAGE, "output_len", values["output_len"]))
ttft_t = c3.number_input("TTFT target (ms, 0 = none)", 0.0, 1e6, 0.0, key="probe_ttft_t")
tpot_t = c4.number_input("TPOT target (ms, 0 = none)", 0.0, 1e6, 0.0, key="probe_tpot_t")
price = c5.number_input("$/GPU-hour (0 = none)", 0.0, 1000.0, 0.0, key="probe_price")


def start_job() -> None:
    try:
        cfg = ProbeConfig(url=chosen["url"], model=chosen["served"], api=chosen["api"], api_key=key or None,
                          concurrency=chosen["levels"], requests=chosen["requests"], input_len=chosen["input_len"],
                          output_len=chosen["output_len"], read_timeout_s=timeout, request_timeout_s=timeout,
                          ttft_ms_target=ttft_t or None, tpot_ms_target=tpot_t or None, usd_per_gpu_hour=price or None,
                          gpus=int(chosen["gpus"] or 1))
        probe_safety.check_url(cfg.url)
        st.session_state["probe_job"] = ProbeJob(cfg).start()
        st.session_state.pop("probe_fit", None)
    except ValidationError as exc:
        st.error(widgets.escape_md(one_line(exc)))
    except ValueError as exc:
        st.error("Refused: " + widgets.escape_md(str(exc)))


job: ProbeJob | None = st.session_state.get("probe_job")
b1, b2, _ = st.columns([1, 1, 4])
if b1.button("Run probe", type="primary", disabled=bool(job and job.running), key="probe_run"):
    start_job()
    job = st.session_state.get("probe_job")
if b2.button("Stop", disabled=not (job and job.running), key="probe_stop") and job:
    job.stop()


def live():
    j = st.session_state.get("probe_job")
    if j is None:
        return
    st.progress(j.progress(), text=f"{len(j.points)} of {j.total} requests" + (" (running)" if j.running else ""))
    if j.points:
        st.plotly_chart(probe_charts.live_points(list(j.points)), key="probe_live")
    if j.levels:
        st.plotly_chart(probe_charts.levels_chart([lv.model_dump() for lv in j.levels]), key="probe_levels_chart")
    if j.error:
        st.error(widgets.escape_md(j.error))
    if not j.running and j.result is not None and st.session_state.get("probe_result") is not j.result:
        st.session_state["probe_result"] = j.result
        st.rerun()


st.fragment(live, run_every=1.0 if job and job.running else None)()

uploaded = st.file_uploader("Load saved results (JSON)", type="json", key="probe_upload")
if uploaded is not None:
    try:
        st.session_state["probe_result"] = load(uploaded.getvalue()).probe
    except ValueError as exc:
        st.error("Not a probe result: " + widgets.escape_md(str(exc).splitlines()[0]))
# -- issue #14: a vLLM / SGLang / GuideLLM result file instead of a probe run (ui/probe_upload.py) --
probe_upload.bench_upload(price or None, int(chosen["gpus"] or 1))


def show_measured(result) -> bool:
    """The measured table and notes; False (after an error box) when no request completed."""
    st.subheader("Measured")
    if not any(lv.completed for lv in result.levels):
        kinds = {k: sum(lv.error_kinds.get(k, 0) for lv in result.levels) for lv in result.levels for k in lv.error_kinds}
        st.error("Every request failed" + (f" ({', '.join(f'{k}: {n}' for k, n in kinds.items())})" if kinds else "")
                 + ": nothing to compare, calibrate or download. The notes below say what the server answered.")
    else:
        st.dataframe(probe_charts.measured_rows(result.levels), column_config=probe_charts.measured_help(DEFINITIONS))
    for note in result.notes:
        (st.warning if note.startswith("warning:") else st.caption)("Note: " + widgets.escape_md(note))
    with st.expander("Metric definitions"):
        st.markdown("\n".join(f"- **{k}**: {widgets.escape_md(v)}" for k, v in DEFINITIONS.items()))
    return any(lv.completed for lv in result.levels)


def scenario_inputs() -> dict:
    models, gpu_ids, formats = sorted(catalog.models()), sorted(catalog.gpus()), list(FORMATS)
    pick = (lambda name, options: values[name] if values[name] in options else options[0])
    c1, c2, c3, c4, c5 = st.columns(5)
    return dict(model=c1.selectbox("Model", models, key=state.init(PAGE, "model", pick("model", models))),
                gpu=c2.selectbox("GPU", gpu_ids, key=state.init(PAGE, "gpu", pick("gpu", gpu_ids))),
                gpus=int(c3.number_input("GPUs", 1, 1024, key=state.init(PAGE, "gpus", values["gpus"]))),
                engine=c4.selectbox("Engine", ENGINES, key=state.init(PAGE, "engine", pick("engine", list(ENGINES)))),
                weights=c5.selectbox("Weights", formats, key=state.init(PAGE, "weights", pick("weights", formats))))


def show_comparison(result, scenario: dict) -> None:
    try:
        rows = [r.model_dump() for r in compare(result, scenario)]
    except (ValidationError, ValueError) as exc:
        st.error(one_line(exc) if isinstance(exc, ValidationError) else widgets.escape_md(str(exc)))
        return
    fit = st.session_state.get("probe_fit")
    if st.button("Calibrate", key="probe_calibrate", help="least squares on log TTFT and TPOT: decode, prefill, overhead"):
        try:
            st.session_state["probe_fit"] = fit = calibrate(result, scenario)
        except ValueError as exc:
            st.error(widgets.escape_md(str(exc)))
    cal_rows = [r.model_dump() for r in compare(result, scenario, fit.calibration)] if fit else None
    st.plotly_chart(probe_charts.predicted_vs_measured(rows, cal_rows), key="probe_compare_chart")
    st.dataframe([{**r, "calibrated": c["predicted"], "calibrated_error_pct": c["error_pct"]}
                  for r, c in zip(rows, cal_rows)] if cal_rows else rows)
    st.caption("error % = (predicted - measured) / measured. Predictions use the measured prompt length.")
    if fit:
        c = fit.calibration
        st.success(probe_charts.fit_summary(fit))
        if st.button("Re-predict in the Planner with this calibration", key="probe_to_planner", icon=":material/calculate:",
                     help="Opens the Planner on this scenario with the fitted factors: change GPUs, count or load there."):
            state.hand_to_planner({**scenario, "cal_decode": c.decode_time_factor, "cal_prefill": c.prefill_time_factor,
                                   "cal_ttft_ms": c.ttft_overhead_ms})
    st.download_button("Download results (JSON)", save(SavedRun(probe=result, scenario=scenario, comparison=rows, fit=fit)),
                       file_name="probe_results.json", mime="application/json", key="probe_download")


result = st.session_state.get("probe_result")
completed = show_measured(result) if result is not None else False
st.subheader("Predicted vs measured")
scenario = scenario_inputs()
chosen.update(scenario)
state.publish(PAGE, chosen, KEYS)
if completed:
    show_comparison(result, scenario)
widgets.share_box(URL_PATH, chosen, KEYS)
