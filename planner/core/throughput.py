"""Latency and throughput of a closed loop of C requests under continuous batching.

shared/reference/modeling.md §5.7: TPOT(C) = t_step(B = C, S = input + output/2) plus the prefill work
that other requests' arrivals add to each step (C / output_len prompts per step); TTFT = fixed
per-request overhead + half a running step + the prompt's own chunked prefill (each chunk no shorter than
its kernel launches where the engine launches the prefill eagerly) or its place in a wave of simultaneous
prompts, each chunk sharing its step with the running decodes; aggregate output tokens/s = C x output_len
/ e2e. Pipeline stages run micro-batches of B / pp, so one token crosses pp stages. Speculative decoding verifies
1 + k tokens per sequence per step and keeps `acceptance_length` of them (§5.6).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .deployment import Deployment
from .results import Performance
from .scenario import Scenario
from .speed import Step, chunks_time, decode_step, decode_steps, prefill_chunks, prefill_time
from .units import MS


# Serving benchmarks send the first `concurrency` prompts at once and keep `concurrency` in flight after
# (sglang bench_serving and vllm bench serve at --request-rate inf); the recommended run sends
# num_prompts = 5 x concurrency (sgl-cookbook §5.1.3 "Recommended: num_prompts = concurrency x 5"; vLLM
# recipes GPT-OSS.md "at least five times of the --max-concurrency"), a fifth of them in that first wave.
PROMPTS_PER_CLIENT = 5


def _step(d: Deployment, s: Scenario, batch: int, context: float, prefill_tokens: float) -> tuple[Step, float]:
    """(per-stage step, seconds per generated token of one sequence)."""
    pp = d.pp
    micro = max(1.0, batch / pp)
    step = _mean_step(d, micro, context, 1 + d.spec_tokens, prefill_tokens / pp, s.input_len,
                      s.arrival_pattern == "lockstep")
    per_token = pp * step.total * _decode_factor(s)
    if d.spec_tokens:
        per_token /= d.acceptance_length
    return step, per_token


def _mean_step(d: Deployment, micro: float, context: float, tokens_per_seq: int, prefill: float,
               prompt_len: int, lockstep: bool = False) -> Step:
    """The mean step when `prefill` prompt tokens per step (over all replicas) arrive with the decodes.

    Engines do not spread prompts thinly over the steps: a step takes the prompts that are waiting, up to
    the batched-token budget left after the decodes, and the steps in between only decode. Closed-loop
    clients with equal lengths send a wave of prompts together; prompts of varied lengths arrive one at a
    time. The mean of prompt-carrying and decode-only steps is slower than one step carrying the average
    prompt tokens, which would ride free under the weight reads (vLLM/TensorRT-LLM chunked prefill, SGLang
    prefill batches).
    """
    chunk = max(1.0, d.max_num_batched_tokens - micro / d.dp * tokens_per_seq) * d.dp
    waiting = (micro if lockstep else d.dp) * prompt_len  # a wave of equal requests, or one prompt per replica
    load = min(chunk, max(waiting, prefill))  # prompt tokens of a step that takes prompts
    if prefill <= 0 or prefill >= load:
        return decode_step(d, micro, context, tokens_per_seq, prefill, prompt_len)
    share = prefill / load  # of the steps that take prompts
    full, none = decode_steps(d, micro, context, tokens_per_seq, (load, 0.0), prompt_len)
    return full.blend(none, share)


def _bound(step: Step) -> str:
    parts = {"weight reads": step.weights, "KV-cache reads": step.attention, "state reads": step.state,
             "communication": step.communication, "fixed per-step costs": step.fixed,
             "per-sequence engine work": step.per_sequence}
    return max(parts, key=parts.get)


@dataclass(slots=True)  # built for every configuration of a sweep: no frozen-setattr cost
class Figures:
    """The speed figures of a scenario as plain numbers (sweeps read these; `performance` wraps them)."""
    concurrency: int
    running_batch: int
    ttft_ms: float
    tpot_ms: float
    itl_ms: float
    output_tokens_per_s: float
    output_tokens_per_s_per_user: float
    e2e_latency_s: float
    prefill_tokens_per_s: float | None
    request_throughput_per_s: float
    step: Step


def figures(d: Deployment, s: Scenario, concurrency: int, running: int) -> Figures:
    """Figures for `concurrency` requests in flight of which `running` decode together."""
    li, lo = s.input_len, max(1, s.output_len)
    # in each attention replica the other requests' prompts arrive at (running / dp - 1) / lo per step
    step, tpot = _step(d, s, running, li + lo / 2, max(0, running - d.dp) * li / lo)
    # a prompt's own first token waits for its pass's kernel launches too (an eager prefill, SGLang); the waits
    # for other prompts count their GPU time only, since queued prompts share one pass and its launches
    prefill_steps = prefill_chunks(d, li)
    prefill_one = chunks_time(d, prefill_steps) * _prefill_factor(s)
    own = chunks_time(d, prefill_steps, d.prefill_launch_s) * _prefill_factor(s)
    queue = 0.0
    if concurrency > running:  # the rest wait for a free slot: whole requests ahead of them
        queue = (concurrency - running) / running * (lo * tpot)
    chunks = len(prefill_steps)
    busy = tpot if running > 1 else 0.0  # a new prompt waits for the step in flight, then shares steps
    late = tpot if d.engine.overlap_schedule else 0.0  # the first token leaves one step after the prefill
    steady = (_ttft_overhead_s(d, s) + own + 0.5 * busy + late + chunks * (step.attention + step.state) * d.pp
              + queue)
    # throughput counts each prompt's prefill once: it is already spread over the decode steps
    e2e_steady = steady + (lo - 1) * tpot
    wave = _wave_wait(d, s, running, prefill_one)
    if s.arrival_pattern == "lockstep":  # every wave returns together
        ttft = steady + wave
    else:  # only the benchmark's first wave arrives at once
        ttft = steady + _random_wait(d, running, prefill_one, e2e_steady) + _first_wave_share(s, concurrency) * wave
    return Figures(concurrency, running, ttft / MS, tpot / MS,
                   tpot * (d.acceptance_length or 1) / MS if d.spec_tokens else tpot / MS,
                   concurrency * lo / e2e_steady, 1 / tpot, ttft + (lo - 1) * tpot,
                   li / prefill_one if li and prefill_one else None, concurrency / e2e_steady, step)


def performance(f: Figures) -> Performance:
    step = f.step
    return Performance(
        concurrency=f.concurrency, running_batch=f.running_batch, ttft_ms=f.ttft_ms, tpot_ms=f.tpot_ms, itl_ms=f.itl_ms,
        output_tokens_per_s=f.output_tokens_per_s, output_tokens_per_s_per_user=f.output_tokens_per_s_per_user,
        e2e_latency_s=f.e2e_latency_s, prefill_tokens_per_s=f.prefill_tokens_per_s,
        request_throughput_per_s=f.request_throughput_per_s,
        decode_step_ms={k: v / MS for k, v in (("weights", step.weights), ("attention", step.attention),
                                               ("state", step.state), ("communication", step.communication),
                                               ("fixed", step.fixed), ("per_sequence", step.per_sequence))},
        bound=_bound(step))


def _first_wave_share(s: Scenario, concurrency: int) -> float:
    """Share of a benchmark's requests that arrive together at its start."""
    prompts = s.num_prompts or PROMPTS_PER_CLIENT * concurrency
    return min(concurrency, prompts) / prompts


def _wave_wait(d: Deployment, s: Scenario, running: int, prefill_one: float) -> float:
    """Mean wait, beyond its own prefill, of a prompt arriving with `running - 1` others.

    Closed-loop clients send their first prompts together, and with equal lengths they finish and send
    the next ones together too. The engine prefills such a wave in steps of as many prompts as the
    batched-token budget holds; a prompt's first token waits for its step and the steps before it (vllm
    bench serve at concurrency 256, 2k prompts: mean TTFT 1.4 s; calibration.csv c231).
    """
    li, budget = s.input_len, d.max_num_batched_tokens
    wave = math.ceil(running / d.dp)  # each attention replica prefills its own share of the wave
    if wave <= 1 or li == 0:
        return 0.0
    per_step = min(wave, max(1, budget // li))
    step_time = prefill_time(d, li, per_step) * _prefill_factor(s) if per_step > 1 else prefill_one
    return max(0.0, step_time * (math.ceil(wave / per_step) + 1) / 2 - prefill_one)


def _random_wait(d: Deployment, running: int, prefill_one: float, e2e: float) -> float:
    """Mean wait of a prompt for the prefill of prompts ahead of it when requests arrive at random:
    Pollaczek-Khinchine for deterministic service (M/D/1), W = rho S / (2 (1 - rho)), S = one prefill,
    arrivals per replica = running / e2e / dp (Little's law). rho is capped below 1: a closed loop slows
    its own arrivals before the queue grows without bound."""
    if running <= 1 or not prefill_one:
        return 0.0
    rho = min(running / e2e / d.dp * prefill_one, 0.95)
    return rho * prefill_one / (2 * (1 - rho))


def _decode_factor(s: Scenario) -> float:
    return s.calibration.decode_time_factor if s.calibration else 1.0


def _prefill_factor(s: Scenario) -> float:
    return s.calibration.prefill_time_factor if s.calibration else 1.0


def _ttft_overhead_s(d: Deployment, s: Scenario) -> float:
    if s.calibration and s.calibration.ttft_overhead_ms is not None:
        return s.calibration.ttft_overhead_ms * MS
    return d.engine.ttft_overhead_ms * MS
