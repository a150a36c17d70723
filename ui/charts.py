"""Plotly figure builders for the dashboard: plain functions of planner results, testable without Streamlit.

Every figure has a title, axis titles with units and hover values; the current scenario is a
marked point. Memory is in GiB (2^30 bytes, what engines log); checkpoint sizes in GB (1e9 bytes).
"""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = {"weights": "#4C78A8", "kv": "#F58518", "activation": "#54A24B", "overhead": "#B279A2",
          "free": "#E5E5E5", "current": "#D62728", "line": "#4C78A8", "line2": "#F58518", "grey": "#9D9D9D"}
LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=30, t=60, b=120), height=420,
              legend=dict(orientation="h", yanchor="top", y=-0.22, x=0), hovermode="closest")


def memory_bar(mem: dict, gpu_name: str) -> go.Figure:
    """One GPU's memory as the engine plans it, stacked against the memory torch can allocate."""
    parts = [("Weights", mem["weights_gib_per_gpu"], "weights"),
             ("KV cache + state pool", mem["kv_cache_gib_per_gpu"], "kv"),
             ("Activations (peak)", mem["activation_gib_per_gpu"], "activation"),
             ("CUDA context, buffers, graphs", mem["overhead_gib_per_gpu"], "overhead"),
             ("Free", max(mem["free_gib_per_gpu"], 0.0), "free")]
    fig = go.Figure()
    for name, gib, key in parts:
        fig.add_bar(x=[gib], y=["per GPU"], orientation="h", name=name, marker_color=COLORS[key],
                    hovertemplate=f"{name}: %{{x:.1f}} GiB<extra></extra>")
    cap = mem["gpu_memory_gib"]
    fig.add_vline(x=cap, line_dash="dash", line_color="black",
                  annotation_text=f"{gpu_name}: {cap:.1f} GiB usable", annotation_position="top left")
    legend = dict(orientation="h", traceorder="normal", yanchor="top", y=-0.45, x=0)
    fig.update_layout(**{**LAYOUT, "height": 300, "margin": dict(l=60, r=30, t=60, b=100), "legend": legend},
                      barmode="stack", title="Memory per GPU", xaxis_title="GiB per GPU (2^30 bytes)", yaxis_title="")
    fig.update_xaxes(range=[0, max(cap, mem["total_gib_per_gpu"]) * 1.08])
    return fig


def memory_vs_context(points: list[dict], current_context: int, capacity_gib: float, budget_gib: float,
                      concurrency: int) -> go.Figure:
    """Memory the scenario's requests need as the context grows; red where they no longer fit."""
    x = [p["context"] for p in points]
    fig = go.Figure()
    fig.add_scatter(x=x, y=[p["need_gib"] for p in points], mode="lines", name=f"needed at concurrency {concurrency}",
                    line_color=COLORS["line"], hovertemplate="context %{x:,} tokens: %{y:.1f} GiB<extra></extra>")
    bad = [p for p in points if not p["fits"]]
    if bad:
        fig.add_scatter(x=[p["context"] for p in bad], y=[p["need_gib"] for p in bad], mode="markers",
                        name="does not fit", marker=dict(color=COLORS["current"], symbol="x", size=7),
                        hovertemplate="context %{x:,} tokens: does not fit<extra></extra>")
        fig.add_vline(x=bad[0]["context"], line_dash="dot", line_color=COLORS["current"],
                      annotation_text=f"stops fitting at ~{bad[0]['context']:,} tokens", annotation_position="top left")
    cur = min(points, key=lambda p: abs(p["context"] - current_context))
    fig.add_scatter(x=[cur["context"]], y=[cur["need_gib"]], mode="markers", name="current scenario",
                    marker=dict(color=COLORS["current"], size=12, line=dict(color="white", width=1)),
                    hovertemplate="current: %{x:,} tokens, %{y:.1f} GiB<extra></extra>")
    fig.add_hline(y=capacity_gib, line_dash="dash", line_color="black", annotation_text=f"GPU {capacity_gib:.0f} GiB")
    fig.add_hline(y=budget_gib, line_dash="dot", line_color=COLORS["grey"], annotation_text="engine budget",
                  annotation_position="bottom right")
    fig.update_layout(**LAYOUT, title="Memory per GPU vs context length",
                      xaxis_title="context per request: input + output (tokens, log scale)",
                      yaxis_title="GiB per GPU")
    fig.update_xaxes(type="log")
    return fig


def throughput_vs_concurrency(points: list[dict], current: dict | None, tpot_target_ms: float | None) -> go.Figure:
    """Aggregate output tokens/s (left) and TPOT (right) against closed-loop concurrency."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = [p["concurrency"] for p in points]
    fig.add_scatter(x=x, y=[p["output_tokens_per_s"] for p in points], name="output tokens/s (all users)",
                    mode="lines+markers", line_color=COLORS["line"],
                    hovertemplate="%{x} in flight: %{y:,.0f} tok/s<extra></extra>", secondary_y=False)
    fig.add_scatter(x=x, y=[p["tpot_ms"] for p in points], name="TPOT (ms)", mode="lines+markers",
                    line_color=COLORS["line2"], hovertemplate="%{x} in flight: TPOT %{y:.1f} ms<extra></extra>",
                    secondary_y=True)
    if tpot_target_ms:
        fig.add_hline(y=tpot_target_ms, line_dash="dash", line_color=COLORS["current"], secondary_y=True,
                      annotation_text=f"TPOT target {tpot_target_ms:g} ms")
    if current and current.get("tpot_ms") is not None:
        fig.add_scatter(x=[current["concurrency"]], y=[current["output_tokens_per_s"]], mode="markers",
                        name="current scenario", marker=dict(color=COLORS["current"], size=12),
                        hovertemplate="current: %{x} in flight, %{y:,.0f} tok/s<extra></extra>", secondary_y=False)
    fig.update_layout(**LAYOUT, title="Throughput and latency vs concurrency")
    fig.update_xaxes(type="log", title_text="concurrent requests (closed loop, log scale)")
    fig.update_yaxes(title_text="output tokens/s, all users", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="TPOT (ms per output token)", secondary_y=True, rangemode="tozero", showgrid=False)
    return fig


def pareto_front(points: list[dict], x: str, y: str) -> list[dict]:
    """Points no other point beats on both x and y (lower is better for both)."""
    front, best_y = [], float("inf")
    for p in sorted(points, key=lambda p: (p[x], p[y])):
        if p[y] < best_y:
            front.append(p)
            best_y = p[y]
    return front


def cost_vs_latency(rows: list[dict], best: dict | None) -> go.Figure:
    """$/M output tokens against TPOT for every configuration that fits, with the Pareto front."""
    pts = [r for r in rows if r.get("tpot_ms") is not None and r.get("usd_per_million_output_tokens") is not None]
    fig = go.Figure()
    for ok, name, color in ((True, "meets targets", COLORS["line"]), (False, "misses a target", COLORS["grey"])):
        sub = [r for r in pts if bool(r["meets_targets"]) == ok]
        fig.add_scatter(x=[r["tpot_ms"] for r in sub], y=[r["usd_per_million_output_tokens"] for r in sub],
                        mode="markers", name=name, marker=dict(color=color, size=8, opacity=0.8),
                        text=[r["config"] for r in sub],
                        hovertemplate="%{text}<br>TPOT %{x:.1f} ms<br>$%{y:.2f} per M output tokens<extra></extra>")
    front = pareto_front(pts, "tpot_ms", "usd_per_million_output_tokens")
    fig.add_scatter(x=[r["tpot_ms"] for r in front], y=[r["usd_per_million_output_tokens"] for r in front],
                    mode="lines", name="Pareto front", line=dict(color=COLORS["line2"], dash="dash"), hoverinfo="skip")
    if best:
        fig.add_scatter(x=[best["tpot_ms"]], y=[best["usd_per_million_output_tokens"]], mode="markers",
                        name="recommended", marker=dict(color=COLORS["current"], size=14, symbol="star"),
                        text=[best["config"]], hovertemplate="%{text}<extra>recommended</extra>")
    fig.update_layout(**{**LAYOUT, "height": 460}, title="Cost vs latency of every configuration that fits",
                      xaxis_title="TPOT (ms per output token, log scale)", yaxis_title="$ per million output tokens (log scale)")
    fig.update_xaxes(type="log", dtick="D2")
    fig.update_yaxes(type="log", dtick="D2")
    return fig


def memory_by_format(points: list[dict], model_id: str, capacities_gb: dict[str, float] | None = None) -> go.Figure:
    """Checkpoint size in each weight format, with reference GPU memory sizes."""
    fig = go.Figure()
    fig.add_bar(x=[p["weights"] for p in points], y=[p["weights_gb"] for p in points], marker_color=COLORS["weights"],
                name="weights", text=[f"{p['weights_gb']:.0f}" for p in points], textposition="outside",
                customdata=[[p["label"], p["weights_gib"]] for p in points],
                hovertemplate="%{customdata[0]}: %{y:.1f} GB (%{customdata[1]:.1f} GiB)<extra></extra>")
    for name, gb in (capacities_gb or {}).items():
        fig.add_hline(y=gb, line_dash="dot", line_color=COLORS["grey"], annotation_text=name)
    fig.update_layout(**LAYOUT, title=f"Weights of {model_id} by format", showlegend=False,
                      xaxis_title="weight format", yaxis_title="GB (1e9 bytes), whole model")
    return fig
