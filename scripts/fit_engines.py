"""Fit the speed constants of data/engine_constants.csv to data/calibration.csv, and write them back.

Robust least squares (soft-L1 on log(predicted / measured)) over the speed and latency rows. The
constants fitted are the rows whose status is `fit`; each stays inside the range its row gives (an
efficiency of 0.05 is a symptom, not a constant). Every prediction goes through
planner.estimate_scenario(scenario, constants=...): nothing global is changed while fitting.

    .venv/bin/python scripts/fit_engines.py [MAX_EVALS] [--holdout 0|1] [--write]
"""
from __future__ import annotations

import csv
import math
import statistics
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from planner.core import constants as consts  # noqa: E402
from planner.core.estimate import estimate_scenario  # noqa: E402
from planner.core.scenario import Scenario  # noqa: E402

METRIC_PATH = {"output_tokens_per_s": "output_tokens_per_s", "output_tokens_per_s_per_user": "output_tokens_per_s_per_user",
               "tpot_ms": "tpot_ms", "itl_ms": "itl_ms", "ttft_ms": "ttft_ms", "prefill_tokens_per_s": "prefill_tokens_per_s"}


def fitted(c: consts.Constants) -> list[consts.Constant]:
    return [r for r in c.rows() if r.status == "fit" and r.high > r.low]


def scenario(row: dict) -> dict:
    s = {"model": row["model"]}
    for key in ("gpu", "engine", "weights", "kv_dtype"):
        if row[key].strip():
            s[key] = row[key].strip()
    for key in ("gpus", "tp", "pp", "ep", "input_len", "output_len"):
        if row[key].strip():
            s[key] = int(float(row[key]))
    if row["gpu_memory_utilization"].strip():
        s["gpu_memory_utilization"] = float(row["gpu_memory_utilization"])
    c = row["concurrency"].strip()
    if c:
        s["concurrency"] = c if c == "max" else int(float(c))
    return s


def predict(row: dict, c: consts.Constants) -> float | None:
    """The planner's figure for one calibration row under the constants `c` (None if it cannot run)."""
    try:
        perf = estimate_scenario(Scenario(**scenario(row)), constants=c).performance
    except Exception:  # noqa: BLE001 - a scenario that fails is a large residual
        return None
    return getattr(perf, METRIC_PATH[row["metric"]])


def residuals(x, rows, base: consts.Constants, names: list[str]):
    c = base.replace(dict(zip(names, x)))
    out = []
    for row in rows:
        pred = predict(row, c)
        out.append(math.log(pred / float(row["value"])) if pred else 3.0)
    return np.array(out)


def report(res, label):
    ape = [abs(math.exp(r) - 1) for r in res]
    print(f"{label}: median {100 * statistics.median(ape):.1f} %, mean |log| {np.mean(np.abs(res)):.3f}, "
          f"within 25 % {100 * sum(a <= 0.25 for a in ape) / len(ape):.0f} %")


def fit(rows: list[dict], base: consts.Constants, evals: int, mid_start: bool = False):
    """Least-squares fit of the `fit` constants to `rows`; returns (constants, residuals)."""
    params = fitted(base)
    names = [r.name for r in params]
    x0 = np.array([(r.low + r.high) / 2 if mid_start else r.value for r in params])
    result = least_squares(residuals, x0, bounds=([r.low for r in params], [r.high for r in params]),
                           args=(rows, base, names), loss="soft_l1", f_scale=0.15, diff_step=1e-3, max_nfev=evals)
    return base.replace(dict(zip(names, result.x))), result.fun


def main(argv):
    rows = [r for r in csv.DictReader(open(ROOT / "data" / "calibration.csv")) if r["metric"] in METRIC_PATH]
    held_out = []
    if "--holdout" in argv:  # fit on every other row, score the rows the fit never saw
        k = int(argv[argv.index("--holdout") + 1])
        held_out = [r for i, r in enumerate(rows) if i % 2 == k]
        rows = [r for i, r in enumerate(rows) if i % 2 != k]
    evals = int(argv[0]) if argv and argv[0].isdigit() else 60
    base = consts.read()
    names = [r.name for r in fitted(base)]
    report(residuals([base[n] for n in names], rows, base, names), "before")
    result, res = fit(rows, base, evals, mid_start=bool(held_out))
    report(res, "after")
    if held_out:
        report(residuals([result[n] for n in names], held_out, result, names), "held-out rows")
    for name in names:
        r = result.row(name)
        bound = " (at its bound: missing structure?)" if min(r.value - r.low, r.high - r.value) < 1e-3 * (r.high - r.low) else ""
        print(f"{name:40} {r.value:.4g}  [{r.low:g}, {r.high:g}]{bound}")
    for row, r in sorted(zip(rows, res), key=lambda t: -abs(t[1]))[:25]:
        print(f"  {row['case_id']} {row['metric']:28} {100 * (math.exp(r) - 1):+6.0f} %  {row['model']} {row['gpus']}x{row['gpu']} "
              f"{row['engine']} {row['weights']} {row['input_len']}/{row['output_len']} c={row['concurrency']}")
    if "--write" in argv and not held_out:
        consts.write(result)
        print(f"wrote {consts.DATA_FILE}")


if __name__ == "__main__":
    main(sys.argv[1:])
