"""HTTP/1.1 exchanges on one asyncio loop: kept-alive connections, a streamed request, /v1/models, a watchdog.

One loop thread drives every stream of a run (asyncio Protocols: a read is stamped the moment it comes off
the socket, before parsing). Connections go to the addresses resolved once per run and are checked again
once connected (hosted mode, planner.core.net). The watchdog ends exchanges on Stop, on the request or run
deadline and on silence, within WATCH_S of the limit, whatever the server sends or withholds.
"""
from __future__ import annotations

import asyncio
import json
import ssl
import time
from urllib.parse import urlsplit

from pydantic import ValidationError

from planner.core import net
from .http1 import ResponseReader, WireError
from .models import RequestResult
from .stream import (ERROR_BODY_BYTES, MAX_CHUNKS_PER_TOKEN, MAX_LINE_BYTES, MAX_MODEL_NAME_CHARS, MAX_MODELS_BYTES,
                     SSE_FIELDS, WATCH_S, ModelList, Target, _finish, _Stream, endpoint, payload)

STOPPED = "stopped by the user"


class Stopped(Exception):
    """Stop was pressed while connecting."""


class _Exchange:
    """One request on one connection: framing, then SSE lines (stream) or the body (collect)."""

    def __init__(self, t: Target, conn: "_Conn", deadline: float, stream: _Stream | None, cap: int):
        self.t, self.conn, self.deadline, self.stream = t, conn, deadline, stream
        self.reader = ResponseReader(cap)
        self.t0 = self.last_byte = time.perf_counter()
        self.body, self.line = bytearray(), bytearray()
        self.result: RequestResult | None = None
        self.future = asyncio.get_running_loop().create_future()

    def feed(self, data: bytes, now: float) -> None:
        self.last_byte = now
        try:
            body = self.reader.feed(data)
            if self.reader.status is not None:
                self._body(body, now)
        except WireError as exc:
            self.settle(self.t.fail(exc.kind, str(exc)))

    def _body(self, body: bytes, now: float) -> None:
        status = self.reader.status
        if self.stream is not None and status == 200:
            self._lines(body, now)
        elif 300 <= status < 400:
            self.settle(self.t.fail("redirect", f"HTTP {status} redirect not followed"))
        else:
            self.body += body[: ERROR_BODY_BYTES if status != 200 else len(body)]
            if self.reader.done or (status != 200 and len(self.body) >= ERROR_BODY_BYTES):
                self._settle_body(status)
        if self.reader.done and self.result is None:
            self.settle(_finish(self.stream, now))

    def _settle_body(self, status: int) -> None:
        if status == 200:
            return self.settle(RequestResult(ok=True))
        kind = "rate_limited" if status == 429 else "http_4xx" if status < 500 else "http_5xx"
        retry = _retry_after(self.reader.headers) if status == 429 else None
        text = bytes(self.body).decode("utf-8", "replace")
        self.settle(self.t.fail(kind, f"HTTP {status}: {text}".strip(), retry_after_s=retry))

    def _lines(self, body: bytes, now: float) -> None:
        buf = self.line
        buf += body
        start = 0
        while (end := buf.find(b"\n", start)) >= 0 and self.result is None:
            err = self._line(bytes(buf[start:end]).rstrip(b"\r"), now)
            start = end + 1
            if err:
                self.settle(err)
            elif self.stream.done:
                self.settle(_finish(self.stream, now))
        del buf[:start]
        if len(buf) > MAX_LINE_BYTES and self.result is None:
            self.settle(self.t.fail("malformed", f"SSE line longer than {MAX_LINE_BYTES // 1024} KiB"))

    def _line(self, line: bytes, now: float) -> RequestResult | None:
        if not line or line.startswith(b":"):
            return None
        if not line.startswith(SSE_FIELDS):
            return self.t.fail("malformed", f"not an SSE line: {line!r}")
        if line.startswith(b"data:") and (err := self.stream.on_data(line[5:], now)):
            return self.t.fail("malformed" if err.startswith("malformed") else "http_5xx", err)
        return None

    def lost(self, now: float) -> None:
        try:
            self.reader.eof()
        except WireError as exc:
            return self.settle(self.t.fail(exc.kind, str(exc)))
        if self.stream is not None and self.reader.status == 200:
            self._lines(b"\n", now)   # a last line without its newline
            self.settle(_finish(self.stream, now))
        else:
            self._settle_body(self.reader.status)

    def settle(self, result: RequestResult) -> None:
        """Record the outcome once; the connection stays open only after a whole, reusable response."""
        if self.result is not None:
            return
        self.result = result
        self.t.active.discard(self)
        self.conn.ex = None
        if not (result.ok and self.reader.done and self.reader.keep_alive):
            self.conn.close()
        if not self.future.done():
            self.future.set_result(result)


class _Conn(asyncio.Protocol):
    """A connection: reads are stamped here and handed to the current exchange."""

    def __init__(self):
        self.transport: asyncio.Transport | None = None
        self.ex: _Exchange | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if self.ex is None:
            self.close()          # bytes nobody asked for: this connection cannot be reused
        else:
            self.ex.feed(data, now)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.ex is not None:
            self.ex.lost(time.perf_counter())

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


def _retry_after(headers: dict) -> float | None:
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return None


async def _stoppable(aw, t: Target, timeout: float):
    """Await aw for at most timeout seconds, giving up within WATCH_S of Stop."""
    task = asyncio.ensure_future(aw)
    end = time.perf_counter() + timeout
    while not task.done():
        left = end - time.perf_counter()
        if t.stop.is_set() or left <= 0:
            task.cancel()
            raise Stopped(STOPPED) if t.stop.is_set() else asyncio.TimeoutError()
        await asyncio.wait([task], timeout=min(WATCH_S, left))
    return task.result()


async def _connect(t: Target, deadline: float) -> _Conn:
    u = urlsplit(t.base_url)
    tls = ssl.create_default_context() if u.scheme == "https" else None
    loop, error = asyncio.get_running_loop(), None
    for ip in t.addresses or [u.hostname]:
        timeout = min(t.connect_timeout_s, deadline - time.perf_counter())
        try:
            transport, conn = await _stoppable(loop.create_connection(
                _Conn, ip, u.port or (443 if tls else 80), ssl=tls, server_hostname=u.hostname if tls else None), t, timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            error = exc
            continue
        try:
            net.check_peer(transport.get_extra_info("peername")[0])
        except net.PolicyError:
            transport.abort()
            raise
        return conn
    raise error or OSError("no address to connect to")


class Slot:
    """One closed-loop slot: its own kept-alive connection."""

    def __init__(self):
        self.conn: _Conn | None = None
        self.last_body = bytearray()

    async def exchange(self, t: Target, request: bytes, deadline: float, stream: _Stream | None, cap: int) -> RequestResult:
        for attempt in range(2):
            reused = self.conn is not None and not self.conn.closed
            if not reused:
                self.conn = await _connect(t, deadline)
            ex = _Exchange(t, self.conn, deadline, stream, cap)
            self.conn.ex = ex
            t.active.add(ex)
            ex.t0 = time.perf_counter()
            if stream is not None:
                stream.t0 = ex.t0
            self.conn.transport.write(request)
            result = await ex.future
            self.last_body = ex.body
            # a kept-alive connection the server had closed: retried once on a fresh one (RFC 9112 §9.3.1)
            if not (reused and ex.reader.received == 0 and result.error_kind in ("empty", "truncated")):
                return result
        return result

    async def open(self, t: Target) -> None:
        """Connect ahead of the level (best effort), so a thousand connects do not land inside the timings."""
        try:
            self.conn = await _connect(t, min(time.perf_counter() + t.connect_timeout_s, t.deadline))
        except (OSError, asyncio.TimeoutError, Stopped, net.PolicyError):
            self.conn = None  # the request itself will try again and report why

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


async def send(slot: Slot, t: Target, prompt: str, output_len: int) -> RequestResult:
    """Stream one request; every failure is returned as an error kind, never raised."""
    deadline = min(time.perf_counter() + t.request_timeout_s, t.deadline)
    body = json.dumps(payload(t, prompt, output_len)).encode()
    try:
        return await slot.exchange(t, t.request("POST", endpoint(t), body), deadline,
                                   _Stream(0.0, output_len * MAX_CHUNKS_PER_TOKEN + 16), t.max_response_bytes)
    except net.PolicyError as exc:
        return RequestResult(ok=False, error_kind="refused_by_policy", error=t.scrub(str(exc)))
    except Stopped:
        return RequestResult(ok=False, error_kind="stopped", error=STOPPED)
    except asyncio.TimeoutError:
        return t.fail("timeout", "connect timed out")
    except OSError as exc:
        return t.fail("connect", f"{type(exc).__name__}: {exc}")


async def get(slot: Slot, t: Target, path: str, cap: int, budget_s: float = float("inf")) -> bytes:
    """The body of GET path, at most cap bytes (ValueError with a scrubbed, short text on any failure)."""
    deadline = min(time.perf_counter() + min(t.connect_timeout_s + t.read_timeout_s, budget_s), t.deadline)
    try:
        r = await slot.exchange(t, t.request("GET", path), deadline, None, cap)
    except (OSError, asyncio.TimeoutError, Stopped) as exc:
        raise ValueError(t.scrub(f"{type(exc).__name__}: {exc}")[:200]) from None
    if not r.ok:
        raise ValueError(f"{r.error_kind}: {r.error}")
    return bytes(slot.last_body)


async def list_models(slot: Slot, t: Target) -> list[str]:
    """Ids served at /v1/models, each scrubbed of the key (ValueError when unavailable or oversized)."""
    try:
        data = ModelList.model_validate_json(await get(slot, t, "/v1/models", MAX_MODELS_BYTES)).data
    except ValidationError:
        raise ValueError("the /v1/models answer is not an OpenAI model list") from None
    ids = [str(m.get("id")) for m in data if m.get("id")]
    if ids and len(ids[0]) > MAX_MODEL_NAME_CHARS:
        raise ValueError(f"model name longer than {MAX_MODEL_NAME_CHARS} characters")
    return [t.scrub(i) for i in ids]


async def watchdog(t: Target) -> None:
    """Ends exchanges on Stop, on their deadline (connect to last byte, or the run's) and on silence."""
    while True:
        await asyncio.sleep(WATCH_S)
        now = time.perf_counter()
        for ex in list(t.active):
            if t.stop.is_set():
                ex.settle(RequestResult(ok=False, error_kind="stopped", error=STOPPED))
            elif now > ex.deadline:
                ex.settle(t.fail("timeout", "request exceeded its time limit or the run's duration limit"))
            elif now - ex.last_byte > t.read_timeout_s:
                ex.settle(t.fail("timeout", f"no byte for {t.read_timeout_s:g} s (read timeout)"))
