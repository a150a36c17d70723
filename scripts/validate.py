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
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_engines as fe  # noqa: E402
from bands import calibrate_spread, coverage, residuals, write_bands  # noqa: E402
from priors import forget  # noqa: E402
from planner.core import catalog, uncertainty  # noqa: E402
from planner.core import constants as consts  # noqa: E402


def generation(row: dict) -> str:
    return catalog.gpu(row["gpu"]).generation if row["gpu"].strip() else "other"


def loso(rows: list[dict], base: consts.Constants, evals: int) -> tuple[list[dict], consts.Constants]:
    """Per row: measured, in-sample prediction and out-of-sample prediction (fit without its source)."""
    masks, weights = fe.movers(rows, base), fe.prior_weights(rows, base)
    full = fe.fit(rows, base, evals, masks, weights)
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
        held = fe.fit(train, start, evals, {k: m[keep] for k, m in masks.items()}, weights[keep])
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


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=30)
    ap.add_argument("--table", help="write the per-row table (CSV)")
    ap.add_argument("--no-write", action="store_true", help="do not rewrite data/uncertainty.csv")
    a = ap.parse_args(argv)
    table, full = loso(fe.speed_rows(), consts.read(), a.evals)
    report(table)
    res = residuals(table)
    spread = calibrate_spread(res)
    widened = "widened " + ", ".join(f"{g} {lv} x{k:.2f}" for (g, lv), k in spread.items())
    for label, k in (("as pooled", None), (widened, spread)):
        inside, width = coverage(res, k)
        print(f"bands {label} on held-out sources: {100 * inside:.1f} % of {len(res)} measurements inside their "
              f"80 % interval, median width {100 * width:.0f} % of the prediction")
    for g in uncertainty.GROUPS:
        for lv in uncertainty.LEVELS:
            rows = [t for t in res if (t["group"], t["evidence"]) == (g, lv)]
            if rows:
                inside, width = coverage(rows, spread)
                print(f"  {g:8} {lv:12} n={len(rows):3d}  {100 * inside:.1f} % inside, median width {100 * width:.0f} %")
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
