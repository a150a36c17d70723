"""Planner calls cached at the app layer (STYLE rule 11): equal scenarios share one cache entry.

st.cache_data hashes pydantic arguments by value (pickling), so a Scenario holding an imported
ModelSpec is a valid key too; lru_cache could not take it (ModelSpec has an unhashable dict field).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

import planner
from planner import Scenario
from planner.core import catalog
from planner.report import wording
from planner.search import sweeps
from planner.search.recommend import shortfall
from planner.share import links as share


@st.cache_data(max_entries=512, show_spinner=False)
def estimate(s: Scenario) -> planner.Estimate:
    return planner.estimate_scenario(s)


@st.cache_data(max_entries=256, show_spinner=False)
def context_points(s: Scenario) -> list[dict]:
    return sweeps.context_points(s, estimate(s))


@st.cache_data(max_entries=256, show_spinner=False)
def concurrency_points(s: Scenario) -> list[dict]:
    return sweeps.concurrency_points(s)


@st.cache_data(max_entries=256, show_spinner=False)
def nearest_fits(s: Scenario) -> list[tuple[str, dict]]:
    return sweeps.nearest_fits(s)


# The search result and what the Compare page derives from it are shared objects (st.cache_resource), not copies:
# cache_data pickled the 3,780-candidate Recommendation (~1 MB) on every store and unpickled it on every hit.
# Both are frozen (pydantic frozen models; rows and figure are never mutated by the page), so sharing is safe.
# A view holds ~15 MB live (its Recommendation ~10 MB): few entries keep a long-running server small.
@st.cache_resource(max_entries=4, show_spinner="Evaluating every GPU x count x format x engine ...")
def recommend(model: str, input_len: int, output_len: int, concurrency, ttft_ms_max, tpot_ms_max,
              budget_usd_per_hour, kv_dtype: str = "auto", prices: str | None = None, gpu_ids: str | None = None,
              engines: str | None = None, pessimistic: bool = False, allow_extrapolated: bool = False):
    """planner.recommend over the GPUs and engines of the link's comma-separated gpu_ids= / engines= (None: all)."""
    return planner.recommend(model, input_len=input_len, output_len=output_len, concurrency=concurrency,
                             ttft_ms_max=ttft_ms_max, tpot_ms_max=tpot_ms_max,
                             budget_usd_per_hour=budget_usd_per_hour, kv_dtype=kv_dtype,
                             prices=share.parse_prices(prices) if prices else None,
                             gpus=share.parse_gpu_ids(gpu_ids) if gpu_ids else None,
                             engines=share.parse_engines(engines) if engines else None,
                             pessimistic=pessimistic, allow_extrapolated=allow_extrapolated)


@dataclass(frozen=True)
class CompareView:
    """What the Compare page shows of one search: rows in page order, the pick, the chart and both tables."""
    rec: object
    rows: list[dict]
    best: dict | None
    figure: object
    table_fits: object      # pandas DataFrame of the configurations that fit (the page's default table)
    table_all: object       # ... and of every configuration evaluated


@st.cache_resource(max_entries=4, show_spinner=False)
def compare_view(args: tuple, columns: tuple[str, ...]) -> CompareView:
    """The page's figures for `args` (compute.recommend's arguments), built once per search and then shared."""
    import pandas as pd
    from ui import charts
    rec = recommend(*args)
    targets = dict(ttft_ms_max=args[4], tpot_ms_max=args[5], budget_usd_per_hour=args[6])
    rows = compare_rows(rec, targets, args[8])
    best = next((r for r in rows if r["meets_targets"]), None)
    table = pd.DataFrame({k: [r[k] for r in rows] for k in columns})
    fits = pd.Series([r["fits"] for r in rows])
    judged = "_high" if rec.pessimistic else ""  # the chart plots what ranks
    figure = charts.cost_vs_latency(rows, best, "usd_per_request" + judged, "tpot_ms" + judged)
    return CompareView(rec, rows, best, figure,
                       table[fits].reset_index(drop=True), table)


def compare_rows(rec, targets: dict, prices: str | None) -> list[dict]:
    """Table rows in page order: ranked first by cost; with none ranked, the closest misses first."""
    own = share.parse_prices(prices) if prices else {}
    listed = {g: catalog.gpu(g).price_is_list or g in own for g in {c.gpu for c in rec.candidates}}
    labels = {g: wording.gpu_label(g) for g in listed}
    rows = []
    for c in rec.candidates:
        off = shortfall(c, targets["ttft_ms_max"], targets["tpot_ms_max"], targets["budget_usd_per_hour"], rec.concurrency)
        rows.append(dict(c.__dict__, config=f"{c.gpus} x {labels[c.gpu]}, {c.engine}, {c.weights}",
                         estimated_price=not listed[c.gpu], shortfall=off,
                         misses_by="" if c.meets_targets or not c.fits or off <= 1 else f"{off:,.2f}× target"))
    if rec.best is None:
        rows.sort(key=lambda r: (r["shortfall"], r["usd_per_request"] or float("inf")))
        for i, r in enumerate(r for r in rows if r["fits"]):
            r["rank"] = f"miss {i + 1}"
    for r in rows:
        r["rank"] = str(r["rank"] or "")
    return rows
