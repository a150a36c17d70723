"""`python -m planner probe`: the JSON shape of the issue and the exit codes."""
import json
import subprocess
import sys
from pathlib import Path

from conftest_probe import free_port
from planner.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
LEVEL_KEYS = {"concurrency", "requests", "completed", "errors", "error_kinds", "ttft_ms", "tpot_ms", "itl_ms",
              "e2e_latency_s", "output_tokens", "input_tokens", "output_tokens_per_s", "output_tokens_per_s_per_user",
              "request_throughput_per_s", "token_count_source"}
ARGS = ["--requests", "2", "--output-len", "4", "--input-len", "64", "--timeout", "1"]


def test_json_shape_and_exit_0(fault_server, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PROBE_TEST_KEY", "sk-cli-secret")
    saved = tmp_path / "run.json"
    code = main(["probe", "--url", f"{fault_server}/ok", "--concurrency", "1,2", "--api-key-env", "PROBE_TEST_KEY",
                 "--save", str(saved), "--json", *ARGS])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [lv["concurrency"] for lv in out["levels"]] == [1, 2]
    for lv in out["levels"]:
        assert LEVEL_KEYS <= set(lv)
        for k in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_latency_s"):
            assert set(lv[k]) == {"mean", "p50", "p90", "p99"}
        assert lv["completed"] == 2 and lv["output_tokens"] == 8 and lv["token_count_source"] == "usage"
    assert "sk-cli-secret" not in saved.read_text() and json.loads(saved.read_text()) == out


def test_exit_1_when_nothing_completed(capsys):
    code = main(["probe", "--url", f"http://127.0.0.1:{free_port()}", "--concurrency", "1", *ARGS])
    assert code == 1 and "connect" in capsys.readouterr().out


def test_exit_2_on_bad_input_with_one_line(capsys, monkeypatch):
    for argv in (["--url", "ftp://x"], ["--url", "http://x", "--concurrency", "0"],
                 ["--url", "http://x", "--api-key-env", "PROBE_UNSET_VAR_X"]):
        monkeypatch.delenv("PROBE_UNSET_VAR_X", raising=False)
        assert main(["probe", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("invalid input")


def test_module_entry_point_prints_a_table(fault_server):
    proc = subprocess.run([sys.executable, "-m", "planner", "probe", "--url", f"{fault_server}/ok", "--concurrency", "1",
                           *ARGS], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "TTFT ms" in proc.stdout and "Traceback" not in proc.stderr
