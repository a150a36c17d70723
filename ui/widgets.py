"""Widget helpers shared by the pages: scenario inputs, metrics, warnings and the share-link control.

User-supplied text is never rendered as HTML (no unsafe_allow_html anywhere); warnings that may
quote a URL value are markdown-escaped first.
"""
from __future__ import annotations

import re

import streamlit as st

from planner.core import catalog
from planner.share import links as share
from planner.core.engines import profile
from planner.core.precision import FORMATS
from planner.core.scenario import ENGINES
from planner.report import ranges, wording
from planner.share.model_links import display_model_name
from ui import explain, state

KV_DTYPES = ("auto", "bf16", "fp16", "fp8", "fp32", "q8_0", "q4_0")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def escape_md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def show_warnings(warnings: list[str]) -> None:
    """All of a link's problems in one box (a link with 300 stray keys is one notice, not 300)."""
    if len(warnings) == 1:
        st.warning("Share link: " + escape_md(warnings[0]), icon=":material/warning:")
    elif warnings:
        st.warning("Share link: some parameters were not used.\n" + "\n".join(f"- {escape_md(w)}" for w in warnings[:20])
                   + (f"\n- and {len(warnings) - 20:,} more" if len(warnings) > 20 else ""), icon=":material/warning:")


def model_name(model_id: str) -> str:
    """A model as pages show it: imported names sanitized and marked (planner.share.model_links), markdown-escaped."""
    return escape_md(display_model_name(model_id, model_id in state.imported_models()))


def page_start(page: str, defaults: dict, page_keys: tuple[str, ...], title: str, caption: str | None = None) -> dict:
    """Every page's first lines: values from the share link or the session, title, caption, link warnings."""
    values, warnings = state.load(page, defaults, page_keys)
    st.title(title)
    if caption:
        st.caption(caption)
    show_warnings(warnings)
    linked = st.session_state.pop(state.LINK_IMPORTED, None)
    if linked:  # never silent: the model came from the link, not from the catalog
        st.info(f"This link carries its own model, imported as **{model_name(linked)}**: not a catalog model; its name "
                "and architecture are whatever the link holds.", icon=":material/upload_file:")
    return values


def gpu_label(gpu_id: str) -> str:
    """'NVIDIA H200 SXM 141 GB': the name with its memory once, short enough for a select box."""
    return wording.gpu_label(gpu_id)


def model_input(page: str, values: dict, label: str = "Model") -> str:
    options = state.model_options()
    current = values["model"] if values["model"] in options else options[0]
    return st.selectbox(label, options, key=state.init(page, "model", current), format_func=model_name_plain,
                        help="Catalog models plus models imported in this session; type to search.")


def model_name_plain(model_id: str) -> str:
    return display_model_name(model_id, model_id in state.imported_models())


def scenario_inputs(page: str, values: dict) -> tuple[dict, object]:
    """Model, hardware and workload widgets: (the chosen scenario values, the model id or imported spec)."""
    model_id = model_input(page, values)
    spec = state.resolve_model(model_id)
    values["weights"] = values.get("weights") or (catalog.model(spec) if isinstance(spec, str) else spec).default_weights
    return dict(model=model_id, **hardware_inputs(page, values), **workload_inputs(page, values)), spec


def workload_inputs(page: str, values: dict) -> dict:
    """input_len, output_len and concurrency (an int, or 'max' for offline batch runs)."""
    out = {}
    c1, c2 = st.columns(2)
    out["input_len"] = c1.number_input("Input tokens", 0, 10_000_000, step=256, key=state.init(page, "input_len", values["input_len"]))
    out["output_len"] = c2.number_input("Output tokens", 0, 10_000_000, step=64, key=state.init(page, "output_len", values["output_len"]))
    is_max = st.toggle("Max concurrency (offline batch)", key=state.init(page, "offline", values["concurrency"] == "max"),
                       help="Run as many requests at once as memory and the engine admit, as offline throughput runs do.")
    n = st.number_input("Concurrent requests", 1, 100_000, disabled=is_max, key=state.init(
        page, "concurrency_n", values["concurrency"] if values["concurrency"] != "max" else 1),
        help="Closed loop: this many requests always in flight.")
    out["concurrency"] = "max" if is_max else int(n)
    return out


def hardware_inputs(page: str, values: dict) -> dict:
    out = {}
    gpu_ids = list(catalog.gpus())
    out["gpu"] = st.selectbox("GPU", gpu_ids, format_func=gpu_label, key=state.init(page, "gpu", values["gpu"]))
    c1, c2 = st.columns(2)
    out["gpus"] = c1.number_input("GPUs", 1, 1024, key=state.init(page, "gpus", values["gpus"]))
    out["engine"] = c2.selectbox("Engine", ENGINES, key=state.init(page, "engine", values["engine"]))
    fmts = list(FORMATS)
    out["weights"] = c1.selectbox("Weights", fmts, key=state.init(page, "weights", values["weights"]),
                                  help="Weight format; scales included in the size. GGUF formats need engine llamacpp.")
    out["kv_dtype"] = c2.selectbox("KV cache", KV_DTYPES, key=state.init(page, "kv_dtype", values["kv_dtype"]),
                                   help="auto = the model's own dtype; q8_0/q4_0 are llama.cpp only.")
    return out


def advanced_inputs(page: str, values: dict) -> dict:
    out = {}
    with st.expander("Parallelism and engine budget"):
        c1, c2, c3 = st.columns(3)
        for col, name, hi in ((c1, "tp", 1024), (c2, "pp", 256), (c3, "ep", 1024)):
            out[name] = col.number_input(name, 1, hi, value=None, placeholder="auto", key=state.init(page, name, values.get(name)))
        out["gpu_memory_utilization"] = st.number_input(
            "GPU memory utilization", 0.05, 1.0, value=None, step=0.01, placeholder="engine default",
            key=state.init(page, "gpu_memory_utilization", values.get("gpu_memory_utilization")),
            help="Share of GPU memory the engine may use (vLLM --gpu-memory-utilization, default 0.9).")
    return out


def price_input(page: str, gpu_id: str, values: dict) -> float | None:
    """$/GPU-hour prefilled from the catalog; returns None while it equals the catalog price."""
    catalog_price = catalog.gpu(gpu_id).price_usd_gpu_hr
    k, seen = state.key(page, "usd_per_gpu_hour"), f"_{page}_price_gpu"
    if st.session_state.get(seen) not in (None, gpu_id):  # another GPU picked: its own price
        st.session_state[k] = catalog_price
    st.session_state[seen] = gpu_id
    price = st.number_input("$ per GPU-hour", 0.0, 1000.0, step=0.1, format="%.2f",
                            key=state.init(page, "usd_per_gpu_hour", values.get("usd_per_gpu_hour") or catalog_price),
                            help="Prefilled with the catalog's typical on-demand price (see the GPUs page); edit freely.")
    if price is None or (catalog_price is not None and abs(price - catalog_price) < 1e-9):
        return None
    return float(price)


def fmt(x, spec: str, unit: str = "") -> str:
    return "n/a" if x is None else f"{x:{spec}}{unit}"


def _metric(col, label: str, value, spec: str, unit: str, help_text: str, band=None) -> None:
    """One headline figure; under it, when predicted, its 80 % range and evidence (readable without hovering)."""
    col.metric(label, fmt(value, spec, " " + unit if unit else ""), help=help_text)
    if band is not None and value is not None:
        col.caption(f"80 % range {ranges.interval(band, spec, unit)} · {ranges.evidence(band)}")


def metrics(est) -> None:
    p, c, m, u = est.performance, est.cost, est.memory, est.uncertainty
    row1 = st.columns(4)
    _metric(row1[0], "TTFT", p.ttft_ms, ",.0f", "ms", explain.TTFT, u.get("ttft_ms"))
    _metric(row1[1], "TPOT", p.tpot_ms, ",.1f", "ms", explain.TPOT, u.get("tpot_ms"))
    _metric(row1[2], "Tokens/s per user", p.output_tokens_per_s_per_user, ",.1f", "", explain.PER_USER,
            u.get("output_tokens_per_s_per_user"))
    _metric(row1[3], "Output tokens/s, all users", p.output_tokens_per_s, ",.0f", "", explain.AGGREGATE,
            u.get("output_tokens_per_s"))
    band = u.get("tpot_ms")
    if band is not None:
        sentence = ranges.evidence_sentence(band, profile(est.scenario["engine"]).label,
                                            catalog.gpu(est.scenario["gpu"]).generation)
        st.caption(escape_md(f"{ranges.MEANING} {sentence}"))
    row2 = st.columns(4)  # $ per token scale as 1 / the rate that makes the tokens: their ranges follow
    _metric(row2[0], "$ / M output tokens", c.usd_per_million_output_tokens, ",.2f", "", explain.USD_OUT,
            ranges.of_cost(c.usd_per_million_output_tokens, p.output_tokens_per_s, u.get("output_tokens_per_s")))
    _metric(row2[1], "$ / M input tokens", c.usd_per_million_input_tokens, ",.3f", "", explain.USD_IN,
            ranges.of_cost(c.usd_per_million_input_tokens, p.prefill_tokens_per_s, u.get("prefill_tokens_per_s")))
    row2[2].metric("Max concurrency", f"{m.max_concurrency:,}", help=explain.MAX_CONC)
    row2[3].metric("$ per hour", fmt(c.usd_per_hour, ",.2f"), help="GPUs x \\$/GPU-hour. Price: " + escape_md(c.price_source[:300]))


def share_link(url: str) -> None:
    st.markdown("**Copy share link** (opens this exact scenario; the copy icon is at the right of the box)")
    st.code(url, language=None, wrap_lines=True)


def share_box(url_path: str, values: dict, page_keys: tuple[str, ...] = ()) -> None:
    """The page's share link, carrying an imported model's hf= / cfg= so the link re-creates it."""
    share_link(share.share_url(state.base_url(url_path), state.link_values(values), url_path, page_keys))
    if state.link_needs_file(values):
        st.info("This link names an imported model whose config is too large to travel in a URL (or a GGUF): "
                "whoever opens it must import the same file on the Import page first.")


def _apply(page: str, change: dict) -> None:
    for name, value in change.items():
        st.session_state[state.key(page, name)] = value
    if "concurrency" in change:
        st.session_state[state.key(page, "concurrency_n")] = change["concurrency"]


def apply_buttons(page: str, fixes: list[tuple[str, dict]]) -> None:
    """One button per nearest fit; a click sets the widgets (callbacks run before the next rerun's widgets)."""
    cols = st.columns(max(1, len(fixes)))
    for col, (label, change) in zip(cols, fixes):
        col.button("Apply: " + label, key=f"{page}_fix_{label}", on_click=_apply, args=(page, change))
