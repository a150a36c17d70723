"""The structure behind the held-out accuracy of issue 10, one mechanism per test.

Each test drives the planner's own functions on catalog models and GPUs and asserts the mechanism's
direction and size, so that a refactor or a refit that silently drops it fails here, not only in
scripts/validate.py.
"""
import dataclasses

import pytest

from planner.core import constants, speed, throughput
from planner.core.deployment import resolve
from planner.core.engines import KERNEL_FIELDS, constant_name, profile
from planner.core.scenario import Scenario


def _deployment(**kw):
    return resolve(Scenario(**kw))


def test_a_prompt_chunk_is_not_free_under_the_weight_reads():
    # gpt-oss-120b on one H200, 8k prompts: ~1,660 prompt tokens per decode step on average. Smeared over
    # every step their dense GEMMs hide under the weight reads; in whole 8k chunks a fifth of the steps are
    # compute-bound, about 8 % slower on average (the expert GEMMs' FLOPs add to their weight reads either way).
    d = _deployment(model="openai/gpt-oss-120b", gpu="h200-sxm", engine="trtllm", input_len=8192, output_len=1024)
    batch, context, prefill = 209, 8192 + 512, 208 * 8192 / 1024
    smeared = speed.decode_step(d, batch, context, 1, prefill, 8192).total
    chunked = throughput._mean_step(d, batch, context, 1, prefill, 8192).total
    assert chunked > 1.05 * smeared
    # a step budget the prompts fill anyway leaves nothing to alternate
    full = d.max_num_batched_tokens - batch
    assert throughput._mean_step(d, batch, context, 1, full, 8192).total == pytest.approx(
        speed.decode_step(d, batch, context, 1, full, 8192).total)


def test_a_step_takes_the_prompts_that_wait_not_a_whole_budget():
    # Qwen3-235B on 8 x B200, 100 requests of 500 + 500 tokens: a fifth of a prompt arrives per step.
    d = _deployment(model="Qwen/Qwen3-235B-A22B", gpu="b200-hgx", gpus=8, engine="sglang", input_len=500,
                    output_len=500)
    batch, context, prefill = 100, 750, 99 * 500 / 500
    one, idle = speed.decode_steps(d, batch, context, 1, (500, 0.0), 500)
    random = throughput._mean_step(d, batch, context, 1, prefill, 500, lockstep=False)
    assert random.total == pytest.approx(one.blend(idle, prefill / 500).total)
    # equal requests finish and return together: their 50,000 prompt tokens fill whole budgets
    budget = d.max_num_batched_tokens - batch
    wave, _ = speed.decode_steps(d, batch, context, 1, (budget, 0.0), 500)
    lockstep = throughput._mean_step(d, batch, context, 1, prefill, 500, lockstep=True)
    assert lockstep.total == pytest.approx(wave.blend(idle, prefill / budget).total)
    # a whole budget is compute-bound; one prompt at a time rides partly under the weight reads
    assert lockstep.total > random.total


@pytest.mark.parametrize("model,gpu,low", [("meta-llama/Llama-3.1-8B", "h100-sxm", "fp8"),
                                           ("meta-llama/Llama-3.1-70B", "b200-hgx", "nvfp4")])
def test_attention_runs_at_the_bf16_rate_whatever_the_weights(model, gpu, low):
    bf16, narrow = (_deployment(model=model, gpu=gpu, engine="trtllm", weights=w) for w in ("bf16", low))
    assert narrow.rates.flops > 1.5 * bf16.rates.flops            # the weight GEMMs gain from FP8/FP4
    assert narrow.rates.attention_flops == pytest.approx(bf16.rates.attention_flops)
    # so a 32k prompt's prefill, a third or more of it attention, gains clearly less than its GEMMs do
    gain = speed.prefill_time(bf16, 32768) / speed.prefill_time(narrow, 32768)
    assert gain < 0.85 * narrow.rates.flops / bf16.rates.flops


def test_expert_gemms_pad_each_expert_to_whole_tiles():
    d = _deployment(model="Qwen/Qwen3-30B-A3B", gpu="h100-sxm")
    _, _, per_token, _ = d.expert_terms
    waste = [speed._experts(d, 1, tokens)[3] / (per_token * tokens) for tokens in (8, 256, 4096, 65536)]
    assert waste == sorted(waste, reverse=True)
    assert waste[0] > 30          # 8 tokens x 8 experts: ~1 row each, padded to a 64-row tile
    assert waste[-1] == pytest.approx(1.0, abs=0.02)   # ~4,000 rows per expert: half a tile is noise
    assert speed._experts(d, 1, 8)[2] == pytest.approx(per_token * 8)  # the unpadded FLOPs beside them


def test_expert_weight_reads_and_flops_add_and_imbalance_scales_only_the_flops():
    # AIConfigurator's TensorRT-LLM MoE tables: between 512 and 8,192 tokens the grouped GEMM takes about
    # bytes/BW + FLOPs/peak; the busiest expert-parallel rank multiplies more rows but reads the same experts
    d = _deployment(model="Qwen/Qwen3-235B-A22B", gpu="h100-sxm", gpus=8, tp=1, ep=8, weights="fp8", engine="trtllm")
    r = d.rates
    _, nbytes, flops, padded = speed._experts(d, d.model.moe_layers, 2048)
    t = speed._expert_time(r, nbytes, flops, padded)
    assert t == pytest.approx(nbytes / r.weights_bps + flops / r.flops)
    assert t > 1.3 * max(nbytes / r.weights_bps, flops / r.flops)
    assert speed._expert_time(r, nbytes, flops, padded, 1.5) - t == pytest.approx(0.5 * flops / r.flops)


def _allreduce_s(gpu: str, tp: int) -> float:
    d = _deployment(model="meta-llama/Llama-3.1-70B", gpu=gpu, gpus=tp, weights="fp8", engine="vllm")
    fixed = d.communication_terms.fixed_s
    return fixed / (2 * d.model.num_layers)


def test_allreduce_latency_grows_per_gpu_on_a_switch_but_not_on_a_full_mesh():
    hop = constants.load()["allreduce_hop_us.switch"] * 1e-6
    assert hop > 0
    assert _allreduce_s("h100-sxm", 8) - _allreduce_s("h100-sxm", 2) == pytest.approx(6 * hop)
    assert _allreduce_s("mi300x", 8) == pytest.approx(_allreduce_s("mi300x", 2))


@pytest.mark.parametrize("engine,bandwidth,compute", [("trtllm", 0.55, 0.62), ("vllm", 0.74, 1.17), ("sglang", 0.74, 1.17)])
def test_4bit_weight_only_moe_kernels_are_each_engines_own(engine, bandwidth, compute):
    # AIConfigurator's H100 MoE kernel tables: TensorRT-LLM's W4A16 MXFP4 MoE streams and multiplies slower
    # than vLLM's Triton kernel (which SGLang runs too), relative to the same engine's BF16 MoE; the Triton
    # kernel multiplies faster than vLLM's BF16 fused MoE (55-57 % of peak against 46-49 %)
    def rates(weights):
        return _deployment(model="openai/gpt-oss-120b", gpu="h100-sxm", engine=engine, weights=weights).rates
    mxfp4, bf16 = rates("mxfp4"), rates("bf16")
    assert mxfp4.weights_bps / bf16.weights_bps == pytest.approx(bandwidth)
    assert mxfp4.flops / bf16.flops == pytest.approx(compute)


def test_sglang_reads_vllms_kernel_efficiencies():
    table = constants.load()
    for field in KERNEL_FIELDS:
        assert constant_name("sglang", field) == f"vllm.{field}"
        assert getattr(profile("sglang"), field) == getattr(profile("vllm"), field) == table[f"vllm.{field}"]
        assert f"sglang.{field}" not in {r.name for r in table.rows()}  # one source of truth
    assert constant_name("sglang", "layer_overhead_us") == "sglang.layer_overhead_us"


def test_per_sequence_engine_work_adds_to_the_step():
    d = _deployment(model="Qwen/Qwen3-8B", gpu="h100-sxm", engine="vllm")
    steps = [speed.decode_step(d, b, 1000) for b in (64, 128)]
    per_seq = d.engine.seq_overhead_us * 1e-6
    assert steps[0].per_sequence == pytest.approx(64 * per_seq)
    assert steps[1].total - steps[1].per_sequence == pytest.approx(
        steps[1].weights + steps[1].attention + steps[1].state + steps[1].communication + steps[1].fixed)


def test_moe_layers_pay_their_own_fixed_cost():
    dense, moe = (_deployment(model=m, gpu="h100-sxm") for m in ("Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B"))
    c = constants.load()
    per_layer, per_gemm = c["moe_layer_overhead_us"] * 1e-6, c["gemm_launch_us"] * 1e-6
    assert moe.layers_fixed_s == pytest.approx(moe.model.num_layers * moe.engine.layer_overhead_us * 1e-6
                                               + moe.model.moe_layers * per_layer + 48 * 3 * per_gemm)
    assert dense.layers_fixed_s == pytest.approx(dense.model.num_layers * dense.engine.layer_overhead_us * 1e-6
                                                 + 36 * 4 * per_gemm)


def test_each_layer_pays_for_its_gemm_launches():
    """qkv + o and gate_up + down in a dense layer; MLA's five projections, the router and the shared
    expert in a DeepSeek-V3 MoE layer; Gated DeltaNet's three projections in a Qwen3-Next linear layer."""
    gemms = {m: speed.gemm_launches(_deployment(model=m, gpu="h100-sxm").model)
             for m in ("Qwen/Qwen3-8B", "deepseek-ai/DeepSeek-V3", "Qwen/Qwen3-Next-80B-A3B-Instruct")}
    assert gemms == {"Qwen/Qwen3-8B": 36 * 4, "deepseek-ai/DeepSeek-V3": 3 * (5 + 2) + 58 * (5 + 1 + 2),
                     "Qwen/Qwen3-Next-80B-A3B-Instruct": 36 * (3 + 3) + 12 * (2 + 3)}


def test_small_all_reduces_read_every_peer_once():
    """Below the custom all-reduce's one-stage limit each GPU reads the message from all tp - 1 peers."""
    d = _deployment(model="meta-llama/Llama-3.1-70B", gpu="h100-sxm", gpus=8, tp=8)
    c = d.communication_terms
    assert c.one_shot_tokens == 256 * 1024 / (2 * d.model.hidden_size)  # 16 tokens of 8,192 BF16 values
    one = speed.communication(d, 1) - c.fixed_s
    assert one == pytest.approx(c.per_token_s * 7 / 1.75)  # (tp - 1) against 2 (tp - 1) / tp
    many = 1024  # 16 MB: two stages
    assert speed.communication(d, many) == pytest.approx(c.fixed_s + c.per_token_s * many)


def test_the_benchmarks_first_wave_of_prompts_queues_for_its_prefill():
    # DeepSeek-R1 on 8 x B200, 64 clients with ~4k-token prompts of varied length (sgl-cookbook k025): the
    # first 64 prompts arrive together, ~255k tokens that the engine prefills a budget at a time; with
    # num_prompts = 5 x concurrency they are a fifth of the requests the mean TTFT averages over
    s = Scenario(model="deepseek-ai/DeepSeek-V3", gpu="b200-hgx", gpus=8, engine="sglang", weights="fp8",
                 input_len=3981, output_len=530, concurrency=64)
    d = resolve(s)
    prefill_one = speed.prefill_time(d, s.input_len)
    wave = throughput._wave_wait(d, s, 64, prefill_one)
    assert wave > 1.0  # seconds on average: the last of the wave waits for ~16 budgets of prompts
    with_wave = throughput.figures(d, s, 64, 64).ttft_ms
    # a benchmark that sends just the 64 prompts has them all arrive at once
    alone = throughput.figures(d, s.model_copy(update={"num_prompts": 64}), 64, 64).ttft_ms
    assert alone - with_wave == pytest.approx(0.8 * wave * 1000)


def test_the_shortest_kernels_are_shorter_on_blackwell():
    # AIConfigurator's kernel tables: one-token GEMMs and MoE layers take ~0.75 of their H100 time on B200
    def fixed(gpu):
        return _deployment(model="Qwen/Qwen3-235B-A22B", gpu=gpu, gpus=8, engine="sglang").layers_fixed_s
    assert fixed("b200-hgx") == pytest.approx(0.75 * fixed("h200-sxm"))
    assert fixed("h100-sxm") == pytest.approx(fixed("h200-sxm"))


def test_an_overlapping_scheduler_sends_the_first_token_one_step_late():
    # SGLang launches step n+1 before it processes step n's output (zero-overhead batch scheduler)
    s = Scenario(model="Qwen/Qwen3-235B-A22B", gpu="b200-hgx", gpus=8, engine="sglang", input_len=610,
                 output_len=421, concurrency=1)
    d = resolve(s)
    assert d.engine.overlap_schedule and not profile("vllm").overlap_schedule
    plain = dataclasses.replace(d, engine=dataclasses.replace(d.engine, overlap_schedule=False))
    late, on_time = throughput.figures(d, s, 1, 1), throughput.figures(plain, s, 1, 1)
    assert late.ttft_ms - on_time.ttft_ms == pytest.approx(late.tpot_ms)


def test_the_kv_cache_is_read_at_the_engines_attention_kernel_share():
    # Llama-3.1-8B on one H100, 256 sequences at 8k tokens: the decode step is bound by the KV-cache reads,
    # which run at the share of HBM peak each engine's attention kernel reaches in AIConfigurator's tables
    # (data/engine_constants.csv attention_bw.*), not at the weights' GEMV share.
    c = constants.read()
    step = {}
    for engine, kv in (("trtllm", "fp8"), ("sglang", "fp8"), ("vllm", "bf16")):
        d = _deployment(model="meta-llama/Llama-3.1-8B", gpu="h100-sxm", engine=engine, kv_dtype=kv)
        kv_bytes = 256 * d.kv_bytes_per_token_per_gpu * 8192
        share = c[f"{engine}.attention_bw.8bit"] if kv == "fp8" else c["attention_bw.16bit"]
        assert d.rates.kv_bps == pytest.approx(d.gpu.mem_bw_tbps * 1e12 * share, rel=1e-3)  # Hopper: no generation factor
        step[engine] = speed.decode_step(d, 256, 8192).attention
        assert step[engine] == pytest.approx(kv_bytes / d.rates.kv_bps, rel=0.02)
    # FlashAttention-3 in SGLang reads FP8 at 0.61 of peak, TensorRT-LLM's XQA at 0.85; BF16 is twice the bytes
    assert 1.3 < step["sglang"] / step["trtllm"] < 1.5
    assert step["vllm"] > step["sglang"]


def test_an_eagerly_launched_prefill_waits_for_the_cpu():
    # SGLang runs its prefill outside CUDA graphs: a short prompt's first token waits for the CPU to launch
    # every GEMM (and the kernels around it) of the pass; a long one hides the launches behind the GPU work
    # (sgl-project/sglang PR #12160: 82.6 ms eager against 23.1 ms in a CUDA graph for one DeepSeek-V3 token)
    c = constants.load()
    d = _deployment(model="deepseek-ai/DeepSeek-V3", gpu="b200-hgx", gpus=8, engine="sglang", weights="fp8")
    launch = d.prefill_launch_s
    assert launch == pytest.approx(c["sglang.prefill_launch_us"] * (3 * (5 + 2) + 58 * (5 + 1 + 2)) * 1e-6)
    assert _deployment(model="deepseek-ai/DeepSeek-V3", gpu="b200-hgx", gpus=8, engine="vllm",
                       weights="fp8").prefill_launch_s == 0.0  # compiled, replayed in piecewise CUDA graphs
    overhead = d.engine.step_overhead_ms * 1e-3
    short_gpu = speed.prefill_time(d, 64)
    assert short_gpu - overhead < launch  # a 64-token pass is launch-bound ...
    assert speed.prefill_time(d, 64, launch_s=launch) == pytest.approx(launch + overhead)
    long_gpu = speed.prefill_time(d, 16384)  # ... sixteen thousand tokens are not: both chunks take GPU time
    assert long_gpu - overhead > 2 * launch
    assert speed.prefill_time(d, 16384, launch_s=launch) == pytest.approx(long_gpu)
    # at one client the first token waits for the launches of its own pass
    s = Scenario(model="deepseek-ai/DeepSeek-V3", gpu="b200-hgx", gpus=8, engine="sglang", weights="fp8",
                 input_len=64, output_len=256, concurrency=1)
    eager = throughput.figures(d, s, 1, 1).ttft_ms
    graphed = throughput.figures(dataclasses.replace(d, engine=dataclasses.replace(d.engine, prefill_launch_us=0.0)),
                                 s, 1, 1).ttft_ms
    assert eager - graphed == pytest.approx((launch + overhead - short_gpu) * 1000)
