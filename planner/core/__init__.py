"""The core: units, schemas, the catalog, architecture, precision, engine profiles, memory, speed,
throughput, cost and `estimate`. It imports nothing else from planner."""
__version__ = "0.2.0"
