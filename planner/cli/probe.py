"""Measure a live OpenAI-compatible server: TTFT, TPOT, ITL, tokens/s per concurrency level.

    python -m planner probe --url http://127.0.0.1:8080 --concurrency 1,4,16 --requests 8 --json

Exit 0 when at least one request completed, 1 when none did, 2 on bad input (one line on stderr).
The key is read from the environment variable named by --api-key-env, never from the command line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from pydantic import ValidationError

from planner.probe.models import ProbeConfig, ProbeResult


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8080")
    p.add_argument("--model", help="served model name (default: the first of /v1/models)")
    p.add_argument("--api", choices=("chat", "completions"), default="chat", help="endpoint (default chat)")
    p.add_argument("--api-key-env", help="environment variable holding the API key (sent as a Bearer header)")
    p.add_argument("--concurrency", default="1,4,16", help="closed-loop levels, comma separated")
    p.add_argument("--requests", type=int, default=8, help="requests per level")
    p.add_argument("--input-len", type=int, default=128, help="prompt tokens")
    p.add_argument("--output-len", type=int, default=64, help="output tokens (max_tokens, ignore_eos)")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="longest request, connect to last byte; also the longest silence (s)")
    p.add_argument("--max-duration", type=float, default=1800.0, help="whole run; open requests end at it (s)")
    p.add_argument("--ttft-ms-max", type=float, help="goodput target for TTFT")
    p.add_argument("--tpot-ms-max", type=float, help="goodput target for TPOT")
    p.add_argument("--usd-per-gpu-hour", type=float, help="price of one GPU hour, for measured $/M tokens")
    p.add_argument("--gpus", type=int, default=1, help="GPUs behind the endpoint, for the cost")
    p.add_argument("--save", help="also write the result JSON to this file")
    p.add_argument("--json", action="store_true", help='print {"levels": [...], ...}')


def _config(args) -> ProbeConfig:
    key = None
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            raise ValueError(f"environment variable {args.api_key_env} is not set")
    return ProbeConfig(url=args.url, model=args.model, api=args.api, api_key=key, concurrency=args.concurrency,
                       requests=args.requests, input_len=args.input_len, output_len=args.output_len,
                       read_timeout_s=args.timeout, request_timeout_s=args.timeout,
                       max_duration_s=args.max_duration, ttft_ms_target=args.ttft_ms_max, tpot_ms_target=args.tpot_ms_max,
                       usd_per_gpu_hour=args.usd_per_gpu_hour, gpus=args.gpus)


def table(result: ProbeResult) -> str:
    """Plain-text table, one line per level."""
    head = f"{'conc':>4} {'done':>5} {'err':>4} {'TTFT ms':>9} {'TPOT ms':>8} {'ITL ms':>8} {'e2e s':>7} {'out tok/s':>9} {'tok/s/user':>10}"
    lines = [f"{result.url}  model={result.model}  tokens from usage/chunks: see token_count_source", head]
    f = (lambda v, w, d=1: f"{v:>{w}.{d}f}" if v is not None else f"{'-':>{w}}")
    for lv in result.levels:
        lines.append(f"{lv.concurrency:>4} {lv.completed:>5} {lv.errors:>4} {f(lv.ttft_ms.mean, 9)} {f(lv.tpot_ms.mean, 8)} "
                     f"{f(lv.itl_ms.mean, 8)} {f(lv.e2e_latency_s.mean, 7, 2)} {f(lv.output_tokens_per_s, 9)} "
                     f"{f(lv.output_tokens_per_s_per_user, 10)}" + (f"  errors: {lv.error_kinds}" if lv.errors else ""))
    return "\n".join(lines + [f"note: {n}" for n in result.notes])


def run(args) -> int:
    from planner.core.errors import one_line
    from planner.probe.run import run_probe
    try:
        result = run_probe(_config(args))
    except ValidationError as exc:
        print(one_line(exc), file=sys.stderr)
        return 2
    except ValueError as exc:  # hosted-mode refusals (probe_safety.PolicyError) and missing keys
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(result.model_dump(), indent=1)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as fh:
            fh.write(text)
    print(text if args.json else table(result))
    return 0 if any(lv.completed for lv in result.levels) else 1
