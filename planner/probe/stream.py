"""One streamed OpenAI-compatible request, timed and classified; never raises for a bad server.

SSE framing per the WHATWG EventSource spec (`data:` lines, `:` comments, blank-line separators);
chunk shapes per OpenAI's chat.completion.chunk / text_completion objects, validated with pydantic.
Faults (timeouts, HTTP errors, 429 + Retry-After, malformed lines, cut or stalled streams, empty
bodies, refused connections) become a RequestResult with an error kind (issue #4).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import requests
from pydantic import BaseModel, ConfigDict, ValidationError

from .models import RequestResult

SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:")
ERROR_TEXT_CHARS = 200


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Delta(_Loose):
    content: str | None = None
    reasoning_content: str | None = None  # llama.cpp / vLLM reasoning models stream thoughts here


class Choice(_Loose):
    delta: Delta | None = None
    text: str | None = None               # /v1/completions
    finish_reason: str | None = None


class Usage(_Loose):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Chunk(_Loose):
    choices: list[Choice] = []
    usage: Usage | None = None
    error: dict | str | None = None


class ModelList(_Loose):
    data: list[dict]


@dataclass
class Target:
    """Where and how to send: the key lives here only, and only goes out as a Bearer header."""
    base_url: str
    api: str
    model: str | None
    api_key: str | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    request_timeout_s: float = 300.0
    extras: bool = True                   # ignore_eos / min_tokens accepted by the server
    deadline: float = float("inf")        # perf_counter time at which the whole run must end
    stop: threading.Event = field(default_factory=threading.Event)

    def __repr__(self) -> str:            # keep the key out of logs and tracebacks
        return f"Target(base_url={self.base_url!r}, api={self.api!r}, model={self.model!r})"

    def headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def scrub(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text


def payload(t: Target, prompt: str, output_len: int) -> dict:
    """Request body; ignore_eos/min_tokens (vLLM, SGLang, llama.cpp) make the output length exact."""
    body = {"model": t.model or "default", "max_tokens": output_len, "stream": True, "temperature": 0.0,
            "stream_options": {"include_usage": True}}
    if t.api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    if t.extras:
        body.update(ignore_eos=True, min_tokens=output_len)
    return body


def endpoint(t: Target) -> str:
    return f"{t.base_url}/v1/chat/completions" if t.api == "chat" else f"{t.base_url}/v1/completions"


def _lines(resp: requests.Response):
    """Yield raw lines as they arrive; read1 returns what the socket has instead of filling a buffer."""
    buf = b""
    while True:
        data = resp.raw.read1(65536)
        if not data:
            break
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r")
    if buf:
        yield buf.rstrip(b"\r")


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return max(0.0, float(resp.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _http_error(resp: requests.Response, t: Target) -> RequestResult:
    code = resp.status_code
    kind = ("rate_limited" if code == 429 else "redirect" if 300 <= code < 400
            else "http_4xx" if code < 500 else "http_5xx")
    try:
        text = resp.raw.read(ERROR_TEXT_CHARS, decode_content=True).decode("utf-8", "replace")
    except Exception:  # the body of an error is a courtesy; any failure to read it is not a new error
        text = ""
    return RequestResult(ok=False, error_kind=kind, error=t.scrub(f"HTTP {code}: {text}".strip()),
                         retry_after_s=_retry_after(resp) if code == 429 else None)


class _Stream:
    """Accumulates one stream's timings and counts while lines arrive."""

    def __init__(self, t0: float):
        self.t0, self.first, self.last = t0, None, None
        self.gaps: list[float] = []
        self.chunks = 0
        self.usage: Usage | None = None
        self.done = self.finished = False

    def on_data(self, data: bytes) -> str | None:
        """Handle one `data:` payload; returns an error text when it is not a valid chunk."""
        if data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            chunk = Chunk.model_validate(json.loads(data))
        except (ValueError, ValidationError) as exc:
            return f"malformed SSE data: {str(exc).splitlines()[0][:ERROR_TEXT_CHARS]}"
        if chunk.error is not None:
            return f"server error in stream: {str(chunk.error)[:ERROR_TEXT_CHARS]}"
        now = time.perf_counter()
        if chunk.usage is not None:
            self.usage = chunk.usage
        for c in chunk.choices:
            self.finished |= c.finish_reason is not None
            text = c.text if c.delta is None else (c.delta.content or c.delta.reasoning_content)
            if text:
                self.chunks += 1
                if self.first is None:
                    self.first = now
                else:
                    self.gaps.append(now - self.last)
                self.last = now
        return None


def _consume(resp: requests.Response, t: Target, t0: float) -> RequestResult:
    s = _Stream(t0)
    deadline = min(t0 + t.request_timeout_s, t.deadline)
    for line in _lines(resp):
        if t.stop.is_set():
            return RequestResult(ok=False, error_kind="stopped", error="stopped by the user")
        if time.perf_counter() > deadline:
            return RequestResult(ok=False, error_kind="timeout", error="request exceeded its time or the run's duration limit")
        if not line or line.startswith(b":"):
            continue
        if not line.startswith(SSE_FIELDS):
            return RequestResult(ok=False, error_kind="malformed", error=f"not an SSE line: {line[:80]!r}")
        if line.startswith(b"data:") and (err := s.on_data(line[5:])):
            kind = "malformed" if err.startswith("malformed") else "http_5xx"
            return RequestResult(ok=False, error_kind=kind, error=t.scrub(err))
        if s.done:
            break
    return _finish(s, time.perf_counter())


def _finish(s: _Stream, end: float) -> RequestResult:
    if s.first is None and not s.done and not s.finished:
        return RequestResult(ok=False, error_kind="empty", error="the server sent no stream")
    if not s.done and not s.finished:
        return RequestResult(ok=False, error_kind="truncated", error="stream ended before [DONE] or finish_reason")
    if s.first is None:
        return RequestResult(ok=False, error_kind="empty", error="the stream carried no tokens")
    usage = s.usage
    from_usage = usage is not None and usage.completion_tokens is not None
    return RequestResult(
        ok=True, ttft_s=s.first - s.t0, e2e_s=end - s.t0, itl_s=s.gaps,
        output_tokens=usage.completion_tokens if from_usage else s.chunks,
        input_tokens=usage.prompt_tokens if usage else None,
        token_count_source="usage" if from_usage else "chunks")


def _classify(exc: Exception) -> str:
    if isinstance(exc, (requests.Timeout, TimeoutError)) or "timed out" in str(exc).lower():
        return "timeout"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError) or "IncompleteRead" in repr(exc):
        return "truncated"
    if isinstance(exc, requests.ConnectionError):
        return "connect"
    return "other"


def send(session: requests.Session, t: Target, prompt: str, output_len: int) -> RequestResult:
    """Stream one request; every failure is returned as an error kind, never raised."""
    t0 = time.perf_counter()
    try:
        with session.post(endpoint(t), json=payload(t, prompt, output_len), headers=t.headers(), stream=True,
                          timeout=(t.connect_timeout_s, t.read_timeout_s), allow_redirects=False) as resp:
            if resp.status_code != 200:
                return _http_error(resp, t)
            return _consume(resp, t, t0)
    except Exception as exc:  # a misbehaving server must cost one request, not the run (issue #4)
        from planner.core.net import PolicyError
        if isinstance(exc, PolicyError):
            return RequestResult(ok=False, error_kind="refused_by_policy", error=str(exc))
        return RequestResult(ok=False, error_kind=_classify(exc), error=t.scrub(f"{type(exc).__name__}: {exc}")[:300])


def list_models(session: requests.Session, t: Target) -> list[str]:
    """Ids served at /v1/models (raises requests/pydantic errors; the caller reports them)."""
    resp = session.get(f"{t.base_url}/v1/models", headers=t.headers(), allow_redirects=False,
                       timeout=(t.connect_timeout_s, t.read_timeout_s))
    resp.raise_for_status()
    return [str(m.get("id")) for m in ModelList.model_validate(resp.json()).data if m.get("id")]
