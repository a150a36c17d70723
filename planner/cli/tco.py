"""Rent, own or call an API: replicas for a peak demand and the monthly cost of each option.

`python -m planner tco --model M --gpu G --gpus N --input-len I --output-len O --requests-per-s R [--json]`
(planner/search/demand.py sizes, planner/core/tco.py prices). Bad values print one line naming the flag, exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from pydantic import ValidationError

from .flags import SCENARIO_FLAGS

_SCENARIO_FLAGS = {flag: (typ, help_text) for flag, typ, help_text in SCENARIO_FLAGS}
FLAGS = [  # (flag, type, help): exactly the flags of issue 13, the scenario's as every subcommand has them
    *((flag, *_SCENARIO_FLAGS[flag]) for flag in ("model", "gpu", "engine", "weights", "input-len", "output-len")),
    ("gpus", int, "GPUs per replica"), ("requests-per-s", float, "peak demand, requests per second"),
    ("ttft-ms-max", float, "service target: time to first token (ms)"),
    ("tpot-ms-max", float, "service target: time per output token (ms)"),
    ("usd-per-gpu-hour", float, "rent price (default: the catalog's)"),
    ("capex-usd-per-gpu", float, "purchase price per GPU (default: data/gpu_capex.csv where sourced)"),
    ("amortization-years", float, "years over which the purchase is written off (default 5)"),
    ("usd-per-kwh", float, "electricity price (default 0.08)"), ("pue", float, "power usage effectiveness (default 1.2)"),
    ("api-usd-per-m-input", float, "API price per million input tokens (default 0.15)"),
    ("api-usd-per-m-output", float, "API price per million output tokens (default 1.50)"),
]
REQUIRED = ("model", "gpu", "gpus", "input-len", "output-len", "requests-per-s")
SCENARIO = ("model", "gpu", "gpus", "engine", "weights", "input_len", "output_len", "usd_per_gpu_hour")
TARGETS = ("ttft_ms_max", "tpot_ms_max")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for flag, typ, help_text in FLAGS:
        parser.add_argument(f"--{flag}", type=typ, help=help_text, required=flag in REQUIRED)
    parser.add_argument("--json", action="store_true", help="print replicas, gpus_total, rent/own/api, break-even")


def _fail(field: str, msg: str) -> int:
    msg = msg.removeprefix("Value error, ")
    named, _, rest = msg.partition(": ")
    if rest and named.replace("_", "-") in {f for f, _, _ in FLAGS}:  # the message names its own field
        field, msg = named, rest
    print(f"--{field.replace('_', '-')}: {msg.split('; known:')[0]}".splitlines()[0], file=sys.stderr)
    return 2


def _positive(args, name: str) -> str | None:
    value = getattr(args, name)
    return None if value is None or value > 0 else name


def table(r) -> str:
    z, lines = r.sizing, []
    if z.fits:
        lines.append(f"{z.replicas} replica(s) x {z.gpus_per_replica} GPUs = {z.gpus_total} GPUs for {r.requests_per_s:g} "
                     f"requests/s at peak; {z.concurrency_per_replica:,.1f} requests in flight per replica (Little's law), "
                     f"TTFT {z.ttft_ms:,.0f} ms, TPOT {z.tpot_ms:.1f} ms, headroom {z.headroom:.0%} "
                     f"(capacity {z.capacity_requests_per_s_per_replica:.3g} requests/s per replica, set by the {z.limited_by})")
    lines.append(f"{'option':<6} {'$/month':>12} {'$/request':>11}  basis")
    for name in ("rent", "own", "api"):
        o = getattr(r, name)
        lines.append(f"{name:<6} {'n/a':>12} {'n/a':>11}" if o is None else
                     f"{name:<6} {o.usd_per_month:>12,.0f} {o.usd_per_request or 0:>11.6f}  {o.basis}")
    for name, v in r.break_even_requests_per_s.items():
        lines.append(f"break-even {name.replace('_', ' ')}: " + ("none (the API is cheaper at every demand)" if v is None
                                                                 else f"{v:.3g} requests/s"))
    return "\n".join(lines + [f"note: {n}" for n in r.notes] + [f"queueing: {z.approximation}"])


def run(args: argparse.Namespace) -> int:
    from planner.core.scenario import Scenario
    from planner.core.tco import TcoInputs
    from planner.search.demand import compare_options
    bad = next(filter(None, (_positive(args, n) for n in TARGETS)), None)
    if bad:
        return _fail(bad, "must be above 0")
    try:
        s = Scenario(**{k: getattr(args, k) for k in SCENARIO if getattr(args, k) is not None})
        t = TcoInputs(**{k: getattr(args, k) for k in ("requests_per_s", "capex_usd_per_gpu", "amortization_years",
                                                        "usd_per_kwh", "pue", "api_usd_per_m_input", "api_usd_per_m_output")
                         if getattr(args, k) is not None})
        r = compare_options(s, t, args.ttft_ms_max, args.tpot_ms_max)
    except ValidationError as exc:
        err = exc.errors()[0]
        return _fail(str(err["loc"][0]) if err["loc"] else "input", err["msg"])
    except (ValueError, KeyError) as exc:
        field, _, msg = str(exc).strip("'\"").partition(": ")
        return _fail(field if msg else "input", msg or field)
    print(json.dumps(r.model_dump(), indent=1) if args.json else table(r))
    return 0
