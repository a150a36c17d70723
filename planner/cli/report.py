"""Write the hardware recommendation PDF: `python -m planner report --model ... --out FILE.pdf`.

Without --gpu the planner recommends (cheapest configuration that meets --ttft-ms-max/--tpot-ms-max,
restricted by --engine, --weights, --gpus and --gpu-ids when given); with --gpu the report assesses
that configuration. Bad input prints one line and exits 2 (planner/cli.py conventions).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from planner.core.errors import one_line

from .flags import add_scenario_flags, scenario_kwargs
from planner.report.plan import DEFAULT_BASE_URL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_flags(parser)
    parser.add_argument("--ttft-ms-max", type=float, help="service target: time to first token (ms)")
    parser.add_argument("--tpot-ms-max", type=float, help="service target: time per output token (ms)")
    parser.add_argument("--gpu-ids", nargs="+", help="limit the recommendation search to these GPU ids")
    parser.add_argument("--probe-results", type=Path, help="JSON written by `python -m planner probe`")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="dashboard address for the share link")
    parser.add_argument("--utilization", type=float, default=1.0, help="share of the month the GPUs are billed (0-1]")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="date printed on the report (YYYY-MM-DD; default today)")
    parser.add_argument("--out", type=Path, required=True, help="PDF file to write")


def _fail(message: str) -> int:
    print(message.splitlines()[0] if message else "invalid input", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from planner.report import build_report
    start = time.perf_counter()
    kwargs = scenario_kwargs(args)
    try:
        pdf = build_report(**kwargs, ttft_ms_max=args.ttft_ms_max, tpot_ms_max=args.tpot_ms_max,
                           search_gpus=args.gpu_ids, probe_results=args.probe_results, base_url=args.base_url,
                           utilization=args.utilization, today=args.date)
    except ValidationError as exc:
        return _fail(one_line(exc))
    except (OSError, json.JSONDecodeError) as exc:
        return _fail(f"invalid input: probe results {args.probe_results}: {exc}")
    except (ValueError, KeyError) as exc:
        return _fail(f"invalid input: {str(exc).strip(chr(34))}")
    try:
        args.out.write_bytes(pdf)
    except OSError as exc:
        return _fail(f"cannot write {args.out}: {exc.strerror or exc}")
    print(f"wrote {args.out} ({len(pdf) / 1024:,.0f} KiB) in {time.perf_counter() - start:.1f} s")
    return 0
