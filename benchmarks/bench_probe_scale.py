"""Benchmark: one probe process driving 1,024 concurrent streams against a paced local server.

    .venv/bin/python benchmarks/bench_probe_scale.py [--concurrency 1024] [--output-len 16] [--rounds 3]

scripts/paced_server.py runs in its own process on 127.0.0.1 and sends the first token 300 ms after each
request arrived, then one every 100 ms. Issue #11 asks for mean TTFT within 3 % of 300 ms, p99 TTFT
<= 360 ms and mean TPOT within 1 % of 100 ms. The server's own timer lateness is printed beside the figures.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from planner.probe.models import ProbeConfig  # noqa: E402
from planner.probe.run import run_probe  # noqa: E402

TTFT_MS, ITL_MS = 300.0, 100.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/v1/models", timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("paced server did not start")


def one_round(url: str, c: int, out: int) -> dict:
    result = run_probe(ProbeConfig(url=url, concurrency=(c,), requests=c, output_len=out, input_len=64,
                                   read_timeout_s=30, warmup=False))
    lv = result.levels[0]
    late = json.loads(urllib.request.urlopen(f"{url}/lateness", timeout=5).read())
    return {"completed": lv.completed, "errors": lv.error_kinds, "ttft_mean_ms": lv.ttft_ms.mean,
            "ttft_p99_ms": lv.ttft_ms.p99, "tpot_mean_ms": lv.tpot_ms.mean,
            "ttft_error_pct": 100 * (lv.ttft_ms.mean / TTFT_MS - 1), "tpot_error_pct": 100 * (lv.tpot_ms.mean / ITL_MS - 1),
            "server_timer_late_mean_ms": late["mean_ms"], "server_timer_late_p99_ms": late["p99_ms"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=1024)
    ap.add_argument("--output-len", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "paced_server.py"), "--port", str(port),
                               "--ttft-ms", str(TTFT_MS), "--itl-ms", str(ITL_MS)])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_up(url)
        for r in range(args.rounds):
            row = one_round(url, args.concurrency, args.output_len)
            ok = (abs(row["ttft_error_pct"]) <= 3 and row["ttft_p99_ms"] <= 360 and abs(row["tpot_error_pct"]) <= 1
                  and row["completed"] == args.concurrency)
            print(f"round {r + 1}: {args.concurrency} streams, {row['completed']} completed {row['errors'] or ''}; "
                  f"TTFT mean {row['ttft_mean_ms']:.1f} ms ({row['ttft_error_pct']:+.2f} %), p99 {row['ttft_p99_ms']:.1f} ms; "
                  f"TPOT mean {row['tpot_mean_ms']:.2f} ms ({row['tpot_error_pct']:+.2f} %); server timers late "
                  f"mean {row['server_timer_late_mean_ms']:.2f} ms, p99 {row['server_timer_late_p99_ms']:.2f} ms; "
                  f"{'meets' if ok else 'MISSES'} the issue #11 targets")
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
