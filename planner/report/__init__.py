"""The procurement PDF: `plan` decides what it says, `pdf` and `charts` lay it out, `build` joins them."""
from .build import build_report

__all__ = ["build_report"]
