"""Import a model: upload a config.json or GGUF header, paste JSON, or fetch a Hugging Face id.

The ModelSpec lands in st.session_state["imported_models"] so every page's model selector offers it. The URL
carries `hf=<owner/name>` (re-fetched on open) or `cfg=<packed config>` (planner.share.model_links) when small enough.
"""
import streamlit as st

from planner.importers import hub as hf_fetch
from planner.importers.config import ModelImportError, import_config
from planner.importers.dispatch import MAX_UPLOAD_BYTES, import_upload
from planner.importers.summary import summary
from planner.share.model_links import QUERY_KEY_CONFIG, QUERY_KEY_HF, display_model_name, import_from_query, link_params
from ui import state, widgets

PAGE, URL_PATH = "import", "import_model"


@st.cache_data(max_entries=32, ttl=3600, show_spinner="Fetching config.json and safetensors headers ...")
def fetch(repo_id: str):
    return hf_fetch.import_hf(repo_id)


def attempt(action) -> None:
    """Run one import; keep the spec for every page and the URL that re-creates it (hf=, cfg= or none)."""
    try:
        result = action()
    except ModelImportError as exc:
        st.session_state["import_error"] = str(exc)
        return
    link = next(iter(link_params(result).items()), None)
    st.session_state.setdefault(state.IMPORTED, {})[result.spec.id] = result.spec
    st.session_state.setdefault("import_links", {})[result.spec.id] = link
    st.session_state.update(import_last=result, import_error=None)
    target = dict([link]) if link else {}
    if {k: st.query_params.get(k) for k in st.query_params.keys()} != target:  # rewrite the URL only on change
        st.query_params.from_dict(target)


def seed_from_url() -> None:
    if st.session_state.get("_import_seeded"):
        return
    st.session_state["_import_seeded"] = True
    query = {k: st.query_params.get(k) for k in (QUERY_KEY_HF, QUERY_KEY_CONFIG) if st.query_params.get(k)}
    if query:
        attempt(lambda: import_from_query(query, fetch))


def show(result) -> None:
    d = summary(result)
    st.subheader(widgets.escape_md(display_model_name(d["id"], imported=True)))
    c = st.columns(4)
    c[0].metric("Parameters", f"{d['total_params'] / 1e9:,.2f} billion", help="All weights, vision tower included when present.")
    c[1].metric("Active per token", f"{d['active_params'] / 1e9:,.2f} billion", help="MoE: the experts a token visits, embeddings included.")
    c[2].metric("KV cache per token", f"{d['kv_bytes_per_token']:,.0f} bytes", help="Whole model, bf16, full-context layers (sliding and SSM layers excluded).")
    state_mib = d["state_bytes_per_sequence"] / 2**20
    c[3].metric("State per sequence", f"{state_mib:,.1f} MiB" if state_mib else "none", help="Linear-attention / Mamba layers, bf16, fixed per request.")
    facts = {"read as": d["family"], "layers": ", ".join(f"{n} {k}" for k, n in d["layers"].items()),
             "MoE layers": d["moe_layers"], "default weight format": d["default_weights"],
             "checkpoint bytes (exact)": f"{d['weights_bytes_exact']:,} ({d['weights_bytes_source']})" if d["weights_bytes_exact"] else "unknown (no file told)"}
    if d["quantization"]:
        q = d["quantization"]
        facts["quantization"] = f"{q['method']} -> {q['weights']}; unquantized: {', '.join(q['unquantized_modules']) or 'none listed'}"
    if d["high_precision_modules"]:
        facts["kept in 16/32-bit (headers)"] = ", ".join(d["high_precision_modules"][:12])
    st.table({"fact": list(facts), "value": [str(v) for v in facts.values()]})
    for w in result.warnings:
        st.warning(widgets.escape_md(w), icon=":material/warning:")
    link = st.session_state.get("import_links", {}).get(d["id"])
    if link:
        widgets.share_link(f"{state.base_url(URL_PATH)}/{URL_PATH}?{link[0]}={link[1]}")
    else:
        st.info("This model's config is too large to travel in a link: whoever opens the page must import the same file.")
    st.caption(f"Now offered as **{widgets.escape_md(display_model_name(d['id'], imported=True))}** in the model selector of every page (this session).")
    if st.button("Plan this model", key="import_plan", icon=":material/calculate:"):
        plan(result.spec)


def plan(spec) -> None:
    """Hand the model (and its own format; GGUF -> llama.cpp) to the Planner page through the shared scenario."""
    chosen = {"model": spec.id, "weights": spec.default_weights}
    if spec.default_weights.startswith("gguf-"):
        chosen["engine"] = "llamacpp"
    state.hand_to_planner(chosen)


st.title("Import a model")
st.caption("Plan any model: its config.json (upload or paste), a GGUF file or just its header (head -c 16M model.gguf), "
           "or a Hugging Face id fetched from the hub (config.json, the safetensors index and headers; never the weights).")
seed_from_url()
upload_tab, paste_tab, hub_tab = st.tabs(["Upload a file", "Paste config.json", "Hugging Face id"])
with upload_tab:
    f = st.file_uploader("config.json or .gguf (the header is enough)", type=["json", "gguf"], key="import_upload",
                         max_upload_size=MAX_UPLOAD_BYTES // 2**20,  # Streamlit counts this in 2^20-byte units
                         help=f"At most {MAX_UPLOAD_BYTES / 2**20:.0f} MiB ({MAX_UPLOAD_BYTES / 1e6:.1f} MB) per file.")
    if f is not None and st.button("Import file", key="import_upload_go"):
        data = f.getvalue()
        attempt(lambda: import_upload(f.name, data))
with paste_tab:
    text = st.text_area("config.json", height=200, key="import_paste", placeholder='{"model_type": "llama", ...}')
    if st.button("Import pasted config", key="import_paste_go"):
        attempt(lambda: import_config(text or "{}"))
with hub_tab:
    repo = st.text_input("Model id", key="import_hf", placeholder="Qwen/Qwen3-8B")
    if st.button("Fetch from the hub", key="import_hf_go"):
        attempt(lambda: fetch(repo.strip()))
if st.session_state.get("import_error"):
    st.error(widgets.escape_md(st.session_state["import_error"]), icon=":material/error:")
elif st.session_state.get("import_last") is not None:
    show(st.session_state["import_last"])
