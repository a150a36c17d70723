"""Rent, own or call an API: three prices for the same traffic, per month (730 h) and per request (issue 13).

Rent = replicas x GPUs x $/GPU-hour x 730 h (capacity sized for the peak is billed all month).
Own = purchase price / (amortization years x 12) + board power (data/gpus.csv tdp_w) x server overhead
x PUE x $/kWh x 730 h, at full board power all month (an upper bound), + hosting $/month per server.
API = requests in the month x (input tokens x $/M input + output tokens x $/M output) / 1e6, where the
month's requests = peak requests/s / peak factor x 730 x 3600 s.
Purchase prices come from data/gpu_capex.csv (one dated public source per row); a GPU without one
needs the user's price. Sizing (replicas for a demand) lives in planner/search/demand.py.
"""
from __future__ import annotations

import csv
import math
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from .catalog import DATA_DIR, CatalogError

HOURS_PER_MONTH = 730.0                       # 8,760 h / 12
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0
# Defaults a buyer should replace; each says where it comes from.
AMORTIZATION_YEARS = 5.0     # the 5-year horizon of aiinframap.com's H100/H200/B200 TCO tool (mid-2026)
USD_PER_KWH = 0.08           # same tool: "all-in delivered electricity price (industrial / colo rate)"
PUE = 1.2                    # same tool: "typical modern AI-DC figure; older facilities run 1.4-1.6"
SERVER_OVERHEAD = 1.8        # DGX H100 max input 10.2 kW / (8 x 700 W GPUs) = 1.82 (NVIDIA DGX H100 user guide,
                             # quoted by supercluster.blog "AI Supercluster: NVIDIA DGX Power"); CPUs, NICs, fans
DEFAULT_SOURCES = {  # shown beside each default in the dashboard and the PDF (the comments above, in words)
    "amortization_years": "5-year horizon of the aiinframap.com H100/H200/B200 TCO tool (mid-2026)",
    "usd_per_kwh": "all-in industrial / colocation electricity rate of the aiinframap.com TCO tool (mid-2026)",
    "pue": "typical modern AI data centre per the aiinframap.com TCO tool (mid-2026); older ones run 1.4-1.6",
    "server_overhead": "DGX H100 max input 10.2 kW / (8 x 700 W GPUs) = 1.82 (NVIDIA DGX H100 user guide): CPUs, NICs, fans",
    "hosting_usd_per_month": "none unless given (rack space, network, staff per server)",
}
API_PRESET_NAME = "Qwen3-Next-80B-A3B-Instruct through one API provider"
API_PRESET = (0.15, 1.50)    # $/M input, $/M output: the published price quoted in issue 13 (filed 2026)
API_PRESET_SOURCE = ("published price of Qwen3-Next-80B-A3B-Instruct through one API provider: $0.15 per million "
                     "input tokens, $1.50 per million output tokens (as quoted in issue 13, 2026)")


class TcoInputs(BaseModel):
    """Every knob of the comparison; None means the default above (or the catalog, for prices)."""
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    requests_per_s: float | None = Field(None, gt=0, le=1e6, description="peak demand, requests per second")
    tokens_per_day: float | None = Field(None, gt=0, le=1e15, description="input + output tokens per day")
    peak_factor: float | None = Field(None, ge=1, le=100, description="peak over mean demand (1 = flat)")
    capex_usd_per_gpu: float | None = Field(None, gt=0, le=10_000_000)
    amortization_years: float | None = Field(None, gt=0, le=20)
    usd_per_kwh: float | None = Field(None, ge=0, le=10)
    pue: float | None = Field(None, ge=1, le=5)
    server_overhead: float | None = Field(None, ge=1, le=5)
    hosting_usd_per_month: float | None = Field(None, ge=0, le=10_000_000, description="per server")
    api_usd_per_m_input: float | None = Field(None, ge=0, le=10_000)
    api_usd_per_m_output: float | None = Field(None, ge=0, le=10_000)


TCO_KEYS = tuple(TcoInputs.model_fields)


class Capex(BaseModel):
    """One row of data/gpu_capex.csv: a dated public purchase price."""
    model_config = ConfigDict(frozen=True, extra="forbid")
    gpu_id: str
    usd_per_gpu: float = Field(gt=0)
    condition: str
    source_date: str = Field(min_length=4)
    source_url: str = Field(pattern=r"^https://")
    note: str


def capex_from_row(row: dict) -> Capex:
    """A CSV row (price per GPU, or per server of gpus_per_unit GPUs) -> Capex; CatalogError names the row."""
    gid = (row.get("gpu_id") or "").strip()
    try:
        price, per = float(row["price_usd"]), float(row.get("gpus_per_unit") or 1)
        if row.get("unit") not in ("gpu", "server") or per < 1:
            raise ValueError(f"unit must be gpu or server with gpus_per_unit >= 1, got {row.get('unit')!r}")
        return Capex(gpu_id=gid, usd_per_gpu=price / per, condition=row.get("condition", ""),
                     source_date=row.get("source_date", ""), source_url=row.get("source_url", ""), note=row.get("note", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise CatalogError(f"data/gpu_capex.csv row {gid!r}: {str(exc).splitlines()[0]}") from exc


@lru_cache(maxsize=1)
def capex_catalog() -> dict[str, Capex]:
    """Purchase prices by GPU id (read once)."""
    with open(DATA_DIR / "gpu_capex.csv", newline="") as f:
        return {c.gpu_id: c for c in map(capex_from_row, csv.DictReader(f))}


class OptionCost(BaseModel):
    """One way to serve the traffic: $ per month, $ per request, and the parts of the month."""
    model_config = ConfigDict(frozen=True)
    usd_per_month: float
    usd_per_request: float | None
    parts: dict[str, float]          # sum to usd_per_month
    basis: str                       # how it was priced, with the source of each price


def requests_per_month(peak_requests_per_s: float, peak_factor: float) -> float:
    return peak_requests_per_s / peak_factor * SECONDS_PER_MONTH


def _option(parts: dict[str, float], requests: float, basis: str) -> OptionCost:
    total = sum(parts.values())
    return OptionCost(usd_per_month=total, usd_per_request=total / requests if requests > 0 else None,
                      parts=parts, basis=basis)


def rent(gpus_total: int, usd_per_gpu_hour: float, requests: float, source: str) -> OptionCost:
    return _option({"gpu_hours": gpus_total * usd_per_gpu_hour * HOURS_PER_MONTH}, requests,
                   f"{gpus_total} GPUs x ${usd_per_gpu_hour:,.2f}/GPU-hour x {HOURS_PER_MONTH:g} h ({source})")


def own(gpus_total: int, servers: int, capex_usd_per_gpu: float, tdp_w: float, t: TcoInputs, requests: float,
        source: str) -> OptionCost:
    years, kwh = _or(t.amortization_years, AMORTIZATION_YEARS), _or(t.usd_per_kwh, USD_PER_KWH)
    pue, overhead = _or(t.pue, PUE), _or(t.server_overhead, SERVER_OVERHEAD)
    kw = gpus_total * tdp_w / 1000 * overhead * pue
    parts = {"amortization": gpus_total * capex_usd_per_gpu / (years * 12),
             "power": kw * HOURS_PER_MONTH * kwh,
             "hosting": servers * _or(t.hosting_usd_per_month, 0.0)}
    basis = (f"{gpus_total} GPUs x ${capex_usd_per_gpu:,.0f} ({source}) over {years:g} years; {tdp_w:g} W board power x "
             f"{overhead:g} server overhead x PUE {pue:g} = {kw:,.1f} kW at ${kwh:g}/kWh; "
             f"{servers} server{'s' if servers != 1 else ''} x ${_or(t.hosting_usd_per_month, 0.0):,.0f}/month hosting")
    return _option(parts, requests, basis)


def api_usd_per_request(input_len: int, output_len: int, t: TcoInputs) -> float:
    p_in, p_out = api_prices(t)
    return (input_len * p_in + output_len * p_out) / 1e6


def api(input_len: int, output_len: int, t: TcoInputs, requests: float) -> OptionCost:
    p_in, p_out = api_prices(t)
    preset = (p_in, p_out) == API_PRESET and t.api_usd_per_m_input is None and t.api_usd_per_m_output is None
    source = API_PRESET_SOURCE if preset else "user input"
    return _option({"input_tokens": requests * input_len * p_in / 1e6, "output_tokens": requests * output_len * p_out / 1e6},
                   requests, f"${p_in:g}/M input + ${p_out:g}/M output tokens ({source})")


def api_prices(t: TcoInputs) -> tuple[float, float]:
    return _or(t.api_usd_per_m_input, API_PRESET[0]), _or(t.api_usd_per_m_output, API_PRESET[1])


def _or(value, default):
    return default if value is None else value


def break_even_requests_per_s(usd_per_month_per_replica: float, capacity_requests_per_s: float,
                              api_usd_per_request: float, peak_factor: float) -> float | None:
    """Peak demand at which one self-hosted replica costs as much per month as the API for the same traffic.

    None when a fully loaded replica still costs more than the API (the API is cheaper at every demand).
    Above the break-even, self-hosting is cheaper except just after each added replica (a step in the chart)."""
    api_per_peak_rps = api_usd_per_request * SECONDS_PER_MONTH / peak_factor  # $/month per request/s of peak
    if api_per_peak_rps <= 0:
        return None
    demand = usd_per_month_per_replica / api_per_peak_rps
    return demand if demand <= capacity_requests_per_s else None


def monthly_curve(demands: list[float], capacity_requests_per_s: float, usd_per_month_per_replica: float) -> list[float]:
    """Monthly cost of self-hosting at each peak demand: whole replicas, each sized to `capacity`."""
    return [math.ceil(d / capacity_requests_per_s - 1e-9) * usd_per_month_per_replica if d > 0 else 0.0
            for d in demands]
