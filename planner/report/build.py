"""build_report: the plan (what the PDF says) rendered by the layout (how it looks)."""
from __future__ import annotations

import datetime as dt

from planner.core.tco import TcoInputs

from .pdf import render
from .plan import DEFAULT_BASE_URL, ReportOptions, load_probe_results, make_plan, workload_scenario


def build_report(model, input_len: int = 1024, output_len: int = 256, concurrency: int | str = 1,
                 ttft_ms_max: float | None = None, tpot_ms_max: float | None = None, gpu: str | None = None,
                 gpus: int | None = None, engine: str | None = None, weights: str | None = None,
                 probe_results=None, base_url: str = DEFAULT_BASE_URL, utilization: float = 1.0,
                 search_gpus: list[str] | None = None, today: dt.date | None = None, demand=None, **scenario) -> bytes:
    """The recommendation PDF as bytes. `gpu` pins the configuration; without it planner.recommend chooses
    (restricted to `engine`, `weights`, `gpus` count and `search_gpus` when given). `demand` (planner.core.tco
    .TcoInputs or its fields as a dict) adds the rent / own / API comparison at that peak demand."""
    if isinstance(demand, dict):
        demand = TcoInputs(**demand)  # validated before the search: a bad value names its field
    opts = ReportOptions(ttft_ms_max=ttft_ms_max, tpot_ms_max=tpot_ms_max, utilization=utilization,
                         base_url=base_url, search_gpus=tuple(search_gpus) if search_gpus else None)
    base = dict(model=model, input_len=input_len, output_len=output_len, concurrency=concurrency, **scenario)
    base.update({k: v for k, v in dict(gpu=gpu, gpus=gpus, engine=engine, weights=weights).items() if v is not None})
    probe = load_probe_results(probe_results) if probe_results is not None else None
    workload = workload_scenario(base)
    base.update(concurrency=workload.concurrency)
    plan = make_plan(base, opts)
    plan.base = base
    return render(plan, opts, workload, probe, today or dt.date.today(), demand)


def preview_report(model, input_len: int = 1024, output_len: int = 256, concurrency: int | str = 1,
                   ttft_ms_max: float | None = None, tpot_ms_max: float | None = None, utilization: float = 1.0,
                   **pins):
    """Page 1 of the PDF that build_report would write for the same arguments, as text (planner.report.page_one)."""
    from .page_one import page_one
    opts = ReportOptions(ttft_ms_max=ttft_ms_max, tpot_ms_max=tpot_ms_max, utilization=utilization)
    base = dict(model=model, input_len=input_len, output_len=output_len, concurrency=concurrency,
                **{k: v for k, v in pins.items() if v is not None})
    workload = workload_scenario(base)
    base.update(concurrency=workload.concurrency)
    plan = make_plan(base, opts)
    plan.base = base
    return page_one(plan, opts, workload)
