"""Physics the fitted constants may never overturn (issue: numbers that hold on unseen deployments).

Each test compares the planner with itself where the hardware differs in one direction only: more
bandwidth with the same kernels, more memory, a faster interconnect. A fit that breaks one of these
has absorbed something the model's structure lacks.
"""
import dataclasses

import pytest

import planner
from planner.core import speed
from planner.core.deployment import resolve
from planner.core.scenario import Scenario

ONE_REQUEST = dict(input_len=1000, output_len=1000, concurrency=1)
# (slower, faster) parts of one vendor whose decode kernels are the same for 16-bit and FP8 weights
BANDWIDTH_PAIRS = [("a100-80gb-sxm", "h100-sxm"), ("h100-sxm", "h200-sxm"), ("h200-sxm", "b200-hgx"),
                   ("mi300x", "mi325x")]


def _tpot(**kw) -> float:
    return planner.estimate(**{**ONE_REQUEST, **kw}).performance.tpot_ms


@pytest.mark.parametrize("slow,fast", BANDWIDTH_PAIRS)
@pytest.mark.parametrize("model,weights,gpus", [("meta-llama/Llama-3.1-70B", "fp8", 2), ("Qwen/Qwen3-8B", "bf16", 1),
                                                ("Qwen/Qwen3-30B-A3B", "bf16", 1)])
def test_more_bandwidth_is_not_slower_at_one_request(slow, fast, model, weights, gpus):
    if weights == "fp8" and slow.startswith("a100"):
        pytest.skip("A100 has no FP8 kernels: not the same kernels")
    kw = dict(model=model, weights=weights, gpus=gpus)
    assert _tpot(gpu=fast, **kw) <= _tpot(gpu=slow, **kw)


@pytest.mark.parametrize("engine", ["vllm", "trtllm"])
def test_b200_decodes_a_dense_70b_in_fp8_faster_than_h200(engine):
    # 7.7 vs 4.8 TB/s of HBM: at one request decode reads the weights, so B200 must lead clearly
    kw = dict(model="meta-llama/Llama-3.1-70B", weights="fp8", engine=engine)
    assert _tpot(gpu="b200-hgx", **kw) <= 0.8 * _tpot(gpu="h200-sxm", **kw)


@pytest.mark.parametrize("model,gpu,gpus,engine", [
    ("Qwen/Qwen3-Next-80B-A3B-Instruct", "h200-sxm", 2, "vllm"), ("meta-llama/Llama-3.1-70B", "h100-sxm", 4, "sglang"),
    ("openai/gpt-oss-120b", "h100-sxm", 1, "trtllm"), ("Qwen/Qwen3-8B", "l40s", 1, "transformers")])
def test_more_memory_never_lowers_max_concurrency(model, gpu, gpus, engine):
    fractions = (0.7, 0.8, 0.9, 0.95) if engine != "transformers" else (1.0,)
    kw = dict(model=model, gpu=gpu, gpus=gpus, engine=engine, input_len=4096, output_len=512)
    counts = [planner.estimate(**kw, gpu_memory_utilization=f).memory.max_concurrency for f in fractions]
    assert counts == sorted(counts) and counts[-1] > 0


def test_a_bigger_gpu_of_the_same_generation_holds_more_requests():
    kw = dict(model="meta-llama/Llama-3.1-70B", gpus=2, weights="fp8", input_len=8192, output_len=1024)
    h100, h200 = (planner.estimate(gpu=g, **kw).memory.max_concurrency for g in ("h100-sxm", "h200-sxm"))
    assert h200 > h100 > 0


@pytest.mark.parametrize("model,gpus", [("meta-llama/Llama-3.1-70B", 4), ("Qwen/Qwen3-235B-A22B", 8)])
@pytest.mark.parametrize("batch", [1, 64])
def test_faster_interconnect_never_slows_tensor_parallel_decode(model, gpus, batch):
    d = resolve(Scenario(model=model, gpu="h100-sxm", gpus=gpus, weights="fp8"))
    faster = dataclasses.replace(d, gpu=d.gpu.model_copy(update={"scaleup_bw_gbps_unidir": 2 * d.gpu.scaleup_bw_gbps_unidir}))
    slow_step, fast_step = (speed.decode_step(x, batch, 2048) for x in (d, faster))
    assert fast_step.communication < slow_step.communication and fast_step.total <= slow_step.total
