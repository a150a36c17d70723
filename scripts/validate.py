"""Leave-one-source-out cross-validation of the fitted constants, and the uncertainty bands it yields.

For each source of data/calibration.csv (one publication or benchmark suite, fit_engines.source_of)
the `fit` constants are refitted on every other source and the held-out source is scored; a prior set
from the held-out rows is forgotten in that fold (scripts/priors.py). Prints the
median error in-sample (one fit on all rows) and out-of-sample per metric group, per engine x GPU
generation and per source; then writes data/uncertainty.csv, the 10th/90th percentiles of the
out-of-sample log residuals per figure group and evidence level (planner/core/uncertainty.py), and the
coverage those bands reach on sources they were not built from (each source's band from the others).

    make validate        # or: .venv/bin/python scripts/validate.py [--evals N] [--table out.csv] [--no-write]

Method after the research notes of issue 10 (sparse Jacobian, source rules, nested coverage).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_engines as fe  # noqa: E402
from priors import forget  # noqa: E402
from planner.core import catalog, uncertainty  # noqa: E402
from planner.core import constants as consts  # noqa: E402

MIN_ROWS = 8        # residuals a band cell needs before it stops pooling with weaker evidence


def generation(row: dict) -> str:
    return catalog.gpu(row["gpu"]).generation if row["gpu"].strip() else "other"


def loso(rows: list[dict], base: consts.Constants, evals: int) -> tuple[list[dict], consts.Constants]:
    """Per row: measured, in-sample prediction and out-of-sample prediction (fit without its source)."""
    masks = fe.movers(rows, base)
    full = fe.fit(rows, base, evals, masks)
    by_source = defaultdict(list)
    for i, r in enumerate(rows):
        by_source[fe.source_of(r)].append(i)
    table = [dict(case_id=r["case_id"], source=fe.source_of(r), metric=r["metric"], engine=r["engine"] or "vllm",
                  generation=generation(r), measured=float(r["value"]), in_sample=fe.predict(r, full),
                  out_of_sample=None) for r in rows]
    for source, idx in sorted(by_source.items(), key=lambda kv: -len(kv[1])):
        keep = [i for i in range(len(rows)) if i not in set(idx)]
        train = [rows[i] for i in keep]
        start = forget(full, {rows[i]["case_id"] for i in idx})
        held = fe.fit(train, start, evals, {k: m[keep] for k, m in masks.items()})
        for i in idx:
            table[i]["out_of_sample"] = fe.predict(rows[i], held)
        print(f"  held out {_short(source, 64):64} n={len(idx):3d}  median error "
              f"{100 * statistics.median(_ape(table[i], 'out_of_sample') for i in idx):5.1f} %", flush=True)
    return table, full


def _ape(t: dict, key: str) -> float:
    return abs(t[key] / t["measured"] - 1) if t[key] else 1.0


def _median(ts: list[dict], key: str) -> float:
    return 100 * statistics.median(_ape(t, key) for t in ts)


def report(table: list[dict]) -> None:
    speed = [t for t in table if fe.METRICS[t["metric"]][1] != "ttft"]
    latency = [t for t in table if fe.METRICS[t["metric"]][1] == "ttft"]
    for label, ts in (("speed (throughput, TPOT, ITL)", speed), ("latency (TTFT, prefill)", latency)):
        print(f"{label:32} n={len(ts):3d}  in-sample {_median(ts, 'in_sample'):5.1f} %  "
              f"out-of-sample {_median(ts, 'out_of_sample'):5.1f} %")
    for title, key in (("engine x generation", lambda t: f"{t['engine']} x {t['generation']}"),
                       ("source", lambda t: _short(t["source"]))):
        groups = defaultdict(list)
        for t in table:
            groups[key(t)].append(t)
        print(f"\n{title:58} {'n':>4} {'in-sample':>10} {'held out':>9}")
        for k, ts in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"{k:58} {len(ts):4d} {_median(ts, 'in_sample'):9.1f}% {_median(ts, 'out_of_sample'):8.1f}%")


def _short(source: str, width: int = 58) -> str:
    """A source name that fits the table and still tells sources apart (their ends differ)."""
    return source if len(source) <= width else f"{source[:24]}...{source[-(width - 27):]}"


def _residuals(table: list[dict]) -> list[dict]:
    """Out-of-sample log residuals as times (a rate inverted), with the evidence a fit without
    the row's source had for its engine x generation."""
    out = []
    for t in table:
        if not t["out_of_sample"]:
            continue
        group, sign = uncertainty.METRIC_GROUP[t["metric"]]
        out.append({**t, "group": group, "sign": sign, "r": sign * math.log(t["out_of_sample"] / t["measured"])})
    pairs_without = {}
    for src in {t["source"] for t in out}:
        counts = defaultdict(int)
        for o in table:
            if o["source"] != src:
                counts[(o["engine"], o["generation"])] += 1
        pairs_without[src] = counts
    for t in out:
        t["evidence"] = uncertainty.evidence(t["engine"], t["generation"], pairs_without[t["source"]])[0]
    return out


def cell(res: list[dict], group: str, level: str, spread: float = 1.0) -> tuple[float, float, int]:
    """(q10, q90, rows) for a group at an evidence level, pooling with weaker levels until MIN_ROWS; a level
    short of rows (`extrapolated`: no held-out row reaches it) takes the stronger level's cell, by half
    wider. `spread` widens the interval about its median: errors are shared by whole sources (one engine
    version, one method), so quantiles pooled over rows under-cover a source they never saw;
    `calibrate_spread` sets it."""
    levels = uncertainty.LEVELS
    pool: list[float] = []
    for lv in levels[levels.index(level):]:
        pool += [t["r"] for t in res if t["group"] == group and t["evidence"] == lv]
        if len(pool) >= MIN_ROWS:
            break
    if len(pool) < MIN_ROWS and level != levels[0]:  # too few rows of its own: the stronger level's cell, by half wider
        return cell(res, group, levels[levels.index(level) - 1], spread * 1.5)
    if len(pool) < MIN_ROWS:
        pool = [t["r"] for t in res if t["group"] == group] or [t["r"] for t in res]
    q10, q50, q90 = np.quantile(pool, [0.1, 0.5, 0.9])
    return q50 + spread * (q10 - q50), q50 + spread * (q90 - q50), len(pool)


def write_bands(res: list[dict], path: Path, spread: dict[str, float]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("group", "evidence", "q10", "q90", "rows", "source"))
        for g in uncertainty.GROUPS:
            stamp = (f"leave-one-source-out residuals of data/calibration.csv, widened x{spread[g]:.2f} for 80 % "
                     f"coverage of held-out sources (scripts/validate.py, {dt.date.today()})")
            for lv in uncertainty.LEVELS:
                q10, q90, n = cell(res, g, lv, spread[g])
                w.writerow((g, lv, f"{q10:.4f}", f"{q90:.4f}", n, stamp))


def coverage(res: list[dict], spread: dict[str, float] | None = None) -> tuple[float, float]:
    """(share inside, median relative width) when each source's bands come from the other sources only:
    what an unseen deployment gets. `spread`: the widening per group (none: as pooled)."""
    spread = spread or {}
    inside, widths = [], []
    for src in {t["source"] for t in res}:
        train = [t for t in res if t["source"] != src]
        for t in (t for t in res if t["source"] == src):
            q10, q90, _ = cell(train, t["group"], t["evidence"], spread.get(t["group"], 1.0))
            low, high = uncertainty.interval(q10, q90, t["sign"])
            inside.append(low * t["out_of_sample"] <= t["measured"] <= high * t["out_of_sample"])
            widths.append(high - low)
    return sum(inside) / len(inside), statistics.median(widths)


def calibrate_spread(res: list[dict], target: float = 0.8) -> dict[str, float]:
    """Per group, the smallest widening (in steps of 0.05) at which its held-out sources reach `target`
    coverage. Per group because the prefill and the decode step err by different amounts per source."""
    spread = {}
    for g in uncertainty.GROUPS:
        rows, spread[g] = [t for t in res if t["group"] == g], 1.0
        while rows and coverage(rows, spread)[0] < target and spread[g] < 4.0:
            spread[g] += 0.05
    return spread


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=30)
    ap.add_argument("--table", help="write the per-row table (CSV)")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite data/uncertainty.csv")
    a = ap.parse_args(argv)
    table, full = loso(fe.speed_rows(), consts.read(), a.evals)
    report(table)
    res = _residuals(table)
    spread = calibrate_spread(res)
    widened = "widened " + ", ".join(f"{g} x{k:.2f}" for g, k in spread.items())
    for label, k in (("as pooled", None), (widened, spread)):
        inside, width = coverage(res, k)
        print(f"bands {label:16} on held-out sources: {100 * inside:.1f} % of {len(res)} measurements inside their "
              f"80 % interval, median width {100 * width:.0f} % of the prediction")
    for g in uncertainty.GROUPS:
        inside, width = coverage([t for t in res if t["group"] == g], spread)
        print(f"  {g:20} {100 * inside:.1f} % inside, median width {100 * width:.0f} %")
    if a.table:
        with open(a.table, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(table[0]))
            w.writeheader()
            w.writerows(table)
    if not a.no_write:
        write_bands(res, uncertainty.DATA_DIR / "uncertainty.csv", spread)
        print(f"wrote {uncertainty.DATA_DIR / 'uncertainty.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
