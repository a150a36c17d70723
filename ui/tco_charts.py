"""Plotly figure of the Cost of ownership page: monthly cost against peak demand for rent, own and an API.

A plain function of planner.search.demand.cost_curves and its TcoResult (testable without Streamlit).
Self-hosting is a staircase (whole replicas, each billed all month); the API is a straight line through 0.
Break-even demands and the user's demand are dotted vertical lines with their labels.
"""
from __future__ import annotations

import plotly.graph_objects as go

from ui.charts import COLORS, _layout

SERIES = (("rent", "Rent (cloud GPUs)", COLORS["line"], "solid"), ("own", "Own (buy the GPUs)", COLORS["activation"], "solid"),
          ("api", "API (pay per token)", COLORS["line2"], "dash"))
EVENS = (("rent_vs_api", "rent = API", COLORS["line"]), ("own_vs_api", "own = API", COLORS["activation"]))


def _vline(layout: dict, x: float, text: str, color: str, y: float) -> None:
    layout["shapes"].append(dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                                 line=dict(color=color, dash="dot", width=1.5)))
    layout["annotations"].append(dict(x=x, y=y, xref="x", yref="paper", text=text, showarrow=False, xanchor="left",
                                      yanchor="top", bgcolor="rgba(255,255,255,0.85)", font=dict(color=color)))


def monthly_cost(curves: dict[str, list[float]], result) -> go.Figure:
    """$ per month against peak requests/s; break-even points marked on the API line and labelled."""
    x = curves["requests_per_s"]
    data = [dict(type="scatter", x=x, y=curves[name], mode="lines", name=label, line=dict(color=color, dash=dash),
                 line_shape="linear" if name == "api" else "hv",
                 hovertemplate="%{x:.3g} requests/s<br>$%{y:,.0f} per month<extra>" + label + "</extra>")
            for name, label, color, dash in SERIES if name in curves]
    layout = _layout("Monthly cost against demand", "Peak demand (requests per second)", "US$ per month", height=460)
    layout["xaxis"].update(rangemode="tozero")
    layout["yaxis"].update(rangemode="tozero", tickprefix="$", tickformat=",.0f")
    api_per_rps = result.api.usd_per_month / result.requests_per_s if result.requests_per_s else 0.0
    tops = iter((0.98, 0.88))
    for key, label, color in EVENS:
        demand = result.break_even_requests_per_s.get(key)
        if demand is None:
            continue
        cost = demand * api_per_rps
        _vline(layout, demand, f"{label}<br>{demand:.3g} req/s, ${cost:,.0f}", color, next(tops))
        data.append(dict(type="scatter", x=[demand], y=[cost], mode="markers", name=f"break-even: {label}",
                         marker=dict(color=color, size=11, symbol="diamond", line=dict(color="white", width=1)),
                         hovertemplate=f"{label} at %{{x:.3g}} requests/s, $%{{y:,.0f}} per month<extra></extra>"))
    _vline(layout, result.requests_per_s, f"your demand<br>{result.requests_per_s:.3g} req/s", COLORS["current"], 0.2)
    return go.Figure(dict(data=data, layout=layout))
