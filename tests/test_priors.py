"""A validation fold forgets the priors that were set from its held-out rows (scripts/priors.py)."""
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
    # the DEP rows of the TensorRT-LLM developer guide set the expert-parallel imbalance
    ep = c.row("ep_imbalance")
    assert forget(c, {"c148"})["ep_imbalance"] == pytest.approx((ep.low + ep.high) / 2)
    # rows no prior cites change nothing
    assert forget(c, {"k002"}) == c
