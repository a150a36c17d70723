"""Measure a live OpenAI-compatible server: closed-loop concurrency levels, streamed and timed.

    result = run_probe(ProbeConfig(url="http://127.0.0.1:8080", concurrency=(1, 4), requests=8))

Each level keeps C requests in flight (C slots, each with its own kept-alive connection) until N have
finished, all on one asyncio loop (client.py), so a thousand streams need no thousand threads; a warm-up
request first loads the model, detects whether ignore_eos/min_tokens are accepted and sizes the synthetic
prompt against usage.prompt_tokens. Prompts are fresh on every run. ProbeJob runs it in a thread for the
dashboard (progress, live figures, stop). Reference: vLLM benchmarks/benchmark_serving.py.
"""
from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable
from urllib.parse import urlsplit

from planner.core import net as safety
from .checks import MAX_METRICS_BYTES, cache_notes, cached_counter, prompt_note, synthetic_prompt
from .client import Slot, get, list_models, send, watchdog
from .metrics import level
from .models import LevelResult, ProbeConfig, ProbeResult, RequestResult
from .stream import WATCH_S, Target, scrub

Progress = Callable[[int, RequestResult], None]
METRICS_BUDGET_S = 2.0  # /metrics is optional: a server slow to give it must not eat the run
__all__ = ["ProbeJob", "apply_limits", "run_probe", "synthetic_prompt"]


def apply_limits(cfg: ProbeConfig) -> tuple[ProbeConfig, list[str]]:
    """Cap a hosted run (planner.core.net.HostedLimits); returns the capped config and what was cut."""
    lim = safety.limits()
    if lim is None:
        return cfg, []
    caps = {"concurrency": tuple(min(c, lim.max_concurrency) for c in cfg.concurrency[: lim.max_levels]),
            "requests": min(cfg.requests, lim.max_requests_per_level), "input_len": min(cfg.input_len, lim.max_input_len),
            "output_len": min(cfg.output_len, lim.max_output_len), "max_duration_s": min(cfg.max_duration_s, lim.max_duration_s),
            "request_timeout_s": min(cfg.request_timeout_s, lim.max_request_timeout_s),
            "max_response_bytes": min(cfg.max_response_bytes, lim.max_response_bytes)}
    changed = [f"hosted mode caps {k} at {v}" for k, v in caps.items() if getattr(cfg, k) != v]
    return cfg.model_copy(update=caps), changed


def _addresses(url: str) -> list[str]:
    """The host's addresses, resolved once per run (and checked in hosted mode by check_url before)."""
    u = urlsplit(url)
    try:
        return safety.resolve(u.hostname or "", u.port or (443 if u.scheme == "https" else 80))
    except safety.PolicyError:
        return []  # unresolvable: every request reports a connect error


def _target(cfg: ProbeConfig, stop: threading.Event) -> Target:
    return Target(base_url=cfg.url, api=cfg.api, model=cfg.model,
                  api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
                  connect_timeout_s=cfg.connect_timeout_s, read_timeout_s=cfg.read_timeout_s,
                  request_timeout_s=min(cfg.request_timeout_s, cfg.max_duration_s), stop=stop,
                  max_response_bytes=cfg.max_response_bytes, addresses=_addresses(cfg.url))


async def _warmup(t: Target, cfg: ProbeConfig, notes: list[str], seed: int) -> tuple[int, RequestResult | None]:
    """Send one request; returns the word count that gives input_len prompt tokens, and the warm-up."""
    words, r, slot = cfg.input_len, None, Slot()
    try:
        if t.model is None:
            try:
                t.model = (await list_models(slot, t) or [None])[0]
            except ValueError as exc:  # a server without /v1/models can still serve completions
                notes.append(f"/v1/models unavailable ({exc}); sending model 'default'")
        if not cfg.warmup:
            return words, None
        r = await send(slot, t, synthetic_prompt(words, "warmup", seed), min(cfg.output_len, 8))
        if r.error_kind == "http_4xx":
            t.extras = False
            notes.append("the server rejected ignore_eos/min_tokens; output may stop early at end-of-sequence")
            r = await send(slot, t, synthetic_prompt(words, "warmup", seed), min(cfg.output_len, 8))
    finally:
        slot.close()
    if not r.ok:
        notes.append(f"warm-up failed: {r.error_kind}: {r.error}")
    elif r.input_tokens:
        words = max(1, words + cfg.input_len - r.input_tokens)  # one word is about one token
    return words, r


async def _pause(t: Target, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while not t.stop.is_set() and (left := end - time.perf_counter()) > 0:
        await asyncio.sleep(min(WATCH_S, left))


async def _run_level(t: Target, cfg: ProbeConfig, c: int, words: int, seed: int, on_result: Progress | None) -> LevelResult:
    results: list[RequestResult] = []
    counter = iter(range(cfg.requests))

    slots = [Slot() for _ in range(c)]
    await asyncio.gather(*(s.open(t) for s in slots))
    t_level = time.perf_counter()

    async def worker(slot: Slot):
        try:
            while not t.stop.is_set() and time.perf_counter() < t.deadline and (i := next(counter, None)) is not None:
                start = time.perf_counter() - t_level
                r = await send(slot, t, synthetic_prompt(words, f"{c}-{i}", seed), cfg.output_len)
                r.start_s = start
                results.append(r)
                if on_result:
                    on_result(c, r)
                if r.retry_after_s:  # honour 429 Retry-After, bounded so the run stays within its limits
                    await _pause(t, min(r.retry_after_s, cfg.max_retry_after_s, max(0.0, t.deadline - time.perf_counter())))
        finally:
            slot.close()

    await asyncio.gather(*(worker(s) for s in slots))
    wall = max((r.start_s + (r.e2e_s or 0.0) for r in results if r.ok), default=time.perf_counter() - t_level)
    return level(c, results, wall, cfg.ttft_ms_target, cfg.tpot_ms_target, cfg.usd_per_gpu_hour, cfg.gpus)


async def _cache_counter(t: Target) -> float | None:
    """The server's prompt-cache counter from /metrics, when it exposes one."""
    slot = Slot()
    try:
        page = await get(slot, t, "/metrics", MAX_METRICS_BYTES, METRICS_BUDGET_S)
        return cached_counter(page.decode("utf-8", "replace"))
    except ValueError:
        return None
    finally:
        slot.close()


async def _run(t: Target, cfg: ProbeConfig, seed: int, notes: list[str], on_result, on_level) -> tuple:
    dog = asyncio.ensure_future(watchdog(t))
    try:
        words, warm = await _warmup(t, cfg, notes, seed)
        before, levels = await _cache_counter(t), []
        for c in cfg.concurrency:
            if t.stop.is_set() or time.perf_counter() >= t.deadline:
                notes.append(f"level {c} skipped: {'stopped' if t.stop.is_set() else 'duration limit reached'}")
                continue
            levels.append(await _run_level(t, cfg, c, words, seed, on_result))
            if on_level:
                on_level(levels[-1])
        after = await _cache_counter(t) if before is not None and not t.stop.is_set() else None
        return warm, levels, (after - before if after is not None else None)
    finally:
        dog.cancel()


def _in_own_loop(coro):
    """asyncio.run, in a fresh thread when this one already runs a loop (a notebook, an async app)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(1, thread_name_prefix="probe-loop") as pool:
        return pool.submit(asyncio.run, coro).result()


def run_probe(cfg: ProbeConfig, on_result: Progress | None = None, stop: threading.Event | None = None,
              on_level: Callable[[LevelResult], None] | None = None) -> ProbeResult:
    """Run every level in turn; raises planner.core.net.PolicyError if hosted mode refuses the URL."""
    cfg, notes = apply_limits(cfg)
    safety.check_url(cfg.url)
    t = _target(cfg, stop or threading.Event())
    t.deadline = time.perf_counter() + cfg.max_duration_s
    seed = secrets.randbelow(10**9)  # fresh prompts each run: no cache holds an earlier run's prompts
    warm, levels, server_cached = _in_own_loop(_run(t, cfg, seed, notes, on_result, on_level))
    measured, more = prompt_note(cfg.input_len, levels)
    result = ProbeResult(url=cfg.url, model=t.model, api=cfg.api, input_len=cfg.input_len, output_len=cfg.output_len,
                         measured_input_tokens=measured, levels=levels, seed=seed, server_cached_prompt_tokens=server_cached,
                         warmup_input_tokens=warm.input_tokens if warm else None,
                         warmup_output_tokens=warm.output_tokens if warm and warm.ok else None,
                         notes=notes + more + cache_notes(levels, server_cached),
                         usd_per_gpu_hour=cfg.usd_per_gpu_hour, gpus=cfg.gpus, stopped=t.stop.is_set())
    return scrubbed(result, t.api_key)


def scrubbed(result: ProbeResult, secret: str | None) -> ProbeResult:
    """Last line of defence: no text of the result carries the key, whatever path it came by."""
    text = result.model_dump_json()
    return ProbeResult.model_validate_json(scrub(text, secret)) if secret and secret in text else result


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
            key = self.cfg.api_key.get_secret_value() if self.cfg.api_key else None
            self.error = scrub(f"{type(exc).__name__}: {exc}", key)[:300]
