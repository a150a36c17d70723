"""Probe page: a vLLM, SGLang or GuideLLM result file instead of a probe run (issue #14).

The file is read by planner.probe.bench_results (size cap, JSON or the printed table only, numbers validated)
into the probe's own records and put where a finished probe run goes (session key `probe_result`), so the
page's comparison, calibration and "re-predict in the Planner" apply to it unchanged.
"""
from __future__ import annotations

import streamlit as st

from planner.probe.bench_results import MAX_BYTES, BenchFileError, priced, read_results
from ui.widgets import escape_md

RESULT, FIT = "probe_result", "probe_fit"      # the page's own keys
SEEN, PARSED = "probe_bench_seen", "probe_bench_parsed"
HELP = ("vllm bench serve --save-result JSON (or its printed 'Serving Benchmark Result' table as .txt), "
        "python -m sglang.bench_serving --output-file JSONL, or GuideLLM's benchmarks.json. "
        f"At most {MAX_BYTES // 2**20} MiB; read as data only.")


def _label(result) -> str:
    return f"{result.input_len:,} in / {result.output_len:,} out tokens per request ({len(result.levels)} levels)"


def _parse(upload) -> list:
    """The file's results, parsed once per upload; [] after an error (shown once)."""
    stamp = (upload.name, upload.size, getattr(upload, "file_id", ""))
    if st.session_state.get(SEEN) != stamp:
        st.session_state[SEEN] = stamp
        st.session_state.pop(FIT, None)
        try:
            st.session_state[PARSED] = read_results(upload.getvalue(), upload.name)
        except BenchFileError as exc:
            st.session_state[PARSED] = []
            st.session_state[SEEN + "_error"] = str(exc)
        else:
            st.session_state.pop(SEEN + "_error", None)
    if err := st.session_state.get(SEEN + "_error"):
        st.error("Not a benchmark result: " + escape_md(err))
    return st.session_state.get(PARSED) or []


def bench_upload(usd_per_gpu_hour: float | None, gpus: int) -> None:
    """Uploader for a benchmark tool's result file; the chosen workload becomes the page's measured result."""
    upload = st.file_uploader("…or import your own benchmark (vLLM, SGLang, GuideLLM)", key="probe_bench_upload",
                              type=["json", "jsonl", "txt", "log"], help=HELP)
    if upload is None:
        st.session_state.pop(SEEN, None)
        return
    results = _parse(upload)
    if not results:
        return
    pick = 0
    if len(results) > 1:
        pick = st.selectbox("Workload in the file", range(len(results)), key="probe_bench_pick",
                            format_func=lambda i: _label(results[i]),
                            help="The planner predicts one workload at a time; calibrate on each in turn.")
    chosen = results[min(pick, len(results) - 1)]
    if usd_per_gpu_hour:
        chosen = priced(chosen, usd_per_gpu_hour, gpus)
    st.caption(f"Imported {chosen.source}: {_label(chosen)}. Compared and calibrated like a probe run below.")
    st.session_state[RESULT] = chosen
