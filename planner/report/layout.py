"""Page primitives of the recommendation PDF: A4 document, fonts, text, headings and tables (fpdf2).

matplotlib's bundled DejaVu fonts give Unicode (×, ≤, ·) without system fonts; grey rules and shading
only, so the document prints well in black and white. planner.report.pdf and its sections draw with these.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

INK, GREY, RULE, SHADE = (20, 20, 20), (90, 90, 90), (150, 150, 150), (238, 241, 245)


def _fonts(pdf) -> None:
    # matplotlib ships the DejaVu fonts; find them without importing it (0.3 s of imports for a path)
    ttf = Path(importlib.util.find_spec("matplotlib").submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
    pdf.add_font("Sans", "", ttf / "DejaVuSans.ttf")
    pdf.add_font("Sans", "B", ttf / "DejaVuSans-Bold.ttf")


def _new_pdf(footer: str):
    from fpdf import FPDF

    class Doc(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font("Sans", "", 7)
            self.set_text_color(*GREY)
            self.cell(0, 5, f"{footer}  ·  page {self.page_no()} of {{nb}}", align="C")

    pdf = Doc(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    _fonts(pdf)
    return pdf


def _text(pdf, text: str, size: float = 9.5, style: str = "", colour=INK, h: float | None = None, **kw) -> None:
    pdf.set_font("Sans", style, size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, h or size * 0.5, text, new_x="LMARGIN", new_y="NEXT", align=kw.pop("align", "L"), **kw)


def _heading(pdf, text: str, size: float = 12.5, space: float = 4) -> None:
    if pdf.get_y() > pdf.page_break_trigger - 30:
        pdf.add_page()
    pdf.ln(space)
    _text(pdf, text, size, "B")
    y = pdf.get_y() + 0.6
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(2.2)


def _table(pdf, rows: list[list[str]], widths: tuple, size: float = 8, header: bool = True, align=None) -> None:
    from fpdf.fonts import FontFace
    pdf.set_font("Sans", "", size)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    with pdf.table(col_widths=widths, width=pdf.epw, first_row_as_headings=header, line_height=size * 0.5,
                   borders_layout="HORIZONTAL_LINES", text_align=align or "LEFT", padding=(1.0, 1.2),
                   headings_style=FontFace(emphasis="BOLD", fill_color=SHADE)) as t:
        for r in rows:
            row = t.row()
            for cell in r:
                row.cell(cell)
    pdf.ln(1.5)


def _subheading(pdf, text: str, keep_mm: float = 50) -> None:
    """A heading kept on the same page as the first `keep_mm` of what follows (no orphan table rows)."""
    if pdf.get_y() + keep_mm > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(2)
    _text(pdf, text, 10, "B", h=5.5)


def _url_lines(url: str, width: int) -> list[str]:
    """Break a long URL only before '&', so a reader can copy it line by line."""
    lines, cur = [], ""
    for part in url.replace("&", "\n&").split("\n"):
        if cur and len(cur) + len(part) > width:
            lines.append(cur)
            cur = ""
        cur += part
    return lines + [cur]
