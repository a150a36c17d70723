"""planner.recommend: ranked by cost, every rejection with its reason."""
import planner

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


def test_ranking_and_reasons():
    rec = planner.recommend(QWEN_NEXT, input_len=4096, output_len=512, concurrency=32, tpot_ms_max=30,
                            gpus=["h100-sxm", "h200-sxm", "b200-hgx", "a100-80gb-sxm"])
    assert rec.evaluated >= 100
    ok = [c for c in rec.candidates if c.meets_targets]
    costs = [c.usd_per_million_output_tokens for c in ok]
    assert costs == sorted(costs) and ok[0] is rec.best
    assert all(c.tpot_ms <= 30 for c in ok)
    reasons = " | ".join(c.reason or "" for c in rec.candidates if not c.meets_targets)
    assert "exceed" in reasons                      # weights that do not fit
    assert "ms target" in reasons                   # TPOT misses
    assert "GGUF format, served by engine llamacpp" in reasons  # impossible combinations are kept with why


def test_one_h200_bf16_rejected_for_weights():
    rec = planner.recommend(QWEN_NEXT, gpus=["h200-sxm"], counts=(1,), engines=["vllm"], weights=["bf16"])
    (c,) = rec.candidates
    assert not c.fits and "weights 148.4 GiB per GPU exceed" in c.reason
