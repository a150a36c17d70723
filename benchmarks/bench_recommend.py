"""Benchmark: the full recommend search (every GPU x count x format x engine) for Qwen3-Next.

    .venv/bin/python benchmarks/bench_recommend.py [MODEL]

In process: `planner.recommend` with a new workload on every call (input length + i), so no result is
reused; only per-layout facts (resolved deployments) carry over, as they do across a sweep. Target
<= 100 ms median. From the shell: `python -m planner recommend`, process start included, and
`python -m planner report` for the same workload (target <= 1.5 s median). The machine's load is printed
with the figures because this 2-core machine is shared.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = sys.argv[1] if len(sys.argv) > 1 else "Qwen/Qwen3-Next-80B-A3B-Instruct"
WORKLOAD = ["--model", MODEL, "--input-len", "4096", "--output-len", "512", "--concurrency", "32", "--tpot-ms-max", "30"]


def in_process(calls: int = 15) -> tuple[list[float], int]:
    import planner
    planner.recommend(MODEL, input_len=4000, output_len=512, concurrency=32, tpot_ms_max=30)  # imports, catalog
    times, n = [], 0
    for i in range(calls):
        start = time.perf_counter()
        n = planner.recommend(MODEL, input_len=4096 + i, output_len=512, concurrency=32, tpot_ms_max=30).evaluated
        times.append(time.perf_counter() - start)
    return times, n


def command(args: list[str], runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "planner", *args], cwd=ROOT, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def show(label: str, times: list[float], unit: float = 1.0, suffix: str = "s") -> None:
    print(f"{label}: median {statistics.median(times) * unit:.{0 if unit > 1 else 2}f} {suffix} "
          f"(min {min(times) * unit:.{0 if unit > 1 else 2}f}, max {max(times) * unit:.{0 if unit > 1 else 2}f}, "
          f"n={len(times)}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    times, n = in_process()
    show(f"planner.recommend in process, {n} configurations, a new workload each call", times, 1e3, "ms")
    show("python -m planner recommend --json (process start included)", command(["recommend", *WORKLOAD, "--json"]))
    show("python -m planner report (process start included)", command(["report", *WORKLOAD, "--out", os.devnull]))
