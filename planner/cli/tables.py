"""Plain-text tables for the CLI: the same figures as the dashboard, from the same result objects."""
from __future__ import annotations

from planner.search.recommend import Recommendation
from planner.core.results import Estimate


def _fmt(value, spec: str = ",.1f", unit: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{unit}"


def estimate_table(est: Estimate) -> str:
    s, m, p, c = est.scenario, est.memory, est.performance, est.cost
    lines = [f"{s['model']} on {s['gpus']} x {s['gpu']} ({s['engine']}, {s['weights']}, tp={s['tp']} pp={s['pp']} ep={s['ep']})",
             f"workload: {s['input_len']} in / {s['output_len']} out tokens, concurrency {s['concurrency']}",
             f"fits: {'yes' if est.fits else 'NO - ' + (est.reason or '')}", "",
             "memory per GPU (GiB = 2^30 bytes)",
             f"  weights            {m.weights_gib_per_gpu:10.2f} GiB   (checkpoint {m.weights_gb_total:,.1f} GB)",
             f"  KV cache pool      {m.kv_cache_gib_per_gpu:10.2f} GiB   ({m.kv_cache_tokens:,} tokens, "
             f"{m.kv_bytes_per_token:,.0f} B/token whole model)",
             f"  activations        {m.activation_gib_per_gpu:10.2f} GiB",
             f"  overhead           {m.overhead_gib_per_gpu:10.2f} GiB",
             f"  total              {m.total_gib_per_gpu:10.2f} GiB of {m.gpu_memory_gib:.2f} GiB",
             f"  max concurrency at {s['input_len'] + s['output_len']:,} tokens: {m.max_concurrency:,}"]
    if m.state_bytes_per_sequence:
        lines.append(f"  recurrent state    {m.state_bytes_per_sequence / 1e6:10.2f} MB per sequence")
    band = _band_words(est)
    lines += ["", "speed (TTFT: send -> first token; TPOT: (e2e - TTFT)/(tokens - 1)); 80 % range and evidence",
              f"  TTFT               {_fmt(p.ttft_ms, ',.1f', ' ms')}{band('ttft_ms', ',.0f')}",
              f"  TPOT               {_fmt(p.tpot_ms, ',.2f', ' ms')}{band('tpot_ms', ',.1f')}",
              f"  tokens/s per user  {_fmt(p.output_tokens_per_s_per_user)}{band('output_tokens_per_s_per_user', ',.0f')}",
              f"  tokens/s total     {_fmt(p.output_tokens_per_s)}{band('output_tokens_per_s', ',.0f')}"
              f"   (running batch {_fmt(p.running_batch, ',d')})",
              "", "cost",
              f"  $/GPU-hour         {_fmt(c.usd_per_gpu_hour, ',.2f')}",
              f"  $/M output tokens  {_fmt(c.usd_per_million_output_tokens, ',.3f')}",
              f"  $/M input tokens   {_fmt(c.usd_per_million_input_tokens, ',.4f')}"]
    lines += [f"note: {n}" for n in est.notes]
    return "\n".join(lines)


def _band_words(est: Estimate):
    def words(figure: str, spec: str) -> str:
        b = est.uncertainty.get(figure)
        return f"   ({b.low:{spec}}-{b.high:{spec}}, {b.evidence}, {b.rows} measurements)" if b else ""
    return words


def recommend_table(rec: Recommendation, top: int = 15) -> str:
    head = (f"{rec.model}: {rec.input_len} in / {rec.output_len} out, concurrency {rec.concurrency}; "
            f"{rec.evaluated} configurations evaluated, {sum(c.meets_targets for c in rec.candidates)} meet the targets")
    rows = [f"{'#':>3} {'config':44} {'TTFT ms':>9} {'TPOT ms':>8} {'tok/s':>9} {'$/M out':>8} {'evidence':12} reason"]
    for c in rec.candidates[:top]:
        config = f"{c.gpus}x {c.gpu} {c.engine} {c.weights}"
        rows.append(f"{c.rank or '-':>3} {config:44} {_fmt(c.ttft_ms, ',.0f'):>9} {_fmt(c.tpot_ms, ',.1f'):>8} "
                    f"{_fmt(c.output_tokens_per_s, ',.0f'):>9} {_fmt(c.usd_per_million_output_tokens, ',.3f'):>8} "
                    f"{c.evidence or '-':12} {c.reason or ''}")
    return "\n".join([head, *rows])
