"""What a probe run says about its own measurement: prompt length and the server's prompt cache.

Prompts are fresh on every run (a new seed), yet a server may still serve part of them from its prefix
cache (a chat template's fixed start, or an earlier run's prompts): llama.cpp and vLLM report it per
request in usage.prompt_tokens_details.cached_tokens (OpenAI's field) and as /metrics counters.
"""
from __future__ import annotations

import random

from .models import LevelResult

WORDS = ("time person year way day thing man world life hand part child eye woman place work week case point "
         "number group problem fact water room mother area money story month lot right study book job word "
         "business issue side kind head house service friend father power hour game line end member law car city").split()
PROMPT_TOLERANCE_TOKENS = 2  # chat templates add a few tokens; report beyond this
CACHE_MOST_SHARE = 0.5       # above this share of cached prompt tokens, TTFT says little about prefill
# /metrics counters of prompt tokens served from the cache (llama.cpp server; vLLM v1)
CACHE_COUNTERS = ("llamacpp:prompt_tokens_cached_total", "vllm:prefix_cache_hits_total")
MAX_METRICS_BYTES = 2**20


def synthetic_prompt(words: int, index: object, seed: int = 0) -> str:
    """A distinct prompt per request and per run, ~1 token per word: words drawn afresh from (seed, index),
    so no two prompts share more than the chat template and no earlier run's cache holds them."""
    rng = random.Random(f"{seed}:{index}")
    # a random start, not a counter: prompts sharing leading digits would share cached tokens
    return f"{rng.getrandbits(32):08x} " + " ".join(rng.choices(WORDS, k=max(0, words - 1)))


def prompt_note(input_len: int, levels: list[LevelResult]) -> tuple[int | None, list[str]]:
    """The measured prompt length, and a note when it strays from the asked one."""
    done = sum(lv.completed for lv in levels if lv.token_count_source == "usage")
    if not done:
        return None, ["the server reported no usage.prompt_tokens; input length unchecked"]
    measured = round(sum(lv.input_tokens for lv in levels if lv.token_count_source == "usage") / done)
    if abs(measured - input_len) > PROMPT_TOLERANCE_TOKENS:
        return measured, [f"prompts measured {measured} tokens (usage.prompt_tokens) against {input_len} asked"]
    return measured, []


def cached_counter(text: str) -> float | None:
    """Sum of the prompt-cache counters in a Prometheus text page, or None when it has none."""
    total, seen = 0.0, False
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in CACHE_COUNTERS:
            try:
                total, seen = total + float(line.rsplit(None, 1)[-1]), True
            except ValueError:
                continue
    return total if seen else None


def cache_notes(levels: list[LevelResult], server_delta: float | None) -> list[str]:
    """A warning when the server's prompt cache served part of the measured prompts."""
    told = [lv.cached_input_tokens for lv in levels if lv.cached_input_tokens is not None]
    prompt = sum(lv.input_tokens for lv in levels)
    if told and prompt and sum(told):
        share = sum(told) / prompt
        why = ("most of each prompt: TTFT measures little prefill; use longer prompts or turn the cache off"
               if share > CACHE_MOST_SHARE else "a chat template's fixed start is cached by design")
        return [f"warning: the server's prompt cache served {sum(told):,} of {prompt:,} prompt tokens ({share:.0%}); "
                f"TTFT covers only the rest ({why})"]
    if not told and server_delta:
        return [f"warning: the server's /metrics count {server_delta:,.0f} prompt tokens served from its cache "
                "during the run; TTFT covers only the uncached rest"]
    return []
