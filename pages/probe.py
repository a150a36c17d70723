"""Probe page: measure a live OpenAI-compatible endpoint, compare with the planner, calibrate.

Widgets -> planner.probe.run.ProbeJob (a background thread; a fragment polls it for live figures) ->
planner.probe.calibrate (predicted vs measured, least-squares fit) -> ui.probe_charts. The API key lives
only in its password widget: never in st.query_params, saved JSON or messages.
"""
import streamlit as st
from pydantic import ValidationError

from planner.core import catalog, net as probe_safety
from planner.probe.calibrate import SavedRun, calibrate, compare, load, save
from planner.core.errors import one_line
from planner.core.precision import FORMATS
from planner.probe.run import ProbeJob
from planner.probe.models import DEFINITIONS, ProbeConfig
from planner.core.scenario import ENGINES
from ui import probe_charts, state

QP = st.query_params
DEFAULTS = {"url": "http://127.0.0.1:8080", "levels": "1,4,16", "n": "8", "il": "128", "ol": "64", "api": "chat",
            "smodel": "Qwen/Qwen3-0.6B", "sgpu": "cpu-2s-epyc-genoa", "sgpus": "1", "sengine": "llamacpp", "sweights": "gguf-q8_0"}
q = {k: QP.get(k, v) for k, v in DEFAULTS.items()}


def _int(v, default):
    try:
        return max(1, int(v))
    except (TypeError, ValueError):
        return default


st.title("Probe a live endpoint")
st.caption("Streams requests to any OpenAI-compatible server (vLLM, SGLang, TensorRT-LLM, llama.cpp, hosted APIs) "
           "at closed-loop concurrency levels, then sets the planner's prediction beside each measured figure.")
if lim := probe_safety.limits():
    st.info(f"Hosted instance: internal and private addresses are refused; at most {lim.max_levels} levels, "
            f"concurrency {lim.max_concurrency}, {lim.max_requests_per_level} requests per level, "
            f"{lim.max_output_len} output tokens, {lim.max_duration_s:g} s per run.")

c1, c2 = st.columns([3, 2])
url = c1.text_input("Endpoint URL", q["url"], key="probe_url", help="base URL; /v1/chat/completions is appended")
key = c2.text_input("API key", type="password", key="probe_key", help="sent only as a Bearer header; never saved")
c1, c2, c3, c4, c5 = st.columns(5)
served = c1.text_input("Served model (blank: first of /v1/models)", QP.get("model", ""), key="probe_model")
api = c2.selectbox("API", ["chat", "completions"], index=0 if q["api"] == "chat" else 1, key="probe_api")
levels = c3.text_input("Concurrency levels", q["levels"], key="probe_levels")
n_req = c4.number_input("Requests per level", 1, 10_000, _int(q["n"], 8), key="probe_n")
timeout = c5.number_input("Read timeout (s)", 1.0, 600.0, 30.0, key="probe_timeout")
c1, c2, c3, c4, c5 = st.columns(5)
il = c1.number_input("Prompt tokens", 1, 200_000, _int(q["il"], 128), key="probe_il")
ol = c2.number_input("Output tokens", 1, 100_000, _int(q["ol"], 64), key="probe_ol")
ttft_t = c3.number_input("TTFT target (ms, 0 = none)", 0.0, 1e6, 0.0, key="probe_ttft_t")
tpot_t = c4.number_input("TPOT target (ms, 0 = none)", 0.0, 1e6, 0.0, key="probe_tpot_t")
price = c5.number_input("$/GPU-hour (0 = none)", 0.0, 1000.0, 0.0, key="probe_price")
QP.update({"url": url, "levels": levels, "n": str(n_req), "il": str(il), "ol": str(ol), "api": api})
if served:
    QP["model"] = served

job: ProbeJob | None = st.session_state.get("probe_job")
b1, b2, _ = st.columns([1, 1, 4])
if b1.button("Run probe", type="primary", disabled=bool(job and job.running), key="probe_run"):
    try:
        cfg = ProbeConfig(url=url, model=served or None, api=api, api_key=key or None, concurrency=levels,
                          requests=n_req, input_len=il, output_len=ol, read_timeout_s=timeout,
                          ttft_ms_target=ttft_t or None, tpot_ms_target=tpot_t or None, usd_per_gpu_hour=price or None,
                          gpus=_int(q["sgpus"], 1))
        probe_safety.check_url(cfg.url)
        st.session_state["probe_job"] = job = ProbeJob(cfg).start()
        st.session_state.pop("probe_fit", None)
    except ValidationError as exc:
        st.error(one_line(exc))
    except ValueError as exc:
        st.error(f"Refused: {exc}")
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
        st.error(j.error)
    if not j.running and j.result is not None and st.session_state.get("probe_result") is not j.result:
        st.session_state["probe_result"] = j.result
        st.rerun()


st.fragment(live, run_every=1.0 if job and job.running else None)()

uploaded = st.file_uploader("Load saved results (JSON)", type="json", key="probe_upload")
if uploaded is not None:
    try:
        st.session_state["probe_result"] = load(uploaded.getvalue()).probe
    except ValueError as exc:
        st.error(f"Not a probe result: {str(exc).splitlines()[0]}")
result = st.session_state.get("probe_result")
if result is None:
    st.stop()

st.subheader("Measured")
cols = ["concurrency", "completed", "errors", "error_kinds", "output_tokens_per_s", "output_tokens_per_s_per_user",
        "request_throughput_per_s", "goodput_per_s", "usd_per_million_output_tokens", "token_count_source"]
st.dataframe([{**{k: getattr(lv, k) for k in cols}, "ttft_ms (mean/p99)": f"{lv.ttft_ms.mean or 0:.1f} / {lv.ttft_ms.p99 or 0:.1f}",
               "tpot_ms (mean/p99)": f"{lv.tpot_ms.mean or 0:.2f} / {lv.tpot_ms.p99 or 0:.2f}"} for lv in result.levels],
             column_config={**{k: st.column_config.Column(k, help=v) for k, v in DEFINITIONS.items() if k in cols},
                            "ttft_ms (mean/p99)": st.column_config.Column(help=DEFINITIONS["ttft_ms"]),
                            "tpot_ms (mean/p99)": st.column_config.Column(help=DEFINITIONS["tpot_ms"])})
for note in result.notes:
    st.caption(f"Note: {note}")
with st.expander("Metric definitions"):
    st.markdown("\n".join(f"- **{k}**: {v}" for k, v in DEFINITIONS.items()))

st.subheader("Predicted vs measured")
models = sorted(catalog.models())
c1, c2, c3, c4, c5 = st.columns(5)
smodel = c1.selectbox("Model", models, index=models.index(q["smodel"]) if q["smodel"] in models else 0, key="probe_smodel")
gpus_ids = sorted(catalog.gpus())
sgpu = c2.selectbox("GPU", gpus_ids, index=gpus_ids.index(q["sgpu"]) if q["sgpu"] in gpus_ids else 0, key="probe_sgpu")
sgpus = c3.number_input("GPUs", 1, 1024, _int(q["sgpus"], 1), key="probe_sgpus")
sengine = c4.selectbox("Engine", ENGINES, index=ENGINES.index(q["sengine"]) if q["sengine"] in ENGINES else 0, key="probe_sengine")
formats = list(FORMATS)
sweights = c5.selectbox("Weights", formats, index=formats.index(q["sweights"]) if q["sweights"] in formats else 0, key="probe_sweights")
QP.update({"smodel": smodel, "sgpu": sgpu, "sgpus": str(sgpus), "sengine": sengine, "sweights": sweights})
scenario = {"model": smodel, "gpu": sgpu, "gpus": int(sgpus), "engine": sengine, "weights": sweights}
try:
    rows = [r.model_dump() for r in compare(result, scenario)]
except (ValidationError, ValueError) as exc:
    st.error(one_line(exc) if isinstance(exc, ValidationError) else str(exc))
    st.stop()
fit = st.session_state.get("probe_fit")
if st.button("Calibrate", key="probe_calibrate", help="least squares on log TTFT and TPOT: decode, prefill, overhead"):
    try:
        st.session_state["probe_fit"] = fit = calibrate(result, scenario)
    except ValueError as exc:
        st.error(str(exc))
cal_rows = [r.model_dump() for r in compare(result, scenario, fit.calibration)] if fit else None
st.plotly_chart(probe_charts.predicted_vs_measured(rows, cal_rows), key="probe_compare_chart")
table = [{**r, "calibrated": c["predicted"], "calibrated_error_pct": c["error_pct"]} for r, c in zip(rows, cal_rows)] if cal_rows else rows
st.dataframe(table)
st.caption("error % = (predicted - measured) / measured. Predictions use the measured prompt length.")
if fit:
    c = fit.calibration
    st.success(f"Calibrated: decode x{c.decode_time_factor:.2f}, prefill x{c.prefill_time_factor:.2f}, TTFT overhead "
               f"{'engine default' if c.ttft_overhead_ms is None else f'{c.ttft_overhead_ms:.0f} ms'}. "
               f"Mean |error| TTFT {fit.mean_abs_error_pct_before['ttft_ms']:.0f} % -> {fit.mean_abs_error_pct_after['ttft_ms']:.0f} %, "
               f"TPOT {fit.mean_abs_error_pct_before['tpot_ms']:.0f} % -> {fit.mean_abs_error_pct_after['tpot_ms']:.0f} %.")
    if st.button("Re-predict in the Planner with this calibration", key="probe_to_planner", icon=":material/calculate:",
                 help="Opens the Planner on this scenario with the fitted factors: change GPUs, count or load there."):
        state.hand_to_planner({**scenario, "cal_decode": c.decode_time_factor, "cal_prefill": c.prefill_time_factor,
                               "cal_ttft_ms": c.ttft_overhead_ms})
run = SavedRun(probe=result, scenario=scenario, comparison=rows, fit=fit)
st.download_button("Download results (JSON)", save(run), file_name="probe_results.json", mime="application/json",
                   key="probe_download")
