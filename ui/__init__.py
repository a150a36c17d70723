"""Dashboard helpers: figure builders (charts), sweeps and session/URL state for the Streamlit pages.

Only ui/state.py, ui/compute.py and ui/widgets.py import Streamlit; charts and sweeps are plain
functions so tests can check them without a running app (shared/DESIGN.md §5).
"""
