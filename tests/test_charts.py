"""Figure builders: titles, axis titles with units, the current point, and values taken from planner results."""
import math

import pytest

import planner
from planner import Scenario, estimate_scenario
from ui import charts
from planner.search import sweeps

QWEN = dict(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus=2, weights="bf16", concurrency=8)


@pytest.fixture(scope="module")
def case():
    s = Scenario(**QWEN)
    return s, estimate_scenario(s)


def _titles(fig):
    lay = fig.layout
    return lay.title.text, lay.xaxis.title.text, lay.yaxis.title.text


def test_memory_bar_stacks_the_estimate_against_capacity(case):
    s, est = case
    fig = charts.memory_bar(est.memory.model_dump(), s.gpu_spec.name)
    title, x, _ = _titles(fig)
    assert title == "Memory per GPU" and "GiB" in x
    parts = {t.name: t.x[0] for t in fig.data}
    assert parts["Weights"] == pytest.approx(est.memory.weights_gib_per_gpu)
    assert parts["KV cache + state pool"] == pytest.approx(est.memory.kv_cache_gib_per_gpu)
    assert sum(parts.values()) == pytest.approx(est.memory.gpu_memory_gib, rel=1e-6)  # parts + free = capacity
    assert any(sh.x0 == pytest.approx(est.memory.gpu_memory_gib) for sh in fig.layout.shapes)


def test_memory_vs_context_marks_current_point_and_where_it_stops_fitting():
    s = Scenario(**{**QWEN, "gpus": 1, "gpu": "b200-hgx", "weights": "fp8", "concurrency": 64})
    est = estimate_scenario(s)
    pts = sweeps.context_points(s, est)
    assert pts[0]["fits"] and not pts[-1]["fits"]  # 64 requests of 262k tokens do not fit on one B200
    fig = charts.memory_vs_context(pts, s.input_len + s.output_len, est.memory.gpu_memory_gib, est.memory.total_gib_per_gpu, 64)
    title, x, y = _titles(fig)
    assert "context" in title and "tokens" in x and "GiB" in y
    current = next(t for t in fig.data if t.name == "current scenario")
    assert current.x[0] == 1280
    assert any(t.name == "does not fit" for t in fig.data)
    assert any("stops fitting" in (a.text or "") for a in fig.layout.annotations)


def test_throughput_chart_has_target_line_and_current_point(case):
    s, est = case
    pts = sweeps.concurrency_points(s)
    at8 = next(p for p in pts if p["concurrency"] == 8)
    assert at8["tpot_ms"] == pytest.approx(est.performance.tpot_ms)
    fig = charts.throughput_vs_concurrency(pts, dict(concurrency=8, output_tokens_per_s=est.performance.output_tokens_per_s,
                                                     tpot_ms=est.performance.tpot_ms), 30)
    assert fig.layout.title.text == "Throughput and latency vs concurrency"
    assert "concurrent requests" in fig.layout.xaxis.title.text
    assert "tokens/s" in fig.layout.yaxis.title.text and "ms" in fig.layout.yaxis2.title.text
    current = next(t for t in fig.data if t.name == "current scenario")
    assert current.y[0] == pytest.approx(est.performance.output_tokens_per_s)
    assert any("TPOT target 30 ms" in (a.text or "") for a in fig.layout.annotations)


def test_pareto_front_keeps_only_undominated_points():
    pts = [dict(t=1, c=9), dict(t=2, c=5), dict(t=3, c=6), dict(t=4, c=1), dict(t=5, c=1)]
    assert charts.pareto_front(pts, "t", "c") == [pts[0], pts[1], pts[3]]


def test_cost_vs_latency_plots_candidates_and_the_recommendation():
    rows = [dict(config="a", tpot_ms=10, usd_per_million_output_tokens=2.0, meets_targets=True),
            dict(config="b", tpot_ms=20, usd_per_million_output_tokens=1.0, meets_targets=False),
            dict(config="c", tpot_ms=30, usd_per_million_output_tokens=3.0, meets_targets=True),
            dict(config="d", tpot_ms=None, usd_per_million_output_tokens=None, meets_targets=False),
            dict(config="e", tpot_ms=5, usd_per_million_output_tokens=0.5, meets_targets=False, estimated_price=True),
            dict(config="f", tpot_ms=12, usd_per_million_output_tokens=1.5, meets_targets=True)]
    fig = charts.cost_vs_latency(rows, rows[5])
    title, x, y = _titles(fig)
    assert "Cost vs latency" in title and "ms" in x and "$" in y
    front = next(t for t in fig.data if t.name == "Pareto front (ranked)")
    assert list(front.x) == [10, 12]  # the ranked set only: b misses a target, e has an estimated price
    star = next(t for t in fig.data if t.name == "recommended")
    assert star.text[0] == "f" and (star.x[0], star.y[0]) in zip(front.x, front.y)  # the star sits on the front
    hollow = next(t for t in fig.data if t.name == "estimated price (not ranked)")
    assert list(hollow.text) == ["e"] and hollow.marker.symbol == "circle-open"


def test_charts_of_a_scenario_that_does_not_fit():
    s = Scenario(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h100-sxm", gpus=2, weights="bf16", concurrency=50,
                 input_len=4000, output_len=500)
    est = estimate_scenario(s)
    assert not est.fits
    pts = sweeps.context_points(s, est)
    fig = charts.memory_vs_context(pts, 4500, est.memory.gpu_memory_gib, None, 50)
    log_range = math.log10(pts[-1]["context"])
    for a in fig.layout.annotations:  # an annotation's x on a log axis is log10(tokens): inside the drawn range
        assert a.xref == "paper" or math.log10(pts[0]["context"]) <= a.x <= log_range
    assert not any("engine budget" in (a.text or "") for a in fig.layout.annotations)  # no budget above capacity
    if not pts[0]["fits"]:
        assert any(a.text == "does not fit at any context length" for a in fig.layout.annotations)
    empty = charts.throughput_vs_concurrency(sweeps.concurrency_points(s), None, 50)
    assert not empty.data and "Does not fit" in empty.layout.annotations[0].text  # a message, not an empty frame


def test_stops_fitting_annotation_is_placed_in_log10_units():
    pts = [dict(context=c, need_gib=10 + c / 1000, fits=c < 10_000) for c in (128, 1_000, 10_000, 100_000)]
    fig = charts.memory_vs_context(pts, 1_000, 80.0, 70.0, 4)
    note = next(a for a in fig.layout.annotations if "stops fitting" in (a.text or ""))
    assert note.x == pytest.approx(4.0)  # log10(10,000)
    line = next(sh for sh in fig.layout.shapes if sh.yref == "paper")
    assert line.x0 == 10_000  # shapes take data values
    budget = next(a for a in fig.layout.annotations if "engine budget" in (a.text or ""))
    assert budget.xanchor == "left" and budget.y == 70.0  # left, away from the capacity label on the right


def test_memory_by_format_uses_checkpoint_bytes():
    m = planner.core.catalog.model("Qwen/Qwen3-Next-80B-A3B-Instruct")
    pts = sweeps.format_points(m)
    bf16 = next(p for p in pts if p["weights"] == "bf16")
    assert bf16["weights_gb"] == pytest.approx(m.total_params * 2 / 1e9, rel=0.01)  # 16 bits per weight
    q4 = next(p for p in pts if p["weights"] == "gguf-q4_k_m")
    assert q4["weights_gb"] == pytest.approx(48.4, rel=0.01)  # the published Q4_K_M GGUF (planner/precision.py)
    fig = charts.memory_by_format(pts, m.id, {"H100 80 GB": 80})
    title, x, y = _titles(fig)
    assert m.id in title and "format" in x and "GB" in y


def test_nearest_fit_suggests_more_gpus_or_smaller_weights():
    s = Scenario(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h100-sxm", gpus=1, weights="bf16")
    assert not estimate_scenario(s).fits
    fixes = sweeps.nearest_fits(s)
    assert fixes and all(estimate_scenario(Scenario(**{**s.model_dump(exclude_none=True), **change})).fits
                         for _, change in fixes)
    assert fixes[0][0].startswith("fits with")


def test_compare_star_sits_on_the_front_drawn_in_what_ranks():
    rec = planner.recommend("Qwen/Qwen3-8B", concurrency=8, tpot_ms_max=30, gpus=["h100-sxm", "l40s", "a100-80gb-sxm", "l4"])
    rows = [dict(c.model_dump(), config=f"{c.gpus} x {c.gpu}, {c.engine}, {c.weights}") for c in rec.candidates]
    best = next(r for r in rows if r["meets_targets"])
    assert best["usd_per_request"] == min(r["usd_per_request"] for r in rows if r["meets_targets"])
    fig = charts.cost_vs_latency(rows, best, "usd_per_request")
    assert "per request" in fig.layout.yaxis.title.text and fig.layout.yaxis.tickformat == "$.2~g"  # $0.0005, not 500µ
    front = next(t for t in fig.data if t.name == "Pareto front (ranked)")
    star = next(t for t in fig.data if t.name == "recommended")
    assert (star.x[0], star.y[0]) in zip(front.x, front.y)
