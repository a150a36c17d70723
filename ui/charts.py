"""Plotly figure builders for the dashboard: plain functions of planner results, testable without Streamlit.

Every figure has a title, axis titles with units and hover values; the current scenario is a
marked point. Memory is in GiB (2^30 bytes, what engines log); checkpoint sizes in GB (1e9 bytes).
Figures are assembled as one dict and validated once by go.Figure: plotly's incremental
update_layout/add_vline calls cost ~100 ms per figure, the whole what-if budget (benchmarks/).
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

COLORS = {"weights": "#4C78A8", "kv": "#F58518", "activation": "#54A24B", "overhead": "#B279A2",
          "free": "#E5E5E5", "current": "#D62728", "line": "#4C78A8", "line2": "#F58518", "grey": "#9D9D9D"}
LOG_TICKS = [m * 10.0 ** e for e in range(-6, 6) for m in (1, 2, 5)]
COST_AXES = {  # y key: (axis title, hover text, tick format: dollars, never SI prefixes such as "500µ")
    "usd_per_request": ("$ per request (log scale)", "$%{y:.5f} per request", "$.2~g"),
    "usd_per_million_output_tokens": ("$ per million output tokens (log scale)", "$%{y:.2f} per M output tokens", "$.3~g"),
    "usd_per_request_high": ("$ per request at the slow end of its 80 % range (log scale)", "$%{y:.5f} per request (slow end)",
                             "$.2~g")}


def _layout(title: str, x: str, y: str, height: int = 420, **extra) -> dict:
    base = dict(title={"text": title}, height=height, margin=dict(l=60, r=30, t=60, b=120), hovermode="closest",
                legend=dict(orientation="h", yanchor="top", y=-0.22, x=0), xaxis={"title": {"text": x}},
                yaxis={"title": {"text": y}}, shapes=[], annotations=[])
    base.update(extra)
    return base


def _vline(layout: dict, x: float, text: str, color: str, dash: str, anchor: str = "left") -> None:
    # shapes take data values on a log axis, annotations its log10 (plotly.js layout.annotations.x)
    log_x = layout["xaxis"].get("type") == "log"
    layout["shapes"].append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                                 line=dict(color=color, dash=dash)))
    layout["annotations"].append(dict(x=math.log10(x) if log_x else x, y=1, xref="x", yref="paper", text=text,
                                      showarrow=False, xanchor="right" if anchor == "left" else "left",
                                      yanchor="bottom"))


def _hline(layout: dict, y: float, text: str, color: str, dash: str, yref: str = "y", side: str = "right") -> None:
    layout["shapes"].append(dict(type="line", xref="paper", yref=yref, x0=0, x1=1, y0=y, y1=y,
                                 line=dict(color=color, dash=dash)))
    layout["annotations"].append(dict(x=1 if side == "right" else 0, y=y, xref="paper", yref=yref, text=text,
                                      showarrow=False, xanchor=side, yanchor="bottom"))


def message_figure(title: str, message: str, height: int = 420) -> go.Figure:
    """A titled frame that says why there is nothing to draw (never an empty chart)."""
    layout = dict(title={"text": title}, height=height, margin=dict(l=30, r=30, t=60, b=30),
                  xaxis=dict(visible=False), yaxis=dict(visible=False),
                  annotations=[dict(x=0.5, y=0.5, xref="paper", yref="paper", text=message, showarrow=False,
                                    font=dict(size=14))])
    return go.Figure(dict(data=[], layout=layout))


def memory_bar(mem: dict, gpu_name: str) -> go.Figure:
    """One GPU's memory as the engine plans it, stacked against the memory torch can allocate."""
    parts = [("Weights", mem["weights_gib_per_gpu"], "weights"),
             ("KV cache + state pool", mem["kv_cache_gib_per_gpu"], "kv"),
             ("Activations (peak)", mem["activation_gib_per_gpu"], "activation"),
             ("CUDA context, buffers, graphs", mem["overhead_gib_per_gpu"], "overhead"),
             ("Free", max(mem["free_gib_per_gpu"], 0.0), "free")]
    data = [dict(type="bar", x=[gib], y=["per GPU"], orientation="h", name=name, marker=dict(color=COLORS[key]),
                 hovertemplate=f"{name}: %{{x:.1f}} GiB<extra></extra>") for name, gib, key in parts]
    cap = mem["gpu_memory_gib"]
    layout = _layout("Memory per GPU", "GiB per GPU (2^30 bytes)", "", height=300, barmode="stack",
                     margin=dict(l=60, r=30, t=60, b=100),
                     legend=dict(orientation="h", traceorder="normal", yanchor="top", y=-0.45, x=0))
    layout["xaxis"]["range"] = [0, max(cap, mem["total_gib_per_gpu"]) * 1.08]
    _vline(layout, cap, f"{gpu_name}: {cap:.1f} GiB usable", "black", "dash")
    return go.Figure(dict(data=data, layout=layout))


def memory_vs_context(points: list[dict], current_context: int, capacity_gib: float, budget_gib: float | None,
                      concurrency: int) -> go.Figure:
    """Memory the scenario's requests need as the context grows; red where they no longer fit.

    `budget_gib` is what the engine plans to use (None when the scenario does not fit: no budget exists then).
    """
    data = [dict(type="scatter", x=[p["context"] for p in points], y=[p["need_gib"] for p in points], mode="lines",
                 name=f"needed at concurrency {concurrency}", line=dict(color=COLORS["line"]),
                 hovertemplate="context %{x:,} tokens: %{y:.1f} GiB<extra></extra>")]
    layout = _layout("Memory per GPU vs context length", "context per request: input + output (tokens, log scale)",
                     "GiB per GPU")
    layout["xaxis"]["type"] = "log"
    bad = [p for p in points if not p["fits"]]
    if bad:
        data.append(dict(type="scatter", x=[p["context"] for p in bad], y=[p["need_gib"] for p in bad], mode="markers",
                         name="does not fit", marker=dict(color=COLORS["current"], symbol="x", size=7),
                         hovertemplate="context %{x:,} tokens: does not fit<extra></extra>"))
        if bad[0] is points[0]:  # nothing fits, even the shortest context: say so instead of a line at the edge
            layout["annotations"].append(dict(x=0.5, y=1, xref="paper", yref="paper", yanchor="bottom", showarrow=False,
                                              text="does not fit at any context length", font=dict(color=COLORS["current"])))
        else:
            _vline(layout, bad[0]["context"], f"stops fitting at ~{bad[0]['context']:,} tokens", COLORS["current"], "dot")
    cur = min(points, key=lambda p: abs(p["context"] - current_context))
    data.append(dict(type="scatter", x=[cur["context"]], y=[cur["need_gib"]], mode="markers", name="current scenario",
                     marker=dict(color=COLORS["current"], size=12, line=dict(color="white", width=1)),
                     hovertemplate="current: %{x:,} tokens, %{y:.1f} GiB<extra></extra>"))
    _hline(layout, capacity_gib, f"GPU {capacity_gib:.0f} GiB", "black", "dash")
    if budget_gib is not None and budget_gib < capacity_gib * 0.995:  # the budget sits under the capacity, by definition
        _hline(layout, budget_gib, f"engine budget {budget_gib:.0f} GiB", COLORS["grey"], "dot", side="left")
    return go.Figure(dict(data=data, layout=layout))


def _band(points: list[dict], figure: str, axis: str, rgb: str, unit: str) -> list[dict]:
    """The 80 % band of `figure` as a shaded area (an invisible low edge, the high edge filled down to it)."""
    pts = [p for p in points if p.get(figure + "_low") is not None and p.get(figure + "_high") is not None]
    if not pts:
        return []
    x = [p["concurrency"] for p in pts]
    fmt = ",.0f" if unit == "tok/s" else ".1f"
    name = f"80 % range of {'tokens/s' if unit == 'tok/s' else 'TPOT'} ({pts[0].get('evidence') or 'predicted'})"
    low = dict(type="scatter", x=x, y=[p[figure + "_low"] for p in pts], mode="lines", yaxis=axis, line=dict(width=0),
               showlegend=False, legendgroup=name, hoverinfo="skip", name=name + " low")
    high = dict(type="scatter", x=x, y=[p[figure + "_high"] for p in pts], mode="lines", yaxis=axis, line=dict(width=0),
                fill="tonexty", fillcolor=f"rgba({rgb},0.15)", name=name, legendgroup=name,
                customdata=[[p[figure + "_low"]] for p in pts],
                hovertemplate=f"%{{x}} in flight: 80 % range %{{customdata[0]:{fmt}}}–%{{y:{fmt}}} {unit}<extra></extra>")
    return [low, high]


def throughput_vs_concurrency(points: list[dict], current: dict | None, tpot_target_ms: float | None) -> go.Figure:
    """Aggregate output tokens/s (left axis) and TPOT (right axis) against closed-loop concurrency, each line
    inside its shaded 80 % band (planner.search.sweeps adds `<figure>_low/_high` from each estimate)."""
    if not points:
        return message_figure("Throughput and latency vs concurrency",
                              "Does not fit in memory at any concurrency:<br>no speed to draw.")
    x = [p["concurrency"] for p in points]
    data = [*_band(points, "output_tokens_per_s", "y", "76,120,168", "tok/s"), *_band(points, "tpot_ms", "y2", "245,133,24", "ms")]
    data += [dict(type="scatter", x=x, y=[p["output_tokens_per_s"] for p in points], name="output tokens/s (all users)",
                 mode="lines+markers", line=dict(color=COLORS["line"]),
                 hovertemplate="%{x} in flight: %{y:,.0f} tok/s<extra></extra>"),
            dict(type="scatter", x=x, y=[p["tpot_ms"] for p in points], name="TPOT (ms)", mode="lines+markers", yaxis="y2",
                 line=dict(color=COLORS["line2"]), hovertemplate="%{x} in flight: TPOT %{y:.1f} ms<extra></extra>")]
    layout = _layout("Throughput and latency vs concurrency", "concurrent requests (closed loop, log scale)",
                     "output tokens/s, all users",
                     yaxis2=dict(title={"text": "TPOT (ms per output token)"}, overlaying="y", side="right",
                                 rangemode="tozero", showgrid=False))
    layout["xaxis"]["type"] = "log"
    layout["yaxis"]["rangemode"] = "tozero"
    if tpot_target_ms:
        _hline(layout, tpot_target_ms, f"TPOT target {tpot_target_ms:g} ms", COLORS["current"], "dash", "y2")
    if current and current.get("tpot_ms") is not None:
        data.append(dict(type="scatter", x=[current["concurrency"]], y=[current["output_tokens_per_s"]], mode="markers",
                         name="current scenario", marker=dict(color=COLORS["current"], size=12),
                         hovertemplate="current: %{x} in flight, %{y:,.0f} tok/s<extra></extra>"))
    return go.Figure(dict(data=data, layout=layout))


def pareto_front(points: list[dict], x: str, y: str) -> list[dict]:
    """Points no other point beats on both x and y (lower is better for both)."""
    front, best_y = [], float("inf")
    for p in sorted(points, key=lambda p: (p[x], p[y])):
        if p[y] < best_y:
            front.append(p)
            best_y = p[y]
    return front


def cost_vs_latency(rows: list[dict], best: dict | None, y: str = "usd_per_million_output_tokens",
                    x: str = "tpot_ms") -> go.Figure:
    """Cost (`y`: what ranks) against TPOT for every configuration that fits; the Pareto front of the ranked set.

    The ranked set (`meets_targets`: every target met, dated or user price) is what the star comes from, so the
    front is drawn over it too; points priced by an estimate (`estimated_price`) are hollow and never ranked.
    Ranked pessimistically, `x`/`y` are the slow ends of the 80 % ranges (`tpot_ms_high`, `usd_per_request_high`).
    """
    y_title, y_hover, y_format = COST_AXES[y]
    pts = [r for r in rows if r.get(x) is not None and r.get(y) is not None]
    groups = (("meets targets (ranked)", lambda r: r["meets_targets"], COLORS["line"], "circle"),
              ("estimated price (not ranked)", lambda r: not r["meets_targets"] and r.get("estimated_price"),
               COLORS["line"], "circle-open"),
              ("misses a target", lambda r: not r["meets_targets"] and not r.get("estimated_price"), COLORS["grey"], "circle"))
    data = []
    for name, keep, color, symbol in groups:
        sub = [r for r in pts if keep(r)]
        data.append(dict(type="scattergl", x=[r[x] for r in sub], y=[r[y] for r in sub],
                         mode="markers", name=name, marker=dict(color=color, size=8, opacity=0.8, symbol=symbol),
                         text=[r["config"] for r in sub],
                         hovertemplate=f"%{{text}}<br>TPOT %{{x:.1f}} ms<br>{y_hover}<extra></extra>"))
    front = pareto_front([r for r in pts if r["meets_targets"]], x, y)
    data.append(dict(type="scatter", x=[r[x] for r in front], y=[r[y] for r in front],
                     mode="lines", name="Pareto front (ranked)", line=dict(color=COLORS["line2"], dash="dash"),
                     hoverinfo="skip"))
    if best:
        data.append(dict(type="scatter", x=[best[x]], y=[best[y]], mode="markers",
                         name="recommended", marker=dict(color=COLORS["current"], size=14, symbol="star"),
                         text=[best["config"]], hovertemplate="%{text}<extra>recommended</extra>"))
    x_title = ("TPOT at the slow end of its 80 % range (ms per output token, log scale)" if x.endswith("_high")
               else "TPOT (ms per output token, log scale)")
    layout = _layout("Cost vs latency of every configuration that fits", x_title, y_title, height=460)
    layout["xaxis"].update(type="log", tickvals=LOG_TICKS)  # 1-2-5 labels read as values, unlike plotly's "D2" digits
    layout["yaxis"].update(type="log", tickvals=LOG_TICKS, tickformat=y_format)
    return go.Figure(dict(data=data, layout=layout))


def memory_by_format(points: list[dict], model_id: str, capacities_gb: dict[str, float] | None = None) -> go.Figure:
    """Checkpoint size in each weight format, with reference GPU memory sizes."""
    data = [dict(type="bar", x=[p["weights"] for p in points], y=[p["weights_gb"] for p in points],
                 marker=dict(color=COLORS["weights"]), name="weights", text=[f"{p['weights_gb']:.0f}" for p in points],
                 textposition="outside", customdata=[[p["label"], p["weights_gib"]] for p in points],
                 hovertemplate="%{customdata[0]}: %{y:.1f} GB (%{customdata[1]:.1f} GiB)<extra></extra>")]
    layout = _layout(f"Weights of {model_id} by format", "weight format", "GB (1e9 bytes), whole model", showlegend=False)
    for name, gb in (capacities_gb or {}).items():
        _hline(layout, gb, name, COLORS["grey"], "dot")
    return go.Figure(dict(data=data, layout=layout))
