"""Benchmark: a full recommend sweep (every GPU x count x format x engine) for one model, process start included.

    .venv/bin/python benchmarks/bench_recommend.py [MODEL]

Starts a fresh interpreter per run (as a user of the CLI would), so imports and catalog loading count.
Issue #2 asks for >= 100 configurations in < 5 s on this 2-core machine.
"""
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = sys.argv[1] if len(sys.argv) > 1 else "Qwen/Qwen3-Next-80B-A3B-Instruct"
ARGS = [sys.executable, "-m", "planner", "recommend", "--model", MODEL, "--input-len", "4096", "--output-len", "512",
        "--concurrency", "32", "--tpot-ms-max", "30", "--json"]


def run_once() -> tuple[float, int]:
    start = time.perf_counter()
    out = subprocess.run(ARGS, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, len(json.loads(out)["candidates"])


if __name__ == "__main__":
    runs = [run_once() for _ in range(3)]
    seconds = [s for s, _ in runs]
    print(f"recommend sweep for {MODEL}: {runs[0][1]} configurations; "
          f"wall time median {statistics.median(seconds):.2f} s (min {min(seconds):.2f}, max {max(seconds):.2f}) over {len(runs)} runs")
