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

# subcommand -> (module with add_arguments(parser) and run(args), one-line help); a module is imported only
# when its subcommand runs (or for the help of them all), so `report` does not pay for the probe's client
EXTERNAL = {
    "probe": ("planner.cli.probe", "measure a running OpenAI-compatible endpoint against the prediction"),
    "report": ("planner.cli.report", "the procurement PDF for a workload"),
    "import": ("planner.cli.import_model", "import a model from config.json, a checkpoint folder, a GGUF or a hub id"),
    "tco": ("planner.cli.tco", "rent, own or call an API: replicas and monthly cost at a demand"),
    "calibrate": ("planner.cli.calibrate", "compare and calibrate with vLLM/SGLang/GuideLLM benchmark result files"),
}


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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, only that external subcommand's module is imported."""
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
    for name, (module, help_text) in EXTERNAL.items():
        p = sub.add_parser(name, help=help_text)
        if command in (None, name):
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in EXTERNAL else "")
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValidationError as exc:
        print(one_line(exc), file=sys.stderr)
        return 2
    except (ValueError, KeyError) as exc:
        print(f"invalid input: {exc}", file=sys.stderr)
        return 2
