"""Scenario <-> URL query parameters (`links`) and imported models in links (`model_links`)."""
