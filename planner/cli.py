"""`python -m planner estimate|recommend|probe|report|import ...`.

Flags take the scenario's names (`--input-len` for input_len). Bad input prints one line naming
the field and exits 2. Subcommands other than estimate/recommend live in their own modules
(`planner/<name>_cli.py` with `add_arguments(parser)` and `run(args) -> int`) and load lazily.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from pydantic import ValidationError

from .scenario import Scenario

EXTERNAL = {"probe": "planner.probe_cli", "report": "planner.report_cli", "import": "planner.import_cli"}
SCENARIO_FLAGS = [  # (flag, type, help)
    ("model", str, "Hugging Face id of a catalog model, e.g. Qwen/Qwen3-Next-80B-A3B-Instruct"),
    ("gpu", str, "GPU id from data/gpus.csv, e.g. h100-sxm"), ("gpus", int, "number of GPUs"),
    ("tp", int, "tensor-parallel degree"), ("pp", int, "pipeline-parallel degree"), ("ep", int, "expert-parallel degree"),
    ("engine", str, "vllm, sglang, trtllm, llamacpp or transformers"), ("weights", str, "weight format, e.g. bf16, fp8, gguf-q4_k_m"),
    ("kv-dtype", str, "auto, bf16, fp16, fp8, q8_0, q4_0"), ("input-len", int, "prompt tokens"),
    ("output-len", int, "generated tokens"), ("concurrency", str, "requests in flight, or 'max'"),
    ("gpu-memory-utilization", float, "engine memory fraction"), ("usd-per-gpu-hour", float, "price override"),
    ("spec-tokens", int, "speculative/MTP draft tokens per step"), ("acceptance-length", float, "mean accepted tokens per step"),
    ("cpu-offload-experts", int, "MoE layers whose experts stay in CPU RAM (llama.cpp)"),
    ("state-dtype", str, "auto, bf16 or fp32 recurrent state"), ("max-num-seqs", int, "engine running-request cap"),
    ("max-num-batched-tokens", int, "engine tokens per step"),
]


def add_scenario_flags(parser: argparse.ArgumentParser, with_model_required: bool = True) -> None:
    for flag, typ, help_text in SCENARIO_FLAGS:
        parser.add_argument(f"--{flag}", type=typ, help=help_text, required=(flag == "model" and with_model_required))


def scenario_kwargs(args: argparse.Namespace, names: list[str] | None = None) -> dict:
    keys = names or [f.replace("-", "_") for f, _, _ in SCENARIO_FLAGS]
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err.get("loc", ())) or "scenario"
        msg = err.get("msg", "").removeprefix("Value error, ")
        parts.append(msg if msg.split(":")[0] in Scenario.model_fields else f"{field}: {msg}")
    return "invalid input: " + "; ".join(parts)


def _run_estimate(args) -> int:
    from .estimate import estimate_scenario
    from .report_text import estimate_table
    est = estimate_scenario(Scenario(**scenario_kwargs(args)))
    print(json.dumps(est.model_dump(), indent=1) if args.json else estimate_table(est))
    return 0


def _run_recommend(args) -> int:
    from .recommend import recommend
    from .report_text import recommend_table
    result = recommend(model=args.model, input_len=args.input_len or 1024, output_len=args.output_len or 256,
                       concurrency=args.concurrency or 1, ttft_ms_max=args.ttft_ms_max, tpot_ms_max=args.tpot_ms_max,
                       budget_usd_per_hour=args.budget_usd_per_hour, gpus=args.gpu_ids, engines=args.engines)
    print(json.dumps(result.model_dump(), indent=1) if args.json else recommend_table(result, top=args.top))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m planner", description="LLM inference hardware planner")
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="memory, speed and cost of one scenario")
    add_scenario_flags(est)
    est.add_argument("--json", action="store_true", help="print the full result as JSON")
    est.set_defaults(func=_run_estimate)
    rec = sub.add_parser("recommend", help="rank every GPU x count x format x engine for a workload")
    for flag, typ, help_text in SCENARIO_FLAGS:
        if flag in ("model", "input-len", "output-len", "concurrency"):
            rec.add_argument(f"--{flag}", type=typ, help=help_text, required=flag == "model")
    rec.add_argument("--ttft-ms-max", type=float, help="service target: time to first token (ms)")
    rec.add_argument("--tpot-ms-max", type=float, help="service target: time per output token (ms)")
    rec.add_argument("--budget-usd-per-hour", type=float, help="reject configurations above this $/hour")
    rec.add_argument("--gpu-ids", nargs="+", dest="gpu_ids", help="limit the search to these GPU ids")
    rec.add_argument("--engines", nargs="+", help="limit the search to these engines")
    rec.add_argument("--top", type=int, default=15, help="rows in the table")
    rec.add_argument("--json", action="store_true", help='print {"candidates": [...]}')
    rec.set_defaults(func=_run_recommend)
    for name, module in EXTERNAL.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        p = sub.add_parser(name, help=(mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else None)
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:
        print(one_line(exc), file=sys.stderr)
        return 2
    except (ValueError, KeyError) as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
