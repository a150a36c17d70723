"""The model's constants are data (data/engine_constants.csv): validated, immutable, swappable per call."""
import pytest

import planner
from planner.core import catalog, constants
from planner.core.engines import ENGINE_IDS, TUNED_FIELDS, constant_name, profile
from planner.core.scenario import Scenario

LLAMA_70B_H200 = dict(model="meta-llama/Llama-3.1-70B", gpu="h200-sxm", gpus=2, weights="fp8", concurrency=8)


def test_every_constant_has_a_range_a_status_and_a_source():
    rows = constants.load().rows()
    assert len(rows) >= 60
    for r in rows:
        assert r.low <= r.value <= r.high and r.status in constants.STATUSES and r.source.strip(), r
    for engine in ENGINE_IDS:  # every engine's speed constants come from the file
        for field in TUNED_FIELDS:
            assert getattr(profile(engine), field) == constants.load()[constant_name(engine, field)]


def test_no_constant_ends_on_its_bound():
    # issue 10: a constant at the end of its documented range means the model's structure misses something;
    # a fixed row (low == high) is a definition, not a bound
    for r in constants.load().rows():
        if r.high > r.low:
            margin = 1e-3 * (r.high - r.low)
            assert r.low + margin < r.value < r.high - margin, r


def test_a_row_outside_its_range_fails_loudly(tmp_path):
    bad = tmp_path / "c.csv"
    bad.write_text("name,value,low,high,unit,status,source\nep_imbalance,2.5,1.0,1.8,ratio,fit,rows c125-c150\n")
    with pytest.raises(ValueError, match=r"c.csv line 2: ep_imbalance = 2.5 lies outside its range \[1.0, 1.8\]"):
        constants.read(bad)
    bad.write_text("name,value,low,high,unit,status,source\nep_imbalance,1.5,1.0,1.8,ratio,guess,rows\n")
    with pytest.raises(ValueError, match="status 'guess'"):
        constants.read(bad)


def test_write_then_read_round_trips(tmp_path):
    c = constants.load().replace({"vllm.mem_efficiency": 0.8123})
    constants.write(c, tmp_path / "c.csv")
    assert constants.read(tmp_path / "c.csv") == c and c != constants.load()


def test_other_constants_change_one_call_and_nothing_else():
    s = Scenario(**LLAMA_70B_H200)
    base = planner.estimate_scenario(s).performance.tpot_ms
    slower = constants.load().replace({"vllm.mem_efficiency": constants.load()["vllm.mem_efficiency"] / 2})
    assert planner.estimate_scenario(s, constants=slower).performance.tpot_ms > 1.3 * base
    assert planner.estimate_scenario(s).performance.tpot_ms == base  # the project's set is untouched
    with pytest.raises(KeyError, match="unknown constants: nope"):
        constants.load().replace({"nope": 1.0})


def test_catalog_objects_are_read_only():
    with pytest.raises(TypeError):
        catalog.gpus()["h100-sxm"] = None
    with pytest.raises(TypeError):
        catalog.models()["x/y"] = None
    with pytest.raises(TypeError):
        catalog.gpu_rows()[0]["mem_bw_tbps"] = "99"
    with pytest.raises(Exception):  # pydantic frozen model
        catalog.gpu("h100-sxm").mem_bw_tbps = 99.0


def test_a_catalog_spec_cannot_be_changed_in_place():
    import copy
    import pickle
    spec = catalog.model("Qwen/Qwen3-8B")
    with pytest.raises(TypeError, match="read-only"):
        spec.params["embed"] = 0
    assert pickle.loads(pickle.dumps(spec)).params == spec.params  # st.cache_data and copies still work
    changed = spec.model_copy(update={"params": {**spec.params, "embed": 0}})
    assert changed.total_params == spec.total_params - spec.params["embed"] and copy.deepcopy(changed) == changed
    with pytest.raises(TypeError):
        changed.params["lm_head"] = 1


def test_an_engine_measured_on_one_gpu_generation_carries_its_own_constant_there():
    # SGLang on ROCm: one source measures it, so its per-layer cost there is a cited prior of its own
    c = constants.load()
    assert c.row("sglang.layer_overhead_us.cdna3").status == "prior"
    assert profile("sglang", generation="cdna3").layer_overhead_us == c["sglang.layer_overhead_us.cdna3"]
    assert profile("sglang", generation="hopper").layer_overhead_us == c["sglang.layer_overhead_us"]
    assert constant_name("sglang", "layer_overhead_us", "cdna3") == "sglang.layer_overhead_us.cdna3"
    assert constant_name("sglang", "mem_efficiency", "cdna3") == "vllm.mem_efficiency"  # no own value: vLLM's kernels
