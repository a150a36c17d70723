"""Planner calls cached at the app layer (STYLE rule 11): equal scenarios share one cache entry.

st.cache_data hashes pydantic arguments by value (pickling), so a Scenario holding an imported
ModelSpec is a valid key too; lru_cache could not take it (ModelSpec has an unhashable dict field).
"""
from __future__ import annotations

import streamlit as st

import planner
from planner import Scenario
from planner.share import links as share
from planner.search import sweeps


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


@st.cache_data(max_entries=32, show_spinner="Evaluating every GPU x count x format x engine ...")
def recommend(model: str, input_len: int, output_len: int, concurrency, ttft_ms_max, tpot_ms_max,
              budget_usd_per_hour, kv_dtype: str = "auto", prices: str | None = None, gpu_ids: str | None = None,
              engines: str | None = None):
    """planner.recommend over the GPUs and engines of the link's comma-separated gpu_ids= / engines= (None: all)."""
    return planner.recommend(model, input_len=input_len, output_len=output_len, concurrency=concurrency,
                             ttft_ms_max=ttft_ms_max, tpot_ms_max=tpot_ms_max,
                             budget_usd_per_hour=budget_usd_per_hour, kv_dtype=kv_dtype,
                             prices=share.parse_prices(prices) if prices else None,
                             gpus=share.parse_gpu_ids(gpu_ids) if gpu_ids else None,
                             engines=share.parse_engines(engines) if engines else None)
