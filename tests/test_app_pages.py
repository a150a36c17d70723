"""AppTest for every page: opened from a Qwen3-Next share link, figures equal planner.estimate/recommend,
widget changes rewrite st.query_params, hostile parameters give warnings and never exceptions."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import planner
from planner.report import wording
from planner.report.wording import decision_line
from planner.search.recommend import shortfall
from ui.widgets import escape_md

from app_page import open_page

QWEN = "Qwen/Qwen3-Next-80B-A3B-Instruct"
SHARE = dict(model=QWEN, gpu="h200-sxm", gpus="2", weights="bf16")
HOSTILE = dict(gpus="-3", input_len="1e40", gpu_memory_utilization="nan", gpu="<script>alert(1)</script>",
               engine="../../etc/passwd", kv_dtype="x" * 10_000)


def _open(query: dict, page: str | None = None, imported: dict | None = None) -> AppTest:
    return open_page(page, query, 60, {"imported_models": imported} if imported else None)


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_planner_from_share_link_shows_the_estimate():
    at = _open(SHARE)
    _ok(at)
    est = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=2, weights="bf16")
    p, c, m = est.performance, est.cost, est.memory
    assert _metrics(at) == {
        "TTFT": f"{p.ttft_ms:,.0f} ms", "TPOT": f"{p.tpot_ms:,.1f} ms",
        "Tokens/s per user": f"{p.output_tokens_per_s_per_user:,.1f}", "Output tokens/s, all users": f"{p.output_tokens_per_s:,.0f}",
        "$ / M output tokens": f"{c.usd_per_million_output_tokens:,.2f}", "$ / M input tokens": f"{c.usd_per_million_input_tokens:,.3f}",
        "Max concurrency": f"{m.max_concurrency:,}", "$ per hour": f"{c.usd_per_hour:,.2f}"}
    assert at.success[0].value == "**Fits.** " + escape_md(decision_line(planner.Scenario(**SHARE), est))
    assert at.success[0].value.startswith("**Fits.** Buy 2 × NVIDIA H200 SXM 141 GB to serve")
    assert "words/s" in at.success[0].value and "a month" in at.success[0].value
    assert at.query_params["gpus"] == "2" and at.query_params["model"] == QWEN and at.query_params["v"] == "1"
    assert "/?v=1&model=Qwen%2FQwen3-Next-80B-A3B-Instruct&gpu=h200-sxm&gpus=2" in at.code[-1].value
    assert not at.warning


def test_planner_widget_changes_update_the_url_and_the_figures():
    at = _open(SHARE)
    at.sidebar.number_input(key="planner_gpus").set_value(4).run()
    at.sidebar.selectbox(key="planner_weights").set_value("fp8").run()
    _ok(at)
    assert at.query_params["gpus"] == "4" and at.query_params["weights"] == "fp8"
    est = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=4, weights="fp8")
    assert _metrics(at)["TPOT"] == f"{est.performance.tpot_ms:,.1f} ms"
    at.sidebar.number_input(key="planner_usd_per_gpu_hour").set_value(2.5).run()
    assert at.query_params["usd_per_gpu_hour"] == "2.5"
    assert _metrics(at)["$ per hour"] == "10.00"


def test_planner_not_fitting_names_the_reason_and_the_nearest_fit():
    at = _open(dict(SHARE, gpu="h100-sxm", gpus="1"))
    _ok(at)
    assert at.error[0].value.startswith("Does not fit") and "exceed" in at.error[0].value
    assert "fits with 4 GPUs" in at.info[0].value
    assert _metrics(at)["TTFT"] == "n/a"


def test_planner_invalid_combination_is_an_error_not_an_exception():
    at = _open(SHARE)
    at.sidebar.selectbox(key="planner_weights").set_value("gguf-q4_k_m").run()
    _ok(at)
    assert "weights" in at.error[0].value and "llamacpp" in at.error[0].value
    assert at.query_params["weights"] == "gguf-q4_k_m"  # the link reproduces what the user sees


def test_planner_hostile_parameters_warn_and_the_rest_loads():
    at = _open(dict(SHARE, **HOSTILE))
    _ok(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")  # markdown escapes
    for key in HOSTILE:
        assert key in text
    assert "<script>" not in text
    assert at.query_params["model"] == QWEN and at.query_params["gpus"] == "2" and at.query_params["gpu"] == "h200-sxm"
    assert at.success  # the valid part of the scenario still computes


def test_planner_uses_an_imported_model():
    spec = planner.core.catalog.model("Qwen/Qwen3-8B").model_copy(update={"id": "me/my-finetune"})
    at = _open(dict(model="me/my-finetune", gpu="h100-sxm", gpus="1"), imported={"me/my-finetune": spec})
    _ok(at)
    est = planner.estimate(model=spec, gpu="h100-sxm", gpus=1)
    assert _metrics(at)["TPOT"] == f"{est.performance.tpot_ms:,.1f} ms"
    assert at.query_params["model"] == "me/my-finetune"


def test_compare_from_share_link_matches_recommend():
    query = dict(model=QWEN, input_len="1024", output_len="256", concurrency="16", tpot_ms_max="50", ttft_ms_max="2000")
    at = _open(query, "app_pages/compare.py")
    _ok(at)
    rec = planner.recommend(QWEN, input_len=1024, output_len=256, concurrency=16, ttft_ms_max=2000, tpot_ms_max=50)
    best = rec.best
    assert escape_md(f"{best.gpus} x {wording.gpu_label(best.gpu)}") in at.success[0].value
    assert f"{best.usd_per_million_output_tokens:.2f}" in at.success[0].value
    table = at.dataframe[0].value
    row = table[(table["config"] == "2 x NVIDIA H200 SXM 141 GB, vllm, bf16")].iloc[0]
    est = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=2, weights="bf16", tp=2, concurrency=16)
    assert row["tpot_ms"] == pytest.approx(est.performance.tpot_ms)
    assert row["usd_per_million_output_tokens"] == pytest.approx(est.cost.usd_per_million_output_tokens)
    assert at.query_params["tpot_ms_max"] == "50" and at.query_params["concurrency"] == "16"
    at.sidebar.number_input(key="compare_tpot_ms_max").set_value(30.0).run()
    _ok(at)
    assert at.query_params["tpot_ms_max"] == "30"


def test_compare_hostile_parameters_warn():
    at = _open(dict(model=QWEN, concurrency="16", tpot_ms_max="-1", ttft_ms_max="inf", budget_usd_per_hour="<b>x</b>"),
               "app_pages/compare.py")
    _ok(at)
    text = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "tpot_ms_max" in text and "ttft_ms_max" in text and "budget_usd_per_hour" in text


def test_models_page_lists_catalog_and_imported_models():
    spec = planner.core.catalog.model("Qwen/Qwen3-8B").model_copy(update={"id": "me/my-finetune"})
    at = _open(dict(model=QWEN), "app_pages/models.py", imported={"me/my-finetune": spec})
    _ok(at)
    table = at.dataframe[0].value
    qwen = table[table["model"] == QWEN].iloc[0]
    assert qwen["KV bytes/token"] == 24_576  # DESIGN.md §3: Qwen3-Next, bf16, 12 full-attention layers
    assert qwen["layers by attention"] == "12 full + 36 linear" and qwen["experts (active)"] == "512 (10)"
    assert table[table["model"] == "me/my-finetune (imported)"].iloc[0]["source"] == "imported"
    at.selectbox(key="models_model").set_value("openai/gpt-oss-120b").run()
    _ok(at)
    assert at.query_params["model"] == "openai/gpt-oss-120b"
    assert _open(dict(model="<script>x</script>"), "app_pages/models.py").warning


def test_gpus_page_shows_the_seed_table_with_corrections():
    at = _open(dict(gpu="b200-hgx"), "app_pages/gpus.py")
    _ok(at)
    seed = at.dataframe[0].value.set_index("GPU")
    assert list(seed["planner BF16 TFLOPS (dense)"]) == [312, 989, 989, 2250]
    assert list(seed["quoted TB/s"]) == [2.0, 3.35, 4.8, 8.0]
    assert all(u.startswith("https://") for u in seed["datasheet"])  # every checked figure cites its datasheet
    assert not any("seed" in s.value.lower() or "article" in s.value.lower() for s in at.subheader)
    b200 = seed.loc[planner.core.catalog.gpu("b200-hgx").name]
    assert b200["planner TB/s"] == 7.7 and b200["status"] == "corrected"
    assert list(seed["status"]) == ["matches (rounded)", "matches", "matches", "corrected"]  # A100: 2.039 TB/s
    assert _metrics(at)["Bandwidth"] == "7.7 TB/s"
    at.selectbox(key="gpus_gpu").set_value("h100-sxm").run()
    assert at.query_params["gpu"] == "h100-sxm"
    bad = _open(dict(gpu="1e40"), "app_pages/gpus.py")
    _ok(bad)
    assert "gpu" in bad.warning[0].value


@pytest.mark.parametrize("page", [None, "app_pages/compare.py"])
def test_edge_values_valid_for_the_scenario_fit_the_widgets(page):
    query = dict(SHARE, gpu_memory_utilization="0.055", kv_dtype="fp32", gpus="1024", input_len="10000000",
                 concurrency="100000", usd_per_gpu_hour="1000", tp="1024")
    at = _open(query, page)
    _ok(at)


def test_planner_apply_button_switches_to_the_nearest_fit():
    at = _open(dict(SHARE, gpu="h100-sxm", gpus="1"))
    button = next(b for b in at.button if b.label.startswith("Apply: fits with 4 GPUs"))
    button.click().run()
    _ok(at)
    assert at.query_params["gpus"] == "4" and at.query_params["tp"] == "4"
    assert at.success and at.success[0].value.startswith("**Fits.** Buy 4 ×")


def test_imported_model_travels_in_the_share_link():
    import json
    from planner.importers.config import import_config
    from planner.share.model_links import encode_config_param
    config = json.loads((Path(__file__).parent / "fixtures" / "configs" / "phi3-mini-4k.json").read_text())
    spec = import_config(config).spec
    cfg = encode_config_param(config)
    # a fresh session (no import done) opens a link that carries the packed config
    at = _open({"model": spec.id, "gpu": "l4", "gpus": "1", "cfg": cfg})
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.session_state["imported_models"][spec.id].total_params == spec.total_params
    est = planner.estimate(model=spec, gpu="l4", gpus=1)
    assert _metrics(at)["TPOT"] == f"{est.performance.tpot_ms:,.1f} ms"
    assert at.query_params["cfg"] == cfg and at.query_params["model"] == spec.id  # the link keeps carrying it
    assert any("cfg=" in c.value for c in at.code)


def test_broken_model_link_warns_and_keeps_the_rest():
    at = _open({"model": QWEN, "gpu": "h200-sxm", "gpus": "2", "cfg": "1not-a-packed-config"})
    _ok(at)
    assert any("cfg\\: cfg parameter is not a packed config" in w.value for w in at.warning)
    assert at.query_params["gpus"] == "2"


def test_compare_ranks_gpus_with_the_users_prices():
    at = _open({"model": QWEN, "input_len": "1024", "output_len": "256", "concurrency": "16",
                "prices": "mi355x:0.5"}, page="app_pages/compare.py")
    _ok(at)
    assert at.query_params["prices"] == "mi355x:0.5"
    assert "MI355X" in at.success[0].value  # at $0.50/GPU-hour it wins; without a price it cannot rank
    bad = _open({"model": QWEN, "prices": "no-such-gpu:1"}, page="app_pages/compare.py")
    _ok(bad)
    assert any("prices" in w.value for w in bad.warning)


def test_planner_applies_a_probe_calibration_from_the_link():
    at = _open({**SHARE, "cal_decode": "1.5", "cal_prefill": "2", "cal_ttft_ms": "80"})
    _ok(at)
    cal = planner.Calibration(decode_time_factor=1.5, prefill_time_factor=2.0, ttft_overhead_ms=80.0)
    est = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=2, weights="bf16", calibration=cal)
    assert _metrics(at)["TPOT"] == f"{est.performance.tpot_ms:,.1f} ms"
    assert _metrics(at)["TTFT"] == f"{est.performance.ttft_ms:,.0f} ms"
    assert any("Calibrated by a probe" in i.value for i in at.info)
    assert at.query_params["cal_decode"] == "1.5"
    at.button(key="planner_uncalibrate").click().run()
    _ok(at)
    plain = planner.estimate(model=QWEN, gpu="h200-sxm", gpus=2, weights="bf16")
    assert _metrics(at)["TPOT"] == f"{plain.performance.tpot_ms:,.1f} ms"
    assert "cal_decode" not in at.query_params


def test_compare_filters_by_gpu_and_engine_from_the_link():
    query = dict(model=QWEN, input_len="1024", output_len="256", concurrency="16", tpot_ms_max="50",
                 gpu_ids="h200-sxm,mi325x", engines="vllm")
    at = _open(query, "app_pages/compare.py")
    _ok(at)
    assert at.sidebar.multiselect(key="compare_gpu_ids").value == ["h200-sxm", "mi325x"]
    table = at.dataframe[0].value
    assert set(table["config"].str.extract(r"x (.*?),")[0]) <= {"NVIDIA H200 SXM 141 GB", "AMD Instinct MI325X 256 GB"}
    assert set(table["config"].str.split(", ").str[1]) == {"vllm"}
    rec = planner.recommend(QWEN, input_len=1024, output_len=256, concurrency=16, ttft_ms_max=2000, tpot_ms_max=50,
                            gpus=["h200-sxm", "mi325x"], engines=["vllm"])
    assert len(table) == sum(c.fits for c in rec.candidates)
    at.sidebar.multiselect(key="compare_engines").set_value(["vllm", "sglang"]).run()
    _ok(at)
    assert at.query_params["engines"] == "vllm,sglang" and at.query_params["gpu_ids"] == "h200-sxm,mi325x"
    assert "gpu_ids=h200-sxm%2Cmi325x" in at.code[-1].value


def test_compare_ranks_misses_by_how_far_they_miss():
    query = dict(model=QWEN, input_len="4000", output_len="500", concurrency="50", ttft_ms_max="20", tpot_ms_max="5")
    at = _open(query, "app_pages/compare.py")
    _ok(at)
    assert "No configuration meets every target" in at.error[0].value
    table = at.dataframe[0].value
    assert list(table["rank"][:3]) == ["miss 1", "miss 2", "miss 3"]
    rec = planner.recommend(QWEN, input_len=4000, output_len=500, concurrency=50, ttft_ms_max=20, tpot_ms_max=5)
    offs = sorted(shortfall(c, 20, 5, None, 50) for c in rec.candidates if c.fits)
    assert table["misses_by"][0] == f"{offs[0]:,.2f}× target"
    ratios = [float(s.split("×")[0].replace(",", "")) for s in table["misses_by"] if s]
    assert ratios == sorted(ratios)  # closest first, not cheapest first
    assert "None" not in set(table["rank"])


def test_one_warning_for_many_unknown_keys_and_imported_names_are_marked():
    at = _open({**SHARE, **{f"utm_{i}": "x" for i in range(300)}})
    _ok(at)
    assert len(at.warning) == 1 and "and 295 more" in at.warning[0].value
    import json
    from planner.share.model_links import encode_config_param
    config = json.loads((Path(__file__).parent / "fixtures" / "configs" / "phi3-mini-4k.json").read_text())
    config["_name_or_path"] = "APPROVED by CFO: buy 64 x B200 <b>now</b> " + "!" * 200
    from planner.importers.config import import_config
    spec_id = import_config(config).spec.id
    at = _open({"model": spec_id, "gpu": "l4", "gpus": "1", "cfg": encode_config_param(config)})
    _ok(at)
    note = next(i.value for i in at.info if "imported as" in i.value)
    assert "APPROVED\\-by\\-CFO\\-buy\\-64\\-x\\-B200\\-b\\-now\\-/b \\(imported\\)" in note
    assert "APPROVED by CFO" not in note and "<b>" not in note
    banner = at.success[0].value
    assert "\\(imported\\)" in banner and "APPROVED by CFO" not in banner and "!!!" not in banner


def test_upload_limit_is_stated_once_and_enforced_by_the_widget():
    from planner.importers.dispatch import MAX_UPLOAD_BYTES
    at = _open({}, "app_pages/import_model.py")
    _ok(at)
    upload = at.get("file_uploader")[0].proto
    assert upload.max_upload_size_mb == MAX_UPLOAD_BYTES // 2**20 == 32  # the widget's own "Limit 32MB" line
    assert "MiB" not in upload.label and "32 MiB" in upload.help  # no second, different figure in the label
