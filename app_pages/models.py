"""Models page: architecture facts of every catalog (and imported) model, and one model's size by format."""
import streamlit as st
from pydantic import ValidationError

from planner import Scenario
from planner.core import catalog
from planner.share import links as share
from planner.core.deployment import resolve
from planner.search import sweeps
from ui import charts, state, widgets

PAGE, URL_PATH = "models", "models"
DEFAULTS = dict(model=share.DEFAULT_MODEL)


def layers_text(m) -> str:
    kinds = {k: m.layers_of(k) for k in ("full", "sliding", "mla", "linear")}
    return " + ".join(f"{n} {k}" for k, n in kinds.items() if n)


def facts(m) -> dict:
    try:
        s = Scenario(model=m, gpu="b200-hgx", engine="vllm", input_len=1, output_len=0)
        d = resolve(s)
        kv, state_b = d.kv_bytes_per_token, d.state_bytes_per_sequence
    except ValidationError:
        kv = state_b = None
    return {"model": m.id, "architecture": m.architecture, "layers by attention": layers_text(m),
            "MoE layers": m.moe_layers, "experts (active)": f"{m.num_experts} ({m.experts_per_token})" if m.is_moe else "dense",
            "params total (B)": m.total_params / 1e9, "params active (B)": m.active_params / 1e9,
            "KV bytes/token": kv, "state MiB/sequence": None if state_b is None else state_b / 2**20,
            "max context": m.max_context, "checkpoint format": m.default_weights}


values = widgets.page_start(PAGE, DEFAULTS, (), "Models",
                            "Architecture facts from each model's config.json. KV bytes/token: whole model in bf16 before "
                            "sharding (full-attention layers; sliding layers capped at their window). State: "
                            "linear-attention layers, fixed per request.")
specs = {**catalog.models(), **state.imported_models()}
imported = set(state.imported_models())
rows = [dict(facts(m), model=widgets.model_name_plain(mid), source="imported" if mid in imported else "catalog")
        for mid, m in specs.items()]  # imported names sanitized and marked, as on every page
st.dataframe(rows, hide_index=True, width="stretch", column_config={
    "params total (B)": st.column_config.NumberColumn("params total (billions)", format="%.1f"),
    "params active (B)": st.column_config.NumberColumn("params active (billions)", format="%.1f"),
    "KV bytes/token": st.column_config.NumberColumn(format="%,.0f"),
    "state MiB/sequence": st.column_config.NumberColumn(format="%.1f")})
st.page_link("app_pages/import_model.py", label="Plan a model that is not listed: import its config.json, safetensors "
             "index or GGUF header, or fetch it by Hugging Face id", icon=":material/upload_file:")

model_id = widgets.model_input(PAGE, values, "Model for the format chart")
state.publish(PAGE, {"model": model_id}, ())
spec = specs[model_id]
st.plotly_chart(charts.memory_by_format(sweeps.format_points(spec), spec.id,
                                        {"H100 80 GB": 80, "H200 141 GB": 141, "B200 180 GB": 180}), width="stretch")
st.caption("Whole-checkpoint weight bytes per format = parameters by tensor class x bits per weight (scales included); "
           "embeddings, lm_head, routers and norms stay 16-bit in engine formats, GGUF quantizes them too. GB = 1e9 bytes.")
if spec.notes:
    st.markdown("\n".join(f"- {widgets.escape_md(n)}" for n in spec.notes))
widgets.share_box(URL_PATH, {"model": model_id})
