"""Predicted against measured per level, and the least-squares calibration recovering known factors."""
import json

import pytest

from planner import Calibration, estimate

from planner.probe.calibrate import SavedRun, calibrate, compare, load, predict, save
from planner.probe.models import LevelResult, ProbeResult, Stats

SCENARIO = dict(model="Qwen/Qwen3-0.6B", gpu="cpu-2s-epyc-genoa", engine="llamacpp", weights="gguf-q8_0")
TRUE = Calibration(decode_time_factor=3.0, prefill_time_factor=5.0, ttft_overhead_ms=120.0)


def _level(c, ttft_ms, tpot_ms, tps=100.0):
    return LevelResult(concurrency=c, requests=4, completed=4, errors=0, error_kinds={}, ttft_ms=Stats(mean=ttft_ms),
                       tpot_ms=Stats(mean=tpot_ms), itl_ms=Stats(mean=tpot_ms), e2e_latency_s=Stats(mean=1.0),
                       output_tokens=128, input_tokens=256, output_tokens_per_s=tps, output_tokens_per_s_per_user=1e3 / tpot_ms,
                       request_throughput_per_s=1.0, token_count_source="usage")


def synthetic(input_len, cal=TRUE, levels=(1, 4, 16), noise=None):
    """A probe whose figures are the planner's own under `cal` (times an optional noise per level)."""
    probe = ProbeResult(url="http://x", model="m", api="chat", input_len=input_len, output_len=32, levels=[])
    lv = []
    for i, c in enumerate(levels):
        p = predict(SCENARIO, probe, c, cal)
        k = noise[i] if noise else 1.0
        lv.append(_level(c, p.ttft_ms * k, p.tpot_ms / k))
    return probe.model_copy(update={"levels": lv})


def test_calibration_recovers_known_factors():
    fit = calibrate([synthetic(32), synthetic(512)], SCENARIO)
    assert fit.calibration.decode_time_factor == pytest.approx(3.0, rel=1e-6)
    assert fit.calibration.prefill_time_factor == pytest.approx(5.0, rel=1e-6)
    assert fit.calibration.ttft_overhead_ms == pytest.approx(120.0, rel=1e-6)
    assert fit.rms_log_error_before > 0.5 and fit.rms_log_error_after < 1e-9
    est = estimate(**SCENARIO, input_len=512, output_len=32, concurrency=4, calibration=fit.calibration)
    assert est.performance.tpot_ms == pytest.approx(synthetic(512).levels[1].tpot_ms.mean, rel=1e-6)


def test_noisy_measurements_fit_in_the_least_squares_sense():
    fit = calibrate([synthetic(32, noise=[1.1, 0.9, 1.0]), synthetic(512, noise=[0.95, 1.05, 1.0])], SCENARIO)
    assert fit.calibration.decode_time_factor == pytest.approx(3.0, rel=0.05)
    assert 0 < fit.rms_log_error_after < fit.rms_log_error_before


def test_one_prompt_length_fits_decode_and_prefill_only():
    # one prompt length cannot separate the per-request overhead from prefill: it stays the engine's own
    truth = Calibration(decode_time_factor=3.0, prefill_time_factor=5.0)
    fit = calibrate(synthetic(128, cal=truth), SCENARIO)
    assert fit.fitted == ["decode_time_factor", "prefill_time_factor"] and fit.calibration.ttft_overhead_ms is None
    assert fit.calibration.decode_time_factor == pytest.approx(3.0, rel=1e-6)
    assert fit.calibration.prefill_time_factor == pytest.approx(5.0, rel=1e-6)
    assert fit.mean_abs_error_pct_after["ttft_ms"] < 1e-6


def test_compare_rows_give_error_in_percent():
    probe = synthetic(64, cal=Calibration())
    rows = compare(probe, SCENARIO)
    tpot = [r for r in rows if r.metric == "tpot_ms"]
    assert [r.concurrency for r in tpot] == [1, 4, 16]
    assert all(r.error_pct == pytest.approx(0.0, abs=1e-9) for r in tpot)
    tps = next(r for r in rows if r.metric == "output_tokens_per_s" and r.concurrency == 1)
    assert tps.error_pct == pytest.approx((tps.predicted - 100.0) / 100.0 * 100)


def test_calibration_needs_completed_levels():
    empty = ProbeResult(url="http://x", model=None, api="chat", input_len=8, output_len=8, levels=[])
    with pytest.raises(ValueError, match="at least one level"):
        calibrate(empty, SCENARIO)


def test_saved_runs_round_trip_through_json():
    probe = synthetic(32)
    run = SavedRun(probe=probe, scenario=SCENARIO, comparison=compare(probe, SCENARIO), fit=calibrate(probe, SCENARIO))
    text = save(run)
    again = load(text)
    assert again == run
    assert json.loads(text)["levels"][0]["concurrency"] == 1  # the CLI's shape at the top: the PDF report reads it
    assert load(probe.model_dump_json()).probe == probe  # the CLI's --json output loads too


def test_the_prediction_counts_the_probes_own_requests_per_level():
    # the probe opens `concurrency` requests at once: with only that many per level, all of them are the
    # start-up wave that queues for its prefill (the planner's default assumes 5 x concurrency requests)
    scenario = dict(model="Qwen/Qwen3-32B", gpu="h100-sxm", engine="sglang")
    probe = ProbeResult(url="http://x", model="m", api="chat", input_len=2048, output_len=64,
                        levels=[_level(16, 100.0, 10.0).model_copy(update={"requests": 16})])
    predicted = predict(scenario, probe, 16).ttft_ms
    assert predicted == pytest.approx(estimate(**scenario, input_len=2048, output_len=64, concurrency=16,
                                               num_prompts=16).performance.ttft_ms)
    assert predicted > 1.2 * estimate(**scenario, input_len=2048, output_len=64, concurrency=16).performance.ttft_ms
