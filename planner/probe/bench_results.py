"""Result files of the field's own benchmark tools, read into the probe's measured-level records (issue #14).

Formats, read from each project's writer (untrusted input: size cap, JSON only, every number validated):
- vLLM `vllm bench serve --save-result`: vllm/benchmarks/serve.py @ 009e6d4a (benchmark() `result`, main()
  `result_json`); benchmarks/benchmark_serving.py @ 0049e29c (key "request_goodput:", no "failed"); one object
  per line with --append-result. Its printed "Serving Benchmark Result" table: the same print block, as in
  docs/benchmarking/cli.md @ 069c00b0 (SGLang prints the same layout, so its table reads too).
- SGLang `python -m sglang.bench_serving --output-file`: JSONL, python/sglang/bench_serving.py @ 0033168f
  (means, p99, measured "concurrency") and the 2024 line @ 50a61368 (medians only, no TPOT).
- GuideLLM benchmarks.json: src/guidellm/benchmark/schemas/report.py (metadata.version 1 and 2, v0.5-v0.8; v0.4
  without metadata) and the v0.2-v0.3 layout (args/run_stats), tests/unit/entrypoints/assets/
  benchmarks_stripped.json @ ad9513fd. GuideLLM's "time_per_output_token_ms" includes the first token
  (src/guidellm/schemas/request_stats.py), so the probe's TPOT is its "inter_token_latency_ms".
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.core.errors import one_line
from .metrics import usd_per_million
from .models import LevelResult, ProbeResult, Stats

MAX_BYTES = 32 * 2**20   # vLLM --save-detailed keeps per-request lists: tens of MB for 10k prompts
MAX_RUNS = 512
EXPECTED = ("expected a vLLM `bench serve --save-result` JSON or its printed 'Serving Benchmark Result' table, "
            "SGLang bench_serving JSONL lines, or a GuideLLM benchmarks.json")
Tool = Literal["vllm bench serve", "sglang bench_serving", "guidellm"]
Ms = Annotated[float, Field(ge=0, le=8.64e7, allow_inf_nan=False)]           # at most a day
Num = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]


class BenchFileError(ValueError):
    """A result file that cannot be read; the message is one line."""


class Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    mean: Ms | None = None
    p50: Ms | None = None
    p90: Ms | None = None
    p99: Ms | None = None


class Run(BaseModel):
    """One benchmark run as a tool reports it; the validation boundary for the file's numbers."""
    model_config = ConfigDict(extra="forbid", strict=True)
    tool: Tool
    version: str | None = Field(None, max_length=40)
    model: str | None = Field(None, max_length=200)
    max_concurrency: int | None = Field(None, ge=1, le=100_000)
    request_rate_per_s: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False)
    measured_concurrency: float | None = Field(None, ge=0, le=1e6, allow_inf_nan=False)
    completed: int = Field(ge=0, le=10**9)
    failed: int = Field(0, ge=0, le=10**9)
    duration_s: float = Field(gt=0, le=3.2e7, allow_inf_nan=False)              # a year
    input_tokens: Num
    output_tokens: Num
    request_throughput_per_s: float | None = Field(None, ge=0, le=1e7, allow_inf_nan=False)
    output_tokens_per_s: float | None = Field(None, ge=0, le=1e10, allow_inf_nan=False)
    goodput_per_s: float | None = Field(None, ge=0, le=1e7, allow_inf_nan=False)
    ttft_ms: Dist
    tpot_ms: Dist = Dist()
    itl_ms: Dist = Dist()
    e2e_ms: Dist = Dist()


# Reading the bytes -----------------------------------------------------------------------------------
def _constant(name: str) -> float:
    return float(name.replace("Infinity", "inf"))   # SGLang writes request_rate inf as Infinity


def _json(text: str):
    return json.loads(text, parse_constant=_constant)


def _documents(text: str) -> list:
    """The file's JSON values: one document, or one per line (JSONL)."""
    try:
        return [_json(text)]
    except json.JSONDecodeError as whole:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) < 2:
            raise BenchFileError(f"not valid JSON ({whole.msg} at line {whole.lineno}); {EXPECTED}") from None
        try:
            return [_json(ln) for ln in lines[:MAX_RUNS + 1]]
        except json.JSONDecodeError as exc:
            raise BenchFileError(f"not valid JSON or JSON lines ({exc.msg}); {EXPECTED}") from None


def _records(docs: list) -> list[dict]:
    """Raw run dicts of the documents, each tagged with its tool."""
    if len(docs) == 1 and isinstance(docs[0], list):
        docs = docs[0]
    out = []
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("benchmarks"), list):
            out += _guidellm(doc)
        elif isinstance(doc, dict) and "completed" in doc:
            out.append(_flat(doc))
        elif isinstance(doc, dict) and "levels" in doc:
            raise BenchFileError("this is a probe result of this planner: load it as a saved probe, not a benchmark")
        else:
            raise BenchFileError(EXPECTED)
    return out


# vLLM and SGLang: flat objects with the same metric names -------------------------------------------------
def _dist(d: dict, name: str) -> dict:
    keys = {"mean": f"mean_{name}_ms", "p50": f"median_{name}_ms", "p90": f"p90_{name}_ms", "p99": f"p99_{name}_ms"}
    return {k: d[v] for k, v in keys.items() if d.get(v) is not None}


def _rate(v) -> float | None:
    """Configured request rate; inf (all at once) means no rate."""
    if v in (None, "inf") or (isinstance(v, float) and math.isinf(v) and v > 0):
        return None
    return v


def _flat(d: dict) -> dict:
    sglang = "total_output_tokens_retokenized" in d or "mean_e2e_latency_ms" in d or "median_e2e_latency_ms" in d
    failed = d.get("failed")
    if failed is None and isinstance(d.get("num_prompts"), int) and isinstance(d.get("completed"), int):
        failed = max(d["num_prompts"] - d["completed"], 0)   # older vLLM wrote no "failed"
    raw = {"tool": "sglang bench_serving" if sglang else "vllm bench serve",
           "model": d.get("model_id") if isinstance(d.get("model_id"), str) else None,
           "max_concurrency": d.get("max_concurrency"), "request_rate_per_s": _rate(d.get("request_rate")),
           "measured_concurrency": d.get("concurrency") if sglang else None,
           "completed": d.get("completed"), "failed": failed, "duration_s": d.get("duration"),
           "input_tokens": d.get("total_input_tokens"), "output_tokens": d.get("total_output_tokens"),
           "request_throughput_per_s": d.get("request_throughput"), "output_tokens_per_s": d.get("output_throughput"),
           "goodput_per_s": d.get("request_goodput", d.get("request_goodput:")),
           "ttft_ms": _dist(d, "ttft"), "tpot_ms": _dist(d, "tpot"), "itl_ms": _dist(d, "itl"),
           "e2e_ms": _dist(d, "e2e_latency" if sglang else "e2el")}
    return {k: v for k, v in raw.items() if v is not None}


# The printed table --------------------------------------------------------------------------------------
_ROW = re.compile(r"^[#\s]*([A-Za-z][A-Za-z0-9 ()/.,_-]{1,60}?):\s+(\S+)\s*$")
_METRIC = re.compile(r"^(Mean|Median|P(\d+(?:\.\d+)?)) (TTFT|TPOT|ITL|E2EL|E2E Latency) \(ms\)$")
_LABELS = {"Successful requests": "completed", "Failed requests": "failed", "Benchmark duration (s)": "duration",
           "Maximum request concurrency": "max_concurrency", "Max request concurrency": "max_concurrency",
           "Request rate configured (RPS)": "request_rate", "Traffic request rate": "request_rate",
           "Total input tokens": "total_input_tokens", "Total generated tokens": "total_output_tokens",
           "Request throughput (req/s)": "request_throughput", "Request goodput (req/s)": "request_goodput",
           "Output token throughput (tok/s)": "output_throughput", "Concurrency": "concurrency"}
_METRIC_KEY = {"TTFT": "ttft", "TPOT": "tpot", "ITL": "itl", "E2EL": "e2el", "E2E Latency": "e2el"}


def _value(text: str):
    if text in ("inf", "not", "None"):       # "not set" splits to "not"
        return "inf" if text == "inf" else None
    try:
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        raise BenchFileError(f"table value {text[:20]!r} is not a number; {EXPECTED}") from None


def _table_rows(lines: list[str]) -> dict:
    row = {}
    for line in lines:
        m = _ROW.match(line)
        if not m:
            continue
        label, text = m.group(1).strip(), m.group(2)
        if label in _LABELS:
            row[_LABELS[label]] = _value(text)
        elif mm := _METRIC.match(label):
            stat = "mean" if mm.group(1) == "Mean" else "median" if mm.group(1) == "Median" else f"p{mm.group(2)}"
            row[f"{stat}_{_METRIC_KEY[mm.group(3)]}_ms"] = _value(text)
        elif label.startswith("Total generated tokens (retokenized)") or label == "Backend":
            row["sglang"] = True
    return row


def _tables(text: str) -> list[dict]:
    """One raw run per 'Serving Benchmark Result' block; settings printed before a block belong to it."""
    blocks = re.split(r"^[#\s]*=+ Serving Benchmark Result =+\s*$", text, flags=re.MULTILINE)
    runs = []
    for before, block in zip(blocks, blocks[1:]):
        body = re.split(r"^[#\s]*={20,}\s*$", block, maxsplit=1, flags=re.MULTILINE)[0]
        row = {k: v for k, v in _table_rows(before.splitlines()[-40:]).items() if k in ("request_rate", "max_concurrency")}
        row.update(_table_rows(body.splitlines()))
        if row.pop("sglang", False):   # SGLang's own keys, so _flat tells the tools apart as in its JSONL
            row = {k.replace("_e2el_", "_e2e_latency_"): v for k, v in row.items()}
            row["total_output_tokens_retokenized"] = None
        runs.append(_flat(row))
    return runs


# GuideLLM benchmarks.json -----------------------------------------------------------------------------
def _get(d, *path):
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _gdist(metrics: dict, name: str, scale: float = 1.0) -> dict:
    """A StatusDistributionSummary's successful requests: mean, median, p90, p99."""
    s = _get(metrics, name, "successful")
    pct = _get(s, "percentiles") or {}
    raw = {"mean": _get(s, "mean"), "p50": _get(s, "median"), "p90": _get(pct, "p90"), "p99": _get(pct, "p99")}
    return {k: v * scale if isinstance(v, (int, float)) and not isinstance(v, bool) else v
            for k, v in raw.items() if v is not None}


def _guidellm_version(doc: dict) -> str:
    if isinstance(v := _get(doc, "metadata", "guidellm_version"), str):
        return v[:40]
    first = doc["benchmarks"][0] if doc["benchmarks"] else None
    return "0.2-0.3 layout" if isinstance(first, dict) and "args" in first else "0.4 layout"


def _guidellm_run(b: dict, version: str, model) -> dict:
    m = b["metrics"]
    totals = m.get("request_totals") or b.get("request_totals") or _get(b, "scheduler_metrics", "requests_made")
    totals = totals if isinstance(totals, dict) else {}
    strategy = _get(b, "config", "strategy") or _get(b, "args", "strategy") or {}
    kind = _get(strategy, "type_")
    duration = b.get("duration")
    if duration is None and all(isinstance(b.get(k), (int, float)) for k in ("start_time", "end_time")):
        duration = b["end_time"] - b["start_time"]
    model = model or _get(b, "worker", "backend_model")
    raw = {"tool": "guidellm", "version": version, "model": model if isinstance(model, str) else None,
           "max_concurrency": 1 if kind == "synchronous" else _get(strategy, "streams") if kind == "concurrent" else None,
           "request_rate_per_s": _get(strategy, "rate") if kind in ("constant", "poisson") else None,
           "measured_concurrency": _get(m, "request_concurrency", "total", "mean"),
           "completed": totals.get("successful"), "failed": totals.get("errored", 0), "duration_s": duration,
           "input_tokens": _get(m, "prompt_token_count", "successful", "total_sum"),
           "output_tokens": _get(m, "output_token_count", "successful", "total_sum"),
           "ttft_ms": _gdist(m, "time_to_first_token_ms"), "tpot_ms": _gdist(m, "inter_token_latency_ms"),
           "itl_ms": _gdist(m, "inter_token_latency_ms"), "e2e_ms": _gdist(m, "request_latency", 1000.0)}
    return {k: v for k, v in raw.items() if v is not None}


def _guidellm(doc: dict) -> list[dict]:
    version = _guidellm_version(doc)
    model = _get(doc, "config", "spec", "backend", "model") or _get(doc, "args", "model")
    out = []
    for b in doc["benchmarks"][:MAX_RUNS + 1]:
        if not isinstance(b, dict) or not isinstance(b.get("metrics"), dict):
            raise BenchFileError("a GuideLLM benchmark without 'metrics' (GuideLLM 0.1 reports kept raw requests "
                                 f"only); {EXPECTED}")
        out.append(_guidellm_run(b, version, model))
    return out


# Runs -> the probe's records ----------------------------------------------------------------------------
def _stats(d: Dist, what: str, notes: list[str]) -> Stats:
    if d.mean is None and d.p50 is not None:
        notes.append(f"{what}: the file has no mean, its median stands in")
        return Stats(mean=d.p50, p50=d.p50, p90=d.p90, p99=d.p99)
    return Stats(**d.model_dump())


def _level(run: Run, notes: list[str]) -> LevelResult:
    per_req_out = run.output_tokens / run.completed if run.completed else 0.0
    ttft = _stats(run.ttft_ms, "TTFT", notes)
    tpot = _stats(run.tpot_ms, "TPOT", notes)
    e2e = _stats(run.e2e_ms, "end-to-end latency", notes)
    if tpot.mean is None and e2e.mean is not None and ttft.mean is not None and per_req_out > 1:
        tpot = Stats(mean=max(e2e.mean - ttft.mean, 0.0) / (per_req_out - 1))   # the definition, on means
        notes.append("TPOT: not in the file, (mean e2e - mean TTFT) / (output tokens per request - 1)")
    if e2e.mean is None and ttft.mean is not None and tpot.mean is not None:
        e2e = Stats(mean=ttft.mean + tpot.mean * max(per_req_out - 1, 0))
    rps = run.request_throughput_per_s if run.request_throughput_per_s is not None else run.completed / run.duration_s
    tps = run.output_tokens_per_s if run.output_tokens_per_s is not None else run.output_tokens / run.duration_s
    conc = run.max_concurrency
    if conc is None:
        est = run.measured_concurrency if run.measured_concurrency is not None else rps * (e2e.mean or 0) / 1e3
        conc = max(1, round(est))
        how = "the tool's measured mean" if run.measured_concurrency is not None else "requests/s x mean latency"
        notes.append(f"open-loop run (rate {run.request_rate_per_s or 'unlimited'} req/s): concurrency {conc} is "
                     f"{how}, as no limit was set")
    return LevelResult(
        concurrency=conc, requests=run.completed + run.failed, completed=run.completed, errors=run.failed,
        error_kinds={"other": run.failed} if run.failed else {}, ttft_ms=ttft, tpot_ms=tpot,
        itl_ms=_stats(run.itl_ms, "ITL", notes), e2e_latency_s=Stats(**{k: v / 1e3 if v is not None else None
                                                                        for k, v in e2e.model_dump().items()}),
        output_tokens=round(run.output_tokens), input_tokens=round(run.input_tokens), output_tokens_per_s=tps,
        output_tokens_per_s_per_user=1e3 / tpot.mean if tpot.mean else None, request_throughput_per_s=rps,
        token_count_source="none", goodput_per_s=run.goodput_per_s, wall_time_s=run.duration_s,
        request_rate_per_s=run.request_rate_per_s)


def _workload(run: Run) -> tuple[int, int]:
    return (round(run.input_tokens / run.completed), round(run.output_tokens / run.completed)) if run.completed else (0, 0)


def _group(runs: list[Run], name: str) -> list[ProbeResult]:
    """One ProbeResult per workload (tokens per request in and out): the planner predicts one workload at a time."""
    done = [r for r in runs if r.completed]
    if not done:
        raise BenchFileError(f"{name}: no run completed a request, so there is nothing to compare")
    groups: dict[tuple[int, int], list[Run]] = {}
    for run in runs:
        groups.setdefault(_workload(run) if run.completed else _workload(done[0]), []).append(run)
    out = []
    for (il, ol), members in groups.items():
        first = members[0]
        source = f"{first.tool} {first.version or '(the file records no version)'}"
        notes = [f"imported from {name}: {source}; token counts as the tool reported them"]
        levels = []
        for run in members:
            level_notes: list[str] = []
            levels.append(_level(run, level_notes))
            notes += [f"level {levels[-1].concurrency}: {n}" for n in dict.fromkeys(level_notes)]
        levels.sort(key=lambda lv: (lv.concurrency, lv.request_rate_per_s or 0.0))
        out.append(ProbeResult(url=name, model=first.model, api=first.tool, input_len=max(il, 1), output_len=max(ol, 1),
                               measured_input_tokens=il or None, levels=levels, notes=notes, source=source))
    return out


# Public entry points ------------------------------------------------------------------------------------
def _safe_name(name: str) -> str:
    base = Path(str(name)).name or "results"
    return "".join(ch if ch.isprintable() else "?" for ch in base)[:120]


def _raw_runs(text: str) -> list[dict]:
    try:
        if "Serving Benchmark Result" in text and not text.lstrip().startswith(("{", "[")):
            return _tables(text)
        return _records(_documents(text))
    except RecursionError:
        raise BenchFileError("JSON nested too deeply") from None
    except (TypeError, AttributeError, KeyError, IndexError):
        raise BenchFileError(f"fields of unexpected types; {EXPECTED}") from None
    except BenchFileError:
        raise
    except ValueError as exc:   # e.g. an integer of thousands of digits
        raise BenchFileError(f"unreadable number ({str(exc)[:60]}); {EXPECTED}") from None


def read_results(data: bytes, name: str = "results") -> list[ProbeResult]:
    """Probe records of a vLLM, SGLang or GuideLLM result file (raises BenchFileError with one line)."""
    name = _safe_name(name)
    if len(data) > MAX_BYTES:
        raise BenchFileError(f"{name}: {len(data) / 2**20:,.0f} MiB is over the {MAX_BYTES // 2**20} MiB limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BenchFileError(f"{name}: not a UTF-8 text file; {EXPECTED}") from None
    if not text.strip():
        raise BenchFileError(f"{name}: the file is empty; {EXPECTED}")
    try:
        raw = _raw_runs(text)
    except BenchFileError as exc:
        raise BenchFileError(f"{name}: {exc}") from None
    if not raw:
        raise BenchFileError(f"{name}: no benchmark run in the file; {EXPECTED}")
    if len(raw) > MAX_RUNS:
        raise BenchFileError(f"{name}: more than {MAX_RUNS} runs in one file")
    runs = []
    for i, r in enumerate(raw, 1):
        try:
            runs.append(Run.model_validate(r))
        except ValidationError as exc:
            raise BenchFileError(f"{name}: run {i} ({r.get('tool')}): {one_line(exc).removeprefix('invalid input: ')}") from None
    return _group(runs, name)


def read_path(path: str | Path) -> list[ProbeResult]:
    """read_results of a file on disk, read no further than the size cap."""
    p = Path(path)
    if not p.is_file():
        raise BenchFileError(f"{p}: no such file")
    try:
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise BenchFileError(f"cannot read {p}: {exc.strerror or exc}") from None
    return read_results(data, p.name)


def priced(result: ProbeResult, usd_per_gpu_hour: float | None, gpus: int) -> ProbeResult:
    """The result with the deployment's price, so each level has a measured $/M output tokens."""
    levels = [lv.model_copy(update={"usd_per_million_output_tokens": usd_per_million(lv.output_tokens_per_s,
                                                                                     usd_per_gpu_hour, gpus)})
              for lv in result.levels]
    return result.model_copy(update={"levels": levels, "usd_per_gpu_hour": usd_per_gpu_hour, "gpus": gpus})


def is_probe_json(data: bytes) -> bool:
    """True for this planner's own probe JSON (an object with 'levels'), which needs no conversion."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("levels"), list)


def report_input(path: str | Path) -> Path | dict:
    """What `planner report --probe-results` passes on: a probe JSON as is, a benchmark file converted to its shape."""
    p = Path(path)
    with p.open("rb") as fh:   # OSError is the caller's "cannot read"
        head = fh.read(MAX_BYTES + 1)
    if is_probe_json(head):
        return p
    results = read_results(head, p.name)
    single = len(results) == 1
    return {"url": results[0].url, "model": results[0].model, "levels": [lv.model_dump() for r in results for lv in r.levels],
            "input_len": results[0].input_len if single else None, "output_len": results[0].output_len if single else None}
