"""The hub fetch path against a fake hub on 127.0.0.1: config, index and safetensors headers by Range."""
import json
import re
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from planner.importers.hub import import_hf
from planner.importers.config import ModelImportError
from planner.importers.dispatch import import_source

CONFIG = json.loads((Path(__file__).resolve().parent.parent / "data" / "models" / "Qwen__Qwen3-0.6B.json").read_text())


def safetensors_file(tensors: dict) -> tuple[bytes, int]:
    """A real safetensors layout: 8-byte length, JSON header, data; returns (file, header length)."""
    header, offset = {}, 0
    for name, (dtype, shape, itemsize) in tensors.items():
        n = itemsize
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + b"\x07" * offset, len(raw)


SHARD1, H1 = safetensors_file({"model.embed_tokens.weight": ("BF16", [1000, 64], 2), "model.norm.weight": ("F32", [64], 4)})
SHARD2, H2 = safetensors_file({"lm_head.weight": ("F8_E4M3", [1000, 64], 1), "lm_head.weight_scale_inv": ("F32", [8, 1], 4)})
DATA1, DATA2 = len(SHARD1) - 8 - H1, len(SHARD2) - 8 - H2
INDEX = {"metadata": {"total_size": DATA1 + DATA2},
         "weight_map": {"model.embed_tokens.weight": "a.safetensors", "model.norm.weight": "a.safetensors",
                        "lm_head.weight": "b.safetensors", "lm_head.weight_scale_inv": "b.safetensors"}}
FILES = {"/org/sharded/resolve/main/config.json": json.dumps(CONFIG).encode(),
         "/org/sharded/resolve/main/model.safetensors.index.json": json.dumps(INDEX).encode(),
         "/org/sharded/resolve/main/a.safetensors": SHARD1, "/org/sharded/resolve/main/b.safetensors": SHARD2,
         "/org/single/resolve/main/config.json": json.dumps(CONFIG).encode(),
         "/org/single/resolve/main/model.safetensors": SHARD1,
         "/org/norange/resolve/main/config.json": json.dumps(CONFIG).encode(),
         "/org/badindex/resolve/main/config.json": json.dumps(CONFIG).encode(),
         "/org/badindex/resolve/main/model.safetensors.index.json": b"<html>oops</html>",
         "/org/norange/resolve/main/model.safetensors": SHARD1,
         "/org/tokenizer/resolve/main/config.json": b'{"tokenizer_class": "Qwen2Tokenizer", "model_max_length": 32768}'}


class Hub(BaseHTTPRequestHandler):
    log: list = []

    def do_GET(self):  # noqa: N802
        Hub.log.append((self.path, self.headers.get("Range"), self.headers.get("Authorization")))
        if self.path.startswith("/org/gated/"):
            return self._send(401, b"gated")
        body = FILES.get(self.path)
        if body is None:
            return self._send(404, b"not found")
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", self.headers.get("Range") or "")
        if m and "/norange/" not in self.path:
            a, b = int(m[1]), min(int(m[2]), len(body) - 1)
            return self._send(206, body[a:b + 1])
        return self._send(200, body)

    def _send(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for key in ("HF_HUB_OFFLINE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT"):
        monkeypatch.delenv(key, raising=False)
    Hub.log.clear()


def test_sharded_fetch_reads_only_headers(hub, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub)
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    result = import_source("org/sharded")
    assert result.source == "hf:org/sharded" and result.spec.id == "org/sharded"
    assert result.spec.total_params == 596_049_920  # Qwen3-0.6B from its config
    assert result.weights_bytes_exact == DATA1 + DATA2 == INDEX["metadata"]["total_size"]
    assert result.bytes_by_dtype == {"BF16": 128_000, "F32": 256 + 32, "F8_E4M3": 64_000}
    assert "Range requests" in result.weights_bytes_source and result.tensor_count == 4
    assert result.high_precision_modules == ("model.embed_tokens",)  # FP8 lm_head, BF16 embeddings
    shard_requests = [(p, r) for p, r, _ in Hub.log if p.endswith(".safetensors")]
    assert len(shard_requests) == 4 and all(r for _, r in shard_requests)
    header_end = {"a.safetensors": 8 + H1, "b.safetensors": 8 + H2}
    for path, rng in shard_requests:  # never a byte of tensor data
        assert int(rng.split("-")[1]) < header_end[path.rsplit("/", 1)[1]]
    assert all(auth == "Bearer hf_test" for _, _, auth in Hub.log)


def test_single_file_checkpoint(hub):
    result = import_hf("org/single", endpoint=hub)
    assert result.weights_bytes_exact == DATA1 and result.tensor_count == 2
    assert max(int(r.split("-")[1]) for p, r, _ in Hub.log if p.endswith(".safetensors")) == 8 + H1 - 1


def test_server_ignoring_range_still_gives_the_header(hub):
    result = import_hf("org/norange", endpoint=hub)
    assert result.weights_bytes_exact == DATA1 and result.bytes_by_dtype == {"BF16": 128_000, "F32": 256}


def test_bad_index_keeps_the_spec_with_a_warning(hub):
    result = import_hf("org/badindex", endpoint=hub)
    assert result.spec.total_params == 596_049_920 and result.weights_bytes_exact is None
    assert any("exact checkpoint size unavailable" in w for w in result.warnings)


def test_index_only_without_headers(hub):
    result = import_hf("org/sharded", endpoint=hub, read_headers=False)
    assert result.weights_bytes_exact == INDEX["metadata"]["total_size"]
    assert "total_size" in result.weights_bytes_source
    assert not any(p.endswith(".safetensors") for p, _, _ in Hub.log)


@pytest.mark.parametrize("repo,message", [("org/missing", "no config.json"), ("org/gated", "HF_TOKEN"),
                                          ("org/tokenizer", "tokenizer config"), ("not an id", "not a Hugging Face model id")])
def test_hub_errors_are_one_clear_line(hub, repo, message):
    with pytest.raises(ModelImportError, match=message) as exc:
        import_hf(repo, endpoint=hub)
    assert "\n" not in str(exc.value)


def test_offline_is_honoured(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelImportError, match="HF_HUB_OFFLINE"):
        import_hf("org/sharded", endpoint=hub)
    assert Hub.log == []


def test_no_internet_is_a_message_not_a_traceback(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(ModelImportError, match="cannot reach 127.0.0.1:9: no internet connection"):
        import_source("Qwen/Qwen3-8B")


def test_local_checkpoint_folder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(INDEX))
    (tmp_path / "a.safetensors").write_bytes(SHARD1)
    (tmp_path / "b.safetensors").write_bytes(SHARD2)
    result = import_source(tmp_path)
    assert result.weights_bytes_exact == INDEX["metadata"]["total_size"] and result.tensor_count == 4
    assert result.high_precision_modules == ("model.embed_tokens",)
    assert result.spec.total_params == 596_049_920
