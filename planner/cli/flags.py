"""Scenario flags shared by the subcommands: `--input-len` for input_len, and so on."""
from __future__ import annotations

import argparse

SCENARIO_FLAGS = [  # (flag, type, help)
    ("model", str, "Hugging Face id of a catalog model, e.g. Qwen/Qwen3-Next-80B-A3B-Instruct"),
    ("gpu", str, "GPU id from data/gpus.csv, e.g. h100-sxm"), ("gpus", int, "number of GPUs"),
    ("tp", int, "tensor-parallel degree"), ("pp", int, "pipeline-parallel degree"), ("ep", int, "expert-parallel degree"),
    ("engine", str, "vllm, sglang, trtllm, llamacpp or transformers"), ("weights", str, "weight format, e.g. bf16, fp8, gguf-q4_k_m"),
    ("kv-dtype", str, "auto, bf16, fp16, fp8, q8_0, q4_0"), ("input-len", int, "prompt tokens"),
    ("output-len", int, "generated tokens"), ("concurrency", str, "requests in flight, or 'max'"),
    ("gpu-memory-utilization", float, "engine memory fraction"), ("usd-per-gpu-hour", float, "price override"),
    ("spec-tokens", int, "speculative/MTP draft tokens per step"), ("acceptance-length", float, "mean accepted tokens per step"),
    ("cpu-offload-experts", int, "MoE layers whose experts stay in CPU RAM (llama.cpp)"),
    ("state-dtype", str, "auto, bf16 or fp32 recurrent state"),
    ("arrivals", str, "lockstep (benchmark clients with equal lengths), random (real traffic) or auto (the engine's benchmark tool)"), ("max-num-seqs", int, "engine running-request cap"),
    ("max-num-batched-tokens", int, "engine tokens per step"),
    ("num-prompts", int, "requests a benchmark sends in all, the first 'concurrency' at once (default 5 x concurrency)"),
]


def add_scenario_flags(parser: argparse.ArgumentParser, with_model_required: bool = True) -> None:
    for flag, typ, help_text in SCENARIO_FLAGS:
        parser.add_argument(f"--{flag}", type=typ, help=help_text, required=(flag == "model" and with_model_required))


def scenario_kwargs(args: argparse.Namespace, names: list[str] | None = None) -> dict:
    keys = names or [f.replace("-", "_") for f, _, _ in SCENARIO_FLAGS]
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
