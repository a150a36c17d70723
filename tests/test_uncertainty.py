"""Every predicted figure carries an 80 % interval and its evidence (shared/DESIGN.md §2 `uncertainty`)."""
import csv
from pathlib import Path

import pytest

import planner
from planner.core import catalog, uncertainty

DATA = Path(__file__).resolve().parents[1] / "data"


def test_every_performance_figure_has_a_band_with_its_evidence():
    e = planner.estimate(model="meta-llama/Llama-3.1-70B", gpu="h200-sxm", gpus=2, weights="fp8", concurrency=16)
    assert set(e.uncertainty) == set(uncertainty.FIGURES)
    rows = sum(1 for r in csv.DictReader(open(DATA / "calibration.csv"))
               if r["engine"] == "vllm" and r["gpu"] and r["metric"] in uncertainty.METRIC_GROUP
               and catalog.gpu(r["gpu"]).generation == "hopper")
    for figure, b in e.uncertainty.items():
        assert 0 < b.low < b.high and b.evidence == "calibrated" and b.rows == rows, figure
    dumped = e.model_dump()["uncertainty"]["tpot_ms"]
    assert set(dumped) == {"low", "high", "evidence", "rows"}


def test_a_rate_band_is_the_inverse_of_its_time_band():
    e = planner.estimate(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=4)
    tpot, per_user = e.uncertainty["tpot_ms"], e.uncertainty["output_tokens_per_s_per_user"]
    p = e.performance
    assert per_user.low == pytest.approx(p.output_tokens_per_s_per_user * p.tpot_ms / tpot.high)
    assert per_user.high == pytest.approx(p.output_tokens_per_s_per_user * p.tpot_ms / tpot.low)


def test_evidence_levels():
    pairs = {("vllm", "hopper"): 20, ("sglang", "cdna3"): 5}
    assert uncertainty.evidence("vllm", "hopper", pairs) == ("calibrated", 20)
    assert uncertainty.evidence("vllm", "cdna3", pairs) == ("related", 25)     # engine elsewhere + GPU family
    assert uncertainty.evidence("trtllm", "blackwell", pairs) == ("extrapolated", 0)


def test_weaker_evidence_never_narrows_the_band():
    for group in uncertainty.GROUPS:
        q = [uncertainty.quantiles()[(group, level)] for level in uncertainty.LEVELS]
        widths = [x.q90 - x.q10 for x in q]
        assert widths[2] >= max(widths[:2]), group  # extrapolated is the widest


def test_no_band_when_it_does_not_run():
    e = planner.estimate(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", weights="bf16")
    assert not e.fits and e.uncertainty == {}
