"""Priors set from calibration rows, and what a validation fold knows without those rows.

A constant that fewer than 3 independent sources measure is a `prior`, not refitted; when it was set
from rows of data/calibration.csv its source names their case ids. Leaving those rows out of a fold
must leave the prior out too, or the held-out score is in-sample for them (scripts/validate.py).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

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
