"""`python -m planner estimate|recommend|probe|report|import ...`.

Flags take the scenario's names (`--input-len` for input_len). Bad input prints one line naming
the field and exits 2. Subcommands other than estimate/recommend live in their own modules
(`planner/cli/<name>.py` with `add_arguments(parser)` and `run(args) -> int`) and load lazily.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from pydantic import ValidationError

from planner.core.errors import one_line
from planner.core.scenario import Scenario

from .flags import SCENARIO_FLAGS, add_scenario_flags, scenario_kwargs

EXTERNAL = {"probe": "planner.cli.probe", "report": "planner.cli.report", "import": "planner.cli.import_model",
            "tco": "planner.cli.tco"}
EXTERNAL["calibrate"] = "planner.cli.calibrate"  # your own vLLM/SGLang/GuideLLM results (issue #14)


def _run_estimate(args) -> int:
    from planner.core.estimate import estimate_scenario
    from .tables import estimate_table
    est = estimate_scenario(Scenario(**scenario_kwargs(args)))
    print(json.dumps(est.model_dump(), indent=1) if args.json else estimate_table(est))
    return 0


def _run_recommend(args) -> int:
    from planner.search.recommend import recommend
    from .tables import recommend_table
    result = recommend(model=args.model, input_len=args.input_len or 1024, output_len=args.output_len or 256,
                       concurrency=args.concurrency or 1, ttft_ms_max=args.ttft_ms_max, tpot_ms_max=args.tpot_ms_max,
                       budget_usd_per_hour=args.budget_usd_per_hour, gpus=args.gpu_ids, engines=args.engines,
                       pessimistic=args.pessimistic, allow_extrapolated=args.allow_extrapolated)
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
    rec.add_argument("--pessimistic", action="store_true",
                     help="judge targets and cost at the slow end of each figure's 80 %% band")
    rec.add_argument("--allow-extrapolated", action="store_true",
                     help="let configurations no published measurement backs rank by cost alone")
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
