"""`python -m planner tco` (issue 13): the JSON keys, the arithmetic they carry, one-line errors naming the flag."""
import json

import pytest

from planner.cli.main import main
from planner.core import tco

BASE = ["tco", "--model", "Qwen/Qwen3-Next-80B-A3B-Instruct", "--gpu", "h100-sxm", "--gpus", "4", "--input-len", "4000",
        "--output-len", "500", "--ttft-ms-max", "2000", "--tpot-ms-max", "50"]


def test_json_has_the_keys_of_the_issue(capsys):
    assert main(BASE + ["--requests-per-s", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["replicas"] == 1 and out["gpus_total"] == 4 and out["concurrency_per_replica"] > 1
    for name in ("rent", "own", "api"):
        assert {"usd_per_month", "usd_per_request"} <= set(out[name])
    assert out["rent"]["usd_per_month"] == pytest.approx(4 * 2.95 * 730)
    assert out["api"]["usd_per_month"] == pytest.approx(2 * 730 * 3600 * (4000 * 0.15 + 500 * 1.5) / 1e6)
    assert out["own"]["usd_per_month"] == pytest.approx(4 * 30_000 / 60 + 4 * 0.7 * 1.8 * 1.2 * 730 * 0.08)
    even = out["break_even_requests_per_s"]
    assert even["rent_vs_api"] == pytest.approx(4 * 2.95 * 730 / (0.00135 * 730 * 3600))
    assert set(even) == {"rent_vs_api", "own_vs_api"}


def test_user_prices_replace_the_defaults(capsys):
    assert main(BASE + ["--requests-per-s", "2", "--usd-per-gpu-hour", "2", "--capex-usd-per-gpu", "20000",
                        "--amortization-years", "4", "--usd-per-kwh", "0.1", "--pue", "1.4",
                        "--api-usd-per-m-input", "0.2", "--api-usd-per-m-output", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rent"]["usd_per_month"] == pytest.approx(4 * 2 * 730)
    assert out["own"]["usd_per_month"] == pytest.approx(4 * 20_000 / 48 + 4 * 0.7 * 1.8 * 1.4 * 730 * 0.1)
    assert out["api"]["usd_per_request"] == pytest.approx((4000 * 0.2 + 500 * 2) / 1e6)


def test_a_gpu_without_a_sourced_price_needs_the_users(capsys):
    args = ["tco", "--model", "Qwen/Qwen3-Next-80B-A3B-Instruct", "--gpu", "h200-nvl", "--gpus", "2", "--input-len", "1000",
            "--output-len", "200", "--requests-per-s", "1", "--weights", "fp8", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["own"] is None and any("capex_usd_per_gpu" in n for n in out["notes"])
    assert "h200-nvl" not in tco.capex_catalog()


@pytest.mark.parametrize("extra, flag", [(["--requests-per-s", "-1"], "--requests-per-s"),
                                         (["--requests-per-s", "1", "--pue", "0.5"], "--pue"),
                                         (["--requests-per-s", "1", "--usd-per-kwh", "-1"], "--usd-per-kwh"),
                                         (["--requests-per-s", "1", "--api-usd-per-m-output", "-2"], "--api-usd-per-m-output"),
                                         (["--requests-per-s", "1", "--ttft-ms-max", "0"], "--ttft-ms-max"),
                                         (["--requests-per-s", "1", "--gpu", "nope"], "--gpu")])
def test_bad_values_one_line_naming_the_flag(capsys, extra, flag):
    assert main(BASE + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith(flag + ":") and err.count("\n") == 1 and "; known" not in err
