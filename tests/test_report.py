"""The procurement PDF (planner.report.plan): figures against planner.estimate, charts, share link, pages, bytes.

Each report is built once per module; pdftotext/pdfimages/pdftoppm (poppler-utils) read it back.
Page 1 figures are formatted here independently with the same format specs the report prints.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

import planner
from planner.report import build_report
from planner.report.wording import decision_line

TODAY = dt.date(2026, 11, 27)
SEARCH = ["h100-sxm", "h200-sxm", "a100-80gb-sxm", "l40s"]  # a small search keeps the suite fast
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "reports"

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _write(name: str, pdf: bytes) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


def text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *pages, str(path), "-"], check=True, capture_output=True, text=True).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def image_count(path: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True, text=True).stdout
    return len(out.strip().splitlines()) - 2  # two header lines


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def expected_figures(est, utilization: float = 1.0) -> list[str]:
    p, c, m = est.performance, est.cost, est.memory
    return [f"{p.ttft_ms:,.0f} ms", f"{p.tpot_ms:,.1f} ms", f"{p.output_tokens_per_s_per_user:,.1f}",
            f"{p.output_tokens_per_s:,.0f} (running batch {p.running_batch:,})", f"{m.max_concurrency:,} requests",
            f"${c.usd_per_million_output_tokens:,.3f}", f"${c.usd_per_million_input_tokens:,.4f}",
            f"${c.usd_per_hour * 730 * utilization:,.0f} for"]


PROBE = {"url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen3-8B", "api": "chat", "input_len": 1024, "output_len": 256,
         "levels": [{"concurrency": 1, "requests": 4, "ttft_ms": {"mean": 40.0, "p50": 39.0}, "tpot_ms": {"mean": 8.1},
                     "output_tokens_per_s": 120.0, "itl_ms": {"mean": 8.0}},
                    {"concurrency": 8, "ttft_ms": {"mean": 95.0}, "tpot_ms": {"mean": 9.0}, "output_tokens_per_s": 850.0}]}
FIT = dict(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus=1, concurrency=8, tpot_ms_max=20)


@pytest.fixture(scope="module")
def fit_pdf() -> Path:
    return _write("fit", build_report(**FIT, search_gpus=SEARCH, today=TODAY, base_url="http://planner.example:8501"))


@pytest.fixture(scope="module")
def probe_pdf(tmp_path_factory) -> Path:
    probe_file = tmp_path_factory.mktemp("probe") / "probe.json"
    probe_file.write_text(json.dumps(PROBE))
    return _write("probe", build_report(**FIT, search_gpus=SEARCH, probe_results=probe_file, today=TODAY))


MULTI = dict(model="meta-llama/Llama-3.1-70B", weights="bf16", engine="vllm", input_len=2048, output_len=512,
             concurrency=64, tpot_ms_max=40)


@pytest.fixture(scope="module")
def multi_pdf() -> Path:
    return _write("multi", build_report(**MULTI, search_gpus=["h100-sxm"], today=TODAY))


@pytest.fixture(scope="module")
def nofit_pdf() -> Path:
    return _write("nofit", build_report(model="meta-llama/Llama-3.1-405B", gpu="a10", weights="bf16", concurrency=4,
                                        search_gpus=SEARCH, today=TODAY))


@pytest.fixture(scope="module")
def nothing_searched_fits_pdf() -> Path:
    return _write("nothing", build_report(model="meta-llama/Llama-3.1-405B", weights="bf16", concurrency=4,
                                          search_gpus=["rtx-4090", "l4"], today=TODAY))


def test_fitting_report_page_one_matches_estimate(fit_pdf):
    est = planner.estimate(**{k: v for k, v in FIT.items() if k != "tpot_ms_max"})
    assert est.fits
    page1 = squash(text(fit_pdf, 1))
    assert "Configuration assessed: 1 × NVIDIA H100 SXM5 80 GB" in page1
    assert f"Meets the targets: TPOT {est.performance.tpot_ms:.1f} ms ≤ 20 ms." in page1
    for figure in expected_figures(est):
        assert figure in page1, figure
    assert "Alternatives considered" in page1 and "How it compares" in page1 and "also meets the targets" in page1
    assert "Why not chosen" not in page1  # the user chose it; the table compares, it does not give reasons
    assert "node" not in page1  # one GPU fits in one server: no node wording
    s = planner.Scenario(**{k: v for k, v in FIT.items() if k != "tpot_ms_max"})
    assert squash(decision_line(s, est)) in page1  # the same sentence as the Planner page
    words = est.performance.output_tokens_per_s_per_user * 0.75
    assert f"stream at about {words:,.0f} words/s" in page1 and "0.75 English words per token" in page1
    assert f"costs about ${est.cost.usd_per_hour * 730:,.0f} a month" in page1


def test_counts_and_why_not_chosen_of_a_recommendation(multi_pdf):
    rec = planner.recommend(MULTI["model"], input_len=2048, output_len=512, concurrency=64, tpot_ms_max=40,
                            gpus=["h100-sxm"], engines=["vllm"], weights=["bf16"])
    page1 = squash(text(multi_pdf, 1))
    fits, meets = sum(c.fits for c in rec.candidates), sum(c.meets_targets for c in rec.candidates)
    assert fits > meets
    assert f"{rec.evaluated:,} configurations evaluated" in page1
    assert f"; {fits:,} fit in memory; {meets:,} meet the targets and have a dated list price" in page1
    assert "Why not chosen" in page1 and "misses a target: TPOT" in page1
    assert " less per million" not in page1 and "cheaper, but" not in page1


def test_charts_and_sections_present(fit_pdf):
    body = text(fit_pdf)
    for caption in ("Figure 1. Memory per GPU", "Figure 2. Latency and throughput versus concurrency",
                    "Figure 3. Cost per request", "Assumptions", "Metric definitions",
                    "Serving software: vLLM (V1)", "Not calibrated", "2026-03", "Reopen this scenario",
                    "Appendix: how the serving software is modelled", "Share of the memory bandwidth reached"):
        assert caption in squash(body), caption
    assert "mem_efficiency" not in body and "layer_overhead_us" not in body  # no code names for a purchaser
    assert "h100-sxm" not in text(fit_pdf, 1).split("Reopen this scenario")[0]  # names, not ids, above the link
    assert image_count(fit_pdf) == 0  # the charts are vector drawings: no bitmap, text stays text
    assert page_count(fit_pdf) == 3  # decision, evidence, assumptions and appendix


def test_vector_charts_carry_the_planner_figures(fit_pdf):
    body = squash(text(fit_pdf, 2))
    for label in ("GiB per GPU (2^30 bytes)", "concurrent requests", "US$ per request: all GPU time of one request",
                  "Weights", "KV cache pool", "GPU capacity", "service target", "TPOT (ms), target 20"):
        assert label in body, label
    m = planner.estimate(**{k: v for k, v in FIT.items() if k != "tpot_ms_max"}).memory
    total = m.weights_gib_per_gpu + m.kv_cache_gib_per_gpu + m.activation_gib_per_gpu + m.overhead_gib_per_gpu
    assert f"{total:,.1f} of {m.gpu_memory_gib:,.1f} GiB" in body  # Figure 1's bar for the assessed configuration
    assert f"planner {planner.__version__}" in body and "2026-11-27" in body


def test_share_url_reopens_the_scenario(fit_pdf):
    body = re.sub(r"\s+", "", text(fit_pdf))
    url = re.search(r"http://planner\.example:8501/\?[^ ]*?tpot_ms_max=20", body).group(0)
    assert urlparse(url).path == "/"  # the default page lives at /?..., DESIGN.md §5
    q = {k: v[-1] for k, v in parse_qs(urlparse(url).query).items()}
    assert q["model"] == "Qwen/Qwen3-8B" and q["gpu"] == "h100-sxm" and q["gpus"] == "1"
    assert q["engine"] == "vllm" and q["weights"] == "bf16" and q["concurrency"] == "8"
    assert q["input_len"] == "1024" and q["output_len"] == "256" and q["kv_dtype"] == "auto"


def test_several_gpus_recommended(multi_pdf):
    rec = planner.recommend(MULTI["model"], input_len=2048, output_len=512, concurrency=64, tpot_ms_max=40,
                            gpus=["h100-sxm"], engines=["vllm"], weights=["bf16"])
    best = rec.best
    assert best.gpus > 1
    est = planner.estimate(model=MULTI["model"], gpu="h100-sxm", gpus=best.gpus, tp=best.tp, engine="vllm",
                           weights="bf16", input_len=2048, output_len=512, concurrency=64)
    page1 = squash(text(multi_pdf, 1))
    assert f"Recommended: {best.gpus} × NVIDIA H100 SXM5 80 GB" in page1
    assert f"tensor parallel {best.tp}" in page1
    for figure in expected_figures(est):
        assert figure in page1, figure
    assert f"${est.cost.usd_per_hour:,.2f} per hour in all" in page1


def test_probe_results_compared(probe_pdf):
    body = text(probe_pdf)
    assert "Predicted versus measured" in body
    assert "Probe of Qwen/Qwen3-8B at http://127.0.0.1:8000/v1" in squash(body)
    pred = planner.estimate(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=8).performance
    assert f"{pred.tpot_ms:,.1f} ms" in body
    err = (pred.tpot_ms / 9.0 - 1) * 100
    assert f"9.0 ms ({err:+.0f} %)" in body
    assert "850" in body and "120" in body
    assert page_count(probe_pdf) == 3


def test_pinned_configuration_that_does_not_fit_says_so(nofit_pdf):
    page1 = squash(text(nofit_pdf, 1))
    est = planner.estimate(model="meta-llama/Llama-3.1-405B", gpu="a10", weights="bf16", concurrency=4)
    assert not est.fits
    assert "Does not fit." in page1
    assert "This configuration cannot run the model: " + squash(est.reason) in page1
    assert "What would run it instead" in page1
    assert "Time to first token" not in page1  # no speed or cost for a configuration that cannot run
    body = text(nofit_pdf)
    assert "Figure 1. Memory per GPU" in body and "Figure 2 (latency and throughput versus concurrency) is not drawn" in squash(body)


def test_nothing_in_the_search_fits_says_so(nothing_searched_fits_pdf):
    page1 = squash(text(nothing_searched_fits_pdf, 1))
    assert "Nothing fits: no configuration searched can hold the model." in page1
    assert "Closest misses" in page1 and "exceed" in page1
    assert "0 fit in memory" in page1


def test_every_page_renders(fit_pdf, probe_pdf, nofit_pdf, tmp_path):
    for pdf in (fit_pdf, probe_pdf, nofit_pdf):
        prefix = tmp_path / pdf.stem
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(prefix)], check=True, capture_output=True)
        pngs = sorted(tmp_path.glob(f"{pdf.stem}-*.png"))
        assert len(pngs) == page_count(pdf)
        assert all(p.stat().st_size > 2000 for p in pngs)


def test_same_inputs_same_bytes(tmp_path):
    kw = dict(model="Qwen/Qwen3-0.6B", gpu="l4", concurrency=4, ttft_ms_max=500, search_gpus=["l4"], today=TODAY)
    first = build_report(**kw)
    assert first.startswith(b"%PDF-") and first == build_report(**kw)
    # another process with another hash seed (set order, dict salts) writes the same bytes through the CLI
    out = tmp_path / "again.pdf"
    subprocess.run([sys.executable, "-m", "planner", "report", "--model", "Qwen/Qwen3-0.6B", "--gpu", "l4",
                    "--concurrency", "4", "--ttft-ms-max", "500", "--gpu-ids", "l4", "--date", TODAY.isoformat(),
                    "--out", str(out)], check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "PYTHONHASHSEED": "12345"}, timeout=180)
    assert out.read_bytes() == first
    assert build_report(**{**kw, "today": dt.date(2026, 12, 1)}) != first


def test_bad_input_names_the_field():
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="utilization"):
        build_report(model="Qwen/Qwen3-8B", gpu="h100-sxm", utilization=1.5)
    with pytest.raises(ValidationError, match="levels"):
        build_report(model="Qwen/Qwen3-8B", gpu="h100-sxm", probe_results={"levels": []})


def test_imported_model_with_calibration_is_assessed_without_a_search(tmp_path):
    from planner.core import catalog
    spec = catalog.model("Qwen/Qwen3-8B").model_copy(update={"id": "acme/custom-8b"})
    calib = planner.Calibration(decode_time_factor=1.2, source="probe of acme-prod, 2026-11-20")
    path = tmp_path / "imported.pdf"
    path.write_bytes(build_report(spec, gpu="h100-sxm", concurrency=4, calibration=calib, today=TODAY))
    est = planner.estimate(model=spec, gpu="h100-sxm", concurrency=4, calibration=calib)
    body = squash(text(path))
    assert "Configuration assessed: 1 × NVIDIA H100 SXM5 80 GB" in body
    assert f"{est.performance.tpot_ms:,.1f} ms" in body
    assert "Calibrated by a probe: decode time × 1.2, prefill time × 1. Source: probe of acme-prod, 2026-11-20." in body
    assert "planner.recommend searches catalog models only." in body
    with pytest.raises(ValueError, match="pin a gpu"):
        build_report(spec, concurrency=4)


def test_imported_model_name_is_sanitized_and_marked_in_the_pdf(tmp_path):
    from planner.core import catalog
    hostile = "Approved by finance: buy 64 x B200 now <b>" + "!" * 300
    spec = catalog.model("Qwen/Qwen3-0.6B").model_copy(update={"id": hostile})
    pdf = build_report(spec, gpu="l4", concurrency=1, today=TODAY)
    path = tmp_path / "hostile.pdf"
    path.write_bytes(pdf)
    page1 = squash(text(path, 1))
    assert "Approved-by-finance-buy-64-x-B200-now-b (imported)" in page1
    assert "Approved by finance" not in page1 and "<b>" not in page1 and "!!!" not in page1
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "Title:" in info and "(imported)" in info and "Approved by" not in info


def test_server_wording_only_for_purchases_that_span_servers():
    from planner.core.scenario import Scenario
    from planner.report.plan import node_words
    assert node_words(Scenario(model="meta-llama/Llama-3.1-405B", gpu="h100-sxm", gpus=16, weights="fp8")) == "2 servers of 8 GPUs"
    assert node_words(Scenario(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus=8)) == ""
    per_node = planner.core.catalog.gpu("rtx-5090").gpus_per_node
    two = node_words(Scenario(model="Qwen/Qwen3-8B", gpu="rtx-5090", gpus=2))
    assert two == ("2 workstations or servers, one GPU each" if per_node == 1 else "")
