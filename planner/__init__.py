"""LLM inference hardware planner: memory, speed and cost of a model on a GPU configuration.

    import planner
    planner.estimate(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus=2)

The engine is a pure library (no Streamlit, no I/O at import); the dashboard, CLI and PDF call it.
"""
from .estimate import estimate, estimate_scenario
from .recommend import Recommendation, recommend
from .results import Estimate
from .scenario import Calibration, Scenario

__all__ = ["estimate", "estimate_scenario", "recommend", "Recommendation", "Estimate", "Scenario", "Calibration"]
__version__ = "0.1.0"
