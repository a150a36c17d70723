"""Import a model: `python -m planner import PATH_OR_HF_ID [--json]`.

PATH is a config.json, a GGUF file (its header is enough) or a checkpoint folder; anything else that looks
like owner/name is fetched from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE honoured).
KV bytes per token and state bytes per sequence are the planner's own figures (planner.core.memory) in bf16.
"""
from __future__ import annotations

import json
import sys

from planner.importers.config import ModelImportError
from planner.importers.dispatch import import_source
from planner.importers.summary import summary


def add_arguments(parser) -> None:
    parser.add_argument("source", help="config.json, .gguf, checkpoint folder, or Hugging Face id (owner/name)")
    parser.add_argument("--json", action="store_true", help="print the import as JSON")
    parser.add_argument("--revision", default="main", help="hub revision (branch, tag or commit)")
    parser.add_argument("--no-headers", action="store_true", help="hub: skip the safetensors header requests")


def _text(d: dict) -> str:
    rows = [("model", d["id"]), ("architecture", f"{d['architecture']} (read as {d['family']})"),
            ("parameters", f"{d['total_params']:,} total, {d['active_params']:,} active per token"),
            ("layers", ", ".join(f"{n} {k}" for k, n in d["layers"].items()) + (f"; {d['moe_layers']} MoE" if d["moe_layers"] else "")),
            ("KV cache", f"{d['kv_bytes_per_token']:,.0f} B per token (bf16, full-context layers)"),
            ("recurrent state", f"{d['state_bytes_per_sequence']:,.0f} B per sequence (bf16)"),
            ("default weights", d["default_weights"])]
    if d["weights_bytes_exact"]:
        rows.append(("checkpoint bytes", f"{d['weights_bytes_exact']:,} ({d['weights_bytes_exact'] / 1e9:.2f} GB; "
                                         f"{d['weights_bytes_source']})"))
    if d["quantization"]:
        q = d["quantization"]
        rows.append(("quantization", f"{q['method']} -> {q['weights']}" + (f", unquantized: {', '.join(q['unquantized_modules'])}"
                                                                          if q["unquantized_modules"] else "")))
    if d["high_precision_modules"]:
        rows.append(("16/32-bit weights", ", ".join(d["high_precision_modules"][:12])))
    rows += [("warning", w) for w in d["warnings"]]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run(args) -> int:
    try:
        result = import_source(args.source, revision=args.revision, read_headers=not args.no_headers)
        d = summary(result)
    except ModelImportError as exc:
        print(f"cannot import {args.source}: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # the spec was built but the planner rejects it (pydantic ValidationError)
        print(f"cannot import {args.source}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    print(json.dumps(d, indent=1) if args.json else _text(d))
    return 0
