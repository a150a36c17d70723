"""The PDF gives every predicted figure its 80 % range and evidence, and never calls a prior fitted (issue 10 point 5).

Read back with pdftotext; the expected strings are formatted here from planner.estimate and data/engine_constants.csv.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

import planner
from planner.core import constants, uncertainty
from planner.report import build_report
from tests.test_report import _write, squash, text

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
TODAY = dt.date(2026, 12, 1)
PINNED = dict(model="Qwen/Qwen3-8B", gpu="mi325x", gpus=1, concurrency=8)  # CDNA3: its bandwidth share is a prior


@pytest.fixture(scope="module")
def amd_pdf():
    return _write("ranges-mi325x", build_report(**PINNED, tpot_ms_max=20, search_gpus=["h100-sxm", "mi325x", "l40s"],
                                                today=TODAY))


def _range(value, band, spec, unit=""):
    unit = f" {unit}" if unit else ""
    return (f"{value:{spec}}{unit} ({band.low:{spec}}–{band.high:{spec}}), {band.evidence} · "
            f"{band.rows:,} measurements")


def test_page_one_gives_each_predicted_figure_its_range_and_evidence(amd_pdf):
    est = planner.estimate(**PINNED)
    p, u = est.performance, est.uncertainty
    page1 = squash(text(amd_pdf, 1))
    amd_runs = uncertainty.measured_pairs()[("vllm", "cdna3")]  # published vLLM runs on CDNA3 GPUs
    assert u["tpot_ms"].evidence == "calibrated" and u["tpot_ms"].rows == amd_runs == 38
    for want in (_range(p.ttft_ms, u["ttft_ms"], ",.0f", "ms"), _range(p.tpot_ms, u["tpot_ms"], ",.1f", "ms"),
                 _range(p.output_tokens_per_s_per_user, u["output_tokens_per_s_per_user"], ",.1f")):
        assert want in page1, want
    rate = u["output_tokens_per_s"]
    assert (f"{p.output_tokens_per_s:,.0f} (running batch {p.running_batch:,}); range {rate.low:,.0f}–{rate.high:,.0f}, "
            f"calibrated · {amd_runs} measurements") in page1
    cost = est.cost.usd_per_million_output_tokens
    lo, hi = cost * p.output_tokens_per_s / rate.high, cost * p.output_tokens_per_s / rate.low
    assert f"${cost:,.3f}; range ${lo:,.3f}–${hi:,.3f}, calibrated" in page1  # $/token scales as 1 / throughput
    assert "80 % fell within such a range" in page1
    assert f"Evidence: calibrated ({amd_runs} published measurements of vLLM (V1) on CDNA3 GPUs)." in page1


def test_alternatives_table_gives_ranges_and_evidence(amd_pdf):
    page1 = text(amd_pdf, 1)
    table = squash(page1.split("Alternatives considered")[1].split("configurations evaluated")[0])
    assert "Evidence" in table and "calibrated ·" in table
    assert len(re.findall(r"\(\d[\d,.]*–\d[\d,.]*\)", table)) >= 4  # TTFT, TPOT, tokens/s and $/M ranges of a row


def test_no_prior_or_source_constant_is_called_fitted(amd_pdf):
    body = squash(text(amd_pdf))
    assert "fitted to data/calibration.csv" not in body and "fit to calibration" not in body
    table = constants.load()
    appendix = text(amd_pdf).split("Appendix: how the serving software is modelled")[1]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^(\S[^\n]*?) {2,}[^ \n]+(?: [^ \n]+)? (fitted|prior|source) *$",
                                                          appendix, re.M)}
    assert len(rows) == 9, rows  # 6 speed constants, the memory share, CDNA3 bandwidth and compute
    words = {"fit": "fitted", "prior": "prior", "source": "source"}
    expected = {"Share of the memory bandwidth reached while writing the answer": "vllm.mem_efficiency",
                "Fixed time per generation step (scheduling, sampling)": "vllm.step_overhead_ms",
                "Memory bandwidth reached on CDNA3 GPUs, relative to Hopper": "generation_bw.cdna3",
                "Compute reached on CDNA3 GPUs, relative to Hopper": "generation_compute.cdna3"}
    for label, name in expected.items():
        assert rows.get(label) == words[table.row(name).status], (label, rows)
    assert table.row("generation_bw.cdna3").status == "prior" and table.row("vllm.step_overhead_ms").status == "prior"
    speed = ("mem_efficiency", "compute_efficiency", "layer_overhead_us", "step_overhead_ms", "ttft_overhead_ms",
             "allreduce_latency_us")
    fits = sum(table.row(f"vllm.{f}").status == "fit" for f in speed)
    assert sum(status == "fitted" for status in rows.values()) == fits  # the GPU-family rows are not fitted either
    assert f"of its 6 speed constants, {fits} are fitted to published measurements" in body
