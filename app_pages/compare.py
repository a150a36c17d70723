"""Compare page: one workload, every GPU x count x format x engine via planner.recommend, ranked by cost.

The search can be limited to the GPUs one can buy and the engines one runs (gpu_ids=, engines= in the link).
When nothing meets the targets, the closest misses are ranked by how far they miss (planner.search.recommend
.shortfall). The chart's Pareto front and its star come from the same ranked set.
"""
import streamlit as st
from pydantic import ValidationError

from planner.core import catalog
from planner.core.scenario import ENGINES
from planner.share import links as share
from ui import compute, state, widgets

PAGE, URL_PATH = "compare", "compare"
KEYS = ("ttft_ms_max", "tpot_ms_max", "budget_usd_per_hour", "prices", "gpu_ids", "engines", "pessimistic",
        "allow_extrapolated")
DEFAULTS = dict(model=share.DEFAULT_MODEL, input_len=1024, output_len=256, concurrency=16, kv_dtype="auto",
                ttft_ms_max=2000.0, tpot_ms_max=50.0, budget_usd_per_hour=None, prices=None, gpu_ids=None, engines=None,
                pessimistic=None, allow_extrapolated=None)
COLUMNS = {  # key: column config (readable names; the configuration stays pinned when the table scrolls sideways)
    "rank": st.column_config.TextColumn("rank", help="1 = cheapest that meets every target; closest misses when none does"),
    "config": st.column_config.TextColumn("configuration", pinned=True),
    "usd_per_request": st.column_config.NumberColumn("$/request", format="%.5f", help="What ranks: all GPU time of one request"),
    "usd_per_million_output_tokens": st.column_config.NumberColumn("$/M output", format="%.2f",
                                                                   help="Decode share of $/request per million output tokens"),
    "evidence": st.column_config.TextColumn(
        "evidence", help="calibrated: published measurements of this engine on this GPU family back the figures; "
                         "related: only of this engine elsewhere or of other engines on this family; extrapolated: none"),
    "tpot_ms": st.column_config.NumberColumn("TPOT ms", format="%.1f"),
    "tpot_ms_high": st.column_config.NumberColumn("TPOT ms, slow end", format="%.1f",
                                                  help="High end of the 80 % range of TPOT"),
    "ttft_ms": st.column_config.NumberColumn("TTFT ms", format="%.0f"),
    "ttft_ms_high": st.column_config.NumberColumn("TTFT ms, slow end", format="%.0f",
                                                  help="High end of the 80 % range of TTFT"),
    "usd_per_request_high": st.column_config.NumberColumn("$/request, slow end", format="%.5f",
                                                          help="$/request at the slow end of the 80 % range of "
                                                               "throughput (what ranks when pessimistic)"),
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


def _judging() -> tuple[bool | None, bool | None]:
    """How the figures' 80 % ranges weigh in the ranking (None = off, so links made before keep their form)."""
    slow = st.toggle("Rank by the pessimistic end of each range", key=_bool_key("pessimistic"),
                     help="Judge the targets and the cost at the slow end of each figure's 80 % range instead of "
                          "at the prediction.")
    guess = st.toggle("Allow configurations no measurement backs", key=_bool_key("allow_extrapolated"),
                      help="Off: configurations whose engine and GPU family no published measurement covers "
                           "(evidence: extrapolated) rank after those that one does.")
    return slow or None, guess or None


def _recommended(best: dict, rows: list[dict], pessimistic: bool, allow_extrapolated: bool) -> None:
    """The pick and why, in the figures that ranked it (the slow ends of the ranges when pessimistic)."""
    end = "_high" if pessimistic else ""
    judged = " (judged at the slow end of each 80 % range)" if pessimistic else ""
    st.success(f"Recommended{judged}: **{widgets.escape_md(best['config'])}** at \\${best['usd_per_request' + end]:.5f} "
               f"per request (\\${best['usd_per_million_output_tokens']:.2f} per million output tokens for the decode share "
               f"as predicted, \\${best['usd_per_hour']:.2f}/hour), TPOT {best['tpot_ms' + end]:.1f} ms, "
               f"TTFT {best['ttft_ms' + end]:.0f} ms, {best['output_tokens_per_s']:,.0f} output tokens/s predicted; "
               f"evidence: {best['evidence']}.")
    meets = sum(r["meets_targets"] for r in rows)
    fits = sum(r["fits"] for r in rows)
    guesses = sum(r["meets_targets"] and r["evidence"] == "extrapolated" for r in rows)
    cheapest = "cheapest per request at the slow end of its range" if pessimistic else "cheapest per request"
    st.markdown(f"Why: it is the {cheapest} of the {meets} configurations that meet every target; "
                f"{fits - meets} more fit in memory but miss a target or have no dated price, {len(rows) - fits} do "
                f"not fit or cannot run (of {len(rows)} evaluated). Runner-up: "
                f"{widgets.escape_md(next((r['config'] for r in rows[1:] if r['meets_targets']), 'none'))}."
                + (f" {guesses} of them no published measurement backs (evidence: extrapolated)"
                   + ("." if allow_extrapolated else "; they rank after the measured ones.") if guesses else ""))


def _bool_key(name: str) -> str:
    """Widget key of a toggle whose link value may be absent (None): off."""
    k = state.key(PAGE, name)
    if not isinstance(st.session_state.get(k), bool):
        st.session_state[k] = bool(st.session_state.get(k))
    return k


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
    chosen["pessimistic"], chosen["allow_extrapolated"] = _judging()
state.publish(PAGE, chosen, KEYS)
targets = {k: (chosen[k] or None) for k in KEYS}
rec = view = None
if chosen["model"] not in catalog.models():
    st.warning("Compare searches catalog models only; open the Planner page to size an imported model.")
else:
    try:
        args = (chosen["model"], chosen["input_len"], chosen["output_len"], chosen["concurrency"], targets["ttft_ms_max"],
                targets["tpot_ms_max"], targets["budget_usd_per_hour"], chosen["kv_dtype"], chosen["prices"],
                chosen["gpu_ids"], chosen["engines"], bool(chosen["pessimistic"]), bool(chosen["allow_extrapolated"]))
        view = compute.compare_view(args, tuple(COLUMNS))
        rec = view.rec
    except (ValidationError, ValueError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        st.error("This workload is invalid: " + widgets.escape_md(msg.removeprefix("Value error, ")))
if view is not None:
    rows, best = view.rows, view.best
    if best:
        _recommended(best, rows, rec.pessimistic, rec.allow_extrapolated)
    else:
        closest = next((r for r in rows if r["fits"]), None)
        st.error("No configuration meets every target" + (" at the slow end of its ranges" if rec.pessimistic else "")
                 + "; relax the TTFT/TPOT targets or the budget. "
                 + (f"Closest miss: **{widgets.escape_md(closest['config'])}** ({widgets.escape_md(closest['reason'] or '')}). "
                    if closest else "") + "Misses below are ranked by how far they miss.")
    st.plotly_chart(view.figure, width="stretch")  # drawn in what ranks: $ per request
    st.caption("Each point is planner.estimate for one configuration at this workload. TPOT = (e2e - TTFT)/(output tokens - 1); "
               "\\$/M output tokens = the decode share of a request's GPU time at catalog prices (or yours), per million output "
               "tokens. The chart plots \\$ per request (prefill + decode), what the ranking uses (with the pessimistic "
               "toggle: \\$ per request and TPOT at the slow end of each 80 % range). "
               "The Pareto front and the star come from the ranked set (every target met, a dated or your own price); "
               "hollow points have an estimated price and are not ranked.")
    show_all = st.toggle("Show configurations that do not fit", key=state.init(PAGE, "show_all", False))
    st.dataframe(view.table_all if show_all else view.table_fits, hide_index=True, width="stretch", column_config=COLUMNS)
    st.caption("Click a column header to sort; scroll sideways for more columns (the configuration stays). "
               "Evidence and slow ends: each predicted figure has an 80 % range (of comparable published measurements "
               "the model had not seen, 80 % fell within such a range). GiB = 2^30 bytes.")
widgets.share_box(URL_PATH, chosen, KEYS)
