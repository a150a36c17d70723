"""Predicted against measured, per concurrency level, and a least-squares fit of the engine's efficiency.

compare(): for a planner scenario, each measured figure of a probe beside its prediction and the error.
calibrate(): fits planner.Calibration(decode_time_factor, prefill_time_factor, ttft_overhead_ms) on log
ratios: TPOT is proportional to the decode factor (closed form: the mean log ratio); TTFT is overhead +
prefill_factor x prefill + the rest (linear in both, found by two evaluations per point), fitted by a
damped Gauss-Newton. With one prompt length the overhead and prefill cannot be told apart, so only the
prefill factor is fitted and the engine's overhead kept (planner/engines.py).
"""
from __future__ import annotations

import json
import math

import numpy as np
from pydantic import BaseModel, Field

from planner.core.engines import profile
from planner.core.estimate import estimate
from .models import ProbeResult
from planner.core.results import Performance
from planner.core.scenario import Calibration

# measured LevelResult field -> (predicted Performance field, statistic)
METRICS = {"ttft_ms": "ttft_ms", "tpot_ms": "tpot_ms", "itl_ms": "itl_ms", "e2e_latency_s": "e2e_latency_s",
           "output_tokens_per_s": "output_tokens_per_s", "output_tokens_per_s_per_user": "output_tokens_per_s_per_user",
           "request_throughput_per_s": "request_throughput_per_s"}
SCENARIO_KEYS = ("model", "gpu", "gpus", "tp", "pp", "ep", "engine", "weights", "kv_dtype", "gpu_memory_utilization",
                 "usd_per_gpu_hour", "max_num_seqs", "max_num_batched_tokens")


class Row(BaseModel):
    concurrency: int
    metric: str
    measured: float | None
    predicted: float | None
    error_pct: float | None  # (predicted - measured) / measured


class Fit(BaseModel):
    calibration: Calibration
    points: int
    rms_log_error_before: float
    rms_log_error_after: float
    mean_abs_error_pct_before: dict[str, float]
    mean_abs_error_pct_after: dict[str, float]
    fitted: list[str]


class SavedRun(BaseModel):
    """What the probe page and CLI save: the measurement, the scenario compared with and any fit."""
    probe: ProbeResult
    scenario: dict | None = None
    comparison: list[Row] = Field(default_factory=list)
    fit: Fit | None = None


def _measured(level, metric: str) -> float | None:
    v = getattr(level, metric)
    return v if not hasattr(v, "mean") else v.mean


def predict_estimate(scenario: dict, probe: ProbeResult, concurrency: int, calibration: Calibration | None = None):
    """planner.estimate for this probe's workload (measured prompt length when known, the probe's price)."""
    kw = {k: v for k, v in scenario.items() if k in SCENARIO_KEYS and v is not None}
    if probe.usd_per_gpu_hour is not None:
        kw["usd_per_gpu_hour"] = probe.usd_per_gpu_hour
    sent = next((lv.requests for lv in probe.levels if lv.concurrency == concurrency), None)
    return estimate(**kw, input_len=probe.measured_input_tokens or probe.input_len, output_len=probe.output_len,
                    concurrency=concurrency, num_prompts=sent, calibration=calibration)


def predict(scenario: dict, probe: ProbeResult, concurrency: int, calibration: Calibration | None = None) -> Performance:
    """The planner's performance figures for this probe's workload."""
    return predict_estimate(scenario, probe, concurrency, calibration).performance


def _err(pred: float | None, meas: float | None) -> float | None:
    return None if pred is None or not meas else (pred - meas) / meas * 100


def compare(probe: ProbeResult, scenario: dict, calibration: Calibration | None = None) -> list[Row]:
    """Rows of (concurrency, metric, measured, predicted, error %) for every level that completed."""
    rows = []
    for lv in probe.levels:
        if not lv.completed:
            continue
        est = predict_estimate(scenario, probe, lv.concurrency, calibration)
        for metric, field in METRICS.items():
            m, p = _measured(lv, metric), getattr(est.performance, field)
            rows.append(Row(concurrency=lv.concurrency, metric=metric, measured=m, predicted=p, error_pct=_err(p, m)))
        if lv.usd_per_million_output_tokens is not None:  # $/GPU-hour x GPUs entered by the user, both sides
            m, p = lv.usd_per_million_output_tokens, est.cost.usd_per_million_output_tokens_all_in  # both all-in
            rows.append(Row(concurrency=lv.concurrency, metric="usd_per_million_output_tokens", measured=m,
                            predicted=p, error_pct=_err(p, m)))
    return rows


def _points(probes: list[ProbeResult]) -> list[tuple[ProbeResult, int, float, float]]:
    return [(p, lv.concurrency, lv.ttft_ms.mean, lv.tpot_ms.mean) for p in probes for lv in p.levels
            if lv.completed and lv.ttft_ms.mean and lv.tpot_ms.mean]


def _gauss_newton(P: np.ndarray, R: np.ndarray, m: np.ndarray, oh0: float, free_oh: bool) -> tuple[float, float]:
    """Minimise sum(log(oh + pf P + R) - log m)^2 over pf (log-parametrised) and optionally oh >= 0."""
    A = np.column_stack([P / m, np.ones_like(m) / m]) if free_oh else (P / m)[:, None]
    rhs = 1 - R / m - (0 if free_oh else oh0 / m)  # relative linear least squares gives the start
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    pf, oh = max(float(sol[0]), 0.06), (max(float(sol[1]), 0.0) if free_oh else oh0)
    for _ in range(60):
        pred = oh + pf * P + R
        r = np.log(pred) - np.log(m)
        J = np.column_stack([pf * P / pred] + ([1 / pred] if free_oh else []))
        step = np.linalg.solve(J.T @ J + 1e-9 * np.eye(J.shape[1]), -J.T @ r)
        pf = float(np.clip(pf * math.exp(np.clip(step[0], -1, 1)), 0.06, 20))
        if free_oh:
            oh = float(np.clip(oh + step[1], 0, 60_000))
        if np.max(np.abs(step)) < 1e-10:
            break
    return pf, oh


def _ttft(scenario, probe, c, cal) -> float:
    return predict(scenario, probe, c, cal).ttft_ms


def _scores(points, scenario, cal) -> tuple[float, dict[str, float]]:
    logs, pct = [], {"ttft_ms": [], "tpot_ms": []}
    for probe, c, ttft, tpot in points:
        perf = predict(scenario, probe, c, cal)
        for name, meas, pred in (("ttft_ms", ttft, perf.ttft_ms), ("tpot_ms", tpot, perf.tpot_ms)):
            logs.append(math.log(pred / meas))
            pct[name].append(abs(pred - meas) / meas * 100)
    return float(np.sqrt(np.mean(np.square(logs)))), {k: float(np.mean(v)) for k, v in pct.items()}


def calibrate(probes: ProbeResult | list[ProbeResult], scenario: dict) -> Fit:
    """Fit the three Calibration parameters to the probes' mean TTFT and TPOT per level."""
    probes = [probes] if isinstance(probes, ProbeResult) else list(probes)
    points = _points(probes)
    if not points:
        raise ValueError("calibration needs at least one level with completed requests")
    base = Calibration(source="uncalibrated")
    ratios = [tpot / predict(scenario, p, c, base).tpot_ms for p, c, _, tpot in points]
    df = float(np.clip(math.exp(np.mean(np.log(ratios))), 0.06, 20))
    one = [_ttft(scenario, p, c, Calibration(decode_time_factor=df, ttft_overhead_ms=0.0)) for p, c, _, _ in points]
    two = [_ttft(scenario, p, c, Calibration(decode_time_factor=df, prefill_time_factor=2.0, ttft_overhead_ms=0.0))
           for p, c, _, _ in points]
    P = np.array(two) - np.array(one)
    R = np.array(one) - P
    m = np.array([t for _, _, t, _ in points])
    free_oh = len({p.measured_input_tokens or p.input_len for p, *_ in points}) > 1
    default_oh = profile(str(scenario.get("engine", "vllm"))).ttft_overhead_ms
    pf, oh = _gauss_newton(P, R, m, default_oh, free_oh)
    cal = Calibration(decode_time_factor=df, prefill_time_factor=pf, ttft_overhead_ms=oh if free_oh else None,
                      source=f"least squares on log TTFT/TPOT of {len(points)} probe levels")
    before, pct_before = _scores(points, scenario, base)
    after, pct_after = _scores(points, scenario, cal)
    return Fit(calibration=cal, points=len(points), rms_log_error_before=before, rms_log_error_after=after,
               mean_abs_error_pct_before=pct_before, mean_abs_error_pct_after=pct_after,
               fitted=["decode_time_factor", "prefill_time_factor"] + (["ttft_overhead_ms"] if free_oh else []))


def save(run: SavedRun) -> str:
    """JSON text of a run: the probe's own fields at the top (the CLI's --json shape, which the PDF
    report reads) plus scenario, comparison and fit. The API key is never part of these models."""
    extra = run.model_dump(mode="json", exclude={"probe"})
    return json.dumps({**run.probe.model_dump(mode="json"), **extra}, indent=1)


def load(text: str | bytes) -> SavedRun:
    """A run from JSON written by save() or by `python -m planner probe --json` (raises ValueError)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with 'levels'")
    if "probe" in data:
        return SavedRun.model_validate(data)
    return SavedRun.model_validate({"probe": data, **{k: data[k] for k in ("scenario", "comparison", "fit") if k in data}})
