"""Compare page: a widget change -> the updated recommendation, chart and table in headless Chromium (target <= 0.5 s).

One server and one page; each round types a new input length (a workload no cache has seen: the
planner runs the whole search again) and times from the keypress to the moment the page shows the
new recommendation and Streamlit has finished the rerun (its status widget gone), chart and table drawn.
Run: .venv/bin/python benchmarks/bench_compare_page.py [--rounds N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_first_load import ARGS, ROOT, _port  # noqa: E402

LINK = "/compare?model=Qwen%2FQwen3-Next-80B-A3B-Instruct&input_len=4096&output_len=512&concurrency=32&tpot_ms_max=30"
RESULT = '[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentError"]'
IDLE = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"


def _server() -> tuple[subprocess.Popen, int]:
    port = _port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.fileWatcherType", "none"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).ok:
                return proc, port
        except requests.RequestException:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def one_change(page, input_len: int) -> float:
    before = page.locator(RESULT).first.inner_text()
    box = page.get_by_label("Input tokens")
    box.fill(str(input_len))
    start = time.perf_counter()
    box.press("Enter")
    page.wait_for_function("([sel, old]) => { const e = document.querySelector(sel); return e && e.innerText !== old; }",
                           arg=[RESULT, before], timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    rounds = ap.parse_args().rounds
    from playwright.sync_api import sync_playwright
    proc, port = _server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"http://127.0.0.1:{port}{LINK}")
            page.wait_for_selector(RESULT, timeout=120_000)
            page.wait_for_function(IDLE, timeout=120_000)
            one_change(page, 4000)  # warm-up: plotly.js and the first search are loaded once per session
            times = [one_change(page, 4096 + 17 * (i + 1)) for i in range(rounds)]
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"Compare page, widget change -> updated figures: median {statistics.median(times):.2f} s, "
          f"min {min(times):.2f}, max {max(times):.2f} (n={rounds}; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
