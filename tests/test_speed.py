"""Speed and cost: physics that must hold, and published figures with their tolerance."""
import pytest

import planner

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


def perf(**kw):
    return planner.estimate(**kw).performance


def test_single_stream_qwen3_8b_on_h100_matches_vllm_bench():
    # vLLM 0.11 bench serve, ShareGPT, concurrency 1: TPOT 7.28 ms (calibration.csv c154)
    p = perf(model="Qwen/Qwen3-8B", gpu="h100-sxm", input_len=233, output_len=221, concurrency=1)
    assert p.tpot_ms == pytest.approx(7.28, rel=0.15)
    assert p.output_tokens_per_s_per_user == pytest.approx(1000 / p.tpot_ms)


def test_decode_is_bounded_by_bandwidth():
    # no prediction may beat the roofline: 16.4 GB of BF16 weights per token at 3.35 TB/s
    p = perf(model="Qwen/Qwen3-8B", gpu="h100-sxm", input_len=1, output_len=512)
    assert p.tpot_ms > 16.38e9 / 3.35e12 * 1e3


def test_throughput_grows_and_latency_worsens_with_concurrency():
    rows = [perf(model="meta-llama/Llama-3.1-8B", gpu="h100-sxm", input_len=1024, output_len=256, concurrency=c)
            for c in (1, 8, 64)]
    assert rows[0].output_tokens_per_s < rows[1].output_tokens_per_s < rows[2].output_tokens_per_s
    assert rows[0].tpot_ms < rows[1].tpot_ms < rows[2].tpot_ms


def test_moe_decode_reads_the_union_of_experts():
    one = perf(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, input_len=1000, output_len=1000, concurrency=1)
    many = perf(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, input_len=1000, output_len=1000, concurrency=32)
    # 10 experts per layer at batch 1 but ~240 at batch 32: the weight part of the step grows ~10x
    assert many.decode_step_ms["weights"] > 5 * one.decode_step_ms["weights"]


def test_max_concurrency_runs_offline_throughput():
    e = planner.estimate(model="meta-llama/Llama-3.1-8B", gpu="h200-sxm", weights="fp8", kv_dtype="fp8",
                         engine="trtllm", input_len=128, output_len=128, concurrency="max")
    assert e.performance.running_batch == e.performance.concurrency > 256
    # TensorRT-LLM 0.17 trtllm-bench: 29,526 tok/s (calibration.csv c001)
    assert e.performance.output_tokens_per_s == pytest.approx(29_526, rel=0.3)


def test_tensor_parallel_pays_all_reduces():
    p = perf(model="meta-llama/Llama-3.1-70B", gpu="h100-sxm", gpus=4, weights="fp8")
    assert p.decode_step_ms["communication"] > 80 * 2 * 5e-3  # 2 all-reduces x 80 layers x >= 5 us


def test_speculative_decoding_divides_tpot_by_acceptance():
    base = perf(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, concurrency=1)
    mtp = perf(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, concurrency=1, spec_tokens=2, acceptance_length=2.5)
    assert mtp.tpot_ms < base.tpot_ms
    assert mtp.itl_ms == pytest.approx(mtp.tpot_ms * 2.5)


def test_cost_per_million_tokens():
    e = planner.estimate(model=QWEN_NEXT, gpu="h200-sxm", gpus=2, concurrency=16, usd_per_gpu_hour=3.5)
    c, p = e.cost, e.performance
    assert c.usd_per_hour == 7.0
    assert c.usd_per_million_output_tokens_all_in == pytest.approx(7.0 / (p.output_tokens_per_s * 3600) * 1e6)
    catalog_price = planner.estimate(model=QWEN_NEXT, gpu="h200-sxm", gpus=2).cost
    assert catalog_price.usd_per_gpu_hour == 4.07 and "Nebius" in catalog_price.price_source


def test_calibration_scales_the_prediction():
    base = perf(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=4)
    cal = planner.Calibration(decode_time_factor=1.5, prefill_time_factor=2.0, ttft_overhead_ms=10.0)
    slow = perf(model="Qwen/Qwen3-8B", gpu="h100-sxm", concurrency=4, calibration=cal)
    assert slow.tpot_ms == pytest.approx(1.5 * base.tpot_ms, rel=0.05)
