"""Timing arithmetic on a known clock (exact) and the per-level statistics."""
import json
from types import SimpleNamespace

import pytest

from planner.probe import stream as probe_stream
from planner.probe.metrics import level, stats, usd_per_million
from planner.probe.models import RequestResult


def _data(content=None, usage=None):
    body = {"choices": [] if usage else [{"delta": {"content": content}, "finish_reason": None}]}
    if usage:
        body["usage"] = usage
    return json.dumps(body).encode()


def test_stream_arithmetic_on_a_known_clock(monkeypatch):
    # tokens at 0.25 s, then gaps of 0.01, 0.03, 0.02 s; the stream ends at 0.40 s
    clock = iter([0.05, 0.25, 0.26, 0.29, 0.31, 0.35])  # role chunk, four tokens, usage
    monkeypatch.setattr(probe_stream, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    s = probe_stream._Stream(t0=0.0)
    assert s.on_data(_data(None)) is None  # role chunk: no time stamp, no token
    for word in ("a", "b", "c", "d"):
        s.on_data(_data(word))
    s.on_data(_data(usage={"prompt_tokens": 9, "completion_tokens": 4}))
    s.on_data(b" [DONE]")
    r = probe_stream._finish(s, end=0.40)
    assert r.ok and r.ttft_s == 0.25 and r.e2e_s == 0.40
    assert r.itl_s == pytest.approx([0.01, 0.03, 0.02], abs=1e-12)
    assert r.tpot_s == pytest.approx((0.40 - 0.25) / 3, abs=1e-12)
    assert (r.output_tokens, r.input_tokens, r.token_count_source) == (4, 9, "usage")


def test_stats_are_numpy_linear_percentiles():
    s = stats([1.0, 2.0, 3.0, 4.0, 10.0], scale=1e3)
    assert (s.mean, s.p50, s.p90) == (4000.0, 3000.0, 7600.0)
    assert s.p99 == pytest.approx(9760.0)
    assert stats([]).mean is None


def _ok(ttft, e2e, n, start=0.0):
    return RequestResult(ok=True, ttft_s=ttft, e2e_s=e2e, output_tokens=n, input_tokens=10, start_s=start,
                         token_count_source="usage", itl_s=[(e2e - ttft) / (n - 1)] * (n - 1))


def test_level_aggregates_over_wall_time():
    rs = [_ok(0.1, 1.1, 11), _ok(0.2, 2.2, 21, start=0.0), RequestResult(ok=False, error_kind="timeout")]
    lv = level(2, rs, wall_time_s=2.0, ttft_ms_target=150, tpot_ms_target=200, usd_per_gpu_hour=2.0, gpus=1)
    assert (lv.requests, lv.completed, lv.errors, lv.error_kinds) == (3, 2, 1, {"timeout": 1})
    assert lv.tpot_ms.mean == pytest.approx(100.0)          # both (e2e - ttft) / (n - 1) = 0.1 s
    assert lv.output_tokens == 32 and lv.input_tokens == 20
    assert lv.output_tokens_per_s == 16.0 and lv.request_throughput_per_s == 1.0
    assert lv.output_tokens_per_s_per_user == pytest.approx(10.0)
    assert lv.goodput_per_s == 0.5                          # only the first meets TTFT <= 150 ms
    assert lv.usd_per_million_output_tokens == pytest.approx(2.0 / (16 * 3600) * 1e6)
    assert usd_per_million(None, 2.0, 1) is None


def test_cache_notes_and_counters():
    from planner.probe.checks import cache_notes, cached_counter, synthetic_prompt
    lv = level(1, [_ok(0.1, 1.1, 11)], wall_time_s=1.1).model_copy(update={"cached_input_tokens": 9})
    assert "90%" in cache_notes([lv], None)[0] and "most of each prompt" in cache_notes([lv], None)[0]
    assert cache_notes([lv.model_copy(update={"cached_input_tokens": 0})], None) == []
    assert "12 prompt tokens" in cache_notes([lv.model_copy(update={"cached_input_tokens": None})], 12.0)[0]
    page = 'llamacpp:prompt_tokens_cached_total 38\nvllm:prefix_cache_hits_total{model_name="m"} 2.0\nother 5\n'
    assert cached_counter(page) == 40.0 and cached_counter("other 1") is None
    assert synthetic_prompt(8, 1, seed=1) != synthetic_prompt(8, 1, seed=2)
    assert synthetic_prompt(8, 1, seed=1) == synthetic_prompt(8, 1, seed=1) and len(synthetic_prompt(8, 1).split()) == 8


def test_per_user_rate_is_one_over_mean_tpot():
    # TPOTs of 0.1 s and 0.3 s: 1 / mean = 5 tokens/s, where the mean of 1 / TPOT would say 6.67
    lv = level(2, [_ok(0.1, 1.1, 11), _ok(0.1, 3.1, 11)], wall_time_s=3.1)
    assert lv.output_tokens_per_s_per_user == pytest.approx(5.0)
