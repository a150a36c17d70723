"""Imported benchmark results (issue #14): real files of vLLM's docs, GuideLLM's own test asset and a real
GuideLLM 0.8.1 run against the local llama.cpp server; files built field-for-field from the vLLM and SGLang
writers (tests/fixtures/bench_results/README.md); hostile files; the calibrate CLI and the report's input."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from planner.probe.bench_results import MAX_BYTES, BenchFileError, priced, read_path, read_results, report_input
from planner.probe.calibrate import calibrate, compare
from planner.report.plan import load_probe_results

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "bench_results"
SCENARIO = {"model": "Qwen/Qwen3-0.6B", "gpu": "cpu-2s-epyc-genoa", "gpus": 1, "engine": "llamacpp", "weights": "gguf-q8_0"}


def one(path):
    results = read_path(FIX / path)
    assert len(results) == 1
    return results[0]


def test_vllm_docs_table_reads_every_printed_figure():
    # docs/benchmarking/cli.md @ 069c00b0: 10 requests, 1369 in, 2212 out, 5.78 s, TTFT 71.54/73.88/79.49 ms
    r = one("vllm_cli_docs_table.txt")
    lv = r.levels[0]
    assert (lv.completed, lv.errors, lv.input_tokens, lv.output_tokens) == (10, 0, 1369, 2212)
    assert (lv.ttft_ms.mean, lv.ttft_ms.p50, lv.ttft_ms.p99) == (71.54, 73.88, 79.49)
    assert (lv.tpot_ms.mean, lv.itl_ms.mean, lv.itl_ms.p99) == (7.91, 7.74, 8.39)
    assert lv.output_tokens_per_s == 382.89 and lv.request_throughput_per_s == 1.73 and lv.wall_time_s == 5.78
    assert (r.input_len, r.output_len) == (137, 221)          # 1369 / 10 and 2212 / 10, rounded
    assert lv.output_tokens_per_s_per_user == pytest.approx(1000 / 7.91)
    # no limit was set: Little's law, 1.73 req/s x (71.54 + 7.91 x 220.2) ms = 3.1 in flight
    assert lv.concurrency == 3 and any("requests/s x mean latency" in n for n in r.notes)
    assert r.source == "vllm bench serve (the file records no version)" and r.api == "vllm bench serve"


def test_vllm_json_of_the_same_run_gives_the_same_record_as_its_table():
    table, saved = one("vllm_cli_docs_table.txt"), one("vllm_bench_serve_save_result.json")
    assert saved.model == "NousResearch/Hermes-3-Llama-3.1-8B"
    assert saved.levels[0].model_dump() == table.levels[0].model_dump()


def test_legacy_benchmark_serving_json_derives_failed_and_keeps_its_concurrency():
    lv = one("vllm_benchmark_serving_legacy.json").levels[0]
    assert (lv.concurrency, lv.completed, lv.errors, lv.requests) == (4, 10, 2, 12)   # num_prompts 12 - completed 10
    assert lv.error_kinds == {"other": 2}


def test_sglang_jsonl_lines_with_infinity_rate():
    r = one("sglang_bench_serving.jsonl")
    closed, open_loop = sorted(r.levels, key=lambda lv: lv.request_rate_per_s or 0)
    assert closed.request_rate_per_s is None and closed.concurrency == 8                  # Infinity = all at once
    assert open_loop.request_rate_per_s == 4.0 and open_loop.concurrency == 8            # measured 8.23
    assert closed.ttft_ms.mean == 180.0 and closed.tpot_ms.mean == 38.0 and closed.itl_ms.p99 == 75.0
    assert closed.e2e_latency_s.mean == pytest.approx(5.006)
    assert closed.output_tokens_per_s == pytest.approx(8192 / 40.0)
    assert (r.input_len, r.output_len) == (1024, 128) and r.source.startswith("sglang bench_serving")


def test_sglang_2024_line_has_medians_only_and_tpot_is_derived():
    r = one("sglang_bench_serving_2024.jsonl")
    lv = r.levels[0]
    assert lv.ttft_ms.mean == 120.0 and lv.ttft_ms.p50 == 120.0
    assert lv.tpot_ms.mean == pytest.approx((3100.0 - 120.0) / (128 - 1))
    assert lv.concurrency == 6     # 2 req/s x 3.1 s
    assert any("median stands in" in n for n in r.notes) and any("TPOT: not in the file" in n for n in r.notes)


def test_real_guidellm_0_8_run_against_the_local_llama_cpp_server():
    r = one("guidellm_0.8.1_smollm2_concurrent.json")
    assert r.source == "guidellm 0.8.1" and r.model == "smollm2-135m" and (r.input_len, r.output_len) == (94, 32)
    assert [lv.concurrency for lv in r.levels] == [1, 2, 4]
    doc = json.loads((FIX / "guidellm_0.8.1_smollm2_concurrent.json").read_text())
    for lv, b in zip(r.levels, doc["benchmarks"]):
        m = b["metrics"]
        assert lv.completed == m["request_totals"]["successful"] == 8
        assert lv.ttft_ms.mean == m["time_to_first_token_ms"]["successful"]["mean"]
        # the probe's TPOT is GuideLLM's inter_token_latency (its time_per_output_token includes the first token)
        assert lv.tpot_ms.mean == m["inter_token_latency_ms"]["successful"]["mean"]
        assert lv.tpot_ms.mean < m["time_per_output_token_ms"]["successful"]["mean"]
        assert lv.output_tokens_per_s == pytest.approx(m["output_tokens_per_second"]["total"]["mean"], rel=1e-6)
        assert lv.e2e_latency_s.mean == pytest.approx(m["request_latency"]["successful"]["mean"])


def test_guidellm_0_3_asset_of_its_own_test_suite():
    # tests/unit/entrypoints/assets/benchmarks_stripped.json @ ad9513fd: synchronous, 46 done, 256 in / 128 out
    r = one("guidellm_0.3_benchmarks_stripped.json")
    lv = r.levels[0]
    assert r.source == "guidellm 0.2-0.3 layout" and lv.concurrency == 1 and lv.completed == 46
    assert (r.input_len, r.output_len) == (257, 128)
    assert lv.ttft_ms.p99 == pytest.approx(21.281957626342773)


def test_imported_runs_compare_and_calibrate_unchanged():
    r = one("guidellm_0.8.1_smollm2_concurrent.json")
    rows = compare(r, SCENARIO)
    ttft = [row for row in rows if row.metric == "ttft_ms"]
    assert [row.measured for row in ttft] == [lv.ttft_ms.mean for lv in r.levels]
    fit = calibrate(r, SCENARIO)
    assert fit.points == 3 and fit.rms_log_error_after < fit.rms_log_error_before / 2
    assert fit.fitted == ["decode_time_factor", "prefill_time_factor"]   # one prompt length: overhead kept


def test_price_gives_measured_dollars_per_million_tokens():
    lv = priced(one("vllm_cli_docs_table.txt"), 2.0, 4).levels[0]
    assert lv.usd_per_million_output_tokens == pytest.approx(2.0 * 4 / (382.89 * 3600) * 1e6)


def test_report_reads_imported_files_in_the_probe_shape(tmp_path):
    probe = report_input(FIX / "guidellm_0.8.1_smollm2_concurrent.json")
    loaded = load_probe_results(probe)
    assert [lv.concurrency for lv in loaded.levels] == [1, 2, 4] and loaded.input_len == 94
    assert loaded.levels[0].ttft_ms.mean == pytest.approx(1699.457, abs=1e-3)
    own = tmp_path / "probe.json"
    own.write_text(json.dumps({"url": "http://x", "levels": [{"concurrency": 1}]}))
    assert report_input(own) == own                  # the planner's own probe JSON passes through


HOSTILE = {
    "truncated": b'{"completed": 10, "duration": 5.78, "total_input_tok',
    "not json": b"<html>hello</html>",
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe",
    "empty": b"   \n",
    "a list of numbers": b"[1, 2, 3]",
    "wrong types": json.dumps({"completed": "ten", "duration": 5.78, "total_input_tokens": 1, "total_output_tokens": 2,
                               "mean_ttft_ms": 1.0}).encode(),
    "bool as count": json.dumps({"completed": True, "duration": 5.78, "total_input_tokens": 1,
                                 "total_output_tokens": 2, "mean_ttft_ms": 1.0}).encode(),
    "missing duration": json.dumps({"completed": 10, "total_input_tokens": 1, "total_output_tokens": 2,
                                    "mean_ttft_ms": 1.0}).encode(),
    "NaN latency": b'{"completed": 10, "duration": 5.0, "total_input_tokens": 1, "total_output_tokens": 2, "mean_ttft_ms": NaN}',
    "negative latency": json.dumps({"completed": 10, "duration": 5.0, "total_input_tokens": 1, "total_output_tokens": 2,
                                    "mean_ttft_ms": -3.0}).encode(),
    "absurd latency": json.dumps({"completed": 10, "duration": 5.0, "total_input_tokens": 1, "total_output_tokens": 2,
                                  "mean_ttft_ms": 1e300}).encode(),
    "huge integer": b'{"completed": ' + b"9" * 5000 + b"}",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
    "nothing completed": json.dumps({"completed": 0, "duration": 5.0, "total_input_tokens": 0, "total_output_tokens": 0,
                                     "mean_ttft_ms": 0.0}).encode(),
    "guidellm 0.1 raw": json.dumps({"benchmarks": [{"mode": "synchronous", "results": []}]}).encode(),
    "guidellm metrics of the wrong type": json.dumps({"benchmarks": [{"metrics": {"request_totals": [1, 2]}}]}).encode(),
    "table with a word": b"==== Serving Benchmark Result ====\nSuccessful requests: many\n" + b"=" * 50,
    "our own probe json": json.dumps({"url": "http://x", "levels": []}).encode(),
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_hostile_files_are_one_line_errors(what):
    with pytest.raises(BenchFileError) as err:
        read_results(HOSTILE[what], f"../../etc/{what}.json")
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{what}.json: ") and len(message) < 400


def test_messages_name_the_field_and_what_was_expected():
    with pytest.raises(BenchFileError, match=r"run 1 \(vllm bench serve\): duration_s: Field required"):
        read_results(HOSTILE["missing duration"], "x.json")
    with pytest.raises(BenchFileError, match=r"ttft_ms.mean: Input should be greater than or equal to 0"):
        read_results(HOSTILE["negative latency"], "x.json")
    with pytest.raises(BenchFileError, match="expected a vLLM `bench serve --save-result` JSON"):
        read_results(HOSTILE["not json"], "x.json")


def test_size_cap_before_reading(tmp_path):
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 10)                     # sparse: costs no disk
    with pytest.raises(BenchFileError, match="MiB limit"):
        read_path(big)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "planner", "calibrate", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cli_prints_measured_predicted_and_the_calibration_as_json():
    p = _cli("--results", str(FIX / "guidellm_0.8.1_smollm2_concurrent.json"), "--results",
             str(FIX / "guidellm_0.3_benchmarks_stripped.json"), "--model", "Qwen/Qwen3-0.6B", "--gpu", "cpu-2s-epyc-genoa",
             "--engine", "llamacpp", "--weights", "gguf-q8_0", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert [len(r["levels"]) for r in out["runs"]] == [3, 1]
    lv = out["runs"][0]["levels"][0]
    assert set(lv["measured"]) == set(lv["predicted"]) == {"ttft_ms", "tpot_ms", "itl_ms", "output_tokens_per_s"}
    assert lv["measured"]["ttft_ms"] == pytest.approx(1699.457, abs=1e-3) and lv["predicted"]["ttft_ms"] > 0
    assert out["calibration"]["decode_time_factor"] > 1 and out["fit"]["points"] == 4   # 3 + 1 levels
    assert math.isfinite(out["fit"]["rms_log_error_after"])


def test_cli_table_and_one_line_errors(tmp_path):
    p = _cli("--results", str(FIX / "sglang_bench_serving.jsonl"), "--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm")
    assert p.returncode == 0, p.stderr
    assert "measured  predicted calibrated" in p.stdout and "calibration: decode x" in p.stdout
    bad = tmp_path / "bad.json"
    bad.write_bytes(HOSTILE["truncated"])
    for args in (["--results", str(bad)], ["--results", str(tmp_path / "missing.json")],
                 ["--results", str(FIX / "vllm_cli_docs_table.txt"), "--gpus", "0"]):
        p = _cli(*args, "--model", "Qwen/Qwen3-8B", "--gpu", "h100-sxm")
        assert p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)
