"""Measure a live OpenAI-compatible server: closed-loop concurrency levels, streamed and timed.

    result = run_probe(ProbeConfig(url="http://127.0.0.1:8080", concurrency=(1, 4), requests=8))

Each level keeps C requests in flight (one worker thread and one requests.Session per slot) until N
have finished; a warm-up request first loads the model, detects whether ignore_eos/min_tokens are
accepted and sizes the synthetic prompt against usage.prompt_tokens. ProbeJob runs it in a thread
for the dashboard (progress, live figures, stop). Reference: vLLM benchmarks/benchmark_serving.py.
"""
from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from planner.core import net as safety
from .metrics import level
from .models import LevelResult, ProbeConfig, ProbeResult, RequestResult
from .stream import Target, list_models, send

WORDS = ("time person year way day thing man world life hand part child eye woman place work week case point "
         "number group problem fact water room mother area money story month lot right study book job word "
         "business issue side kind head house service friend father power hour game line end member law car city").split()
PROMPT_TOLERANCE_TOKENS = 2  # chat templates add a few tokens; report beyond this
Progress = Callable[[int, RequestResult], None]


def synthetic_prompt(words: int, index: int) -> str:
    """A distinct prompt per request, ~1 token per word: words drawn afresh for each index, so no two
    prompts share more than the chat template (llama.cpp reuses cached KV of similar prompts otherwise)."""
    rng = random.Random(index)
    return f"{1_000_000 + index} " + " ".join(rng.choices(WORDS, k=max(0, words - 1)))


def apply_limits(cfg: ProbeConfig) -> tuple[ProbeConfig, list[str]]:
    """Cap a hosted run (probe_safety.HostedLimits); returns the capped config and what was cut."""
    lim = safety.limits()
    if lim is None:
        return cfg, []
    caps = {"concurrency": tuple(min(c, lim.max_concurrency) for c in cfg.concurrency[: lim.max_levels]),
            "requests": min(cfg.requests, lim.max_requests_per_level), "input_len": min(cfg.input_len, lim.max_input_len),
            "output_len": min(cfg.output_len, lim.max_output_len), "max_duration_s": min(cfg.max_duration_s, lim.max_duration_s),
            "request_timeout_s": min(cfg.request_timeout_s, lim.max_request_timeout_s)}
    changed = [f"hosted mode caps {k} at {v}" for k, v in caps.items() if getattr(cfg, k) != v]
    return cfg.model_copy(update=caps), changed


def _target(cfg: ProbeConfig, stop: threading.Event) -> Target:
    return Target(base_url=cfg.url, api=cfg.api, model=cfg.model,
                  api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
                  connect_timeout_s=cfg.connect_timeout_s, read_timeout_s=cfg.read_timeout_s,
                  request_timeout_s=min(cfg.request_timeout_s, cfg.max_duration_s), stop=stop)


def _warmup(t: Target, cfg: ProbeConfig, notes: list[str]) -> tuple[int, RequestResult | None]:
    """Send one request; returns the word count that gives input_len prompt tokens, and the warm-up."""
    words, r = cfg.input_len, None
    with safety.session() as s:
        if t.model is None:
            try:
                t.model = (list_models(s, t) or [None])[0]
            except Exception as exc:  # a server without /v1/models can still serve completions
                notes.append(f"/v1/models unavailable ({type(exc).__name__}); sending model 'default'")
        if not cfg.warmup:
            return words, None
        r = send(s, t, synthetic_prompt(words, 0), min(cfg.output_len, 8))
        if r.error_kind == "http_4xx":
            t.extras = False
            notes.append("the server rejected ignore_eos/min_tokens; output may stop early at end-of-sequence")
            r = send(s, t, synthetic_prompt(words, 0), min(cfg.output_len, 8))
    if not r.ok:
        notes.append(f"warm-up failed: {r.error_kind}: {r.error}")
    elif r.input_tokens:
        words = max(1, words + cfg.input_len - r.input_tokens)  # one word is about one token
    return words, r


def _run_level(t: Target, cfg: ProbeConfig, c: int, words: int, deadline: float, on_result: Progress | None) -> LevelResult:
    results: list[RequestResult] = []
    lock, counter = threading.Lock(), iter(range(cfg.requests))
    t_level = time.perf_counter()

    def worker():
        with safety.session() as s:
            while not t.stop.is_set() and time.perf_counter() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                start = time.perf_counter() - t_level
                r = send(s, t, synthetic_prompt(words, 1 + c * 1000 + i), cfg.output_len)
                r.start_s = start
                with lock:
                    results.append(r)
                if on_result:
                    on_result(c, r)
                if r.retry_after_s:  # honour 429 Retry-After, bounded so the run stays within its limits
                    t.stop.wait(min(r.retry_after_s, cfg.max_retry_after_s, max(0.0, deadline - time.perf_counter())))

    with ThreadPoolExecutor(max_workers=c, thread_name_prefix=f"probe-c{c}") as pool:
        for f in [pool.submit(worker) for _ in range(c)]:
            f.result()
    wall = max((r.start_s + (r.e2e_s or 0.0) for r in results if r.ok), default=time.perf_counter() - t_level)
    return level(c, results, wall, cfg.ttft_ms_target, cfg.tpot_ms_target, cfg.usd_per_gpu_hour, cfg.gpus)


def _prompt_note(cfg: ProbeConfig, levels: list[LevelResult]) -> tuple[int | None, list[str]]:
    done = sum(lv.completed for lv in levels if lv.token_count_source == "usage")
    if not done:
        return None, ["the server reported no usage.prompt_tokens; input length unchecked"]
    measured = round(sum(lv.input_tokens for lv in levels if lv.token_count_source == "usage") / done)
    if abs(measured - cfg.input_len) > PROMPT_TOLERANCE_TOKENS:
        return measured, [f"prompts measured {measured} tokens (usage.prompt_tokens) against {cfg.input_len} asked"]
    return measured, []


def run_probe(cfg: ProbeConfig, on_result: Progress | None = None, stop: threading.Event | None = None,
              on_level: Callable[[LevelResult], None] | None = None) -> ProbeResult:
    """Run every level in turn; raises probe_safety.PolicyError if hosted mode refuses the URL."""
    cfg, notes = apply_limits(cfg)
    safety.check_url(cfg.url)
    t = _target(cfg, stop or threading.Event())
    deadline = t.deadline = time.perf_counter() + cfg.max_duration_s
    words, warm = _warmup(t, cfg, notes)
    levels = []
    for c in cfg.concurrency:
        if t.stop.is_set() or time.perf_counter() >= deadline:
            notes.append(f"level {c} skipped: {'stopped' if t.stop.is_set() else 'duration limit reached'}")
            continue
        levels.append(_run_level(t, cfg, c, words, deadline, on_result))
        if on_level:
            on_level(levels[-1])
    measured, more = _prompt_note(cfg, levels)
    return ProbeResult(url=cfg.url, model=t.model, api=cfg.api, input_len=cfg.input_len, output_len=cfg.output_len,
                       measured_input_tokens=measured, levels=levels,
                       warmup_input_tokens=warm.input_tokens if warm else None,
                       warmup_output_tokens=warm.output_tokens if warm and warm.ok else None, notes=notes + more,
                       usd_per_gpu_hour=cfg.usd_per_gpu_hour, gpus=cfg.gpus, stopped=t.stop.is_set())


class ProbeJob:
    """A probe in a background thread, for a UI that polls: progress, live points, stop."""

    def __init__(self, cfg: ProbeConfig):
        self.cfg, self.stop_event = apply_limits(cfg)[0], threading.Event()
        self.total = self.cfg.requests * len(self.cfg.concurrency)
        self.points: list[dict] = []
        self.levels: list[LevelResult] = []
        self.result: ProbeResult | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="probe-job", daemon=True)

    def __repr__(self) -> str:
        return f"ProbeJob(url={self.cfg.url!r}, done={len(self.points)}/{self.total})"

    def start(self) -> "ProbeJob":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def progress(self) -> float:
        return 1.0 if self.result else min(1.0, len(self.points) / max(1, self.total))

    def _point(self, c: int, r: RequestResult) -> None:
        with self._lock:
            self.points.append({"concurrency": c, "ok": r.ok, "error_kind": r.error_kind,
                                "ttft_ms": r.ttft_s * 1e3 if r.ttft_s is not None else None,
                                "tpot_ms": r.tpot_s * 1e3 if r.tpot_s is not None else None,
                                "output_tokens": r.output_tokens})

    def _run(self) -> None:
        try:
            self.result = run_probe(self.cfg, self._point, self.stop_event, self.levels.append)
        except Exception as exc:  # shown to the user as one line; the UI never sees a traceback
            self.error = f"{type(exc).__name__}: {exc}"
