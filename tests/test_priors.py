"""A validation fold forgets the priors that were set from its held-out rows (scripts/priors.py)."""
import dataclasses
import sys
from pathlib import Path

import pytest

from planner.core import constants, speed
from planner.core.deployment import resolve
from planner.core.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from priors import cited_cases, forget  # noqa: E402

DEEPSEEK_MI300X = dict(model="deepseek-ai/DeepSeek-V3", gpu="mi300x", gpus=8, engine="sglang", weights="fp8",
                       input_len=610, output_len=422)


def test_cited_case_ids_expand_ranges_and_lists():
    assert cited_cases("rows c128-c136 and c188-c190, m089, m098") == (
        {f"c{n}" for n in range(128, 137)} | {"c188", "c189", "c190", "m089", "m098"})
    assert cited_cases("shared/reference/modeling.md §5.2, llm-analysis README") == set()


def test_a_fold_without_a_priors_rows_falls_back_to_its_range_or_the_generic_constant():
    c = constants.load()
    held = forget(c, {"m089"})  # the single-request DeepSeek-V3.1 row on MI300X behind SGLang's ROCm layer cost
    assert "sglang.layer_overhead_us.cdna3" not in {k.name for k in held.rows()}
    with_prior = resolve(Scenario(**DEEPSEEK_MI300X), c).layers_fixed_s
    without = resolve(Scenario(**DEEPSEEK_MI300X), held).layers_fixed_s
    gemms = speed.gemm_launches(resolve(Scenario(**DEEPSEEK_MI300X), c).model)
    generic = (61 * c["sglang.layer_overhead_us"] + 58 * c["moe_layer_overhead_us"]
               + gemms * c["gemm_launch_us"]) * 1e-6
    assert without == pytest.approx(generic) and with_prior > 3 * without
    # SGLang 0.4.6's single-stream H20 rows set the H20's bandwidth share
    h20 = c.row("gpu_bw.h20")
    assert forget(c, {"c205"})["gpu_bw.h20"] == pytest.approx((h20.low + h20.high) / 2)
    # a prior cited from kernel tables, not from rows, stays in every fold
    assert forget(c, {"c148"})["ep_imbalance"] == c["ep_imbalance"]
    # rows no prior cites change nothing
    assert forget(c, {"k002"}) == c


def test_rows_that_hang_on_a_weak_prior_weigh_less_in_the_fit():
    import fit_engines as fe  # its fit needs scipy; its residuals and weights do not
    rows = {r["case_id"]: r for r in fe.speed_rows()}
    pick = ["c148", "c001", "m089", "k002"]
    w = dict(zip(pick, fe.prior_weights([rows[k] for k in pick], constants.load())))
    assert all(0 < v <= 1 for v in w.values())
    # DeepSeek-V3 with expert parallelism on 8 x H200 hangs on the imbalance and all-to-all priors that a
    # single-GPU TensorRT-LLM row on the same GPU does not touch
    assert w["c148"] < w["c001"]
    # SGLang's per-layer cost on MI300X is one source's prior: its DeepSeek-V3 rows count less than B200's
    assert w["m089"] < 0.6 * w["k002"]
    # with no prior left uncertain, every row counts fully
    firm = constants.Constants({k.name: dataclasses.replace(k, low=k.value, high=k.value) if k.status == "prior"
                                else k for k in constants.load().rows()})
    assert fe.prior_weights([rows["c001"], rows["m089"]], firm).tolist() == [1.0, 1.0]
