"""What an import says about a model: headline figures first, then the full spec (CLI --json and the page)."""
from __future__ import annotations

from collections import Counter

from planner.core.deployment import resolve
from planner.core.scenario import Scenario

from .config import ImportResult


def memory_figures(spec) -> dict:
    """Whole-model KV bytes per token and state bytes per sequence (bf16, the planner's formulas)."""
    s = Scenario(model=spec, weights="bf16", kv_dtype="bf16", input_len=1, output_len=1)
    d = resolve(s)
    return {"kv_bytes_per_token": d.kv_bytes_per_token, "state_bytes_per_sequence": d.state_bytes_per_sequence}


def summary(result: ImportResult) -> dict:
    """The --json dump: headline figures first, then the full spec."""
    spec = result.spec
    layers = Counter()
    for g in spec.layers:
        layers[g.attention] += g.count
    return {"id": spec.id, "architecture": spec.architecture, "family": result.family, "source": result.source,
            "total_params": spec.total_params, "active_params": spec.active_params, **memory_figures(spec),
            "layers": dict(layers), "moe_layers": spec.moe_layers, "default_weights": spec.default_weights,
            "weights_bytes_exact": result.weights_bytes_exact, "weights_bytes_source": result.weights_bytes_source,
            "bytes_by_dtype": result.bytes_by_dtype, "high_precision_modules": list(result.high_precision_modules),
            "vision_params": result.vision_params,
            "quantization": result.quantization.model_dump() if result.quantization else None,
            "warnings": list(result.warnings), "spec": spec.model_dump(mode="json")}
