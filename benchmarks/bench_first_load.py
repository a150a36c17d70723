"""First page load: cold `streamlit run app.py` to the Planner page rendered in headless Chromium (target <= 4 s).

Measures, per run, a fresh server process (no warm caches) and a fresh browser page:
  server_s - Popen until /_stcore/health answers (Python start + Streamlit's own imports);
  first_s   - page.goto until the first render a reader can act on: the plain-language decision line
              (what to buy, seconds to the first word, words/s, $ a month);
  metrics_s - page.goto until the eight headline metric widgets show their values;
  charts_s  - page.goto until the three plotly charts are drawn (plotly.js, 4.7 MB, is parsed on first use);
  total_s   - Popen until first_s: what a user who opens the link right after a deploy waits for the answer.

Where the time goes (Chromium request/websocket timeline, 2026-12-01): Streamlit's server start ~0.9 s idle
(1-2 s under load; it scans all 239 installed distributions for v2 component manifests); the frontend boots and
opens its websocket at ~1 s; the script's first run sends every element by ~1.7 s (planner imports, catalog,
estimate and sweeps take < 0.3 s of it); the decision banner paints at ~2.2 s; metric widgets wait for their
lazily loaded chunks (~+1-2 s) and the charts for plotly.js (~+2-3 s). Nothing on the first run recomputes a
search (Compare/recommend runs only on its own page).
Measured 2026-12-01 on this 2-core machine (load average 2.8 from other sessions), 5 runs, medians:
  server_s 0.74, first_s 2.34, metrics_s 2.95, charts_s 4.51, total_s 2.97 (max 3.41): the decision line is up
  within 4 s of a cold start, the metrics at ~3.7 s, the charts at ~5.3 s. At load average 7-9 the same
  medians were total_s 5.1-5.8 s and charts_s 6.1-6.5 s (the issue reported 9.8 s for the first load).
Run: .venv/bin/python benchmarks/bench_first_load.py [--runs N]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
LINK = "/?model=Qwen%2FQwen3-Next-80B-A3B-Instruct&gpu=h200-sxm&gpus=2&weights=bf16&concurrency=50&input_len=4000&output_len=500"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(browser) -> tuple[float, float, float, float, float]:
    port = _port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.fileWatcherType", "none"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        t1 = time.perf_counter()
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"http://127.0.0.1:{port}{LINK}")
        page.wait_for_selector('[data-testid="stAlertContentSuccess"]', timeout=120_000)
        t2 = time.perf_counter()
        page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length >= 8",
                               timeout=120_000)
        t3 = time.perf_counter()
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=120_000)
        t4 = time.perf_counter()
        page.close()
        return t1 - t0, t2 - t1, t3 - t1, t4 - t1, t2 - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        results = [once(browser) for _ in range(runs)]
        browser.close()
    for name, i in (("server_s", 0), ("first_s", 1), ("metrics_s", 2), ("charts_s", 3), ("total_s", 4)):
        vals = [r[i] for r in results]
        print(f"{name:9s} median {statistics.median(vals):5.2f}  min {min(vals):5.2f}  max {max(vals):5.2f}  (n={runs})")


if __name__ == "__main__":
    main()
