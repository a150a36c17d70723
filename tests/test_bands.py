"""The uncertainty bands that scripts/validate.py writes (scripts/bands.py), on synthetic held-out tables
whose source errors are known."""
import math
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bands import SPREAD_STEP, calibrate_spread, cell, coverage, nested_cell, residuals  # noqa: E402


def _table(speed_offset: float, latency_offset: float, sources: int = 12, seed: int = 7) -> list[dict]:
    """Held-out rows of `sources` sources; each source's predictions share one error (its offset, with
    alternating sign) plus a small row noise, as a benchmark method or engine version makes them."""
    rnd, rows = random.Random(seed), []
    for s in range(sources):
        sign = 1 if s % 2 else -1
        for i in range(10):
            metric, offset = ("tpot_ms", speed_offset) if i < 7 else ("ttft_ms", latency_offset)
            error = sign * offset * (1 + s / sources) + rnd.gauss(0, 0.02)
            rows.append(dict(case_id=f"s{s}r{i}", source=f"s{s}", metric=metric, engine="vllm", generation="hopper",
                             measured=10.0, out_of_sample=10.0 * math.exp(error)))
    return rows


def test_a_rate_residual_is_its_time_per_token_residual():
    rate = dict(case_id="a", source="x", metric="output_tokens_per_s", engine="vllm", generation="hopper",
                measured=100.0, out_of_sample=200.0)
    other = dict(rate, case_id="b", source="y", metric="tpot_ms", measured=10.0, out_of_sample=5.0)
    r = {t["case_id"]: t for t in residuals([rate, other])}
    # twice the rate and half the time are the same error: a time predicted 2x too short
    assert r["a"]["r"] == pytest.approx(-math.log(2)) == pytest.approx(r["b"]["r"])
    assert (r["a"]["group"], r["b"]["group"]) == ("speed", "speed")
    assert r["a"]["evidence"] == "calibrated"  # the other source measured vLLM on Hopper


def test_each_group_and_level_is_widened_to_its_own_80_percent_of_held_out_sources():
    res = residuals(_table(speed_offset=0.08, latency_offset=0.4))
    spread = calibrate_spread(res)
    assert spread[("latency", "calibrated")] > spread[("speed", "calibrated")] >= 1.0
    # no held-out row reaches the weaker levels here: they take the stronger level's widening
    assert spread[("speed", "related")] == spread[("speed", "extrapolated")] == spread[("speed", "calibrated")]
    for group in ("speed", "latency"):
        key, rows = (group, "calibrated"), [t for t in res if t["group"] == group]
        inside, width = coverage(rows, spread)
        assert inside >= 0.8, group
        if spread[key] > 1.0:  # the smallest widening that reaches 80 %
            assert coverage(rows, {**spread, key: spread[key] - SPREAD_STEP})[0] < 0.8, group
    # the speed bands stay narrow although the latency bands are wide
    assert coverage([t for t in res if t["group"] == "speed"], spread)[1] < 0.5
    assert coverage([t for t in res if t["group"] == "latency"], spread)[1] > 1.0


def test_weaker_evidence_never_narrows_a_band_at_either_end():
    # three sources each alone on its GPU family (related evidence) err one way only: their own cell would
    # not reach down to the calibrated cell's fast end
    rows, family = _table(speed_offset=0.08, latency_offset=0.4), {"s0": "cdna3", "s1": "ampere", "s2": "blackwell"}
    for i, t in enumerate(rows):
        if t["source"] in family:
            rows[i] = dict(t, generation=family[t["source"]], out_of_sample=t["measured"] * (3.0 + 0.1 * (i % 7)))
    res = residuals(rows)
    assert {t["evidence"] for t in res} == {"calibrated", "related"}
    spread = calibrate_spread(res)
    own = cell(res, "speed", "related", spread[("speed", "related")])
    strong = cell(res, "speed", "calibrated", spread[("speed", "calibrated")])
    nested = nested_cell(res, "speed", "related", spread)
    assert own[0] > strong[0]  # on its own the related cell would drop the fast end
    assert nested[0] == pytest.approx(strong[0]) and nested[1] == pytest.approx(max(own[1], strong[1]))
