"""The GPU and model catalogs: read from data/ once, validated, cached, looked up case-insensitively.

GPUs come from data/gpus.csv (a copy of shared/data/gpus.csv plus the torch-visible memory column,
each figure with its source). Models come from the Hugging Face config.json files in data/models/.
Nothing is read at import time (STYLE rule 7); a bad row fails loudly naming the row and column.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from .architecture import model_from_config
from .schemas import GpuSpec, ModelSpec

DATA_DIR = Path(__file__).resolve().parents[2] / "data"

GENERATIONS = (("ampere", "ampere"), ("hopper", "hopper"), ("blackwell", "blackwell"), ("ada", "ada"),
               ("cdna 3", "cdna3"), ("cdna 4", "cdna4"), ("apple", "apple"), ("rdna", "rdna"), ("zen", "cpu"))


class CatalogError(ValueError):
    """A data file row that cannot be used."""


def _float(row: dict, col: str, required: bool = False) -> float | None:
    raw = (row.get(col) or "").strip()
    if not raw:
        if required:
            raise CatalogError(f"data/gpus.csv row {row.get('id')!r}: column {col!r} is empty")
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise CatalogError(f"data/gpus.csv row {row.get('id')!r}: column {col!r} = {raw!r} is not a number") from exc
    if value < 0:
        raise CatalogError(f"data/gpus.csv row {row.get('id')!r}: column {col!r} = {raw!r} is negative")
    return value


def _generation(arch: str) -> str:
    low = arch.lower()
    return next((gen for key, gen in GENERATIONS if key in low), "other")


def _is_list_price(points: str) -> bool:
    """A dated on-demand listing, not a figure derived from another GPU's price or an undated tier."""
    low = points.lower()
    return "derived" not in low and "undated" not in low


def _gpu_from_row(row: dict) -> GpuSpec:
    memory_gib = _float(row, "memory_gib_usable") or _float(row, "memory_gb_vendor", True) * 1e9 / 2**30
    return GpuSpec(
        id=row["id"].strip(), name=row["name"], vendor=row["vendor"], architecture=row["architecture"],
        generation=_generation(row["architecture"]), memory_gb_vendor=_float(row, "memory_gb_vendor", True),
        memory_gib_usable=memory_gib, mem_bw_tbps=_float(row, "mem_bw_tbps", True),
        bf16_dense_tflops=_float(row, "bf16_dense_tflops") or 0.0, fp8_dense_tflops=_float(row, "fp8_dense_tflops"),
        int8_dense_tops=_float(row, "int8_dense_tops"), fp4_dense_tflops=_float(row, "fp4_dense_tflops"),
        native_fp8=row["native_fp8"].lower().startswith("yes"), native_fp4=row["native_fp4"].lower().startswith("yes"),
        scaleup_interconnect=row["scaleup_interconnect"],
        scaleup_bw_gbps_unidir=_float(row, "scaleup_bw_gbps_unidir_per_gpu"),
        max_gpus_scaleup_domain=int(_float(row, "max_gpus_scaleup_domain") or 1),
        gpus_per_node=int(_float(row, "typical_gpus_per_node") or 1), tdp_w=_float(row, "tdp_w"),
        price_usd_gpu_hr=_float(row, "price_usd_gpu_hr_typical"), price_note=row.get("price_points", ""),
        price_is_list=_is_list_price(row.get("price_points", "")),
        spec_source=row.get("spec_source_url", ""), notes=row.get("notes", ""))


@lru_cache(maxsize=1)
def gpus() -> Mapping[str, GpuSpec]:
    """Every GPU of data/gpus.csv by id (read-only: every caller and session shares it)."""
    with open(DATA_DIR / "gpus.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return MappingProxyType({g.id: g for g in map(_gpu_from_row, rows)})


@lru_cache(maxsize=1)
def gpu_rows() -> tuple[Mapping[str, str], ...]:
    """The raw rows of data/gpus.csv, sources included, for the catalog pages (read-only)."""
    with open(DATA_DIR / "gpus.csv", newline="") as f:
        return tuple(MappingProxyType(r) for r in csv.DictReader(f))


@lru_cache(maxsize=1)
def models() -> Mapping[str, ModelSpec]:
    """Every model of data/models/*.json by Hugging Face id (read-only)."""
    out = {}
    for path in sorted((DATA_DIR / "models").glob("*.json")):
        model_id = path.stem.replace("__", "/")
        out[model_id] = model_from_config(model_id, json.loads(path.read_text()))
    return MappingProxyType(out)


def _lookup(table: dict, key: str, what: str):
    if key in table:
        return table[key]
    folded = {k.lower(): v for k, v in table.items()}
    if key.strip().lower() in folded:
        return folded[key.strip().lower()]
    raise KeyError(f"unknown {what} {key!r}; known: {', '.join(sorted(table))}")


def gpu(gpu_id: str) -> GpuSpec:
    return _lookup(gpus(), gpu_id, "gpu")


def model(model_id: str) -> ModelSpec:
    return _lookup(models(), model_id, "model")
