"""Bugs a review found in the resolved-deployment and fast-search paths, each pinned by the case that showed it."""
import pytest

import planner
from planner.core import uncertainty
from planner.core.estimate import estimate_scenario


def test_a_copy_on_another_gpu_is_estimated_on_that_gpu():
    s = planner.Scenario(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=4)
    assert s.gpu_spec.id == "h100-sxm"  # resolved and cached on the original
    moved = estimate_scenario(s.model_copy(update={"gpu": "l40s"}))
    fresh = planner.estimate(model="Qwen/Qwen3-8B", gpu="l40s", concurrency=4)
    assert moved.memory.gpu_memory_gib == fresh.memory.gpu_memory_gib == pytest.approx(44.5, abs=0.1)
    assert moved.performance.tpot_ms == fresh.performance.tpot_ms


@pytest.mark.parametrize("engine,weights", [("llamacpp", "gguf-q4_k_m"), ("transformers", "bf16")])
def test_requests_beyond_what_fits_queue_instead_of_failing(engine, weights):
    kw = dict(model="Qwen/Qwen3-8B", gpu="l40s", engine=engine, weights=weights, input_len=1000, output_len=1000)
    cap = planner.estimate(**kw, concurrency="max")
    over = planner.estimate(**kw, concurrency=cap.memory.max_concurrency * 3)
    at_cap = planner.estimate(**kw, concurrency=cap.memory.max_concurrency)
    assert over.fits and any("queue" in n for n in over.notes)
    assert over.performance.running_batch == at_cap.performance.running_batch == cap.performance.running_batch
    # "max" and an explicit concurrency at the cap hold the same memory: cells/tensors for the running batch
    assert cap.memory.total_gib_per_gpu == pytest.approx(at_cap.memory.total_gib_per_gpu)
    assert at_cap.memory.total_gib_per_gpu <= at_cap.memory.gpu_memory_gib + 1e-6


def test_attention_replicas_each_take_their_own_share_of_a_wave():
    one = planner.estimate(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus=1, concurrency=8, input_len=1000)
    two = planner.estimate(model="Qwen/Qwen3-8B", gpu="h100-sxm", gpus=2, tp=1, concurrency=16, input_len=1000)
    assert two.performance.ttft_ms == pytest.approx(one.performance.ttft_ms)


def test_sized_for_a_demand_the_slow_ends_follow_the_sized_figures():
    rec = planner.recommend("Qwen/Qwen3-8B", gpus=["h100-sxm", "l40s"], engines=["vllm"], requests_per_s=20,
                            pessimistic=True, ttft_ms_max=2000, tpot_ms_max=50)
    ok = [c for c in rec.candidates if c.meets_targets]
    assert ok
    for c in ok:
        slow = uncertainty.multipliers("output_tokens_per_s", c.evidence)[0]
        assert c.usd_per_request_high == pytest.approx(c.usd_per_request / slow)
        assert c.ttft_ms_high >= c.ttft_ms and c.tpot_ms_high >= c.tpot_ms
        assert c.ttft_ms_high <= 2000 and c.tpot_ms_high <= 50
