"""Measure a live OpenAI-compatible endpoint (`run`, `stream`, `metrics`) and calibrate the planner to it (`calibrate`)."""
