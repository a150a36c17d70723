"""The probe against a fault-injecting local server: exact timings, every fault kind, key secrecy."""
import json
import logging
import threading
import time

import pytest

from conftest_probe import ITL_DELAY_S, PROMPT_TOKENS, TTFT_DELAY_S, FaultHandler, free_port
from planner.probe.run import ProbeJob, run_probe
from planner.probe.models import ProbeConfig
from planner.probe.stream import Target

N_OUT = 6
E2E_S = TTFT_DELAY_S + (N_OUT - 1) * ITL_DELAY_S


def cfg(url, **kw):
    base = dict(url=url, concurrency=(1,), requests=2, input_len=PROMPT_TOKENS, output_len=N_OUT,
                read_timeout_s=0.5, connect_timeout_s=0.5, max_retry_after_s=0.2)
    return ProbeConfig(**{**base, **kw})


@pytest.mark.parametrize("mode", ["ok", "close"])
def test_timings_match_the_servers_own_clock(fault_server, fault_log, mode):
    # The fault server runs in this process and stamps, on the same perf_counter clock, the moment it had read
    # each request and the moment before each token left. Causality makes the probe's figures bounded below by
    # the server's, exactly, whatever the load: TTFT >= server TTFT >= the injected delay. Above, a busy
    # 2-core machine may add scheduling delay, so the bounds there are generous: half the injected delays.
    # Exact arithmetic is checked on a fake clock in test_probe_metrics.py, precision at scale in
    # benchmarks/bench_probe_scale.py.
    seen = []
    result = run_probe(cfg(f"{fault_server}/{mode}", requests=3, warmup=False, model="m"), lambda c, r: seen.append(r))
    lv = result.levels[0]
    assert lv.completed == 3 and lv.errors == 0 and len(FaultHandler.timings) == 3
    for r, t in zip(seen, FaultHandler.timings):  # one request at a time: the same order on both sides
        server_ttft_s, server_last_s = t["writes"][0] - t["recv"], t["writes"][-1] - t["recv"]
        assert TTFT_DELAY_S <= server_ttft_s <= r.ttft_s < server_ttft_s + TTFT_DELAY_S / 2, (r, t)
        assert E2E_S <= server_last_s <= r.e2e_s < server_last_s + TTFT_DELAY_S / 2, (r, t)
    assert lv.itl_ms.mean == pytest.approx(ITL_DELAY_S * 1e3, rel=0.5)
    assert lv.tpot_ms.mean == pytest.approx(ITL_DELAY_S * 1e3, rel=0.5)
    assert lv.output_tokens == 3 * N_OUT and lv.input_tokens == 3 * PROMPT_TOKENS
    assert lv.token_count_source == "usage"
    # closed loop, one request at a time: tokens over wall time, and 1 / mean TPOT as the planner defines it
    assert lv.output_tokens_per_s == pytest.approx(3 * N_OUT / lv.wall_time_s)
    assert N_OUT / (E2E_S * 2) < lv.output_tokens_per_s <= N_OUT / E2E_S
    assert lv.output_tokens_per_s_per_user == pytest.approx(1e3 / lv.tpot_ms.mean)


def test_counts_from_chunks_when_no_usage(fault_server):
    result = run_probe(cfg(f"{fault_server}/nousage"))
    lv = result.levels[0]
    assert lv.token_count_source == "chunks" and lv.output_tokens == 2 * N_OUT
    assert any("no usage.prompt_tokens" in n for n in result.notes)


@pytest.mark.parametrize("mode, kind", [
    ("http500", "http_5xx"), ("http404", "http_4xx"), ("ratelimit", "rate_limited"), ("malformed", "malformed"),
    ("notsse", "malformed"), ("cut", "truncated"), ("stall", "timeout"), ("empty", "empty"),
    ("emptystream", "empty"), ("redirect", "redirect"),
])
def test_each_fault_is_counted_by_kind(fault_server, fault_log, mode, kind):
    t0 = time.perf_counter()
    result = run_probe(cfg(f"{fault_server}/{mode}"))
    lv = result.levels[0]
    assert (lv.completed, lv.errors, lv.error_kinds) == (0, 2, {kind: 2})
    assert lv.ttft_ms.mean is None and lv.output_tokens_per_s is None
    assert time.perf_counter() - t0 < 5  # bounded by the read timeout and the Retry-After cap
    assert not any("169.254" in e["path"] for e in fault_log)  # redirects are never followed


def test_retry_after_is_honoured_within_its_cap(fault_server):
    t0 = time.perf_counter()
    run_probe(cfg(f"{fault_server}/ratelimit", warmup=False, max_retry_after_s=0.3))
    assert 0.55 < time.perf_counter() - t0 < 2.0  # two waits of min(Retry-After 1 s, cap 0.3 s)


def test_connection_refused_is_an_error_not_a_traceback():
    result = run_probe(cfg(f"http://127.0.0.1:{free_port()}"))
    assert result.levels[0].error_kinds == {"connect": 2}


def test_good_results_survive_bad_ones(fault_server):
    lv = run_probe(cfg(f"{fault_server}/flaky", requests=6, warmup=False)).levels[0]
    assert (lv.completed, lv.errors, lv.error_kinds) == (3, 3, {"http_5xx": 3})
    assert lv.tpot_ms.mean == pytest.approx(ITL_DELAY_S * 1e3, rel=0.5)  # not a timing test: load-tolerant


def test_server_rejecting_ignore_eos_gets_plain_requests(fault_server, fault_log):
    result = run_probe(cfg(f"{fault_server}/strict"))
    assert result.levels[0].completed == 2
    assert "ignore_eos" not in fault_log[-1]["body"] and any("ignore_eos" in n for n in result.notes)


def test_model_is_picked_from_v1_models(fault_server, fault_log):
    assert run_probe(cfg(f"{fault_server}/ok")).model == "fake-model"
    assert fault_log[-1]["body"]["model"] == "fake-model"
    assert fault_log[-1]["body"]["stream_options"] == {"include_usage": True}


def test_concurrency_keeps_n_in_flight(fault_server):
    lv = run_probe(cfg(f"{fault_server}/ok", concurrency=(4,), requests=8, warmup=False)).levels[0]
    e2e_s = TTFT_DELAY_S + (N_OUT - 1) * ITL_DELAY_S
    assert lv.completed == 8
    assert 2 * e2e_s <= lv.wall_time_s < 4 * e2e_s  # two waves of four, not eight requests in a row
    assert lv.request_throughput_per_s == pytest.approx(8 / lv.wall_time_s)


def test_duration_limit_bounds_the_run(fault_server):
    t0 = time.perf_counter()
    result = run_probe(cfg(f"{fault_server}/ok", concurrency=(1, 2), requests=50, max_duration_s=1.0, warmup=False))
    assert time.perf_counter() - t0 < 2.0
    assert result.levels[0].completed < 50 and any("duration" in n for n in result.notes)


def test_stop_event_ends_the_run(fault_server):
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.perf_counter()
    result = run_probe(cfg(f"{fault_server}/ok", concurrency=(1, 2), requests=50, warmup=False), stop=stop)
    assert time.perf_counter() - t0 < 1.5 and result.stopped


def test_goodput_and_cost(fault_server):
    lv = run_probe(cfg(f"{fault_server}/ok", ttft_ms_target=50, usd_per_gpu_hour=3.6, gpus=2, warmup=False)).levels[0]
    assert lv.goodput_per_s == 0  # TTFT 100 ms misses a 50 ms target
    # $7.2/h over output tokens per hour, per million
    assert lv.usd_per_million_output_tokens == pytest.approx(7.2 / (lv.output_tokens_per_s * 3600) * 1e6)


SECRET = "sk-test-SECRET-4f1c9"


def test_api_key_goes_only_into_the_bearer_header(fault_server, fault_log, caplog):
    caplog.set_level(logging.DEBUG)
    config = cfg(f"{fault_server}/echo401", api_key=SECRET)
    result = run_probe(config)
    run_probe(cfg(f"{fault_server}/ok", api_key=SECRET))
    assert fault_log and all(e["auth"] == f"Bearer {SECRET}" for e in fault_log)
    assert all(SECRET not in e["path"] and SECRET not in json.dumps(e.get("body", {})) for e in fault_log)
    saved = result.model_dump_json()
    assert result.levels[0].error_kinds == {"http_4xx": 2} and SECRET not in saved
    assert SECRET not in json.dumps(config.model_dump()) and SECRET not in repr(config) and SECRET not in str(config)
    target = Target(base_url=config.url, api="chat", model=None, api_key=SECRET)
    assert SECRET not in repr(target) and SECRET not in repr(ProbeJob(config))
    assert SECRET not in caplog.text


def test_probe_job_reports_progress(fault_server):
    job = ProbeJob(cfg(f"{fault_server}/ok", requests=3, warmup=False)).start()
    deadline = time.monotonic() + 5
    while job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.result is not None and job.progress() == 1.0 and len(job.points) == 3
    assert job.points[0]["tpot_ms"] == pytest.approx(ITL_DELAY_S * 1e3, rel=0.5)
