"""Pydantic models of the endpoint probe: its settings, one request's outcome, one level's figures.

Everything saved or shown goes through these models; the API key is a SecretStr excluded from every
dump (issue #4: never in saved results, URLs or logs). Metric definitions follow shared/DESIGN.md §3.
Percentiles are numpy.percentile's default (linear interpolation between closest ranks, Hyndman-Fan
type 7), the method of vLLM's benchmarks/benchmark_serving.py; other tools (GuideLLM) compute theirs
their own way, so compare the p99 of small samples with care.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from planner.core.net import check_endpoint_url

DEFINITIONS = {
    "ttft_ms": "time to first token: request written (connection open) -> first non-empty streamed token (ms)",
    "tpot_ms": "time per output token: (e2e - TTFT) / (output tokens - 1), per request (ms)",
    "itl_ms": "inter-token latency: gaps between consecutive streamed content chunks, statistics over every gap "
              "of every request pooled (GuideLLM reports them over per-request means instead) (ms)",
    "e2e_latency_s": "end-to-end latency: request written -> end of stream (s)",
    "output_tokens_per_s": "all output tokens of the level / wall time of the level",
    "output_tokens_per_s_per_user": "1 / mean TPOT of the level, as the planner predicts it",
    "cached_input_tokens": "prompt tokens the server served from its prompt cache "
                           "(usage.prompt_tokens_details.cached_tokens)",
    "request_throughput_per_s": "completed requests / wall time of the level",
    "goodput_per_s": "completed requests meeting the TTFT and TPOT targets / wall time",
    "token_count_source": "usage = the server's usage block; chunks = counted streamed content chunks",
}
ErrorKind = Literal["timeout", "connect", "http_4xx", "http_5xx", "rate_limited", "redirect", "malformed",
                    "truncated", "empty", "too_large", "refused_by_policy", "stopped", "other"]


class ProbeConfig(BaseModel):
    """What to probe and how hard. The key never leaves this object except as a Bearer header."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(description="base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080")
    model: str | None = Field(None, description="served model name; None = first of /v1/models")
    api: Literal["chat", "completions"] = "chat"
    api_key: SecretStr | None = Field(None, exclude=True, repr=False)
    concurrency: tuple[int, ...] = Field((1, 4, 16), min_length=1, max_length=12)
    requests: int = Field(8, ge=1, le=10_000, description="requests per level")
    input_len: int = Field(128, ge=1, le=200_000)
    output_len: int = Field(64, ge=1, le=100_000)
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    read_timeout_s: float = Field(30.0, gt=0, le=3600, description="longest silence inside a response")
    request_timeout_s: float = Field(300.0, gt=0, le=7200, description="longest whole request, connect to last byte")
    max_duration_s: float = Field(1800.0, gt=0, le=86_400, description="whole run; open requests end, later ones are skipped")
    max_response_bytes: int = Field(16 * 2**20, ge=1024, le=2**30, description="cap on one response, framing included")
    warmup: bool = True
    ttft_ms_target: float | None = Field(None, gt=0)
    tpot_ms_target: float | None = Field(None, gt=0)
    usd_per_gpu_hour: float | None = Field(None, ge=0, le=1000)
    gpus: int = Field(1, ge=1, le=1024)
    max_retry_after_s: float = Field(5.0, ge=0, le=60, description="longest Retry-After the probe honours")

    @field_validator("concurrency", mode="before")
    @classmethod
    def _levels(cls, v):
        if isinstance(v, str):
            v = [x for x in v.replace(" ", "").split(",") if x]
        levels = tuple(int(x) for x in v)
        if not levels or any(not 1 <= c <= 4096 for c in levels):
            raise ValueError("concurrency levels must be whole numbers from 1 to 4096, e.g. 1,4,16")
        return levels

    @field_validator("url")
    @classmethod
    def _url(cls, v: str):
        return check_endpoint_url(v).removesuffix("/v1")


class RequestResult(BaseModel):
    """One streamed request, timed with time.perf_counter relative to its own send time."""
    model_config = ConfigDict(extra="forbid")
    ok: bool
    error_kind: ErrorKind | None = None
    error: str | None = None
    start_s: float = 0.0                 # send time relative to the level start
    ttft_s: float | None = None
    e2e_s: float | None = None
    itl_s: list[float] = Field(default_factory=list)
    output_tokens: int = 0
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    token_count_source: Literal["usage", "chunks"] = "chunks"
    retry_after_s: float | None = None

    @property
    def tpot_s(self) -> float | None:
        """(e2e - TTFT) / (n - 1): undefined for a single token."""
        if not self.ok or self.output_tokens < 2 or self.ttft_s is None or self.e2e_s is None:
            return None
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1)


class Stats(BaseModel):
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None


class LevelResult(BaseModel):
    """The issue's JSON shape for one concurrency level, plus goodput and cost."""
    concurrency: int
    requests: int
    completed: int
    errors: int
    error_kinds: dict[str, int]
    ttft_ms: Stats
    tpot_ms: Stats
    itl_ms: Stats
    e2e_latency_s: Stats
    output_tokens: int
    input_tokens: int
    output_tokens_per_s: float | None
    output_tokens_per_s_per_user: float | None
    request_throughput_per_s: float | None
    token_count_source: Literal["usage", "chunks", "mixed", "none"]
    goodput_per_s: float | None = None
    wall_time_s: float = 0.0
    usd_per_million_output_tokens: float | None = None
    cached_input_tokens: int | None = None     # None: the server did not say
    request_rate_per_s: float | None = None    # an imported open-loop run's configured rate (bench_results)


class ProbeResult(BaseModel):
    """A whole probe run: settings (without the key), the served model, levels and notes."""
    url: str
    model: str | None
    api: str
    input_len: int
    output_len: int
    measured_input_tokens: int | None = None
    warmup_input_tokens: int | None = None     # the warm-up request's usage, so server counters can be reconciled
    warmup_output_tokens: int | None = None
    seed: int | None = None                    # of this run's prompts: fresh each run, so no cache holds them
    server_cached_prompt_tokens: float | None = None  # /metrics counter delta over the run, when exposed
    levels: list[LevelResult]
    notes: list[str] = Field(default_factory=list)
    definitions: dict[str, str] = Field(default_factory=lambda: dict(DEFINITIONS))
    usd_per_gpu_hour: float | None = None
    gpus: int = 1
    stopped: bool = False
    source: str | None = None                  # tool and version of an imported result file (bench_results)
