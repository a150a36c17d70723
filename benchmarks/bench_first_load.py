"""First page load: cold `streamlit run app.py` to the Planner page rendered in headless Chromium (target <= 4 s).

Measures, per run, a fresh server process (no warm caches) and a fresh browser page:
  server_s - Popen until /_stcore/health answers (Python start + Streamlit's own imports);
  first_s  - page.goto until the first render a reader can act on: the decision line and the headline metrics;
  charts_s - page.goto until the three plotly charts are drawn too (plotly.js, 4.7 MB, is parsed on first use);
  total_s  - Popen until first_s: what a user who opens the link right after a deploy waits for the answer.
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


def once(browser) -> tuple[float, float, float, float]:
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
        page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stMetricValue\"]').length >= 8",
                               timeout=120_000)
        t2 = time.perf_counter()
        page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 3", timeout=120_000)
        t3 = time.perf_counter()
        page.close()
        return t1 - t0, t2 - t1, t3 - t1, t2 - t0
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
    for name, i in (("server_s", 0), ("first_s", 1), ("charts_s", 2), ("total_s", 3)):
        vals = [r[i] for r in results]
        print(f"{name:9s} median {statistics.median(vals):5.2f}  min {min(vals):5.2f}  max {max(vals):5.2f}  (n={runs})")


if __name__ == "__main__":
    main()
