"""LLM inference hardware planner: memory, speed and cost of a model on a GPU configuration.

    import planner
    planner.estimate(model="Qwen/Qwen3-Next-80B-A3B-Instruct", gpu="h200-sxm", gpus=2)

The engine is a pure library (no Streamlit, no I/O at import); the dashboard, CLI and PDF call it.
Subpackages, dependencies pointing one way (shared/DESIGN.md §1): `core` (the physics, the catalog and
`estimate`) <- `search`, `importers`, `probe` <- `share` <- `report` <- `cli`.
"""
from planner.core import __version__
from planner.core.estimate import estimate, estimate_scenario
from planner.core.results import Estimate
from planner.core.scenario import Calibration, Scenario
from planner.search.recommend import Recommendation, recommend

__all__ = ["estimate", "estimate_scenario", "recommend", "Recommendation", "Estimate", "Scenario", "Calibration",
           "__version__"]
