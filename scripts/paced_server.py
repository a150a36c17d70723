"""A paced OpenAI-compatible streaming server for probe benchmarks: exact, known timings on 127.0.0.1.

    python scripts/paced_server.py --port 8199 [--ttft-ms 300] [--itl-ms 100]

Every POST streams max_tokens chat chunks: the first --ttft-ms after the request's bytes reached this
host, then one every --itl-ms, on absolute deadlines (lateness never accumulates), then a usage chunk and
[DONE], over HTTP/1.1 chunked encoding with keep-alive. GET /v1/models lists one model; GET /lateness says
how late its own sends were. Linux SO_TIMESTAMPNS gives each read the kernel's arrival time (socket(7)),
so the pacing starts when the request arrived, not when this loop got round to it. One thread, selectors.
"""
from __future__ import annotations

import argparse
import heapq
import json
import re
import selectors
import socket
import struct
import time

PROMPT_TOKENS = 64
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
MAX_TOKENS = re.compile(rb'"max_tokens":\s*(\d+)')


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _sse(body: dict) -> bytes:
    return _chunk(b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n")


TOKEN, TOKEN_LAST = (_sse({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": " w"},
                                                                          "finish_reason": f}]}) for f in (None, "length"))
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def _tail(n: int) -> bytes:
    usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": n, "total_tokens": PROMPT_TOKENS + n}
    return _sse({"object": "chat.completion.chunk", "choices": [], "usage": usage}) + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _plain(payload: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)


class Server:
    def __init__(self, port: int, ttft_s: float, itl_s: float):
        self.ttft_s, self.itl_s = ttft_s, itl_s
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", port), backlog=4096)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ)
        self.buffers: dict[socket.socket, bytes] = {}
        self.timers: list[tuple[float, int, socket.socket, int, int]] = []   # (due, seq, conn, token index, n)
        self.seq = 0
        self.late: list[float] = []
        # kernel stamps are CLOCK_REALTIME; pacing runs on the monotonic clock
        self.offset = time.time() - time.monotonic()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            conn.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffers[conn] = b""
            self.sel.register(conn, selectors.EVENT_READ)

    def _read(self, conn: socket.socket) -> None:
        try:
            data, anc, _, _ = conn.recvmsg(65536, 64)
        except (BlockingIOError, ConnectionError):
            return
        if not data:
            return self._drop(conn)
        arrived = time.monotonic()
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", raw[:16])
                arrived = min(arrived, sec + nsec / 1e9 - self.offset)
        self.buffers[conn] += data
        self._requests(conn, arrived)

    def _requests(self, conn: socket.socket, arrived: float) -> None:
        buf = self.buffers[conn]
        while (end := buf.find(b"\r\n\r\n")) >= 0:
            head = buf[:end].decode("latin-1").split("\r\n")
            length = next((int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")), 0)
            if len(buf) < end + 4 + length:
                break
            body, buf = buf[end + 4: end + 4 + length], buf[end + 4 + length:]
            self._handle(conn, head[0].split(" "), body, arrived)
        self.buffers[conn] = buf

    def _handle(self, conn, request_line: list[str], body: bytes, arrived: float) -> None:
        if request_line[0] == "GET":
            late = sorted(self.late) or [0.0]
            answer = ({"mean_ms": 1e3 * sum(late) / len(late), "p99_ms": 1e3 * late[int(0.99 * (len(late) - 1))],
                       "max_ms": 1e3 * late[-1]} if request_line[1] == "/lateness"
                      else {"object": "list", "data": [{"id": "paced"}]})
            return self._send(conn, _plain(json.dumps(answer).encode()))
        m = MAX_TOKENS.search(body)
        n = int(m.group(1)) if m else 16
        self._send(conn, HEAD)
        self.seq += 1
        heapq.heappush(self.timers, (arrived + self.ttft_s, self.seq, conn, 0, n))

    def _send(self, conn, data: bytes) -> None:
        try:
            conn.sendall(data)  # small writes to a reading client: the socket buffer takes them at once
        except OSError:
            self._drop(conn)

    def _drop(self, conn) -> None:
        if conn in self.buffers:
            self.sel.unregister(conn)
            del self.buffers[conn]
            conn.close()

    def _due(self) -> None:
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            due, _, conn, i, n = heapq.heappop(self.timers)
            if conn not in self.buffers:
                continue
            self.late.append(time.monotonic() - due)
            self._send(conn, TOKEN_LAST + _tail(n) if i == n - 1 else TOKEN)
            if i < n - 1:
                self.seq += 1
                heapq.heappush(self.timers, (due + self.itl_s, self.seq, conn, i + 1, n))

    def serve(self) -> None:
        while True:
            timeout = max(0.0, self.timers[0][0] - time.monotonic()) if self.timers else None
            for key, _ in self.sel.select(timeout):
                self._accept() if key.fileobj is self.listener else self._read(key.fileobj)
            self._due()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ttft-ms", type=float, default=300.0)
    ap.add_argument("--itl-ms", type=float, default=100.0)
    args = ap.parse_args()
    try:
        Server(args.port, args.ttft_ms / 1e3, args.itl_ms / 1e3).serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
