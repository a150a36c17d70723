"""The plain-language decision line shown on the Planner page and on page 1 of the PDF (one source for both).

What to buy, how many, what each user experiences (seconds to the first word, words per second while the
answer streams) and what it costs a month. Words per second = tokens per second x WORDS_PER_TOKEN, the
rule of thumb for English text published by OpenAI ("What are tokens and how to count them?",
https://help.openai.com/en/articles/4936856: 1 token ~ 3/4 of a word, 100 tokens ~ 75 words).
"""
from __future__ import annotations

import re

from planner.core import catalog
from planner.core.results import Estimate
from planner.core.scenario import Scenario
from planner.core.schemas import ModelSpec
from planner.share.model_links import display_model_name

HOURS_PER_MONTH = 730.0   # 8,760 h / 12
WORDS_PER_TOKEN = 0.75    # English text; OpenAI help article 4936856 (see the module docstring)
WORDS_NOTE = ("Words per second assume about 0.75 English words per token (OpenAI, \"What are tokens and how to "
              "count them?\", help.openai.com/en/articles/4936856); code and other languages use more tokens per word.")


def gpu_label(gpu_id: str) -> str:
    """A GPU's name without the catalog's bracketed qualifiers, memory written once ('NVIDIA H200 SXM 141 GB')."""
    g = catalog.gpu(gpu_id)
    name = re.sub(r"\s*\([^)]*\)?", "", g.name).strip() or g.name
    name = re.sub(r"(\d)GB\b", r"\1 GB", name)
    return name if " GB" in name else f"{name} {g.memory_gb_vendor:g} GB"


def seconds(x_s: float) -> str:
    """'0.1 s', '0.4 s', '1.2 s', '73 s', '1,250 s': what a user can feel, no exponent."""
    if x_s < 1:
        return f"{max(x_s, 0.1):.1f} s"
    return f"{x_s:,.0f} s" if x_s >= 10 else f"{x_s:.1f} s"


def _users(s: Scenario, est: Estimate) -> str:
    running = est.performance.running_batch
    if s.concurrency == "max":
        return f"each of the {running:,} users that memory admits at once"
    waiting = f" ({running:,} are served at once, the others wait their turn)" if running and running < s.concurrency else ""
    return ("a single user" if s.concurrency == 1 else f"each of {s.concurrency:,} users at once") + waiting


def monthly_usd(est: Estimate, utilization: float = 1.0) -> float | None:
    """All GPUs x $/GPU-hour x 730 h x the share of the month they are billed."""
    hourly = est.cost.usd_per_hour
    return None if hourly is None else hourly * HOURS_PER_MONTH * utilization


def _cost(s: Scenario, est: Estimate, utilization: float) -> str:
    monthly = monthly_usd(est, utilization)
    if monthly is None:
        return "there is no list price for this GPU, so enter your $ per GPU-hour to see the monthly cost"
    billed = "" if utilization >= 1 else f" billed {utilization:.0%} of the time"
    return (f"it costs about ${monthly:,.0f} a month ({s.gpus:,} GPU{'s' if s.gpus > 1 else ''} × "
            f"${est.cost.usd_per_gpu_hour:,.2f} per GPU-hour × {HOURS_PER_MONTH:g} h{billed})")


def decision_line(s: Scenario, est: Estimate, utilization: float = 1.0) -> str:
    """One sentence a purchaser can act on; the technical figures belong below it."""
    gpu = f"{s.gpus:,} × {gpu_label(s.gpu)}"
    imported = isinstance(s.model, ModelSpec)
    model = display_model_name(s.model_id, imported)
    if not est.fits:
        return f"{gpu} cannot run {model}: {(est.reason or 'it does not fit in memory').rstrip('.')}."
    p = est.performance
    words = p.output_tokens_per_s_per_user * WORDS_PER_TOKEN
    return (f"Buy {gpu} to serve {model}: for {_users(s, est)}, answers start in about {seconds(p.ttft_ms / 1000)} "
            f"and stream at about {words:,.0f} words/s ({p.output_tokens_per_s_per_user:,.0f} tokens/s); "
            f"{_cost(s, est, utilization)}.")
