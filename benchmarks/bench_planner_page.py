"""Instant what-if: server time of a Planner-page rerun after a widget change (target < 100 ms).

Two measurements, each over distinct scenarios so no cache entry is reused:
  compute  - what a rerun recomputes: Scenario validation, planner.estimate, both sweeps and the three
             figures (ui.sweeps + ui.charts), i.e. the page's work minus Streamlit's own rendering;
  apptest  - a whole script rerun of app_pages/planner.py through streamlit.testing AppTest after
             changing one widget (includes AppTest's element-tree overhead, an upper bound).
Run: .venv/bin/python benchmarks/bench_planner_page.py [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from planner import Scenario, estimate_scenario  # noqa: E402
from ui import charts  # noqa: E402
from planner.search import sweeps  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BASE = dict(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus=2, weights="bf16")


def compute_once(input_len: int) -> None:
    s = Scenario(**BASE, input_len=input_len, concurrency=8)
    est = estimate_scenario(s)
    charts.memory_bar(est.memory.model_dump(), s.gpu_spec.name)
    charts.memory_vs_context(sweeps.context_points(s, est), input_len + s.output_len, est.memory.gpu_memory_gib,
                             est.memory.total_gib_per_gpu, 8)
    perf = est.performance
    charts.throughput_vs_concurrency(sweeps.concurrency_points(s), dict(concurrency=8, output_tokens_per_s=perf.output_tokens_per_s,
                                                                       tpot_ms=perf.tpot_ms), None)


def bench_compute(runs: int) -> list[float]:
    compute_once(1000)  # warm the catalog (read once per process)
    times = []
    for i in range(runs):
        t = time.perf_counter()
        compute_once(1024 + 7 * i)
        times.append((time.perf_counter() - t) * 1e3)
    return times


def bench_apptest(runs: int) -> list[float]:
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({k: str(v) for k, v in BASE.items()})
    at.run()
    times = []
    for i in range(runs):
        at.sidebar.number_input(key="planner_input_len").set_value(2048 + 13 * i)
        t = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t) * 1e3)
        assert not at.exception
    return times


def _report(name: str, times: list[float]) -> None:
    q = sorted(times)
    p95 = q[min(len(q) - 1, int(0.95 * len(q)))]
    print(f"{name:8s} runs={len(q):3d} median={statistics.median(q):6.1f} ms  p95={p95:6.1f} ms  max={q[-1]:6.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    _report("compute", bench_compute(args.runs))
    _report("apptest", bench_apptest(args.runs))


if __name__ == "__main__":
    main()
