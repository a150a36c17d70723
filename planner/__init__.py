"""LLM inference hardware planner: memory, speed and cost of a model on a GPU configuration.

    import planner
    planner.estimate(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus=2)

The engine is a pure library (no Streamlit, no I/O at import); the dashboard, CLI and PDF call it.
"""
from .estimate import estimate, estimate_scenario
from .results import Estimate
from .scenario import Calibration, Scenario

__all__ = ["estimate", "estimate_scenario", "Estimate", "Scenario", "Calibration", "recommend"]
__version__ = "0.1.0"


def recommend(*args, **kwargs):
    """Search GPU x count x format x engine for a workload (see planner.recommend)."""
    from .recommend import recommend as _recommend
    return _recommend(*args, **kwargs)
