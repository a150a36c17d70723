"""Charts of the PDF report, drawn with matplotlib's Agg canvas into PNG bytes.

No pyplot (no global figure state, safe inside a Streamlit server); matplotlib is imported
inside the functions so that importing planner does no work (STYLE rule 7). Every series has
a hatch or a marker as well as a colour, so the charts survive a black-and-white printer, and
PNG metadata is dropped so the same inputs give the same bytes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

# Okabe-Ito palette (colour-blind safe); hatches carry the meaning in grey print.
MEMORY_PARTS = (  # (field, label, colour, hatch)
    ("weights", "Weights", "#0072B2", "///"),
    ("kv", "KV cache pool", "#E69F00", "..."),
    ("activation", "Activations", "#009E73", "xxx"),
    ("overhead", "Overhead (CUDA context, buffers)", "#999999", "\\\\\\"),
)
DPI = 150  # 1,000 px across the A4 text width: sharp in print, quick to draw


@dataclass(frozen=True)
class MemoryBar:
    label: str
    weights: float        # GiB per GPU
    kv: float
    activation: float
    overhead: float
    capacity: float       # GiB the engine can allocate on one GPU


@dataclass(frozen=True)
class SweepPoint:
    concurrency: int
    ttft_ms: float | None
    tpot_ms: float | None
    output_tokens_per_s: float | None


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    import matplotlib
    matplotlib.rcParams["svg.hashsalt"] = "planner-report"  # deterministic ids if anyone saves SVG
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})  # layout by tight_layout: one draw less
    return buf.getvalue()


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=7)
    ax.grid(axis="both", color="#dddddd", linewidth=0.5)
    ax.set_axisbelow(True)


def memory_chart(bars: list[MemoryBar]) -> bytes:
    """Stacked per-GPU memory of each configuration against what one GPU can allocate."""
    fig = _figure(6.8, 0.42 * len(bars) + 1.3)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(bars)))[::-1]
    left = [0.0] * len(bars)
    for field, label, colour, hatch in MEMORY_PARTS:
        widths = [getattr(b, field) for b in bars]
        ax.barh(ys, widths, left=left, height=0.55, color=colour, hatch=hatch, edgecolor="black",
                linewidth=0.4, label=label)
        left = [lo + w for lo, w in zip(left, widths)]
    ax.scatter([b.capacity for b in bars], ys, marker="|", s=350, color="black", linewidths=2, zorder=5,
               label="GPU capacity")
    x_max = max(max(left), max(b.capacity for b in bars)) * 1.35
    for y, b, total in zip(ys, bars, left):
        over = "  OVER CAPACITY" if total > b.capacity * 1.0001 else ""
        ax.text(max(total, b.capacity) + x_max * 0.015, y, f"{total:,.1f} of {b.capacity:,.1f} GiB{over}",
                va="center", fontsize=6.5)
    ax.set_yticks(ys, [b.label for b in bars], fontsize=7)
    ax.set_xlabel("GiB per GPU (2^30 bytes)", fontsize=7)
    ax.set_xlim(0, x_max)
    _style(ax)
    handles, labels = ax.get_legend_handles_labels()  # in the figure, under the axes: never cut at the edge
    fig.legend(handles, labels, fontsize=6.5, ncol=3, loc="lower center", frameon=False, handlelength=1.8,
               columnspacing=1.2, markerscale=0.5)
    fig.tight_layout(pad=0.3, rect=(0, 0.55 / fig.get_figheight(), 1, 1))
    return _png(fig)


def _series(ax, xs, ys, label, marker, linestyle, colour):
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
    if pts:
        ax.plot(*zip(*pts), marker=marker, linestyle=linestyle, color=colour, markersize=3.5, linewidth=1.1,
                label=label)


def sweep_chart(points: list[SweepPoint], concurrency: int, ttft_ms_max: float | None,
                tpot_ms_max: float | None, measured: list[SweepPoint] = ()) -> bytes:
    """TTFT, TPOT and aggregate output tokens/s against concurrency, targets dashed, measured as crosses."""
    fig = _figure(7.0, 2.7)
    panels = (("ttft_ms", "TTFT (ms)", ttft_ms_max), ("tpot_ms", "TPOT (ms)", tpot_ms_max),
              ("output_tokens_per_s", "Output tokens/s, all users", None))
    xs = [p.concurrency for p in points]
    legend = {}
    for i, (field, title, target) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        values = [getattr(p, field) for p in points] + [getattr(m, field) for m in measured]
        _series(ax, xs, [getattr(p, field) for p in points], "predicted", "o", "-", "#0072B2")
        if measured:
            _series(ax, [m.concurrency for m in measured], [getattr(m, field) for m in measured],
                    "measured (probe)", "x", "--", "#D55E00")
        if target is not None:
            ax.axhline(target, color="black", linestyle=(0, (4, 2)), linewidth=1, label="service target")
        ax.axvline(concurrency, color="#555555", linestyle=":", linewidth=1, label=f"scenario ({concurrency:,} requests)")
        ax.set_xscale("log", base=2)
        ticks = [x for x in xs if x & (x - 1) == 0][::2] or xs  # every other power of two
        ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
        ax.minorticks_off()
        ax.set_title(title + (f", target {target:g}" if target is not None else ""), fontsize=8)
        ax.set_xlabel("concurrent requests", fontsize=7)
        ax.set_ylim(0, max([v for v in values if v is not None] + [target or 0]) * 1.15 or 1)
        _style(ax)
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=len(legend), fontsize=6.5, frameon=False)
    fig.tight_layout(pad=0.3, w_pad=1.2, rect=(0, 0.08, 1, 1))
    return _png(fig)


def cost_chart(labels: list[str], usd_per_million: list[float | None], chosen_index: int | None,
               chosen_word: str = "recommended") -> bytes:
    """$ per million output tokens of each configuration; the chosen one is solid and labelled."""
    fig = _figure(6.8, 0.4 * len(labels) + 0.7)
    ax = fig.add_subplot(1, 1, 1)
    ys = list(range(len(labels)))[::-1]
    values = [v or 0.0 for v in usd_per_million]
    for y, i, v in zip(ys, range(len(labels)), values):
        chosen = i == chosen_index
        ax.barh(y, v, height=0.55, color="#0072B2" if chosen else "#ffffff", hatch="" if chosen else "///",
                edgecolor="black", linewidth=0.6)
        text = "no price" if usd_per_million[i] is None else f"${v:,.3f}" + (f"  ({chosen_word})" if chosen else "")
        ax.text(v + max(values) * 0.015 + 1e-9, y, text, va="center", fontsize=6.5,
                fontweight="bold" if chosen else "normal")
    ax.set_yticks(ys, labels, fontsize=7)
    ax.set_xlabel("US$ per million output tokens (lower is better)", fontsize=7)
    ax.set_xlim(0, (max(values) or 1.0) * 1.35)
    _style(ax)
    fig.tight_layout(pad=0.3)
    return _png(fig)
