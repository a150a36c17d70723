"""One streamed OpenAI-compatible request: its target, body, SSE chunks, timings and the key scrubber.

SSE framing per the WHATWG EventSource spec; chunk shapes per OpenAI's chat.completion.chunk /
text_completion, validated with pydantic. Reads are time-stamped by client.py as they come off the socket
and handed here with their stamp. Caps on lines, responses, chunks and /v1/models bound what a hostile
server can make the probe hold. Every text that can carry server output is scrubbed of the API key
before it is cut (issue #11).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from .models import RequestResult

SSE_FIELDS = (b"data:", b"event:", b"id:", b"retry:")
ERROR_TEXT_CHARS = 200
ERROR_BODY_BYTES = 4096          # read of a non-200 body, scrubbed, then cut to ERROR_TEXT_CHARS
MAX_LINE_BYTES = 64 * 1024       # an SSE chunk line is < 2 KiB in vLLM, SGLang, llama.cpp
MAX_RESPONSE_BYTES = 16 * 2**20  # one streamed response, framing included
MAX_MODELS_BYTES = 2**20         # /v1/models
MAX_MODEL_NAME_CHARS = 256
MAX_CHUNKS_PER_TOKEN = 4         # content chunks beyond 4 x max_tokens (+16) are not a real stream
WATCH_S = 0.1                    # watchdog period: Stop and deadlines take effect within this
MIN_PARTIAL_KEY = 4              # a cut key's start or end this long is masked too


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Delta(_Loose):
    content: str | None = None
    reasoning_content: str | None = None  # llama.cpp / vLLM reasoning models stream thoughts here


class Choice(_Loose):
    delta: Delta | None = None
    text: str | None = None               # /v1/completions
    finish_reason: str | None = None


class PromptDetails(_Loose):
    cached_tokens: int | None = None      # OpenAI, vLLM, llama.cpp: prompt tokens served from the cache


class Usage(_Loose):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: PromptDetails | None = None


class Chunk(_Loose):
    choices: list[Choice] = []
    usage: Usage | None = None
    error: dict | str | None = None


class ModelList(_Loose):
    data: list[dict]


def scrub(text: str, secret: str | None) -> str:
    """text without the secret, also where a read or a cut split it (its start at the end, its end at the start)."""
    if not secret:
        return text
    text = text.replace(secret, "***")
    for n in range(min(len(secret) - 1, len(text)), MIN_PARTIAL_KEY - 1, -1):
        if text.endswith(secret[:n]):
            text = text[:-n] + "***"
            break
    for n in range(min(len(secret) - 1, len(text)), MIN_PARTIAL_KEY - 1, -1):
        if text.startswith(secret[-n:]):
            text = "***" + text[n:]
            break
    return text


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
    max_response_bytes: int = MAX_RESPONSE_BYTES
    addresses: list[str] = field(default_factory=list)   # resolved (and in hosted mode checked) once per run
    active: set = field(default_factory=set)             # open exchanges, scanned by the watchdog

    def __repr__(self) -> str:            # keep the key out of logs and tracebacks
        return f"Target(base_url={self.base_url!r}, api={self.api!r}, model={self.model!r})"

    def scrub(self, text: str) -> str:
        return scrub(text, self.api_key)

    def fail(self, kind: str, text: str, **extra) -> RequestResult:
        """An error result whose text is scrubbed first, then cut."""
        return RequestResult(ok=False, error_kind=kind, error=self.scrub(text)[:ERROR_TEXT_CHARS], **extra)

    def request(self, method: str, path: str, body: bytes = b"") -> bytes:
        """The raw HTTP/1.1 request; the key goes only into the Authorization header."""
        u = urlsplit(self.base_url)
        target = (u.path.rstrip("/") + path) + (f"?{u.query}" if u.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {u.netloc}", "User-Agent: llm-planner-probe",
                 "Accept: text/event-stream" if method == "POST" else "Accept: application/json",
                 "Accept-Encoding: identity", "Connection: keep-alive"]
        if method == "POST":
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        if self.api_key:
            lines.append(f"Authorization: Bearer {self.api_key}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


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
    return "/v1/chat/completions" if t.api == "chat" else "/v1/completions"


class _Stream:
    """Accumulates one stream's timings and counts while lines arrive."""

    def __init__(self, t0: float, max_chunks: int = 1 << 30):
        self.t0, self.first, self.last = t0, None, None
        self.gaps: list[float] = []
        self.chunks = 0
        self.max_chunks = max_chunks
        self.usage: Usage | None = None
        self.done = self.finished = False

    def on_data(self, data: bytes, now: float | None = None) -> str | None:
        """Handle one `data:` payload received at `now`; returns an error text when it is not a valid chunk."""
        if data.strip() == b"[DONE]":
            self.done = True
            return None
        try:
            chunk = Chunk.model_validate_json(data)
        except ValidationError as exc:
            return f"malformed SSE data: {str(exc).splitlines()[-1].strip()}"
        if chunk.error is not None:
            return f"server error in stream: {chunk.error}"
        now = time.perf_counter() if now is None else now
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
        if self.chunks > self.max_chunks:
            return f"malformed: more than {self.max_chunks} content chunks for the tokens asked"
        return None


def _finish(s: _Stream, end: float) -> RequestResult:
    if s.first is None and not s.done and not s.finished:
        return RequestResult(ok=False, error_kind="empty", error="the server sent no stream")
    if not s.done and not s.finished:
        return RequestResult(ok=False, error_kind="truncated", error="stream ended before [DONE] or finish_reason")
    if s.first is None:
        return RequestResult(ok=False, error_kind="empty", error="the stream carried no tokens")
    usage = s.usage
    from_usage = usage is not None and usage.completion_tokens is not None
    details = usage.prompt_tokens_details if usage else None
    return RequestResult(
        ok=True, ttft_s=s.first - s.t0, e2e_s=end - s.t0, itl_s=s.gaps,
        output_tokens=usage.completion_tokens if from_usage else s.chunks,
        input_tokens=usage.prompt_tokens if usage else None,
        cached_input_tokens=details.cached_tokens if details else None,
        token_count_source="usage" if from_usage else "chunks")
