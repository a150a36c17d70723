"""Compare page: one workload, every GPU x count x format x engine via planner.recommend, ranked by cost.

The search can be limited to the GPUs one can buy and the engines one runs (gpu_ids=, engines= in the link).
When nothing meets the targets, the closest misses are ranked by how far they miss (planner.search.recommend
.shortfall). The chart's Pareto front and its star come from the same ranked set.
"""
import streamlit as st
from pydantic import ValidationError

from planner.core import catalog
from planner.core.scenario import ENGINES
from planner.search.recommend import shortfall
from planner.share import links as share
from ui import charts, compute, state, widgets

PAGE, URL_PATH = "compare", "compare"
KEYS = ("ttft_ms_max", "tpot_ms_max", "budget_usd_per_hour", "prices", "gpu_ids", "engines")
DEFAULTS = dict(model=share.DEFAULT_MODEL, input_len=1024, output_len=256, concurrency=16, kv_dtype="auto",
                ttft_ms_max=2000.0, tpot_ms_max=50.0, budget_usd_per_hour=None, prices=None, gpu_ids=None, engines=None)
COLUMNS = {  # key: column config (readable names; the configuration stays pinned when the table scrolls sideways)
    "rank": st.column_config.TextColumn("rank", help="1 = cheapest that meets every target; closest misses when none does"),
    "config": st.column_config.TextColumn("configuration", pinned=True),
    "usd_per_request": st.column_config.NumberColumn("$/request", format="%.5f", help="What ranks: all GPU time of one request"),
    "usd_per_million_output_tokens": st.column_config.NumberColumn("$/M output", format="%.2f",
                                                                   help="Decode share of $/request per million output tokens"),
    "tpot_ms": st.column_config.NumberColumn("TPOT ms", format="%.1f"),
    "ttft_ms": st.column_config.NumberColumn("TTFT ms", format="%.0f"),
    "misses_by": st.column_config.TextColumn("off target by", help="Largest ratio achieved / target"),
    "reason": st.column_config.TextColumn("why not / target missed", width="medium"),
    "output_tokens_per_s": st.column_config.NumberColumn("output tok/s", format="%.0f"),
    "usd_per_hour": st.column_config.NumberColumn("$/hour", format="%.2f"),
    "usd_per_million_input_tokens": st.column_config.NumberColumn("$/M input", format="%.3f"),
    "total_gib_per_gpu": st.column_config.NumberColumn("GiB/GPU", format="%.1f"),
    "max_concurrency": st.column_config.NumberColumn("max concurrency"),
}


def _prices_input(values: dict) -> str | None:
    """Your own $/GPU-hour by GPU id; GPUs whose catalog price is missing or an estimate rank only with one."""
    text = st.text_input("Your prices ($/GPU-hour)", key=state.init(PAGE, "prices", values.get("prices") or ""),
                         placeholder="e.g. h200-nvl:4.2, mi355x:2.6",
                         help="gpu-id:dollars pairs, comma-separated; they replace the catalog price. GPUs without a "
                              "dated list price in the catalog (e.g. h200-nvl, mi355x, h20) are ranked only with yours.")
    try:
        return share.format_prices(share.parse_prices(text)) or None
    except ValueError as exc:
        st.error("Your prices: " + widgets.escape_md(str(exc)))
        return None


def _list_key(name: str, parse) -> str:
    """Widget key of a multiselect whose link value is comma-separated ids (the link seeds the key with text)."""
    k = state.key(PAGE, name)
    if not isinstance(st.session_state.get(k), list):
        st.session_state[k] = parse(st.session_state.get(k) or "")
    return k


def _filters() -> tuple[str | None, str | None]:
    """The GPUs and engines to search (None = all), as the comma-separated ids the link carries."""
    gpu_ids = st.multiselect("Only these GPUs", list(catalog.gpus()), format_func=widgets.gpu_label, placeholder="all GPUs",
                             key=_list_key("gpu_ids", share.parse_gpu_ids),
                             help="Limit the search to the GPUs you can buy (empty = every catalog GPU).")
    engines = st.multiselect("Only these engines", list(ENGINES), placeholder="all engines",
                             key=_list_key("engines", share.parse_engines))
    return share.format_ids(gpu_ids) or None, share.format_ids(engines) or None


def _rows(rec, targets: dict, prices: str | None) -> list[dict]:
    """Table rows in page order: ranked first by cost; with none ranked, the closest misses first."""
    own = share.parse_prices(prices) if prices else {}
    rows = []
    for c in rec.candidates:
        off = shortfall(c, targets["ttft_ms_max"], targets["tpot_ms_max"], targets["budget_usd_per_hour"], rec.concurrency)
        rows.append(dict(c.model_dump(), config=f"{c.gpus} x {widgets.gpu_label(c.gpu)}, {c.engine}, {c.weights}",
                         estimated_price=not catalog.gpu(c.gpu).price_is_list and c.gpu not in own, shortfall=off,
                         misses_by="" if c.meets_targets or not c.fits or off <= 1 else f"{off:,.2f}× target"))
    if rec.best is None:
        rows.sort(key=lambda r: (r["shortfall"], r["usd_per_request"] or float("inf")))
        for i, r in enumerate(r for r in rows if r["fits"]):
            r["rank"] = f"miss {i + 1}"
    for r in rows:
        r["rank"] = str(r["rank"] or "")
    return rows


values = widgets.page_start(PAGE, DEFAULTS, KEYS, "Compare GPU configurations",
                            "Every catalog GPU x {1, 2, 4, 8} x weight format x engine for one workload, "
                            "ranked by \\$ per request (the GPU time of one request; the \\$/M input and \\$/M output "
                            "columns are its prefill and decode shares and add up to it).")

with st.sidebar:
    st.header("Workload and targets")
    chosen = dict(model=widgets.model_input(PAGE, values), **widgets.workload_inputs(PAGE, values))
    chosen["kv_dtype"] = st.selectbox("KV cache", widgets.KV_DTYPES[:5], key=state.init(PAGE, "kv_dtype", values["kv_dtype"]))
    for name, label in (("ttft_ms_max", "TTFT target (ms)"), ("tpot_ms_max", "TPOT target (ms)"),
                        ("budget_usd_per_hour", "Budget ($ per hour)")):
        chosen[name] = st.number_input(label, 0.0, 1e6, value=None, placeholder="none", step=10.0,
                                       key=state.init(PAGE, name, values.get(name)), help="Leave empty for no limit.")
    st.header("Search")
    chosen["gpu_ids"], chosen["engines"] = _filters()
    chosen["prices"] = _prices_input(values)
state.publish(PAGE, chosen, KEYS)
targets = {k: (chosen[k] or None) for k in KEYS}
rec = None
if chosen["model"] not in catalog.models():
    st.warning("Compare searches catalog models only; open the Planner page to size an imported model.")
else:
    try:
        rec = compute.recommend(chosen["model"], chosen["input_len"], chosen["output_len"], chosen["concurrency"],
                                targets["ttft_ms_max"], targets["tpot_ms_max"], targets["budget_usd_per_hour"], chosen["kv_dtype"],
                                chosen["prices"], chosen["gpu_ids"], chosen["engines"])
    except (ValidationError, ValueError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        st.error("This workload is invalid: " + widgets.escape_md(msg.removeprefix("Value error, ")))
if rec is not None:
    rows = _rows(rec, targets, chosen["prices"])
    best = next((r for r in rows if r["meets_targets"]), None)
    if best:
        st.success(f"Recommended: **{widgets.escape_md(best['config'])}** at \\${best['usd_per_request']:.5f} per request "
                   f"(\\${best['usd_per_million_output_tokens']:.2f} per million output tokens for the decode share, "
                   f"\\${best['usd_per_hour']:.2f}/hour), TPOT {best['tpot_ms']:.1f} ms, "
                   f"TTFT {best['ttft_ms']:.0f} ms, {best['output_tokens_per_s']:,.0f} output tokens/s.")
        meets = sum(r["meets_targets"] for r in rows)
        fits = sum(r["fits"] for r in rows)
        st.markdown(f"Why: it is the cheapest per request of the {meets} configurations that meet every target; "
                    f"{fits - meets} more fit in memory but miss a target or have no dated price, {len(rows) - fits} do "
                    f"not fit or cannot run (of {len(rows)} evaluated). Runner-up: "
                    f"{widgets.escape_md(next((r['config'] for r in rows[1:] if r['meets_targets']), 'none'))}.")
    else:
        closest = next((r for r in rows if r["fits"]), None)
        st.error("No configuration meets every target; relax the TTFT/TPOT targets or the budget. "
                 + (f"Closest miss: **{widgets.escape_md(closest['config'])}** ({widgets.escape_md(closest['reason'] or '')}). "
                    if closest else "") + "Misses below are ranked by how far they miss.")
    st.plotly_chart(charts.cost_vs_latency(rows, best, "usd_per_request"), width="stretch")  # drawn in what ranks
    st.caption("Each point is planner.estimate for one configuration at this workload. TPOT = (e2e - TTFT)/(output tokens - 1); "
               "\\$/M output tokens = the decode share of a request's GPU time at catalog prices (or yours), per million output "
               "tokens. The chart plots \\$ per request (prefill + decode), what the ranking uses. "
               "The Pareto front and the star come from the ranked set (every target met, a dated or your own price); "
               "hollow points have an estimated price and are not ranked.")
    show_all = st.toggle("Show configurations that do not fit", key=state.init(PAGE, "show_all", False))
    table = [{k: r[k] for k in COLUMNS} for r in rows if show_all or r["fits"]]
    st.dataframe(table, hide_index=True, width="stretch", column_config=COLUMNS)
    st.caption("Click a column header to sort; scroll sideways for more columns (the configuration stays). "
               "GiB = 2^30 bytes.")
widgets.share_box(URL_PATH, chosen, KEYS)
