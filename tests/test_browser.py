"""The dashboard in real headless Chromium: share link in, figures out, widget change -> new URL -> same view.

Starts `streamlit run app.py` on 127.0.0.1 (free port, no usage stats), drives Debian's chromium through
python playwright (no `playwright install`) and saves screenshots under artifacts/screenshots/.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from conftest_probe import free_port

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 90_000  # generous: `make test` may share two cores with other suites
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCENARIO = dict(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus="2", weights="bf16")

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if requests.get(f"{base}/_stcore/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.25)
        else:
            pytest.fail("streamlit did not start: " + proc.stderr.read().decode()[-2000:])
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 2400})
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    _settle(page)
    return page


def _settle(page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until Streamlit finished the run: app rendered and no 'running' indicator."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
    page.wait_for_timeout(400)


def _metrics(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_share_link_widget_change_and_pages(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = _open(browser, f"{server}/?{urlencode(SCENARIO)}")
    page.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
    _no_exception(page)
    body = page.inner_text("body")
    assert "Qwen/Qwen3-Next-80B-A3B-Instruct" in body and "H200" in body and "Fits" in body
    assert page.locator(".js-plotly-plot").count() >= 3
    assert any(m.endswith(" ms") for m in _metrics(page))
    page.screenshot(path=str(SHOTS / "planner.png"), full_page=True)

    gpus = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(has_text="GPUs").locator("input")
    gpus.fill("4")
    gpus.press("Enter")
    page.wait_for_function("() => window.location.search.includes('gpus=4')", timeout=WAIT_MS)
    _settle(page)
    changed_url, changed = page.url, _metrics(page)
    assert parse_qs(urlparse(changed_url).query)["gpus"] == ["4"]
    assert parse_qs(urlparse(changed_url).query)["model"] == [SCENARIO["model"]]
    page.close()

    again = _open(browser, changed_url)
    again.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
    assert _metrics(again) == changed
    _no_exception(again)

    # link text is "<material icon name>\n<title>"
    titles = [t.strip().splitlines()[-1] for t in again.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]
    assert {"Planner", "Compare", "Models", "GPUs"} <= set(titles)
    for title in [t for t in titles if t != "Planner"] + ["Planner"]:
        again.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
        _settle(again)
        _no_exception(again)
        if title in ("Compare", "Models", "Planner"):
            again.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
            again.wait_for_timeout(500)
        if title in ("Planner", "Compare", "Models", "GPUs"):
            assert again.locator('[data-testid="stCode"]').count() >= 1  # the share link
        name = "planner-again" if title == "Planner" else title.split()[0].lower()
        again.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert "gpus=4" in again.url  # the Planner page kept and re-wrote the session's scenario
    again.close()


def test_hostile_link_shows_warning(server, browser):
    hostile = dict(SCENARIO, gpus="-3", gpu="<script>alert(1)</script>", input_len="1e40")
    page = _open(browser, f"{server}/?{urlencode(hostile)}")
    page.wait_for_selector('[data-testid="stAlert"]', timeout=WAIT_MS)
    page.wait_for_selector(".js-plotly-plot", timeout=WAIT_MS)
    text = page.inner_text("body")
    assert "gpus:" in text and "input_len:" in text and "<script>" not in text
    assert page.locator("script:has-text('alert(1)')").count() == 0
    _no_exception(page)
    page.screenshot(path=str(SHOTS / "hostile.png"), full_page=True)
    page.close()
