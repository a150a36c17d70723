"""Compare and calibrate against your own benchmark files (vLLM, SGLang, GuideLLM): `python -m planner calibrate`.

    python -m planner calibrate --results bench.json [--results more.jsonl ...] --model ID --gpu ID --gpus N \
        [--engine vllm --weights fp8 --tp 2 ...] [--usd-per-gpu-hour 2.5] [--json]

Reads each file with planner.probe.bench_results, prints per level the measured and predicted TTFT, TPOT, ITL
and output tokens/s, then the calibration fitted to all of them (planner.probe.calibrate). A file it cannot
read, a bad flag or a scenario that does not fit: one line on stderr, exit 2.
"""
from __future__ import annotations

import argparse
import json
import sys

from pydantic import ValidationError

from planner.core.errors import one_line

from .flags import SCENARIO_FLAGS

FIGURES = ("ttft_ms", "tpot_ms", "itl_ms", "output_tokens_per_s")
DEPLOYMENT = ("model", "gpu", "gpus", "tp", "pp", "ep", "engine", "weights", "kv-dtype", "gpu-memory-utilization",
              "usd-per-gpu-hour", "max-num-seqs", "max-num-batched-tokens")   # the workload comes from the files


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results", action="append", required=True, metavar="FILE",
                   help="vLLM bench serve JSON or printed table, SGLang bench_serving JSONL, GuideLLM benchmarks.json")
    for flag, typ, help_text in SCENARIO_FLAGS:
        if flag in DEPLOYMENT:
            p.add_argument(f"--{flag}", type=typ, help=help_text, required=flag in ("model", "gpu"),
                           **({"default": 1} if flag == "gpus" else {}))
    p.add_argument("--json", action="store_true", help="print runs, levels and the calibration as JSON")


def _fail(message: str) -> int:
    print(message.splitlines()[0] if message else "invalid input", file=sys.stderr)
    return 2


def _scenario(args) -> dict:
    keys = [f.replace("-", "_") for f in DEPLOYMENT]
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def _figures(perf_or_level) -> dict:
    out = {}
    for name in FIGURES:
        v = getattr(perf_or_level, name, None) if perf_or_level is not None else None
        out[name] = v.mean if hasattr(v, "mean") else v
    return out


def report(results, scenario: dict) -> dict:
    """Per run and level: measured, predicted and calibrated figures; then the fit."""
    from planner.probe.calibrate import calibrate, predict_estimate
    fit = calibrate(results, scenario)
    runs = []
    for r in results:
        levels = []
        for lv in r.levels:
            est = predict_estimate(scenario, r, lv.concurrency)
            if not est.fits:
                raise ValueError(f"the scenario does not fit: {est.reason}")
            cal = predict_estimate(scenario, r, lv.concurrency, fit.calibration)
            levels.append({"concurrency": lv.concurrency, "request_rate_per_s": lv.request_rate_per_s,
                           "completed": lv.completed, "failed": lv.errors, "measured": _figures(lv),
                           "predicted": _figures(est.performance), "calibrated": _figures(cal.performance)})
        runs.append({"file": r.url, "source": r.source, "model": r.model, "input_len": r.input_len,
                     "output_len": r.output_len, "levels": levels, "notes": r.notes})
    return {"scenario": scenario, "runs": runs, "calibration": fit.calibration.model_dump(),
            "fit": fit.model_dump(exclude={"calibration"})}


def table(rep: dict) -> str:
    """Plain text: one line per level and figure, then the calibration."""
    f = (lambda v: f"{v:>10.2f}" if v is not None else f"{'-':>10}")
    lines = []
    for run in rep["runs"]:
        lines.append(f"{run['file']}  {run['source']}  {run['input_len']} in / {run['output_len']} out tokens per request")
        lines.append(f"{'conc':>5} {'figure':<20} {'measured':>10} {'predicted':>10} {'calibrated':>10}")
        for lv in run["levels"]:
            for name in FIGURES:
                lines.append(f"{lv['concurrency']:>5} {name:<20} {f(lv['measured'][name])} {f(lv['predicted'][name])} "
                             f"{f(lv['calibrated'][name])}")
        lines += [f"note: {n}" for n in run["notes"]]
    c, fit = rep["calibration"], rep["fit"]
    overhead = "engine default" if c["ttft_overhead_ms"] is None else f"{c['ttft_overhead_ms']:.0f} ms"
    lines.append(f"calibration: decode x{c['decode_time_factor']:.3f}, prefill x{c['prefill_time_factor']:.3f}, "
                 f"TTFT overhead {overhead} ({fit['points']} levels; rms log error {fit['rms_log_error_before']:.3f} -> "
                 f"{fit['rms_log_error_after']:.3f})")
    return "\n".join(lines)


def run(args) -> int:
    from planner.probe.bench_results import BenchFileError, priced, read_path
    scenario = _scenario(args)
    try:
        results = [r for path in args.results for r in read_path(path)]
        if args.usd_per_gpu_hour is not None:
            results = [priced(r, args.usd_per_gpu_hour, args.gpus) for r in results]
        rep = report(results, scenario)
    except BenchFileError as exc:
        return _fail(f"cannot read results: {exc}")
    except ValidationError as exc:
        return _fail(one_line(exc))
    except (ValueError, KeyError) as exc:
        return _fail(f"invalid input: {str(exc).strip(chr(34))}")
    print(json.dumps(rep, indent=1) if args.json else table(rep))
    return 0
