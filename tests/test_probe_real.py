"""The probe against a real OpenAI-compatible server: llama.cpp (xllamacpp) serving SmolLM2-135M on 127.0.0.1."""
import http.client
import json
import time
from urllib.parse import urlsplit

import pytest
import requests

from planner.probe.calibrate import calibrate, compare
from planner.probe.run import run_probe
from planner.probe.models import ProbeConfig

OUT = 16
SCENARIO = dict(model="Qwen/Qwen3-0.6B", gpu="cpu-2s-epyc-genoa", engine="llamacpp", weights="gguf-q8_0")


def server_counters(url: str) -> dict[str, float]:
    text = requests.get(f"{url}/metrics", timeout=5).text
    return {k.removeprefix("llamacpp:"): float(v) for k, v in
            (line.split() for line in text.splitlines() if line.startswith("llamacpp:"))}


def independent_tpot_ms(url: str, n: int) -> float:
    """A minimal timing loop of our own: http.client, one stream, time stamps of content lines."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    body = {"messages": [{"role": "user", "content": "Tell me a story about a lighthouse."}], "max_tokens": n,
            "ignore_eos": True, "stream": True, "temperature": 0}
    conn.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    resp, stamps = conn.getresponse(), []
    for raw in resp:  # http.client yields lines as the chunks arrive
        line = raw.strip()
        if line.startswith(b"data: {") and json.loads(line[6:])["choices"]:
            if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                stamps.append(time.perf_counter())
    conn.close()
    assert len(stamps) == n
    return (stamps[-1] - stamps[0]) / (n - 1) * 1e3


@pytest.fixture(scope="module")
def measured(smollm_server):
    before = server_counters(smollm_server)
    result = run_probe(ProbeConfig(url=smollm_server, concurrency=(1, 2, 4), requests=4, input_len=64, output_len=OUT))
    return result, before, server_counters(smollm_server)


def test_every_level_completes_with_exact_counts(measured):
    result, _, _ = measured
    assert [lv.concurrency for lv in result.levels] == [1, 2, 4]
    for lv in result.levels:
        assert (lv.completed, lv.errors) == (4, 0)
        assert lv.token_count_source == "usage" and lv.output_tokens == 4 * OUT  # ignore_eos honoured
        assert lv.ttft_ms.mean > 0 and lv.tpot_ms.mean > 0 and lv.output_tokens_per_s > 0
    assert result.measured_input_tokens and abs(result.measured_input_tokens - 64) <= 8


def test_counts_match_the_servers_own_counters(measured):
    result, before, after = measured
    out = sum(lv.output_tokens for lv in result.levels)
    inp = sum(lv.input_tokens for lv in result.levels)
    assert after["tokens_predicted_total"] - before["tokens_predicted_total"] == out + result.warmup_output_tokens
    prompt = after["prompt_tokens_total"] + after["prompt_tokens_cached_total"] - before["prompt_tokens_total"] - before["prompt_tokens_cached_total"]
    assert prompt == inp + result.warmup_input_tokens


def test_single_stream_tpot_agrees_with_an_independent_timing(smollm_server):
    # interleaved rounds, compared by their fastest: load from other processes on the 2 shared cores
    # only ever adds time, so the minimum is the steadiest estimate of the server's own TPOT
    n, theirs, ours = 24, [], []
    for _ in range(4):
        theirs.append(independent_tpot_ms(smollm_server, n))
        ours.append(run_probe(ProbeConfig(url=smollm_server, concurrency=(1,), requests=1, input_len=16, output_len=n,
                                          warmup=False)).levels[0].tpot_ms.mean)
    assert min(ours) == pytest.approx(min(theirs), rel=0.2), (ours, theirs)


def test_calibration_against_a_catalog_scenario(measured):
    result, _, _ = measured
    fit = calibrate(result, SCENARIO)
    assert fit.rms_log_error_after < fit.rms_log_error_before
    assert fit.mean_abs_error_pct_after["tpot_ms"] < 40
    rows = compare(result, SCENARIO, fit.calibration)
    assert {r.concurrency for r in rows} == {1, 2, 4}
