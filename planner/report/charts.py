"""Charts of the PDF report, drawn as vectors with fpdf2's own lines, rectangles and text.

No image library is imported and no bitmap is embedded: the report builds in a fraction of the time,
prints sharp at any size, and its chart labels stay searchable text (pdftotext reads them). Every
series carries a pattern or a marker as well as a colour (Okabe-Ito palette), so the charts survive a
black-and-white printer. Units: millimetres on the page, font sizes in points.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

INK, GRID, GREY = (31, 36, 48), (221, 221, 221), (110, 110, 110)
BLUE, ORANGE, GREEN, VERMILION, SILVER = (0, 114, 178), (230, 159, 0), (0, 158, 115), (213, 94, 0), (153, 153, 153)
MEMORY_PARTS = (  # (field, label, colour, hatch angle in degrees or None)
    ("weights", "Weights", BLUE, 45),
    ("kv", "KV cache pool", ORANGE, None),
    ("activation", "Activations", GREEN, -45),
    ("overhead", "Overhead (CUDA context, buffers)", SILVER, 0),
)
FONT = "Sans"


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


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2 or 5 x 10^n) up to at least `top`."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    step = min((m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: (s < raw, s))
    return [i * step for i in range(int(math.ceil(top / step - 1e-9)) + 1)]


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:g}"


def _x_axis(pdf, x0: float, x1: float, top: float, bottom: float, ticks: list[float], fmt, title: str) -> None:
    """Vertical grid lines at `ticks` (0 at x0, the last at x1), their labels and the axis title below."""
    for t in ticks:
        x = x0 + t / ticks[-1] * (x1 - x0)
        pdf.set_draw_color(*GRID)
        pdf.set_line_width(0.15)
        pdf.line(x, top, x, bottom)
        _text(pdf, x, bottom + 2.5, fmt(t), 6, align="C")
    _text(pdf, (x0 + x1) / 2, bottom + 6, title, 7, align="C")


def _space(pdf, height: float, caption: str) -> float:
    """Start a figure: a new page when it would not fit, then its caption; returns the top of the drawing."""
    if pdf.get_y() + height + 10 > pdf.page_break_trigger:
        pdf.add_page()
    pdf.set_font(FONT, "B", 9.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(0, 5, caption, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    return pdf.get_y()


def _text(pdf, x: float, y: float, text: str, size: float = 6.5, align: str = "L", style: str = "", colour=INK) -> None:
    """Text with its vertical centre at y, left-, centre- or right-aligned at x."""
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(*colour)
    width = pdf.get_string_width(text)
    left = {"L": x, "C": x - width / 2, "R": x - width}[align]
    pdf.text(left, y + size * 0.3528 * 0.35, text)


def _hatch(pdf, x: float, y: float, w: float, h: float, angle: float | None) -> None:
    """Parallel lines across a rectangle, clipped to it (the pattern that carries meaning in grey print)."""
    if angle is None or w <= 0 or h <= 0:
        return
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.12)
    with pdf.rect_clip(x, y, w, h):
        if angle == 0:
            for i in range(1, int(h / 1.2) + 1):
                pdf.line(x, y + i * 1.2, x + w, y + i * 1.2)
            return
        slope = math.tan(math.radians(angle))
        for i in range(-int(h / 1.4) - 2, int(w / 1.4) + 3):
            x0 = x + i * 1.4
            pdf.line(x0, y + h, x0 + h / slope, y)


def _legend(pdf, x: float, y: float, entries: list[tuple[str, callable]], width: float) -> float:
    """Swatches with labels in rows across `width`; returns the height used."""
    pdf.set_font(FONT, "", 6.5)
    cx, cy = x, y
    for label, draw in entries:
        item = 7 + pdf.get_string_width(label) + 4
        if cx + item > x + width:
            cx, cy = x, cy + 4
        draw(cx, cy)
        _text(pdf, cx + 6, cy, label)
        cx += item
    return cy - y + 4


def _swatch(pdf, colour, angle):
    def draw(x, y):
        pdf.set_fill_color(*colour)
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.15)
        pdf.rect(x, y - 1.5, 4.5, 3, style="DF")
        _hatch(pdf, x, y - 1.5, 4.5, 3, angle)
    return draw


def memory_chart(pdf, bars: list[MemoryBar], caption: str) -> None:
    """Stacked per-GPU memory of each configuration against what one GPU can allocate."""
    top = _space(pdf, 8 * len(bars) + 20, caption)
    pdf.set_font(FONT, "", 7)
    label_w = min(62.0, max(pdf.get_string_width(b.label) for b in bars) + 2)
    x0, x1 = pdf.l_margin + label_w, pdf.l_margin + pdf.epw - 36
    totals = [b.weights + b.kv + b.activation + b.overhead for b in bars]
    ticks = nice_ticks(max(max(totals), max(b.capacity for b in bars)))
    scale = (x1 - x0) / ticks[-1]
    bottom = top + 8 * len(bars)
    _x_axis(pdf, x0, x1, top, bottom, ticks, _label, "GiB per GPU (2^30 bytes)")
    for i, (b, total) in enumerate(zip(bars, totals)):
        y = top + 8 * i + 1.5
        _text(pdf, x0 - 1.5, y + 2.5, b.label, 7, align="R")
        left = x0
        for field, _, colour, angle in MEMORY_PARTS:
            w = getattr(b, field) * scale
            if w > 0:
                pdf.set_fill_color(*colour)
                pdf.set_draw_color(*INK)
                pdf.set_line_width(0.15)
                pdf.rect(left, y, w, 5, style="DF")
                _hatch(pdf, left, y, w, 5, angle)
            left += w
        cap = x0 + b.capacity * scale
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.7)
        pdf.line(cap, y - 1, cap, y + 6)
        over = total > b.capacity * 1.0001
        _text(pdf, max(left, cap) + 1.5, y + 2.5, f"{total:,.1f} of {b.capacity:,.1f} GiB" + ("  OVER CAPACITY" if over else ""),
              style="B" if over else "")
    entries = [(label, _swatch(pdf, colour, angle)) for _, label, colour, angle in MEMORY_PARTS]
    entries.append(("GPU capacity", lambda x, y: (pdf.set_line_width(0.7), pdf.line(x + 2, y - 2, x + 2, y + 2))))
    used = _legend(pdf, pdf.l_margin, bottom + 10, entries, pdf.epw)
    pdf.set_y(bottom + 10 + used + 2)


def _panel(pdf, x: float, y: float, w: float, h: float, series: list[tuple], xs: list[int], title: str,
           target: float | None, scenario: int) -> None:
    """One small chart against concurrency (log2 axis): series = [(points, colour, dashed, marker)]."""
    values = [v for pts, *_ in series for _, v in pts] + [target or 0]
    ticks = nice_ticks(max(values) * 1.1 if values else 1, 4)
    lo, hi = math.log2(min(xs)), math.log2(max(xs)) or 1.0
    span = (hi - lo) or 1.0
    px = lambda c: x + (math.log2(c) - lo) / span * w  # noqa: E731
    py = lambda v: y + h - v / ticks[-1] * h  # noqa: E731
    _text(pdf, x + w / 2, y - 3, title, 7.5, align="C", style="B")
    for t in ticks:
        pdf.set_draw_color(*GRID)
        pdf.set_line_width(0.15)
        pdf.line(x, py(t), x + w, py(t))
        _text(pdf, x - 1, py(t), _label(t), 6, align="R")
    for c in [c for c in xs if c & (c - 1) == 0][::2] or xs:
        _text(pdf, px(c), y + h + 2.5, f"{c:,}", 6, align="C")
    _text(pdf, x + w / 2, y + h + 6, "concurrent requests", 6.5, align="C")
    pdf.set_draw_color(*GREY)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(0.6, 0.8)
    pdf.line(px(scenario), y, px(scenario), y + h)
    if target is not None:
        pdf.set_draw_color(*INK)
        pdf.set_dash_pattern(2, 1)
        pdf.line(x, py(target), x + w, py(target))
    pdf.set_dash_pattern()
    for pts, colour, dashed, marker in series:
        _line(pdf, [(px(c), py(v)) for c, v in pts], colour, dashed, marker)


def _line(pdf, pts: list[tuple[float, float]], colour, dashed: bool, marker: str) -> None:
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.35)
    if dashed:
        pdf.set_dash_pattern(1.5, 0.8)
    if len(pts) > 1:
        pdf.polyline(pts)
    pdf.set_dash_pattern()
    for x, y in pts:
        if marker == "o":
            pdf.set_fill_color(*colour)
            pdf.circle(x, y, 0.6, style="F")
        else:
            pdf.line(x - 0.7, y - 0.7, x + 0.7, y + 0.7)
            pdf.line(x - 0.7, y + 0.7, x + 0.7, y - 0.7)


def sweep_chart(pdf, points: list[SweepPoint], concurrency: int, ttft_ms_max: float | None, tpot_ms_max: float | None,
                measured: list[SweepPoint], caption: str) -> None:
    """TTFT, TPOT and aggregate output tokens/s against concurrency: targets dashed, the scenario dotted,
    measured levels (a probe) as crosses on a dashed line."""
    top = _space(pdf, 66, caption) + 5
    gap, h = 12.0, 42.0
    w = (pdf.epw - 2 * gap - 8) / 3
    xs = sorted({p.concurrency for p in [*points, *measured]} | {concurrency})
    panels = (("ttft_ms", "TTFT (ms)", ttft_ms_max), ("tpot_ms", "TPOT (ms)", tpot_ms_max),
              ("output_tokens_per_s", "Output tokens/s, all users", None))
    for i, (field, title, target) in enumerate(panels):
        series = [([(p.concurrency, getattr(p, field)) for p in points if getattr(p, field) is not None], BLUE, False, "o")]
        if measured:
            series.append(([(m.concurrency, getattr(m, field)) for m in measured if getattr(m, field) is not None],
                           VERMILION, True, "x"))
        suffix = f", target {target:g}" if target is not None else ""
        _panel(pdf, pdf.l_margin + 8 + i * (w + gap), top, w, h, series, xs, title + suffix, target, concurrency)
    entries = [("predicted", lambda x, y: _line(pdf, [(x, y), (x + 4.5, y)], BLUE, False, "o"))]
    if measured:
        entries.append(("measured (probe)", lambda x, y: _line(pdf, [(x, y), (x + 4.5, y)], VERMILION, True, "x")))
    entries += [("service target", lambda x, y: _dash(pdf, x, y, INK, (2, 1))),
                (f"scenario ({concurrency:,} requests)", lambda x, y: _dash(pdf, x, y, GREY, (0.6, 0.8)))]
    used = _legend(pdf, pdf.l_margin + 8, top + h + 11, entries, pdf.epw - 8)
    pdf.set_y(top + h + 11 + used + 2)


def _dash(pdf, x: float, y: float, colour, pattern) -> None:
    pdf.set_draw_color(*colour)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(*pattern)
    pdf.line(x, y, x + 4.5, y)
    pdf.set_dash_pattern()


def cost_chart(pdf, labels: list[str], values: list[float | None], chosen_index: int | None, caption: str,
               unit: str, chosen_word: str = "recommended", digits: int = 5) -> None:
    """One bar per configuration; the chosen one solid and labelled, the others hatched."""
    top = _space(pdf, 7 * len(labels) + 14, caption)
    pdf.set_font(FONT, "", 7)
    label_w = min(62.0, max(pdf.get_string_width(s) for s in labels) + 2)
    x0, x1 = pdf.l_margin + label_w, pdf.l_margin + pdf.epw - 40
    ticks = nice_ticks(max((v or 0.0) for v in values))
    scale = (x1 - x0) / ticks[-1]
    bottom = top + 7 * len(labels)
    _x_axis(pdf, x0, x1, top, bottom, ticks, lambda v: f"{v:g}", unit + " (lower is better)")
    for i, (label, v) in enumerate(zip(labels, values)):
        y, chosen = top + 7 * i + 1.25, i == chosen_index
        _text(pdf, x0 - 1.5, y + 2.25, label, 7, align="R")
        w = (v or 0.0) * scale
        pdf.set_fill_color(*(BLUE if chosen else (255, 255, 255)))
        pdf.set_draw_color(*INK)
        pdf.set_line_width(0.2)
        if w > 0:
            pdf.rect(x0, y, w, 4.5, style="DF")
            if not chosen:
                _hatch(pdf, x0, y, w, 4.5, 45)
        text = "no price" if v is None else f"${v:,.{digits}f}" + (f"  ({chosen_word})" if chosen else "")
        _text(pdf, x0 + w + 1.5, y + 2.25, text, style="B" if chosen else "")
    pdf.set_y(bottom + 10)
