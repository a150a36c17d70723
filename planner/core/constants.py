"""The tunable constants of the speed and memory model, read from data/engine_constants.csv.

Each row has a value, the physical range it may take, its status (`source`: read from an engine or a
datasheet; `prior`: a cited estimate no measurement pins; `fit`: fitted by scripts/fit_engines.py,
which writes the file) and where it came from. Loaded once, immutable; `replace` makes a new set, so a
fit or a what-if never changes what other callers see.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "engine_constants.csv"
STATUSES = ("source", "prior", "fit")
COLUMNS = ("name", "value", "low", "high", "unit", "status", "source")


@dataclass(frozen=True)
class Constant:
    name: str
    value: float
    low: float
    high: float
    unit: str
    status: str
    source: str


class Constants:
    """An immutable set of constants by name; equal sets hash alike (a cache key for resolved deployments)."""

    def __init__(self, table: dict[str, Constant]):
        self._table = MappingProxyType(dict(table))
        self._key = tuple(sorted((k, c.value) for k, c in self._table.items()))
        self._hash = hash(self._key)

    def __getitem__(self, name: str) -> float:
        return self._table[name].value

    def __contains__(self, name: str) -> bool:
        return name in self._table

    def get(self, name: str, default: float) -> float:
        c = self._table.get(name)
        return default if c is None else c.value

    def row(self, name: str) -> Constant:
        return self._table[name]

    def rows(self) -> tuple[Constant, ...]:
        return tuple(self._table.values())

    def replace(self, values: dict[str, float]) -> Constants:
        """A new set with some values changed (names must exist; ranges are the fit's business)."""
        unknown = set(values) - set(self._table)
        if unknown:
            raise KeyError(f"unknown constants: {', '.join(sorted(unknown))}")
        table = dict(self._table)
        for name, value in values.items():
            c = table[name]
            table[name] = Constant(name, float(value), c.low, c.high, c.unit, c.status, c.source)
        return Constants(table)

    def without(self, names: set[str]) -> Constants:
        """A new set lacking some rows (an override removed falls back to its generic constant)."""
        return Constants({k: c for k, c in self._table.items() if k not in names})

    def __eq__(self, other) -> bool:
        return isinstance(other, Constants) and self._key == other._key

    def __hash__(self) -> int:
        return self._hash


def _row(raw: dict, line: int, path: Path) -> Constant:
    where = f"{path.name} line {line}"
    try:
        c = Constant(raw["name"].strip(), float(raw["value"]), float(raw["low"]), float(raw["high"]),
                     raw["unit"], raw["status"].strip(), raw["source"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    if c.status not in STATUSES:
        raise ValueError(f"{where}: status {c.status!r} is not one of {', '.join(STATUSES)}")
    if not c.low <= c.value <= c.high:
        raise ValueError(f"{where}: {c.name} = {c.value} lies outside its range [{c.low}, {c.high}]")
    if not c.source.strip():
        raise ValueError(f"{where}: {c.name} has no source")
    return c


def read(path: Path = DATA_FILE) -> Constants:
    with open(path, newline="") as f:
        return Constants({c.name: c for c in (_row(r, i + 2, path) for i, r in enumerate(csv.DictReader(f)))})


@lru_cache(maxsize=1)
def load() -> Constants:
    """The project's constants (data/engine_constants.csv), read once."""
    return read()


def write(constants: Constants, path: Path = DATA_FILE) -> None:
    """Write a set back (scripts/fit_engines.py), keeping the file's row order."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for c in constants.rows():
            w.writerow([c.name, f"{c.value:.6g}", f"{c.low:g}", f"{c.high:g}", c.unit, c.status, c.source])
