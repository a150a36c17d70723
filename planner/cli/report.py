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
from .tco import FLAGS, _fail as _fail_flag
from planner.report.plan import DEFAULT_BASE_URL

TCO_FLAGS = [f for f in FLAGS if f[0] in ("requests-per-s", "capex-usd-per-gpu", "amortization-years", "usd-per-kwh",
                                          "pue", "api-usd-per-m-input", "api-usd-per-m-output")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_scenario_flags(parser)
    parser.add_argument("--ttft-ms-max", type=float, help="service target: time to first token (ms)")
    parser.add_argument("--tpot-ms-max", type=float, help="service target: time per output token (ms)")
    parser.add_argument("--gpu-ids", nargs="+", help="limit the recommendation search to these GPU ids")
    parser.add_argument("--probe-results", type=Path, help="`planner probe` JSON, or a vLLM/SGLang/GuideLLM result file")
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="dashboard address for the share link")
    parser.add_argument("--utilization", type=float, default=1.0, help="share of the month the GPUs are billed (0-1]")
    parser.add_argument("--date", type=dt.date.fromisoformat, help="date printed on the report (YYYY-MM-DD; default today)")
    parser.add_argument("--out", type=Path, required=True, help="PDF file to write")
    for flag, typ, help_text in TCO_FLAGS:  # issue 13: with --requests-per-s the PDF compares rent, own and an API
        parser.add_argument(f"--{flag}", type=typ, help=help_text)


def _fail(message: str) -> int:
    print(message.splitlines()[0] if message else "invalid input", file=sys.stderr)
    return 2


def _demand(args: argparse.Namespace):
    """(TcoInputs or None, None) from the TCO flags, or (None, exit status) after one line naming the flag."""
    from planner.core.tco import TcoInputs
    given = {f.replace("-", "_"): getattr(args, f.replace("-", "_")) for f, _, _ in TCO_FLAGS}
    given = {k: v for k, v in given.items() if v is not None}
    if not given:
        return None, None
    if "requests_per_s" not in given:
        return None, _fail_flag("requests_per_s", "needed for the rent / own / API comparison (peak requests per second)")
    try:
        return TcoInputs(**given), None
    except ValidationError as exc:
        err = exc.errors()[0]
        return None, _fail_flag(str(err["loc"][0]), err["msg"])


def _probe_input(path: Path | None):
    """A probe JSON as is; a vLLM, SGLang or GuideLLM result file converted to its shape (issue #14)."""
    from planner.probe.bench_results import report_input
    return report_input(path) if path is not None else None


def run(args: argparse.Namespace) -> int:
    from planner.report import build_report
    start = time.perf_counter()
    kwargs = scenario_kwargs(args)
    demand, status = _demand(args)
    if status is not None:
        return status
    try:
        pdf = build_report(**kwargs, demand=demand, ttft_ms_max=args.ttft_ms_max, tpot_ms_max=args.tpot_ms_max,
                           search_gpus=args.gpu_ids, probe_results=_probe_input(args.probe_results), base_url=args.base_url,
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
