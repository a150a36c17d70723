"""The 80 % ranges and their evidence where decisions are made (issue 10 point 5): the Planner's metrics, the
throughput/latency chart's bands, the Compare page's evidence column and its two ranking toggles (in the link)."""
from __future__ import annotations

import json

import pytest

import planner
from planner.report import ranges
from planner.search import sweeps
from tests.test_app_pages import QWEN, SHARE, _ok, _open
from ui import charts
from ui.widgets import escape_md

FIGURES = (("TTFT", "ttft_ms", ",.0f", " ms"), ("TPOT", "tpot_ms", ",.1f", " ms"),
           ("Tokens/s per user", "output_tokens_per_s_per_user", ",.1f", ""),
           ("Output tokens/s, all users", "output_tokens_per_s", ",.0f", ""))


def test_planner_metrics_show_the_estimates_range_and_evidence():
    at = _open(SHARE)
    _ok(at)
    est = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=2, weights="bf16")
    captions = [c.value for c in at.caption]
    for label, figure, spec, unit in FIGURES:
        band = est.uncertainty[figure]
        assert band.low < getattr(est.performance, figure) < band.high
        want = (f"80 % range {band.low:{spec}}–{band.high:{spec}}{unit} · {band.evidence} · "
                f"{band.rows:,} measurement{'s' if band.rows != 1 else ''}")
        assert want in captions, (label, want)
    band = est.uncertainty["tpot_ms"]
    assert band.evidence == "calibrated" and band.rows == 16  # vLLM on Hopper: 16 rows of data/calibration.csv
    meaning = next(c for c in captions if "80 % fell within" in c)
    assert meaning.startswith(escape_md(ranges.MEANING))
    assert escape_md("Evidence: calibrated (16 published measurements of vLLM (V1) on Hopper GPUs).") in meaning


def test_concurrency_sweep_carries_each_estimates_band_and_the_chart_shades_it():
    s = planner.Scenario(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=8)
    pts = sweeps.concurrency_points(s)
    at8 = next(p for p in pts if p["concurrency"] == 8)
    band = planner.estimate_scenario(s).uncertainty
    assert (at8["tpot_ms_low"], at8["tpot_ms_high"]) == pytest.approx((band["tpot_ms"].low, band["tpot_ms"].high))
    assert at8["output_tokens_per_s_low"] == pytest.approx(band["output_tokens_per_s"].low)
    assert at8["evidence"] == "calibrated"
    fig = charts.throughput_vs_concurrency(pts, None, 30)
    shaded = {t.name: t for t in fig.data if t.fill == "tonexty"}
    assert set(shaded) == {"80 % range of tokens/s (calibrated)", "80 % range of TPOT (calibrated)"}
    tpot = shaded["80 % range of TPOT (calibrated)"]
    low = fig.data[list(fig.data).index(tpot) - 1]  # the edge it fills down to, on the same axis
    assert tpot.yaxis == low.yaxis == "y2" and shaded["80 % range of tokens/s (calibrated)"].yaxis == "y"
    assert list(tpot.y) == pytest.approx([p["tpot_ms_high"] for p in pts])
    assert list(low.y) == pytest.approx([p["tpot_ms_low"] for p in pts])
    line = next(t for t in fig.data if t.name == "TPOT (ms)")
    assert all(lo < y < hi for lo, y, hi in zip(low.y, line.y, tpot.y))  # the line runs inside its band


def test_chart_without_bands_draws_only_the_lines():
    pts = [dict(concurrency=1, output_tokens_per_s=10.0, tpot_ms=100.0)]
    fig = charts.throughput_vs_concurrency(pts, None, None)
    assert [t.name for t in fig.data] == ["output tokens/s (all users)", "TPOT (ms)"]


COMPARE = dict(model=QWEN, input_len="4096", output_len="512", concurrency="32", tpot_ms_max="30")


def _pick(c) -> str:
    return f"{c.gpus} x {planner.catalog.gpu(c.gpu).name}"


def test_compare_pessimistic_toggle_round_trips_the_link_and_changes_the_ranking():
    kw = dict(input_len=4096, output_len=512, concurrency=32, tpot_ms_max=30, ttft_ms_max=2000)
    plain, slow = planner.recommend(QWEN, **kw), planner.recommend(QWEN, **kw, pessimistic=True)
    assert (plain.best.gpu, plain.best.gpus) != (slow.best.gpu, slow.best.gpus)  # the ranges decide here
    at = _open({**COMPARE, "pessimistic": "true"}, "app_pages/compare.py")
    _ok(at)
    assert at.sidebar.toggle(key="compare_pessimistic").value is True
    assert at.query_params["pessimistic"] == "true" and "allow_extrapolated" not in at.query_params
    text = at.success[0].value
    assert text.startswith("Recommended (judged at the slow end of each 80 % range): ")
    assert f"TPOT {slow.best.tpot_ms_high:.1f} ms" in text and f"\\${slow.best.usd_per_request_high:.5f}" in text
    assert f"evidence: {slow.best.evidence}" in text
    assert "pessimistic=true" in at.code[-1].value  # the share link carries it
    star = next(t for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"] if t.get("name") == "recommended")
    assert (star["x"][0], star["y"][0]) == pytest.approx((slow.best.tpot_ms_high, slow.best.usd_per_request_high))
    at.sidebar.toggle(key="compare_pessimistic").set_value(False).run()
    _ok(at)
    assert "pessimistic" not in at.query_params  # off: links keep the form they had before the toggle
    assert at.success[0].value.startswith("Recommended: ")
    assert f"TPOT {plain.best.tpot_ms:.1f} ms" in at.success[0].value
    assert f"\\${plain.best.usd_per_request:.5f}" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["evidence"][:5]) == [c.evidence for c in plain.candidates[:5]]
    assert table["tpot_ms_high"][0] == pytest.approx(plain.best.tpot_ms_high)


def test_compare_allow_extrapolated_reaches_recommend_through_the_link(monkeypatch):
    seen = []
    real = planner.recommend

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(planner, "recommend", spy)
    query = {**COMPARE, "input_len": "3001", "allow_extrapolated": "true"}  # a workload no other test caches
    at = _open(query, "app_pages/compare.py")
    _ok(at)
    assert at.sidebar.toggle(key="compare_allow_extrapolated").value is True
    assert at.query_params["allow_extrapolated"] == "true"
    assert seen[-1]["allow_extrapolated"] is True and seen[-1]["pessimistic"] is False
    at.sidebar.toggle(key="compare_allow_extrapolated").set_value(False).run()
    assert seen[-1]["allow_extrapolated"] is False and "allow_extrapolated" not in at.query_params
    bad = _open({**COMPARE, "pessimistic": "maybe"}, "app_pages/compare.py")
    _ok(bad)
    assert any("pessimistic" in w.value for w in bad.warning)
    assert bad.sidebar.toggle(key="compare_pessimistic").value is False
