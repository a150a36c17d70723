"""How sure a predicted figure is, in words: its 80 % range and the evidence behind it (planner.core.uncertainty).

One wording for the Planner page, the Compare page and the PDF: "21 ms (17–26), calibrated · 16 measurements".
The ranges are wide where the model has generalized badly; they are printed as they are.
"""
from __future__ import annotations

from planner.core import catalog, uncertainty
from planner.core.results import Band

MEANING = ("Ranges: of comparable published measurements the model had not seen, 80 % fell within such a "
           "range of its prediction.")


def interval(band: Band | None, spec: str, unit: str = "") -> str:
    """'17–26 ms' (the figure's own format), or '' when the figure has no band."""
    if band is None:
        return ""
    return f"{band.low:{spec}}–{band.high:{spec}}{' ' + unit if unit else ''}"


def evidence(band: Band | None) -> str:
    """'calibrated · 16 measurements'."""
    if band is None:
        return ""
    return f"{band.evidence} · {band.rows:,} measurement{'' if band.rows == 1 else 's'}"


def with_range(value: float | None, band: Band | None, spec: str, unit: str = "", evidence_too: bool = True) -> str:
    """'21 ms (17–26), calibrated · 16 measurements'; just the value when there is no band."""
    if value is None:
        return "n/a"
    text = f"{value:{spec}}{' ' + unit if unit else ''}"
    if band is None:
        return text
    text += f" ({band.low:{spec}}–{band.high:{spec}})"
    return text + (f", {evidence(band)}" if evidence_too else "")


def of_cost(cost: float | None, rate: float | None, rate_band: Band | None) -> Band | None:
    """The band of a cost per token, which scales as 1 / the rate that produces the tokens."""
    if cost is None or not rate or rate_band is None:
        return None
    return rate_band.model_copy(update=dict(low=cost * rate / rate_band.high, high=cost * rate / rate_band.low))


def of_rate(value: float | None, rate: float | None, rate_band: Band | None) -> Band | None:
    """The band of a figure proportional to a rate (e.g. tokens a month)."""
    if value is None or not rate or rate_band is None:
        return None
    return rate_band.model_copy(update=dict(low=value * rate_band.low / rate, high=value * rate_band.high / rate))


def candidate_band(c, figure: str) -> Band | None:
    """The band of one figure of a planner.recommend Candidate (its engine on its GPU family)."""
    value = getattr(c, figure, None)
    level, rows = uncertainty.evidence(c.engine, catalog.gpu(c.gpu).generation)
    interval = uncertainty.band(figure, value, level)
    return None if interval is None else Band(low=interval[0], high=interval[1], evidence=level, rows=rows)


def family_name(generation: str) -> str:
    """'hopper' -> 'Hopper', 'cdna3' -> 'CDNA3' (a GPU generation as people write it)."""
    return generation.upper() if generation[-1].isdigit() or generation in ("rdna", "cpu") else generation.title()


def evidence_sentence(band: Band | None, engine: str, generation: str) -> str:
    """One line on what backs the ranges of an estimate (every figure of one estimate shares its evidence)."""
    if band is None:
        return ""
    family = family_name(generation)
    what = {"calibrated": f"published measurements of {engine} on {family} GPUs",
            "related": f"published measurements of {engine} on other GPU families or of other engines on {family} GPUs",
            "extrapolated": f"no published measurement of {engine} or of {family} GPUs"}[band.evidence]
    return f"Evidence: {band.evidence} ({band.rows:,} {what})." if band.rows else f"Evidence: {band.evidence} ({what})."
