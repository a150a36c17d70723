"""`python -m planner report`: writes the Qwen3-Next PDF quickly; bad input is one line and exit 2."""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.report.wording import gpu_label

ROOT = Path(__file__).resolve().parent.parent
QWEN_NEXT = ["--model", "Qwen/Qwen3-Next-80B-A3B-Instruct", "--input-len", "4096", "--output-len", "512",
             "--concurrency", "32", "--tpot-ms-max", "30"]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "planner", "report", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=180)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_qwen3_next_report(tmp_path):
    import planner
    out = tmp_path / "qwen3-next.pdf"
    start = time.perf_counter()
    p = cli(*QWEN_NEXT, "--date", "2026-11-27", "--out", str(out))
    elapsed = time.perf_counter() - start
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"wrote {out}")
    assert elapsed < 60  # the bound is 15 s on an idle machine; the suite runs on 2 shared cores
    best = planner.recommend("Qwen/Qwen3-Next-80B-A3B-Instruct", input_len=4096, output_len=512, concurrency=32,
                             tpot_ms_max=30).best
    page1 = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(out), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert f"Recommended: {best.gpus} × {gpu_label(best.gpu)}" in page1
    assert f"{best.tpot_ms:,.1f} ms" in page1 and f"${best.usd_per_million_output_tokens:,.3f}" in page1


def test_pinned_report_with_probe_file(tmp_path):
    probe = tmp_path / "probe.json"
    probe.write_text(json.dumps({"levels": [{"concurrency": 4, "ttft_ms": {"mean": 120.0}, "tpot_ms": {"mean": 9.5},
                                             "output_tokens_per_s": 400.0}]}))
    out = tmp_path / "r.pdf"
    p = cli("--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--concurrency", "4", "--gpu-ids", "h100-sxm",
            "--probe-results", str(probe), "--base-url", "https://planner.example", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize("args, field", [
    (["--model", "no/such-model"], "model"),
    (["--model", "Qwen/Qwen3-8B", "--concurrency", "0"], "concurrency"),
    (["--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--tpot-ms-max", "-1"], "tpot_ms_max"),
    (["--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--utilization", "2"], "utilization"),
    (["--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--base-url", "javascript:alert(1)"], "base_url"),
    (["--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--probe-results", "/nonexistent/probe.json"], "probe results"),
    (["--model", "Qwen/Qwen3-8B", "--gpu", "nope"], "gpu"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, field):
    out = tmp_path / "x.pdf"
    p = cli(*args, "--out", str(out))
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], p.stderr
    assert not out.exists()


def test_bad_probe_json_is_one_line(tmp_path):
    probe = tmp_path / "probe.json"
    probe.write_text("{not json")
    p = cli("--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--probe-results", str(probe), "--out", str(tmp_path / "x.pdf"))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    probe.write_text(json.dumps({"levels": [{"concurrency": "many"}]}))
    p = cli("--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm", "--probe-results", str(probe), "--out", str(tmp_path / "x.pdf"))
    assert p.returncode == 2 and "levels" in p.stderr and len(p.stderr.strip().splitlines()) == 1
