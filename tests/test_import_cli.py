"""`python -m planner import PATH_OR_HF_ID [--json]`: figures in the dump, one line and exit 2 on bad input."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "configs"


def _json(capsys, *argv):
    assert main(["import", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_dump_of_a_hybrid(capsys):
    d = _json(capsys, FIXTURES / "jamba-v0.1.json")
    assert d["total_params"] == 51_570_323_328 and d["active_params"] == 12_110_311_296
    assert d["kv_bytes_per_token"] == 4 * 2 * 8 * 128 * 2                  # 4 attention layers, 8 KV heads, bf16
    assert d["state_bytes_per_sequence"] == 28 * (3 * 8192 + 8192 * 16) * 2  # Mamba1: conv (d_conv-1) + SSM, bf16
    assert d["layers"] == {"linear": 28, "full": 4} and d["moe_layers"] == 16
    assert d["spec"]["params"]["linear_attn"] > 0


def test_json_dump_of_catalog_config(capsys):
    d = _json(capsys, ROOT / "data" / "models" / "Qwen__Qwen3-Next-80B-A3B-Instruct.json")
    assert d["id"] == "Qwen/Qwen3-Next-80B-A3B-Instruct"
    assert (d["kv_bytes_per_token"], d["state_bytes_per_sequence"]) == (24_576, 39_518_208)  # published_params.csv note


def test_text_output_of_a_config(capsys):
    assert main(["import", str(FIXTURES / "deepseek-v2-lite.json")]) == 0
    out = capsys.readouterr().out
    assert "15,706,484,224 total" in out and "27 mla" in out


@pytest.mark.parametrize("content,message", [("not json", "not JSON"), ('{"tokenizer_class": "X"}', "tokenizer config")])
def test_bad_file_one_line_exit_2(tmp_path, capsys, content, message):
    path = tmp_path / "config.json"
    path.write_text(content)
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_offline_hub_id_exits_2_without_traceback():
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "planner", "import", "Qwen/Qwen3-8B"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "HF_HUB_OFFLINE" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
