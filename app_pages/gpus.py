"""GPUs page: the catalog with sources and price dates, and a widely quoted four-GPU comparison checked against it.

The quoted table (A100/H100/H200/B200: dense BF16 TFLOPS and memory bandwidth) is checked in
/work/shared/reference/gpus.md §2 against NVIDIA's datasheets as cited in the catalog's source column.
"""
import streamlit as st

from planner.core import catalog
from ui import explain, state, widgets

PAGE, URL_PATH = "gpus", "gpus"
# The commonly quoted A100/H100/H200/B200 table: dense BF16 TFLOPS and memory bandwidth (TB/s) as printed
# (B200 at 8.0 TB/s as in NVIDIA's DGX B200 launch material; its per-GPU datasheet table says 7.7).
SEED = {"a100-80gb-sxm": (312, 2.0), "h100-sxm": (989, 3.35), "h200-sxm": (989, 4.8), "b200-hgx": (2250, 8.0)}
COLUMNS = {  # catalog column: readable header (units in the header; GB = 1e9 bytes, GiB = 2^30)
    "name": st.column_config.TextColumn("GPU", pinned=True), "id": st.column_config.TextColumn("id (in links)"),
    "memory_gb_vendor": st.column_config.NumberColumn("memory (GB, vendor)"),
    "memory_gib_usable": st.column_config.NumberColumn("usable by torch (GiB)", format="%.1f"),
    "mem_bw_tbps": st.column_config.NumberColumn("bandwidth (TB/s)"),
    "bf16_dense_tflops": st.column_config.NumberColumn("BF16 dense TFLOPS"),
    "bf16_sparse_tflops": st.column_config.NumberColumn("BF16 sparse TFLOPS"),
    "fp8_dense_tflops": st.column_config.NumberColumn("FP8 dense TFLOPS"),
    "fp4_dense_tflops": st.column_config.NumberColumn("FP4 dense TFLOPS"),
    "scaleup_interconnect": st.column_config.TextColumn("GPU-to-GPU link"),
    "price_usd_gpu_hr_typical": st.column_config.NumberColumn("typical $/GPU-hour", format="%.2f"),
    "price_points": st.column_config.TextColumn("price points (source, date)", width="large"),
    "spec_source_url": st.column_config.LinkColumn("datasheet"),
    "notes": st.column_config.TextColumn("notes"),
}


def seed_rows() -> list[dict]:
    urls = {r["id"]: r.get("spec_source_url") or "" for r in catalog.gpu_rows()}
    out = []
    for gpu_id, (tflops, tbps) in SEED.items():
        g = catalog.gpu(gpu_id)
        exact = g.bf16_dense_tflops == tflops and g.mem_bw_tbps == tbps
        same = abs(g.bf16_dense_tflops - tflops) < 0.5 and abs(g.mem_bw_tbps - tbps) <= 0.03 * tbps  # 2.039 printed as 2.0
        out.append({"GPU": g.name, "quoted BF16 TFLOPS (dense)": tflops, "quoted TB/s": tbps,
                    "planner BF16 TFLOPS (dense)": g.bf16_dense_tflops, "planner TB/s": g.mem_bw_tbps,
                    "status": "matches" if exact else "matches (rounded)" if same else "corrected",
                    "datasheet": urls.get(gpu_id, ""), "note": g.notes})
    return out


values = widgets.page_start(PAGE, {"gpu": "h200-sxm"}, (), "GPUs")
st.subheader("A widely quoted A100 / H100 / H200 / B200 comparison, checked against the datasheets")
st.caption("Dense BF16 TFLOPS and memory bandwidth as commonly quoted for these four GPUs (B200 at 8.0 TB/s, as in "
           "NVIDIA's DGX B200 launch material), each checked against the datasheet linked in its row.")
seed = seed_rows()
st.dataframe(seed, hide_index=True, width="stretch", column_config={
    "quoted TB/s": st.column_config.NumberColumn(format="%.2f"), "planner TB/s": st.column_config.NumberColumn(format="%.2f"),
    "datasheet": st.column_config.LinkColumn("datasheet")})
for row in seed:
    if row["status"] == "corrected":
        st.info(f"**{widgets.escape_md(row['GPU'])}**: {widgets.escape_md(row['note'])}")
st.caption("TFLOPS are dense (no 2:4 sparsity); NVIDIA pages often print sparse figures, twice as high. TB/s = 1e12 bytes/s. "
           "Where a quoted number differs from the datasheet, the planner uses the datasheet's figure (notes column).")
st.subheader("Catalog")
rows = [{k: r.get(k, "") for k in COLUMNS} for r in catalog.gpu_rows()]
st.dataframe(rows, hide_index=True, width="stretch", column_config=COLUMNS)
gpu_id = st.selectbox("Details for", list(catalog.gpus()), format_func=widgets.gpu_label,
                      key=state.init(PAGE, "gpu", values["gpu"]))
state.publish(PAGE, {"gpu": gpu_id}, ())
g = catalog.gpu(gpu_id)
c = st.columns(4)
c[0].metric("Memory", f"{g.memory_gb_vendor:g} GB", help=f"Vendor GB (1e9 bytes); torch can allocate {g.memory_gib_usable:.1f} GiB.")
c[1].metric("Bandwidth", f"{g.mem_bw_tbps:g} TB/s", help="HBM/GDDR bandwidth, 1e12 bytes/s; decode speed scales with it.")
c[2].metric("BF16 dense", f"{g.bf16_dense_tflops:g} TFLOPS", help="Dense tensor-core peak (no sparsity).")
c[3].metric("Typical price", "n/a" if g.price_usd_gpu_hr is None else f"${g.price_usd_gpu_hr:.2f}/h", help=widgets.escape_md(g.price_note[:500]) or None)
st.markdown(f"**Sources:** {widgets.escape_md(g.spec_source)}  \n**Prices (with dates):** {widgets.escape_md(g.price_note)}  \n"
            f"**Notes:** {widgets.escape_md(g.notes)}")
with st.expander("Units"):
    st.markdown(explain.UNITS)
widgets.share_box(URL_PATH, {"gpu": gpu_id})
