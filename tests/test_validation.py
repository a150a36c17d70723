"""Bad input raises a pydantic ValidationError naming the field and what is allowed."""
import pytest
from pydantic import ValidationError

import planner

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


@pytest.mark.parametrize("kw,field,allowed", [
    (dict(gpu="no-such-gpu"), "gpu", "h100-sxm"),
    (dict(model="acme/unknown"), "model", "Qwen/Qwen3-8B"),
    (dict(gpus=0), "gpus", "greater than or equal to 1"),
    (dict(input_len=-5), "input_len", "greater than or equal to 0"),
    (dict(output_len=10**12), "output_len", "less than or equal to"),
    (dict(gpus=3), "tp", "must divide"),
    (dict(engine="trtllm", weights="gguf-q4_k_m"), "weights", "llamacpp"),
    (dict(engine="trtllm", gpu="mi300x"), "engine", "NVIDIA"),
    (dict(weights="int3"), "weights", "bf16"),
    (dict(kv_dtype="q4_0"), "kv_dtype", "llama.cpp"),
    (dict(concurrency=0), "concurrency", "1 to 100000"),
    (dict(concurrency="lots"), "concurrency", "'max'"),
    (dict(spec_tokens=2), "acceptance_length", "required"),
    (dict(input_len=300_000), "input_len", "262144-token context"),
    (dict(engine="trtllm", gpu="a100-80gb-sxm", weights="fp8"), "weights", "FP8 hardware"),
    (dict(cpu_offload_experts=4), "cpu_offload_experts", "llama.cpp"),
])
def test_bad_input_names_field(kw, field, allowed):
    with pytest.raises(ValidationError) as info:
        planner.estimate(**{"model": QWEN_NEXT, **kw})
    text = str(info.value)
    assert field in text and allowed in text


def test_nan_and_infinite_values_are_rejected():
    for bad in (float("nan"), float("inf"), 1e40):
        with pytest.raises(ValidationError):
            planner.estimate(model=QWEN_NEXT, gpu_memory_utilization=bad)


def test_defaults_follow_the_contract():
    e = planner.estimate(model="meta-llama/Llama-3.1-8B")
    s = e.scenario
    assert (s["gpu"], s["gpus"], s["engine"], s["weights"], s["kv_dtype"]) == ("h100-sxm", 1, "vllm", "bf16", "auto")
    assert (s["input_len"], s["output_len"], s["concurrency"]) == (1024, 256, 1)
    assert planner.estimate(model="openai/gpt-oss-120b", gpu="h200-sxm").scenario["weights"] == "mxfp4"
    assert planner.estimate(model="deepseek-ai/DeepSeek-V3", gpu="h200-sxm", gpus=8).scenario["weights"] == "fp8"
