"""planner.share.links: scenario <-> query string round trips, and hostile values dropped with a named warning."""
import math

import pytest

import planner
from planner.share import links as share

QWEN = "Qwen/Qwen3-Next-80B-A3B-Instruct"
FULL = dict(model=QWEN, gpu="h200-sxm", gpus=2, tp=2, engine="vllm", weights="bf16", kv_dtype="fp8", input_len=4096,
            output_len=512, concurrency=32, gpu_memory_utilization=0.85, usd_per_gpu_hour=3.5, tpot_ms_max=40.0)


def test_round_trip_keeps_every_value_and_the_estimate():
    query = share.to_query(FULL)
    assert query["v"] == share.VERSION and query["model"] == QWEN and query["gpus"] == "2"
    values, warnings = share.from_query(query)
    assert warnings == [] and values == {**FULL}
    scenario = {k: v for k, v in values.items() if k in share.SCENARIO_KEYS}
    assert planner.estimate(**scenario) == planner.estimate(**{k: v for k, v in FULL.items() if k != "tpot_ms_max"})


def test_ids_are_canonicalised_and_max_concurrency_survives():
    values, warnings = share.from_query({"model": QWEN.lower(), "gpu": "H200-SXM", "concurrency": "max", "v": "1"})
    assert warnings == [] and values == {"model": QWEN, "gpu": "h200-sxm", "concurrency": "max"}


def test_share_url_points_at_root_for_the_default_page():
    url = share.share_url("http://host:8501/", {"model": QWEN, "gpus": 2})
    assert url == "http://host:8501/?v=1&model=Qwen%2FQwen3-Next-80B-A3B-Instruct&gpus=2"
    assert share.share_url("http://host:8501", {"gpu": "h100-sxm"}, "compare").startswith("http://host:8501/compare?v=1&gpu=")


@pytest.mark.parametrize("key,value", [
    ("gpus", "-3"), ("gpus", "1e40"), ("input_len", "1e40"), ("gpu_memory_utilization", "nan"), ("usd_per_gpu_hour", "inf"),
    ("usd_per_gpu_hour", "1e40"), ("concurrency", "0"), ("concurrency", "NaN"), ("model", "no/such-model"), ("gpu", "h900"),
    ("engine", "<script>alert(1)</script>"), ("gpu", "../../etc/passwd"), ("weights", "x" * 10_000), ("kv_dtype", "int3"),
    ("tpot_ms_max", "-5"), ("ttft_ms_max", "nan"), ("tp", "3"),
])
def test_hostile_value_is_dropped_with_a_warning_naming_it(key, value):
    values, warnings = share.from_query({"model": QWEN, "gpus": "2", key: value} if key not in ("model", "gpus")
                                        else {key: value, "input_len": "2048"})
    assert key not in values
    assert len(warnings) == 1 and warnings[0].startswith(key + ":")
    assert "<script>" not in warnings[0] and len(warnings[0]) < 300
    assert values  # the rest of the scenario still loads


def test_cross_field_conflict_drops_only_the_offending_key():
    values, warnings = share.from_query({"model": QWEN, "gpu": "h100-sxm", "weights": "gguf-q4_k_m"})
    assert values == {"model": QWEN, "gpu": "h100-sxm"}
    assert warnings[0].startswith("weights:") and "llamacpp" in warnings[0]
    values, warnings = share.from_query({"model": QWEN, "weights": "gguf-q4_k_m", "engine": "llamacpp"})
    assert warnings == [] and values["engine"] == "llamacpp"


def test_unknown_parameter_and_version_are_reported_without_echoing_hostile_names():
    values, warnings = share.from_query({"v": "9", "utm_source": "x", "<img src=x>": "1", "gpus": "4"})
    assert values == {"gpus": 4}
    assert warnings[0].startswith("v:")
    assert warnings[1] == "utm_source, (unnamed): not parameters of this page; ignored"  # one line for all of them
    assert "<img" not in " ".join(warnings)


def test_many_unknown_keys_give_one_warning():
    values, warnings = share.from_query({**{f"k{i}": "x" for i in range(300)}, "gpus": "2"})
    assert values == {"gpus": 2}
    assert warnings == ["k0, k1, k2, k3, k4 and 295 more: not parameters of this page; ignored"]


def test_compare_filters_and_report_choices_travel_in_the_link():
    query = {"gpu_ids": "h200-sxm, mi325x,h200-sxm", "engines": "vllm,sglang", "report_on": "cheapest", "utilization": "0.5"}
    values, warnings = share.from_query(query, page_keys=share.PAGE_KEYS)
    assert warnings == []
    assert values == {"gpu_ids": "h200-sxm,mi325x", "engines": "vllm,sglang", "report_on": "cheapest", "utilization": 0.5}
    assert share.from_query(share.to_query(values), page_keys=share.PAGE_KEYS) == (values, [])
    every = ",".join(planner.core.catalog.gpus())
    assert share.from_query({"gpu_ids": every}, page_keys=share.PAGE_KEYS)[0]["gpu_ids"] == every
    bad, warnings = share.from_query({"gpu_ids": "h200-sxm,nope", "engines": "x", "report_on": "other",
                                      "utilization": "2"}, page_keys=share.PAGE_KEYS)
    assert bad == {} and [w.split(":")[0] for w in warnings] == ["gpu_ids", "engines", "report_on", "utilization"]


def test_imported_models_are_accepted_by_id():
    spec = planner.core.catalog.model("Qwen/Qwen3-8B").model_copy(update={"id": "me/my-finetune"})
    values, warnings = share.from_query({"model": "me/my-finetune", "gpus": "1"}, models={"me/my-finetune": spec})
    assert warnings == [] and values["model"] == "me/my-finetune"
    assert share.to_query({"model": spec})["model"] == "me/my-finetune"


def test_floats_keep_their_value_through_the_url():
    for x in (0.9, 4.07, 3.14159265, 1e-3):
        values, _ = share.from_query(share.to_query({"usd_per_gpu_hour": x}))
        assert math.isclose(values["usd_per_gpu_hour"], x, rel_tol=0, abs_tol=0)


def test_implied_tp_error_blames_the_gpu_count():
    # tp defaults to gpus: 1024 GPUs imply tp=1024, which cannot split Qwen3-Next's 16 heads
    values, warnings = share.from_query({"model": QWEN, "gpus": "1024", "input_len": "10000000", "output_len": "128"})
    assert values == {"model": QWEN, "output_len": 128}
    assert [w.split(":")[0] for w in warnings] == ["gpus", "input_len"]


def test_price_overrides_parse_and_reject():
    from planner.share import links as share
    assert share.parse_prices("H200-NVL:4.2, mi355x:2.6") == {"h200-nvl": 4.2, "mi355x": 2.6}
    for bad, why in (("h200-nvl", "gpu-id:dollars"), ("nope:1", "unknown GPU"), ("mi355x:abc", "not a number"),
                     ("mi355x:-1", "above 0"), ("mi355x:nan", "above 0")):
        with pytest.raises(ValueError, match=why):
            share.parse_prices(bad)
    values, warnings = share.from_query({"prices": "mi355x:2.6,h20:1"}, page_keys=share.PAGE_KEYS)
    assert values["prices"] == "h20:1,mi355x:2.6" and not warnings
