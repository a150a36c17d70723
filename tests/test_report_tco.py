"""The PDF's rent / own / API section (issue 13): pdftotext reads back the numbers planner.core.tco and
planner.search.demand compute, the assumptions with their dates, and `python -m planner report --requests-per-s`."""
import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import planner
from planner.core import tco
from planner.report import build_report
from planner.search.demand import compare_options

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
ROOT = Path(__file__).resolve().parent.parent
QWEN = "Qwen/Qwen3-Next-80B-A3B-Instruct"
PINNED = dict(model=QWEN, gpu="h100-sxm", gpus=4, weights="bf16", input_len=4000, output_len=500, concurrency=32,
              ttft_ms_max=2000, tpot_ms_max=50)


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _section(text: str) -> str:
    start = text.index("Rent, own or API at")
    end = start + re.search(r"^\f?Assumptions$", text[start:], re.M).start()  # the report's own Assumptions follow
    return re.sub(r"[ \t]+", " ", text[start:end])


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tco") / "report.pdf"
    path.write_bytes(build_report(**PINNED, demand=dict(requests_per_s=2, api_usd_per_m_output=2.0),
                                  today=dt.date(2026, 12, 1)))
    return path


def _expected():
    s = planner.Scenario(**{k: v for k, v in PINNED.items() if k not in ("ttft_ms_max", "tpot_ms_max")})
    return compare_options(s, tco.TcoInputs(requests_per_s=2, api_usd_per_m_output=2.0), 2000, 50)


def test_the_section_prints_the_planners_three_options(pdf):
    text, r = _section(_text(pdf)), _expected()
    for label, o in (("Rent (cloud GPUs)", r.rent), ("Own (buy the GPUs)", r.own), ("API (pay per token)", r.api)):
        assert f"{label} ${o.usd_per_month:,.0f} ${o.usd_per_request:,.6f}" in text, label
    # the same figures from the published arithmetic
    assert r.rent.usd_per_month == pytest.approx(4 * 2.95 * 730)
    assert r.api.usd_per_month == pytest.approx(2 * 730 * 3600 * (4000 * 0.15 + 500 * 2.0) / 1e6)
    assert r.own.usd_per_month == pytest.approx(4 * 30_000 / 60 + 4 * 0.7 * 1.8 * 1.2 * 730 * 0.08)
    assert "$8,614" in text and "Cheapest at 2 requests/s at peak: owning the GPUs, $2,353 a month" in text


def test_the_section_prints_break_even_and_replicas(pdf):
    text, r = _section(_text(pdf)), _expected()
    for label, key in (("Rent = API", "rent_vs_api"), ("Own = API", "own_vs_api")):
        assert f"{label} {r.break_even_requests_per_s[key]:,.3g} requests/s at peak" in text
    assert r.break_even_requests_per_s["rent_vs_api"] == pytest.approx(4 * 2.95 * 730 / ((4000 * 0.15 + 500 * 2) / 1e6 * 730 * 3600))
    assert f"Replicas {r.replicas} × 4 GPUs" in text and "GPUs in total 4" in text
    assert f"Requests in flight per replica {r.concurrency_per_replica:,.1f}" in text
    assert f"Headroom {r.sizing.headroom:.0%}" in text


def test_the_assumptions_carry_their_values_dates_and_sources(pdf):
    text = _section(_text(pdf))
    assert "$30,000 (new) mid-2026, https://www.aiinframap.com" in text
    assert "Own: written off over 5 years 5-year horizon" in text and "(mid-2026)" in text
    assert "Own: electricity $0.08/kWh" in text and "Own: PUE 1.2" in text and "700 W" in text
    assert "API: price" in text and "$0.15/M input, $2.00/M" in text and "your input" in text
    assert "2026-05-18" in text  # the dated catalog rent price
    assert "Allen-Cunneen" in text


def test_cli_report_takes_the_demand_and_names_a_bad_flag(tmp_path):
    out = tmp_path / "r.pdf"
    args = [sys.executable, "-m", "planner", "report", "--model", QWEN, "--gpu", "h100-sxm", "--gpus", "4",
            "--input-len", "4000", "--output-len", "500", "--ttft-ms-max", "2000", "--tpot-ms-max", "50", "--out", str(out)]
    done = subprocess.run(args + ["--requests-per-s", "2", "--api-usd-per-m-output", "2", "--date", "2026-12-01"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    r = _expected()
    assert f"API (pay per token) ${r.api.usd_per_month:,.0f}" in _section(_text(out))
    for extra, flag in ((["--requests-per-s", "0"], "--requests-per-s"), (["--requests-per-s", "1", "--pue", "9"], "--pue"),
                        (["--api-usd-per-m-input", "0.2"], "--requests-per-s")):
        bad = subprocess.run(args + extra, cwd=ROOT, capture_output=True, text=True)
        assert bad.returncode == 2 and bad.stderr.startswith(flag + ":") and bad.stderr.count("\n") == 1, bad.stderr


def test_no_demand_no_section(tmp_path):
    path = tmp_path / "plain.pdf"
    path.write_bytes(build_report(**PINNED, today=dt.date(2026, 12, 1)))
    assert "Rent, own or API" not in _text(path)


def test_report_page_keeps_the_demand_in_its_link():
    from app_page import open_page
    at = open_page("app_pages/report.py", dict(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus="1", weights="bf16",
                                               requests_per_s="3", api_usd_per_m_output="2", api_usd_per_m_input="-1"))
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.warning) == 1 and "api\\_usd\\_per\\_m\\_input" in at.warning[0].value  # named, the rest kept
    assert at.number_input(key="report_requests_per_s").value == 3
    assert at.query_params["requests_per_s"] == "3" and at.query_params["api_usd_per_m_output"] == "2"
    assert any("renting, owning and an API at 3 requests/s" in m.value for m in at.markdown)
    at.number_input(key="report_requests_per_s").set_value(5.0).run()
    assert at.query_params["requests_per_s"] == "5" and any("requests\\_per\\_s=5" in c.value or "requests_per_s=5" in c.value
                                                            for c in at.code)
