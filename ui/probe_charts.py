"""Plotly figure builders of the Probe page: live per-request points, per-level curves, predicted vs measured.

Plain functions of probe results (planner.probe.models, planner.probe.calibrate rows), testable without
Streamlit; times in ms except end-to-end latency in s (shared/DESIGN.md §3 definitions).
"""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

MEASURED, PREDICTED, CALIBRATED = "#4C78A8", "#9D9D9D", "#F58518"
LABELS = {"ttft_ms": "TTFT (ms)", "tpot_ms": "TPOT (ms)", "output_tokens_per_s": "Output tokens/s (all users)",
          "output_tokens_per_s_per_user": "Tokens/s per user", "e2e_latency_s": "E2E latency (s)",
          "itl_ms": "ITL (ms)", "request_throughput_per_s": "Requests/s"}


def live_points(points: list[dict]) -> go.Figure:
    """TTFT and TPOT of each finished request, in arrival order, coloured by concurrency level."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("TTFT per request (ms)", "TPOT per request (ms)"))
    for c in sorted({p["concurrency"] for p in points}):
        idx = [(i, p) for i, p in enumerate(points) if p["concurrency"] == c and p["ok"]]
        for col, key in ((1, "ttft_ms"), (2, "tpot_ms")):
            fig.add_trace(go.Scatter(x=[i for i, _ in idx], y=[p[key] for _, p in idx], mode="markers",
                                     name=f"concurrency {c}", legendgroup=str(c), showlegend=col == 1,
                                     hovertemplate=f"request %{{x}}<br>{key}: %{{y:.1f}}<extra>c={c}</extra>"), row=1, col=col)
    errors = [i for i, p in enumerate(points) if not p["ok"]]
    if errors:
        fig.add_trace(go.Scatter(x=errors, y=[0] * len(errors), mode="markers", name="errors",
                                 marker=dict(symbol="x", color="#D62728")), row=1, col=1)
    fig.update_layout(height=340, margin=dict(l=50, r=20, t=50, b=40), xaxis_title="request #", xaxis2_title="request #")
    return fig


def levels_chart(levels: list[dict]) -> go.Figure:
    """Per level: output tokens/s (bars) and mean TTFT/TPOT (lines) against concurrency."""
    c = [lv["concurrency"] for lv in levels]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Throughput", "Latency"))
    fig.add_trace(go.Bar(x=[str(x) for x in c], y=[lv["output_tokens_per_s"] for lv in levels], name="output tokens/s",
                         marker_color=MEASURED), row=1, col=1)
    for key, color in (("ttft_ms", MEASURED), ("tpot_ms", CALIBRATED)):
        fig.add_trace(go.Scatter(x=[str(x) for x in c], y=[lv[key]["mean"] for lv in levels], mode="lines+markers",
                                 name=f"mean {LABELS[key]}", line=dict(color=color)), row=1, col=2)
    fig.update_layout(height=340, margin=dict(l=50, r=20, t=50, b=40), xaxis_title="concurrency",
                      xaxis2_title="concurrency", yaxis_title="tokens/s", yaxis2_title="ms", yaxis2_type="log")
    fig.update_xaxes(type="category")  # levels are labels, not a continuous axis
    return fig


def predicted_vs_measured(rows: list[dict], calibrated: list[dict] | None = None,
                          metrics: tuple[str, ...] = ("ttft_ms", "tpot_ms", "output_tokens_per_s")) -> go.Figure:
    """One panel per metric: measured points, the planner's prediction and (if given) the calibrated one."""
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[LABELS[m] for m in metrics])
    for col, m in enumerate(metrics, start=1):
        mine = [r for r in rows if r["metric"] == m]
        x = [str(r["concurrency"]) for r in mine]
        fig.add_trace(go.Scatter(x=x, y=[r["measured"] for r in mine], mode="markers", name="measured",
                                 marker=dict(color=MEASURED, size=10), showlegend=col == 1, legendgroup="m"), row=1, col=col)
        fig.add_trace(go.Scatter(x=x, y=[r["predicted"] for r in mine], mode="lines+markers", name="predicted",
                                 line=dict(color=PREDICTED, dash="dash"), showlegend=col == 1, legendgroup="p",
                                 customdata=[r["error_pct"] for r in mine],
                                 hovertemplate="%{y:.3g} (error %{customdata:+.0f} %)<extra>predicted</extra>"), row=1, col=col)
        if calibrated:
            cal = [r for r in calibrated if r["metric"] == m]
            fig.add_trace(go.Scatter(x=[str(r["concurrency"]) for r in cal], y=[r["predicted"] for r in cal],
                                     mode="lines+markers", name="calibrated", line=dict(color=CALIBRATED),
                                     showlegend=col == 1, legendgroup="c"), row=1, col=col)
        fig.update_xaxes(title_text="concurrency", type="category", row=1, col=col)
        fig.update_yaxes(type="log", row=1, col=col)
    fig.update_layout(height=360, margin=dict(l=50, r=20, t=50, b=40),
                      legend=dict(orientation="h", y=-0.25, x=0))
    return fig


MEASURED_COLUMNS = ("concurrency", "completed", "errors", "error_kinds", "output_tokens_per_s", "output_tokens_per_s_per_user",
                    "request_throughput_per_s", "goodput_per_s", "usd_per_million_output_tokens", "cached_input_tokens",
                    "token_count_source")


def measured_rows(levels) -> list[dict]:
    """One table row per measured level (planner.probe.models.LevelResult), TTFT and TPOT as mean / p99."""
    return [{**{k: getattr(lv, k) for k in MEASURED_COLUMNS},
             "ttft_ms (mean/p99)": f"{lv.ttft_ms.mean or 0:.1f} / {lv.ttft_ms.p99 or 0:.1f}",
             "tpot_ms (mean/p99)": f"{lv.tpot_ms.mean or 0:.2f} / {lv.tpot_ms.p99 or 0:.2f}"} for lv in levels]


def measured_help(definitions: dict[str, str]) -> dict:
    """Column help: each metric's definition next to its number (DESIGN.md §3)."""
    return {**{k: st.column_config.Column(k, help=v) for k, v in definitions.items() if k in MEASURED_COLUMNS},
            "ttft_ms (mean/p99)": st.column_config.Column(help=definitions["ttft_ms"]),
            "tpot_ms (mean/p99)": st.column_config.Column(help=definitions["tpot_ms"])}


def fit_summary(fit) -> str:
    """One line on what a calibration (planner.probe.calibrate.Fit) changed."""
    c = fit.calibration
    overhead = "engine default" if c.ttft_overhead_ms is None else f"{c.ttft_overhead_ms:.0f} ms"
    return (f"Calibrated: decode x{c.decode_time_factor:.2f}, prefill x{c.prefill_time_factor:.2f}, TTFT overhead "
            f"{overhead}. Mean |error| TTFT {fit.mean_abs_error_pct_before['ttft_ms']:.0f} % -> "
            f"{fit.mean_abs_error_pct_after['ttft_ms']:.0f} %, TPOT {fit.mean_abs_error_pct_before['tpot_ms']:.0f} % -> "
            f"{fit.mean_abs_error_pct_after['tpot_ms']:.0f} %.")
