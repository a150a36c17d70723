"""Fit the speed constants of data/engine_constants.csv to data/calibration.csv, and write them back.

Robust least squares (soft-L1 on log(predicted / measured), linear beyond 10 %, the in-sample error)
over the speed and latency rows, each weighted down as far as it hangs on a weakly known `prior` constant
(priors.row_weights), plus a prior per fitted constant (PRIOR_WEIGHT). The constants fitted are the
rows whose status is `fit`; each stays inside the range its row gives, the physical range its source
documents (an efficiency of 0.05 is a symptom, not a constant), and is pulled towards that range's
middle as far as the rows allow. Every prediction goes through planner.estimate_scenario(scenario,
constants=...): nothing global changes while fitting. The Jacobian is sparse: each constant re-predicts
only the rows it moves.

    .venv/bin/python scripts/fit_engines.py [--evals N] [--write]
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from planner.core import constants as consts  # noqa: E402
from planner.core.estimate import estimate_scenario  # noqa: E402
from planner.core.scenario import Scenario  # noqa: E402
from priors import row_weights  # noqa: E402

# calibration.csv metric -> (Performance field, figure group)
METRICS = {"output_tokens_per_s": ("output_tokens_per_s", "throughput"),
           "output_tokens_per_s_per_user": ("output_tokens_per_s_per_user", "tpot_itl"),
           "tpot_ms": ("tpot_ms", "tpot_itl"), "itl_ms": ("itl_ms", "tpot_itl"),
           "ttft_ms": ("ttft_ms", "ttft"), "prefill_tokens_per_s": ("prefill_tokens_per_s", "ttft")}
MISS = 3.0  # log residual of a row the planner cannot predict
SCATTER = 0.1  # a row's typical log error once the constants fit (soft-L1's f_scale)
# Each fitted constant has a Gaussian prior: the middle of its documented range, which is the prior's
# +-2 sigma. In units of a row's log residual (typical held-out scatter ~0.2), a constant at either end of
# its range costs 0.2 x 2 sigma / sigma = 0.4, i.e. PRIOR_WEIGHT x (x - mid) / (high - low) with 0.8.
# Without it, constants that only a few rows move wander to their bounds and overturn physics out of
# sample (leave-one-source-out speed error 21.7 % without, 19.4 % with, when they came in; scripts/validate.py).
PRIOR_WEIGHT = 0.8

# One publication or benchmark suite = one source: the `source` column up to " @", " (" or ";" names
# the document; these rules merge the documents of one suite (validate.py holds each source out).
SOURCE_RULES = [(r"^gpustack/gpustack docs/performance-lab", "gpustack performance-lab"),
                (r"^QwenLM/Qwen3", "QwenLM speed_benchmark"), (r"^huggingface\.co/", "huggingface file listings"),
                (r"^ggml-org/llama\.cpp PR #16095", "llama.cpp PR #16095")]


def source_of(row: dict) -> str:
    head = re.split(r" @| \(|;", row["source"], maxsplit=1)[0].strip()
    return next((name for pattern, name in SOURCE_RULES if re.match(pattern, head)), head)


def speed_rows(path: Path = ROOT / "data" / "calibration.csv") -> list[dict]:
    return [r for r in csv.DictReader(open(path, newline="")) if r["metric"] in METRICS]


def scenario(row: dict) -> dict:
    """The Scenario keywords a calibration row states (the rules of shared/checks/accuracy.py)."""
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
    return getattr(perf, METRICS[row["metric"]][0])


def residuals(rows: list[dict], c: consts.Constants) -> np.ndarray:
    return np.array([math.log(p / float(r["value"])) if (p := predict(r, c)) else MISS for r in rows])


def prior_weights(rows: list[dict], base: consts.Constants) -> np.ndarray:
    """Each row's weight in the fit (`priors.row_weights` with this module's residuals)."""
    return row_weights(rows, base, residuals, SCATTER)


def fitted(c: consts.Constants) -> list[consts.Constant]:
    return [r for r in c.rows() if r.status == "fit" and r.high > r.low]


def movers(rows: list[dict], base: consts.Constants) -> dict[str, np.ndarray]:
    """Which rows each fitted constant moves (one perturbation each): the Jacobian's sparsity pattern."""
    ref = residuals(rows, base)
    out = {}
    for k in fitted(base):
        probe = k.low + 0.37 * (k.high - k.low)
        out[k.name] = np.abs(residuals(rows, base.replace({k.name: probe if probe != k.value else k.high})) - ref) > 1e-9
    return out


def fit(rows: list[dict], base: consts.Constants, evals: int = 40, masks: dict | None = None,
        weights: np.ndarray | None = None) -> consts.Constants:
    """Bounded soft-L1 least squares of the `fit` constants over `rows` (each with its `prior_weights`)
    and their priors; the rest stay as in `base`."""
    from scipy.optimize import least_squares  # the fit needs scipy (make fit / make validate); predictions do not

    masks = masks or movers(rows, base)
    w_rows = prior_weights(rows, base) if weights is None else weights
    live = [k for k in fitted(base) if masks[k.name].any()]
    if not live:
        return base
    names = [k.name for k in live]

    def at(x):
        return base.replace(dict(zip(names, x)))

    last: dict[bytes, np.ndarray] = {}  # least_squares asks for the Jacobian where it just took the residuals

    def row_res(x):
        key = x.tobytes()
        if key not in last:
            last.clear()
            last[key] = w_rows * residuals(rows, at(x))
        return last[key]

    def row_jac(x):
        ref = row_res(x)
        J = np.zeros((len(rows), len(x)))
        for j, k in enumerate(live):
            h = 1e-3 * (k.high - k.low) * (1 if x[j] + 1e-3 * (k.high - k.low) <= k.high else -1)
            moved = [r for r, m in zip(rows, masks[k.name]) if m]
            xj = x.copy()
            xj[j] += h
            J[masks[k.name], j] = (w_rows[masks[k.name]] * residuals(moved, at(xj)) - ref[masks[k.name]]) / h
        return J

    x0 = np.array([min(max(base[n], k.low), k.high) for n, k in zip(names, live)])
    lo, hi = np.array([k.low for k in live]), np.array([k.high for k in live])
    mid, w = (lo + hi) / 2, PRIOR_WEIGHT / (hi - lo)

    result = least_squares(lambda x: np.concatenate([row_res(x), w * (x - mid)]), x0,
                           jac=lambda x: np.vstack([row_jac(x), np.diag(w)]), loss="soft_l1", f_scale=SCATTER,
                           bounds=(lo, hi), max_nfev=evals)
    return at(result.x)


def median_error(rows: list[dict], c: consts.Constants) -> float:
    return 100 * statistics.median(abs(math.exp(r) - 1) for r in residuals(rows, c))


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=40)
    ap.add_argument("--write", action="store_true", help="write the fitted values to data/engine_constants.csv")
    a = ap.parse_args(argv)
    rows, base = speed_rows(), consts.read()
    print(f"before: median {median_error(rows, base):.1f} % over {len(rows)} speed and latency rows")
    result = fit(rows, base, a.evals)
    print(f"after:  median {median_error(rows, result):.1f} %")
    for k in fitted(result):
        edge = min(k.value - k.low, k.high - k.value) < 1e-3 * (k.high - k.low)
        print(f"{k.name:40} {base[k.name]:9.4g} -> {k.value:9.4g}  [{k.low:g}, {k.high:g}]"
              + ("  AT ITS BOUND: the structure misses something" if edge else ""))
    if a.write:
        consts.write(result)
        print(f"wrote {consts.DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
