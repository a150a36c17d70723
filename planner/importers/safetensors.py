"""Exact checkpoint sizes from safetensors headers and model.safetensors.index.json, never the weights.

Format (huggingface/safetensors README): 8-byte little-endian header length N, then N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the tensor bytes.
The index's metadata.total_size is the sum of every tensor's bytes over all shards.
"""
from __future__ import annotations

import json
import re
import struct
from collections import Counter
from pathlib import Path

from .config import ModelImportError

MAX_HEADER_BYTES = 100 * 2**20   # safetensors refuses headers above 100 MB (MAX_HEADER_SIZE)
MAX_INDEX_BYTES = 50 * 2**20
DTYPE_BITS = {"F64": 64, "I64": 64, "U64": 64, "F32": 32, "I32": 32, "U32": 32, "F16": 16, "BF16": 16, "I16": 16,
              "U16": 16, "I8": 8, "U8": 8, "BOOL": 8, "F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8, "F6_E2M3": 6,
              "F6_E3M2": 6, "F4": 4}

QUANTIZED_DTYPES = {"F8_E4M3", "F8_E5M2", "F8_E8M0", "I8", "U8", "I32", "F4", "F6_E2M3", "F6_E3M2"}  # I32: packed int4


def header_length(first8: bytes) -> int:
    """The N of the 8-byte prefix, checked against the size cap."""
    if len(first8) < 8:
        raise ModelImportError("safetensors file is truncated: fewer than 8 bytes")
    (n,) = struct.unpack("<Q", first8[:8])
    if not 2 <= n <= MAX_HEADER_BYTES:
        raise ModelImportError(f"safetensors header length {n:,} is impossible (not a safetensors file?)")
    return n


def parse_header(raw: bytes) -> dict:
    """The tensor table of one header, validated: every entry has a dtype, a shape and consistent offsets."""
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelImportError(f"safetensors header is not JSON: {type(exc).__name__}") from None
    if not isinstance(header, dict):
        raise ModelImportError("safetensors header is not a JSON object")
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, t in tensors.items():
        if not isinstance(t, dict) or not {"dtype", "shape", "data_offsets"} <= set(t):
            raise ModelImportError(f"safetensors header entry {name!r} lacks dtype/shape/data_offsets")
        offsets, shape = t["data_offsets"], t["shape"]
        if not (_ints(offsets) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1] and _ints(shape)):
            raise ModelImportError(f"safetensors tensor {name!r} has impossible offsets {offsets!r} or shape {shape!r}")
    return tensors


def _ints(values) -> bool:
    return isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values)


def tensor_nbytes(t: dict) -> int:
    begin, end = t["data_offsets"]
    return int(end) - int(begin)


def summarize(tensors: dict) -> dict:
    """{bytes, params, by_dtype: {dtype: bytes}, count}: params from shapes, bytes from offsets."""
    by_dtype: Counter = Counter()
    params = 0
    for t in tensors.values():
        by_dtype[str(t["dtype"])] += tensor_nbytes(t)
        n = 1
        for d in t["shape"]:
            n *= int(d)
        params += n
    return {"bytes": sum(by_dtype.values()), "params": params, "by_dtype": dict(by_dtype), "count": len(tensors),
            "high_precision": high_precision_modules(tensors)}


def high_precision_modules(tensors: dict) -> tuple[str, ...]:
    """In a quantized checkpoint, the 2-D weights still stored in 16/32-bit, as name patterns (layer -> *)."""
    if not any(str(t["dtype"]) in QUANTIZED_DTYPES for t in tensors.values()):
        return ()
    found = {re.sub(r"\.\d+\.", ".*.", name.removesuffix(".weight")) for name, t in tensors.items()
             if str(t["dtype"]) in ("BF16", "F16", "F32") and len(t["shape"]) == 2 and name.endswith(".weight")}
    return tuple(sorted(found))


def read_local_header(path: str | Path) -> dict:
    """The tensor table of a local .safetensors file, reading only its header."""
    path = Path(path)
    with open(path, "rb") as f:
        n = header_length(f.read(8))
        raw = f.read(n)
    if len(raw) < n:
        raise ModelImportError(f"{path.name}: header says {n:,} bytes but the file ends after {len(raw):,}")
    return parse_header(raw)


def parse_index(raw: bytes | str | dict) -> dict:
    """model.safetensors.index.json -> {total_size, shards}; rejects anything else."""
    if isinstance(raw, (bytes, str)) and len(raw) > MAX_INDEX_BYTES:
        raise ModelImportError("index file is larger than 50 MiB")
    try:
        data = raw if isinstance(raw, dict) else json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelImportError(f"safetensors index is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict) or not isinstance(data.get("weight_map"), dict):
        raise ModelImportError("not a model.safetensors.index.json: no weight_map")
    total = (data.get("metadata") or {}).get("total_size")
    if total is not None and (isinstance(total, bool) or not isinstance(total, (int, float)) or total < 0):
        raise ModelImportError(f"index metadata.total_size = {total!r} is not a byte count")
    shards = sorted(set(map(str, data["weight_map"].values())))
    return {"total_size": int(total) if total is not None else None, "shards": shards,
            "tensors": len(data["weight_map"])}


def local_checkpoint(folder: str | Path) -> dict | None:
    """Exact bytes of a local checkpoint folder from its headers (and index), or None without safetensors."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    tensors: dict = {}
    for f in files:
        tensors.update(read_local_header(f))
    out = summarize(tensors)
    index = folder / "model.safetensors.index.json"
    out["index_total_size"] = parse_index(index.read_bytes())["total_size"] if index.is_file() else None
    return out
