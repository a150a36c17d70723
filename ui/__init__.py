"""Dashboard helpers: plotly figure builders (charts) and session/URL state for the Streamlit pages.

Only ui/state.py, ui/compute.py and ui/widgets.py import Streamlit; chart builders are plain functions so
tests can check them without a running app (shared/DESIGN.md §5). Planner logic lives in planner/.
"""
