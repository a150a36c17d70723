"""Uncertainty bands from leave-one-source-out residuals (scripts/validate.py builds the table).

A held-out row's residual is r = log(predicted / measured time) (a rate's residual is its time per
token's), grouped by figure group and by the evidence a fit without the row's source had for its engine
x GPU generation. A band cell is the 10th-90th percentile of its group and level, widened about its median
until 80 % of held-out sources' measurements fall inside (planner/core/uncertainty.py reads the result).
"""
from __future__ import annotations

import csv
import datetime as dt
import math
import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np

from planner.core import uncertainty

MIN_ROWS = 8        # residuals a band cell needs before it stops pooling with weaker evidence


def residuals(table: list[dict]) -> list[dict]:
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
