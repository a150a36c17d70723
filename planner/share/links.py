"""Scenario <-> URL query parameters: validated, versioned, safe to echo (shared/DESIGN.md §2, §5).

Keys are the Scenario field names of DESIGN.md §2 plus a few page keys (service targets). Query
strings are untrusted: every value goes through the same pydantic rules as planner.Scenario; a bad
one is dropped with a warning that names the parameter (never the raw value, which may be hostile
text), and the rest of the scenario still loads. Pure: no Streamlit, no I/O.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.core import catalog
from planner.core.tco import TCO_KEYS, TcoInputs
from planner.core.net import check_endpoint_url
from planner.core.scenario import Scenario
from planner.core.schemas import ModelSpec

VERSION = "1"
MAX_VALUE_CHARS = 200          # the longest catalog id is < 60 characters
DEFAULT_MODEL = "Qwen/Qwen3-Next-80B-A3B-Instruct"
SCENARIO_KEYS = (
    "model", "gpu", "gpus", "tp", "pp", "ep", "engine", "weights", "kv_dtype", "input_len", "output_len",
    "concurrency", "gpu_memory_utilization", "usd_per_gpu_hour", "spec_tokens", "acceptance_length",
    "cpu_offload_experts", "state_dtype", "arrivals", "max_num_seqs", "max_num_batched_tokens", "num_prompts",
)
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SAFE_QUOTED = re.compile(r"^['\"][A-Za-z0-9._/:+ -]{0,60}['\"]$")


MAX_PRICES = 30


def parse_prices(text: str) -> dict[str, float]:
    """`h200-nvl:4.2,mi355x:2.6` -> {gpu id: $/GPU-hour}; ValueError naming the bad entry."""
    out: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        gpu_id, sep, price = item.partition(":")
        if not sep:
            raise ValueError("write prices as gpu-id:dollars, separated by commas (e.g. h200-nvl:4.2)")
        try:
            gpu_id, value = catalog.gpu(gpu_id.strip()).id, float(price)
        except KeyError:
            raise ValueError(f"unknown GPU id {gpu_id.strip()[:40]!r}") from None
        except ValueError:
            raise ValueError(f"price of {gpu_id.strip()[:40]!r} is not a number") from None
        if not 0 < value <= 1000 or value != value:
            raise ValueError(f"price of {gpu_id} must be above 0 and at most 1000 $/GPU-hour")
        out[gpu_id] = value
    if len(out) > MAX_PRICES:
        raise ValueError(f"at most {MAX_PRICES} prices")
    return out


CALIBRATION_KEYS = ("cal_decode", "cal_prefill", "cal_ttft_ms")


def calibration_of(values: Mapping):
    """The planner.Calibration that a page's cal_* values describe, or None."""
    from planner.core.scenario import Calibration
    if values.get("cal_decode") is None and values.get("cal_prefill") is None:
        return None
    return Calibration(decode_time_factor=values.get("cal_decode") or 1.0,
                       prefill_time_factor=values.get("cal_prefill") or 1.0,
                       ttft_overhead_ms=values.get("cal_ttft_ms"), source="probe of a live endpoint")


def _ids(text: str) -> list[str]:
    return list(dict.fromkeys(filter(None, (part.strip() for part in str(text).split(",")))))


def parse_gpu_ids(text: str) -> list[str]:
    """`h200-sxm,mi325x` -> catalog GPU ids; ValueError naming the unknown one."""
    out = []
    for gpu_id in _ids(text):
        try:
            out.append(catalog.gpu(gpu_id).id)
        except KeyError:
            raise ValueError(f"unknown GPU id {gpu_id[:40]!r}") from None
    return out


def parse_engines(text: str) -> list[str]:
    """`vllm,sglang` -> engine ids; ValueError listing the allowed ones."""
    from planner.core.scenario import ENGINES
    bad = [e for e in _ids(text) if e not in ENGINES]
    if bad:
        raise ValueError(f"unknown engine {bad[0][:40]!r}; allowed: {', '.join(ENGINES)}")
    return _ids(text)


def format_ids(ids) -> str:
    return ",".join(ids)


def format_prices(prices: Mapping[str, float]) -> str:
    return ",".join(f"{g}:{p:g}" for g, p in sorted(prices.items()))


class PageParams(BaseModel):
    """Page-only keys (Compare targets, budgets, price overrides): finite and bounded like the scenario fields."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    ttft_ms_max: float | None = Field(None, gt=0, le=600_000)
    tpot_ms_max: float | None = Field(None, gt=0, le=60_000)
    budget_usd_per_hour: float | None = Field(None, gt=0, le=1_000_000)
    prices: str | None = Field(None, max_length=MAX_VALUE_CHARS, description="gpu-id:$/GPU-hour pairs")
    # a probe's calibration (planner.Calibration) applied to the Planner's scenario
    cal_decode: float | None = Field(None, gt=0.05, le=20)
    cal_prefill: float | None = Field(None, gt=0.05, le=20)
    cal_ttft_ms: float | None = Field(None, ge=0, le=60_000)
    # Report page: what the PDF assesses and the share of the month the GPUs are billed
    report_on: Literal["link", "cheapest"] | None = None
    utilization: float | None = Field(None, ge=0.05, le=1.0)
    # Compare page: the GPUs and engines the search may use (comma-separated ids)
    gpu_ids: str | None = Field(None, max_length=MAX_VALUE_CHARS * 3)
    engines: str | None = Field(None, max_length=MAX_VALUE_CHARS)
    # Compare page: rank at the slow end of each 80 % range; let configurations no measurement backs rank freely
    pessimistic: bool | None = None
    allow_extrapolated: bool | None = None
    # Probe page: endpoint (no credentials or secrets, planner.core.net), levels, requests, API, served model
    url: str | None = Field(None, max_length=MAX_VALUE_CHARS)
    levels: str | None = Field(None, pattern=r"^\d{1,4}(,\d{1,4}){0,11}$", description="e.g. 1,4,16")
    requests: int | None = Field(None, ge=1, le=10_000)
    api: Literal["chat", "completions"] | None = None
    served: str | None = Field(None, max_length=MAX_VALUE_CHARS)

    @field_validator("url")
    @classmethod
    def _url(cls, v):
        return check_endpoint_url(v) if v is not None else None

    @field_validator("prices")
    @classmethod
    def _prices(cls, v):
        return format_prices(parse_prices(v)) or None if v is not None else None

    @field_validator("gpu_ids")
    @classmethod
    def _gpu_ids(cls, v):
        return format_ids(parse_gpu_ids(v)) or None if v is not None else None

    @field_validator("engines")
    @classmethod
    def _engines(cls, v):
        return format_ids(parse_engines(v)) or None if v is not None else None


PAGE_KEYS = tuple(PageParams.model_fields)


class _Fields(Scenario):
    """Scenario with field rules only: cross-field rules are checked once all fields are known."""

    @model_validator(mode="after")
    def _consistent(self):
        return self


def _short(msg: str) -> str:
    """One readable line: no catalog listing, no echo of the offending input beyond 40 characters."""
    msg = msg.removeprefix("Value error, ").split("; known:")[0]
    msg = _QUOTED.sub(lambda m: m.group(0) if _SAFE_QUOTED.match(m.group(0)) else "(the given value)", msg)
    return msg if len(msg) <= 160 else msg[:157] + "..."


def _last(raw) -> str:
    return str(raw[-1] if isinstance(raw, (list, tuple)) and raw else raw)


def _number_problem(text: str) -> str | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return None if math.isfinite(x) else "must be a finite number"


def _check_field(key: str, text: str, models: Mapping[str, ModelSpec]):
    """(typed value, None) or (None, message) for one scenario key, checked in isolation."""
    if key == "model":
        hit = next((m for mid, m in models.items() if mid.lower() == text.strip().lower()), None)
        if hit is not None:
            return hit.id, None
        kwargs = {"model": text}
    else:
        kwargs = {"model": DEFAULT_MODEL, key: text}
    try:
        s = _Fields(**kwargs)
    except ValidationError as exc:
        return None, _short(exc.errors()[0]["msg"])
    value = getattr(s, key)
    return (value.id if isinstance(value, ModelSpec) else value), None


def _check_page(key: str, text: str):
    params = TcoInputs if key in TCO_KEYS else PageParams  # TCO keys: the Cost of ownership and Report pages
    try:
        return getattr(params(**{key: text}), key), None
    except ValidationError as exc:
        return None, _short(exc.errors()[0]["msg"])


# A cross-field error names one field; the URL key to blame may be another (tp defaults to gpus).
_BLAME = {"tp": ("tp", "gpus", "pp"), "pp": ("pp", "gpus"), "ep": ("ep", "gpus"), "input_len": ("input_len", "output_len"),
          "weights": ("weights", "engine", "gpu"), "engine": ("engine", "gpu", "weights"), "kv_dtype": ("kv_dtype", "engine"),
          "acceptance_length": ("acceptance_length", "spec_tokens"), "cpu_offload_experts": ("cpu_offload_experts", "engine")}


def _cross_field(values: dict, defaults: Mapping, models: Mapping[str, ModelSpec], warnings: list[str]) -> dict:
    """Drop the URL keys that the combined scenario rejects (e.g. a GGUF format with vLLM), one at a time."""
    for _ in SCENARIO_KEYS:
        merged = {k: v for k, v in {**defaults, **values}.items() if k in SCENARIO_KEYS and v is not None}
        merged.setdefault("model", DEFAULT_MODEL)
        merged["model"] = models.get(merged["model"], merged["model"])
        try:
            Scenario(**merged)
            return values
        except ValidationError as exc:
            err = exc.errors()[0]
            msg = _short(err["msg"])
            field = err["loc"][0] if err["loc"] else msg.split(":")[0]
            culprit = next((k for k in _BLAME.get(field, (field,)) if k in values), None)
            if culprit is None:  # a page default's fault, not the URL's: the page reports it
                return values
            warnings.append(f"{culprit}: {msg.removeprefix(field + ': ') if culprit == field else msg}; ignored")
            values.pop(culprit)
    return values


MODEL_SOURCE_KEYS = ("hf", "cfg")  # planner.share.model_links: how an imported model travels in a link


def from_query(params: Mapping, defaults: Mapping | None = None, page_keys: tuple[str, ...] = PAGE_KEYS,
               models: Mapping[str, ModelSpec] | None = None) -> tuple[dict, list[str]]:
    """Validated values of a query string and one warning per dropped parameter, naming it."""
    models, values, warnings, unknown = models or {}, {}, [], []
    for key, raw in params.items():
        text = _last(raw).strip()
        name = key if _SAFE_NAME.match(str(key)) else "(unnamed)"
        if key == "v":
            if text != VERSION:
                warnings.append(f"v: share-link version not understood; read as version {VERSION}")
            continue
        if key in MODEL_SOURCE_KEYS:  # an imported model's config or hub id: read by the page before this
            continue
        if key not in SCENARIO_KEYS and key not in page_keys:
            unknown.append(name)
            continue
        limit = MAX_VALUE_CHARS * 3 if key == "gpu_ids" else MAX_VALUE_CHARS  # every catalog id: ~300 characters
        if len(text) > limit:
            warnings.append(f"{name}: value longer than {limit} characters; ignored")
            continue
        problem = _number_problem(text)
        value, problem = (None, problem) if problem else (
            _check_field(key, text, models) if key in SCENARIO_KEYS else _check_page(key, text))
        if problem:
            warnings.append(f"{name}: {problem}; ignored")
        else:
            values[key] = value
    if unknown:  # one line, however many (a link with 300 stray keys is one notice, not 300)
        shown = ", ".join(dict.fromkeys(unknown[:5]))
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        warnings.append(f"{shown}{more}: not {'a parameter' if len(unknown) == 1 else 'parameters'} "
                           "of this page; ignored")
    return _cross_field(values, defaults or {}, models, warnings), warnings


def _text(value) -> str:
    if isinstance(value, ModelSpec):
        return value.id
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def to_query(values: Mapping, page_keys: tuple[str, ...] = PAGE_KEYS) -> dict[str, str]:
    """Query parameters of a scenario (plus page keys), in a stable order, with the format version."""
    out = {"v": VERSION}
    for key in (*SCENARIO_KEYS, *page_keys, *MODEL_SOURCE_KEYS):
        if values.get(key) is not None:
            out[key] = _text(values[key])
    return out


def share_url(base: str, values: Mapping, url_path: str = "", page_keys: tuple[str, ...] = PAGE_KEYS) -> str:
    """Full link; the default page lives at `/` (its own url_path is not routable, DESIGN.md §5)."""
    path = url_path.strip("/")
    return f"{base.rstrip('/')}/{path}?{urlencode(to_query(values, page_keys))}"
