"""planner.recommend: ranked by cost, every rejection with its reason."""
import planner
import planner.core.catalog

QWEN_NEXT = "Qwen/Qwen3-Next-80B-A3B-Instruct"


def test_ranking_and_reasons():
    rec = planner.recommend(QWEN_NEXT, input_len=4096, output_len=512, concurrency=32, tpot_ms_max=30,
                            gpus=["h100-sxm", "h200-sxm", "b200-hgx", "a100-80gb-sxm"])
    assert rec.evaluated >= 100
    ok = [c for c in rec.candidates if c.meets_targets]
    costs = [c.usd_per_request for c in ok]  # all GPU time of a request (issue 13)
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


def test_imported_model_spec_and_queueing_configurations():
    spec = planner.core.catalog.model("meta-llama/Llama-3.1-70B").model_copy(update={"id": "acme/llama-70b-copy"})
    rec = planner.recommend(spec, input_len=2048, output_len=512, concurrency=64, tpot_ms_max=100,
                            gpus=["h100-sxm"], engines=["vllm"], weights=["bf16"])
    assert rec.model == "acme/llama-70b-copy"
    by_count = {c.gpus: c for c in rec.candidates}
    assert not by_count[1].fits
    two = by_count[2]  # fits, but holds fewer than 64 requests at once: queueing is a miss, not a pass
    assert two.fits and two.max_concurrency < 64 and not two.meets_targets and "requests fit at once" in two.reason
    assert by_count[8].meets_targets


def test_estimated_prices_do_not_win_until_the_user_enters_one():
    # MI355X's catalog price is derived from another GPU's, not a dated listing (data/gpus.csv)
    rec = planner.recommend(QWEN_NEXT, input_len=4096, output_len=512, concurrency=32, gpus=["mi355x"], engines=["vllm"])
    assert not any(c.meets_targets for c in rec.candidates)
    assert any("estimate, not a dated list price" in (c.reason or "") for c in rec.candidates)
    priced = planner.recommend(QWEN_NEXT, input_len=4096, output_len=512, concurrency=32, gpus=["mi355x"],
                               engines=["vllm"], prices={"mi355x": 2.5})
    assert priced.best is not None and priced.best.usd_per_hour == 2.5 * priced.best.gpus


def test_pessimistic_ranking_judges_the_slow_end_of_each_band():
    rec = planner.recommend(QWEN_NEXT, input_len=4096, output_len=512, concurrency=32, tpot_ms_max=30, pessimistic=True,
                            gpus=["h100-sxm", "h200-sxm", "b200-hgx"])
    ok = [c for c in rec.candidates if c.meets_targets]
    assert ok and rec.pessimistic
    assert all(c.tpot_ms_high <= 30 and c.tpot_ms_high > c.tpot_ms for c in ok)
    costs = [c.usd_per_request_high for c in ok]
    assert costs == sorted(costs)
    missed = [c for c in rec.candidates if c.fits and c.tpot_ms <= 30 < c.tpot_ms_high]
    assert missed and all("slow end of its 80 % band" in c.reason for c in missed)


def test_extrapolated_candidates_never_outrank_measured_ones_unless_allowed(monkeypatch):
    from planner.core import uncertainty
    monkeypatch.setattr(uncertainty, "measured_pairs", lambda: {("vllm", "hopper"): 12})  # only vLLM on Hopper measured
    kw = dict(input_len=1024, output_len=256, concurrency=8, gpus=["h100-sxm", "b200-hgx"], engines=["vllm", "trtllm"])
    rec = planner.recommend("Qwen/Qwen3-8B", **kw)
    ok = [c for c in rec.candidates if c.meets_targets]
    guesses = [c for c in ok if c.evidence == "extrapolated"]  # TensorRT-LLM on Blackwell: neither is measured
    assert guesses and ok.index(guesses[0]) == len(ok) - len(guesses)
    assert all("ranked after configurations that have one" in c.reason for c in guesses)
    free = planner.recommend("Qwen/Qwen3-8B", allow_extrapolated=True, **kw)
    costs = [c.usd_per_request for c in free.candidates if c.meets_targets]
    assert costs == sorted(costs) and free.best.usd_per_request <= rec.best.usd_per_request
