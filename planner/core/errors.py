"""A pydantic ValidationError as one line naming the field (CLI stderr, page error boxes)."""
from __future__ import annotations

from pydantic import ValidationError

from .scenario import Scenario


def one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(x) for x in err.get("loc", ())) or "scenario"
        msg = err.get("msg", "").removeprefix("Value error, ")
        parts.append(msg if msg.split(":")[0] in Scenario.model_fields else f"{field}: {msg}")
    return "invalid input: " + "; ".join(parts)
