"""python -m planner: tables, --json dumps, one-line errors with exit 2."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


def cli(*args):
    return subprocess.run([sys.executable, "-m", "planner", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_estimate_json_matches_library():
    import planner
    p = cli("estimate", "--model", QWEN_NEXT, "--gpu", "h200-sxm", "--gpus", "2", "--input-len", "4096",
            "--output-len", "512", "--concurrency", "16", "--json")
    assert p.returncode == 0, p.stderr
    dump = json.loads(p.stdout)
    lib = planner.estimate(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, input_len=4096, output_len=512, concurrency=16)
    assert dump["memory"]["kv_cache_tokens"] == lib.memory.kv_cache_tokens == 973_760
    assert dump["performance"]["tpot_ms"] == lib.performance.tpot_ms


def test_estimate_table_is_readable():
    p = cli("estimate", "--model", QWEN_NEXT, "--gpu", "h200-sxm", "--gpus", "1", "--weights", "bf16")
    assert p.returncode == 0
    assert "fits: NO" in p.stdout and "148.4 GiB" in p.stdout


def test_bad_input_one_line_exit_2():
    for args in (("--model", QWEN_NEXT, "--gpu", "no-such-gpu"), ("--model", QWEN_NEXT, "--gpus", "0"),
                 ("--model", QWEN_NEXT, "--engine", "trtllm", "--weights", "gguf-q4_k_m")):
        p = cli("estimate", *args, "--json")
        assert p.returncode == 2
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1
        assert p.stderr.startswith("invalid input:")


def test_recommend_json_lists_every_candidate():
    p = cli("recommend", "--model", QWEN_NEXT, "--input-len", "4096", "--output-len", "512",
            "--concurrency", "32", "--tpot-ms-max", "30", "--json")
    assert p.returncode == 0, p.stderr
    cands = json.loads(p.stdout)["candidates"]
    assert len(cands) >= 100
    assert {"fits", "meets_targets", "reason", "tpot_ms", "usd_per_million_output_tokens"} <= set(cands[0])
    assert cands[0]["meets_targets"] and cands[0]["rank"] == 1
    assert any("exceed" in (c["reason"] or "") for c in cands)
