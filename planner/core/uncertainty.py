"""How sure each predicted figure is: an 80 % interval and the evidence behind it (shared/DESIGN.md §2).

Intervals come from out-of-sample residuals: scripts/validate.py refits the constants on every source
of data/calibration.csv but one, scores the held-out source, and writes the 10th and 90th percentiles
of r = log(predicted / measured time) per figure group and evidence level to data/uncertainty.csv. Residuals
are taken as times (a rate's residual is that of its time per token), so the two groups pool what one
mechanism predicts: `speed` the decode step (throughput, TPOT, ITL, per-user rate) and `latency` the
prefill (TTFT, prefill rate). A time figure predicted as p then gets [p·exp(−q90), p·exp(−q10)]; a rate
gets [p·exp(q10), p·exp(q90)].
Evidence of an engine on a GPU generation: `calibrated` when published measurements of that pair
exist, `related` when the engine is measured on another generation or another engine on this one,
`extrapolated` otherwise.
"""
from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from . import catalog

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
LEVELS = ("calibrated", "related", "extrapolated")
GROUPS = ("speed", "latency")
# figure -> (group whose residuals it takes, +1 for a time, -1 for a rate: its residual is its time's, inverted)
FIGURES = {"output_tokens_per_s": ("speed", -1), "tpot_ms": ("speed", 1), "itl_ms": ("speed", 1),
           "output_tokens_per_s_per_user": ("speed", -1), "ttft_ms": ("latency", 1),
           "prefill_tokens_per_s": ("latency", -1)}
# calibration.csv metrics carry the same names as the figures: a row's residual goes to its figure's group
METRIC_GROUP = FIGURES


@dataclass(frozen=True)
class Quantiles:
    q10: float   # 10th percentile of log(predicted / measured time)
    q90: float
    rows: int    # held-out residuals behind the cell
    source: str


@lru_cache(maxsize=1)
def quantiles() -> Mapping[tuple[str, str], Quantiles]:
    """(group, evidence) -> residual quantiles, from data/uncertainty.csv (written by scripts/validate.py)."""
    out = {}
    with open(DATA_DIR / "uncertainty.csv", newline="") as f:
        for r in csv.DictReader(f):
            q = Quantiles(float(r["q10"]), float(r["q90"]), int(r["rows"]), r["source"])
            if not q.q10 <= q.q90 or r["group"] not in GROUPS or r["evidence"] not in LEVELS:
                raise ValueError(f"data/uncertainty.csv: bad row {r}")
            out[(r["group"], r["evidence"])] = q
    missing = {(g, e) for g in GROUPS for e in LEVELS} - set(out)
    if missing:
        raise ValueError(f"data/uncertainty.csv lacks {sorted(missing)}")
    return MappingProxyType(out)


@lru_cache(maxsize=1)
def measured_pairs() -> Mapping[tuple[str, str], int]:
    """(engine, GPU generation) -> published speed measurements of data/calibration.csv."""
    counts: Counter = Counter()
    with open(DATA_DIR / "calibration.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["metric"] in METRIC_GROUP and r["gpu"].strip():
                counts[(r["engine"].strip() or "vllm", catalog.gpu(r["gpu"]).generation)] += 1
    return MappingProxyType(dict(counts))


def evidence(engine: str, generation: str, pairs: Mapping[tuple[str, str], int] | None = None) -> tuple[str, int]:
    """(level, measurements behind it) for an engine on a GPU generation."""
    pairs = measured_pairs() if pairs is None else pairs
    key = (engine, generation, id(pairs))
    hit = _EVIDENCE.get(key)
    if hit is not None and hit[0] is pairs:
        return hit[1]
    _EVIDENCE[key] = (pairs, _evidence(engine, generation, pairs))
    return _EVIDENCE[key][1]


_EVIDENCE: dict[tuple, tuple] = {}  # a sweep asks for the same few engine x generation pairs thousands of times


def _evidence(engine: str, generation: str, pairs: Mapping[tuple[str, str], int]) -> tuple[str, int]:
    if pairs.get((engine, generation)):
        return "calibrated", pairs[(engine, generation)]
    near = sum(n for (e, g), n in pairs.items() if e == engine or g == generation)
    return ("related", near) if near else ("extrapolated", 0)


def band(figure: str, value: float | None, level: str) -> tuple[float, float] | None:
    """The 80 % interval of a predicted figure at an evidence level."""
    if value is None or value <= 0 or figure not in FIGURES:
        return None
    lo, hi = multipliers(figure, level)
    return value * lo, value * hi


@lru_cache(maxsize=64)
def multipliers(figure: str, level: str) -> tuple[float, float]:
    """(low, high) / prediction for a figure at an evidence level; a rate inverts its time figure's band."""
    group, sign = FIGURES[figure]
    q = quantiles()[(group, level)]
    return interval(q.q10, q.q90, sign)


def interval(q10: float, q90: float, sign: int) -> tuple[float, float]:
    """(low, high) / prediction from percentiles of r = log(predicted / measured time); sign -1 for a rate."""
    return (math.exp(-q90), math.exp(-q10)) if sign > 0 else (math.exp(q10), math.exp(q90))
