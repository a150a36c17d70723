"""Catalog facts pinned to shared/data (published parameter counts, datasheet figures)."""
import csv
from pathlib import Path

import pytest

from planner.core import catalog

DATA = Path(__file__).resolve().parent.parent / "data"
PUBLISHED = {r["model"]: r for r in csv.DictReader(open(DATA / "models" / "published_params.csv"))}


@pytest.mark.parametrize("model_id", sorted(PUBLISHED))
def test_parameter_counts_match_published(model_id):
    m, pub = catalog.model(model_id), PUBLISHED[model_id]
    assert m.total_params == int(pub["total_params"])
    assert m.active_params == int(pub["active_params_per_token"])


def test_qwen3_next_totals():
    m = catalog.model("qwen/qwen3-next-80b-a3b-instruct")  # ids are case-insensitive
    assert m.total_params / 1e9 == pytest.approx(79.67, abs=0.005)
    assert (m.total_params + m.mtp_params) / 1e9 == pytest.approx(81.32, abs=0.01)  # with its MTP layer
    assert m.active_params / 1e9 == pytest.approx(3.87, abs=0.01)  # "about 3.9 B active"
    assert [(g.count, g.attention) for g in m.layers] == [(36, "linear"), (12, "full")]


def test_every_shared_gpu_row_is_in_the_catalog():
    shared_ids = [r["id"] for r in csv.DictReader(open(DATA.parent.parent / "shared" / "data" / "gpus.csv"))] \
        if (DATA.parent.parent / "shared").exists() else []
    ours = catalog.gpus()
    assert len(ours) >= 27
    for gpu_id in shared_ids:
        assert gpu_id in ours


@pytest.mark.parametrize("gpu_id,bf16,bw", [("a100-80gb-sxm", 312, 2.039), ("h100-sxm", 989, 3.35),
                                            ("h200-sxm", 989, 4.8), ("b200-hgx", 2250, 7.7)])
def test_seed_gpus_dense_bf16_and_bandwidth(gpu_id, bf16, bw):
    g = catalog.gpu(gpu_id)
    assert g.bf16_dense_tflops == bf16
    assert g.mem_bw_tbps == bw  # B200 HGX: 7.7 TB/s per NVIDIA's per-GPU table, not the 8.0 launch figure


def test_every_gpu_figure_has_a_source_and_price_date():
    for row in catalog.gpu_rows():
        assert row["spec_source_url"].strip(), row["id"]
        if row["price_usd_gpu_hr_typical"].strip():
            points = row["price_points"]
            assert "202" in points or "undated" in points, row["id"]  # dated, or says plainly that it is not
        if row["memory_gib_usable"].strip():
            assert row["memory_gib_usable_source"].strip(), row["id"]


def test_usable_memory_is_gib_below_vendor_gb():
    h100 = catalog.gpu("h100-sxm")
    assert h100.memory_gb_vendor == 80 and h100.memory_gib_usable == pytest.approx(79.19)
    assert catalog.gpu("h200-sxm").memory_gib_usable == pytest.approx(139.81)


def test_unknown_ids_name_the_known_ones():
    with pytest.raises(KeyError, match="h100-sxm"):
        catalog.gpu("no-such-gpu")
