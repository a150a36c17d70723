"""Priors set from calibration rows, what a validation fold knows without those rows, and how much a row
that hangs on a prior weighs in a fit.

A constant that fewer than 3 independent sources measure is a `prior`, not refitted; when it was set
from rows of data/calibration.csv its source names their case ids. Leaving those rows out of a fold
must leave the prior out too, or the held-out score is in-sample for them (scripts/validate.py).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from planner.core import constants as consts  # noqa: E402

# case ids a prior's source cites: "c125-c150", "m089, m098", "c128-c136 and c188-c200"
CASE_IDS = re.compile(r"\b([a-z])(\d{3})(?:\s*-\s*\1?(\d{3}))?\b")


def cited_cases(text: str) -> set[str]:
    """The calibration.csv case ids a constant's source names, ranges expanded."""
    out = set()
    for letter, first, last in CASE_IDS.findall(text):
        out.update(f"{letter}{n:03d}" for n in range(int(first), int(last or first) + 1))
    return out


def forget(c: consts.Constants, held: set[str]) -> consts.Constants:
    """The constants as they would be without the held-out rows: a prior set from them falls back to the
    middle of its range, an override of a generic constant (`sglang.layer_overhead_us.cdna3`) is dropped."""
    names = {k.name for k in c.rows()}
    drop, middle = set(), {}
    for k in c.rows():
        if k.status == "prior" and cited_cases(k.source) & held:
            if _generic(k.name) & names:  # an override: without it the generic constant applies
                drop.add(k.name)
            else:
                middle[k.name] = (k.low + k.high) / 2
    return c.without(drop).replace(middle)


def _generic(name: str) -> set[str]:
    """The names an override (`engine.field.generation`, `engine.field`) may stand in for."""
    parts = name.split(".")
    return {".".join(parts[:-1]), ".".join(parts[1:])} if len(parts) > 1 else set()


def row_weights(rows: list[dict], base: consts.Constants, residuals: Callable, scatter: float) -> np.ndarray:
    """Each row's weight in a fit: 1 / sqrt(1 + sum over the `prior` constants of (shift / scatter)^2), where
    shift is how far the row's log residual moves when that prior moves by one sigma (a quarter of its
    documented range) and `scatter` a row's typical log error. A row that hangs on a weakly known prior
    (expert-parallel imbalance, an engine's cost on one GPU family) says little about the fitted constants:
    weighted as fully as the others, its prior's error would be absorbed by constants every row shares."""
    ref = residuals(rows, base)
    var = np.zeros(len(rows))
    for k in base.rows():
        if k.status != "prior" or k.high <= k.low:
            continue
        sigma = (k.high - k.low) / 4
        moved = k.value + sigma if k.value + sigma <= k.high else k.value - sigma
        var += ((residuals(rows, base.replace({k.name: moved})) - ref) / scatter) ** 2
    return 1 / np.sqrt(1 + var)
