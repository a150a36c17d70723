"""Incremental HTTP/1.1 response reader (RFC 9112 §4-7): status line and headers, then a body framed by
chunked transfer coding, Content-Length or connection close.

Sans-IO: bytes in, body bytes out, so the probe's event loop stamps each read before parsing it. Every
buffer is capped (header block, chunk-size and trailer lines, body bytes): a hostile server cannot grow
memory or hold a parser in an endless line.
"""
from __future__ import annotations

MAX_HEADER_BYTES = 64 * 1024
MAX_CHUNK_LINE_BYTES = 1024


class WireError(Exception):
    """The response broke HTTP/1.1 framing or one of the caps; kind is a probe error kind."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind


class ResponseReader:
    """Feed received bytes; read status, headers, done and keep_alive as they become known."""

    def __init__(self, max_body_bytes: int, head_only: bool = False):
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.done = False
        self.keep_alive = False
        self.received = 0
        self._max = max_body_bytes
        self._buf = bytearray()
        self._state = "head"
        self._left = 0            # bytes left of the current chunk or of the Content-Length body
        self._head_only = head_only

    def feed(self, data: bytes) -> bytes:
        """Body bytes carried by data (raises WireError on bad framing or a cap)."""
        self.received += len(data)
        if self.received > self._max:
            raise WireError("too_large", f"response larger than {self._max / 2**20:g} MiB")
        self._buf += data
        out = bytearray()
        while self._buf and not self.done:
            step = getattr(self, f"_{self._state}")(out)
            if not step:
                break
        if self.done and self._buf:
            self.keep_alive = False  # bytes after the message: the connection cannot be trusted again
        return bytes(out)

    def eof(self) -> None:
        """The server closed: fine for a close-delimited body, truncation otherwise."""
        if self._state == "close":
            self.done = True
        elif not self.done:
            raise WireError("truncated" if self.status else "empty", "connection closed before the response ended")

    def _line(self, cap: int) -> bytes | None:
        end = self._buf.find(b"\n")
        if end < 0:
            if len(self._buf) > cap:
                raise WireError("malformed", f"line longer than {cap} bytes in the HTTP framing")
            return None
        line = bytes(self._buf[:end]).rstrip(b"\r")
        del self._buf[: end + 1]
        return line

    def _head(self, out) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEADER_BYTES:
                raise WireError("malformed", f"response headers longer than {MAX_HEADER_BYTES} bytes")
            return False
        lines = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
        del self._buf[: end + 4]
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise WireError("malformed", "not an HTTP/1.1 response")
        self.status = int(parts[1])
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.keep_alive = parts[0] == "HTTP/1.1" and "close" not in self.headers.get("connection", "").lower()
        return self._framing()

    def _framing(self) -> bool:
        if self._head_only or self.status in (204, 304) or 100 <= self.status < 200:
            self.done = True
        elif "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._state = "size"
        elif (length := self.headers.get("content-length", "")).isdigit():
            self._left, self._state = int(length), "length"
            self.done = self._left == 0
        else:
            self._state, self.keep_alive = "close", False
        return True

    def _take(self, out) -> None:
        """Move up to the `_left` bytes still owed by the body from the buffer to `out`."""
        take = bytes(self._buf[: self._left])
        del self._buf[: len(take)]
        out += take
        self._left -= len(take)

    def _length(self, out) -> bool:
        self._take(out)
        self.done = self._left == 0
        return True

    def _close(self, out) -> bool:
        out += self._buf
        self._buf.clear()
        return False

    def _size(self, out) -> bool:
        line = self._line(MAX_CHUNK_LINE_BYTES)
        if line is None:
            return False
        try:
            self._left = int(line.split(b";", 1)[0].strip() or b"x", 16)
        except ValueError:
            raise WireError("malformed", "bad chunk size in the chunked body") from None
        self._state = "data" if self._left else "trailer"
        return True

    def _data(self, out) -> bool:
        self._take(out)
        if self._left == 0:
            self._state = "crlf"
        return True

    def _crlf(self, out) -> bool:
        line = self._line(2)
        if line is None:
            return False
        if line:
            raise WireError("malformed", "chunk data longer than its size")
        self._state = "size"
        return True

    def _trailer(self, out) -> bool:
        line = self._line(MAX_CHUNK_LINE_BYTES)
        if line is None:
            return False
        self.done = line == b""
        return True
