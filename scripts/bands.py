"""Uncertainty bands from leave-one-source-out residuals (scripts/validate.py builds the table).

A held-out row's residual is r = log(predicted / measured time) (a rate's residual is its time per
token's), grouped by figure group and by the evidence a fit without the row's source had for its engine
x GPU generation. A band cell is the 10th-90th percentile of its group and level, widened about its median
until 80 % of the cell's held-out measurements fall inside (planner/core/uncertainty.py reads the result).
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
SPREAD_STEP = 0.01  # resolution of the widening: coarser steps overshoot the target coverage


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


def nested_cell(res: list[dict], group: str, level: str, spread: dict[tuple[str, str], float]) -> tuple[float, float, int]:
    """`cell` of a level, stretched to cover the cells of every stronger level: weaker evidence never narrows
    a band at either end."""
    levels = uncertainty.LEVELS
    q10, q90, n = cell(res, group, level, spread.get((group, level), 1.0))
    for lv in levels[:levels.index(level)]:
        lo, hi, _ = cell(res, group, lv, spread.get((group, lv), 1.0))
        q10, q90 = min(q10, lo), max(q90, hi)
    return q10, q90, n


def write_bands(res: list[dict], path: Path, spread: dict[tuple[str, str], float]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("group", "evidence", "q10", "q90", "rows", "source"))
        for g in uncertainty.GROUPS:
            for lv in uncertainty.LEVELS:
                q10, q90, n = nested_cell(res, g, lv, spread)
                stamp = (f"leave-one-source-out residuals of data/calibration.csv, widened x{spread[(g, lv)]:.2f} for "
                         f"80 % coverage of held-out sources (scripts/validate.py, {dt.date.today()})")
                w.writerow((g, lv, f"{q10:.4f}", f"{q90:.4f}", n, stamp))


def coverage(res: list[dict], spread: dict[tuple[str, str], float] | None = None) -> tuple[float, float]:
    """(share inside, median relative width) when each source's bands come from the other sources only:
    what an unseen deployment gets. `spread`: the widening per (group, evidence level) (none: as pooled)."""
    spread = spread or {}
    inside, widths = [], []
    for src in {t["source"] for t in res}:
        train = [t for t in res if t["source"] != src]
        for t in (t for t in res if t["source"] == src):
            q10, q90, _ = nested_cell(train, t["group"], t["evidence"], spread)
            low, high = uncertainty.interval(q10, q90, t["sign"])
            inside.append(low * t["out_of_sample"] <= t["measured"] <= high * t["out_of_sample"])
            widths.append(high - low)
    return sum(inside) / len(inside), statistics.median(widths)


def calibrate_spread(res: list[dict], target: float = 0.8) -> dict[tuple[str, str], float]:
    """Per figure group and evidence level, the smallest widening (in steps of `SPREAD_STEP`) at which its held-out
    sources reach `target` coverage. A source's shared error is larger where the evidence is weaker (the
    engine never measured on this GPU family biases a whole source) and differs between the prefill and the
    decode step. A level that no held-out row reaches takes the stronger level's widening."""
    spread: dict[tuple[str, str], float] = {}
    for g in uncertainty.GROUPS:
        for i, lv in enumerate(uncertainty.LEVELS):
            key = (g, lv)
            rows = [t for t in res if (t["group"], t["evidence"]) == key]
            spread[key] = spread[(g, uncertainty.LEVELS[i - 1])] if i and not rows else 1.0
            while rows and coverage(rows, spread)[0] < target and spread[key] < 4.0:
                spread[key] = round(spread[key] + SPREAD_STEP, 2)
    return spread
