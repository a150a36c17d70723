"""Unit conversions, in one place.

GB = 1e9 bytes (datasheets, file listings), GiB = 2**30 bytes (what engines and torch log),
TB/s = 1e12 bytes/s. Every other module converts through these names and nowhere else.
"""

GB = 1e9
GIB = float(2**30)
MIB = float(2**20)
TB = 1e12
TFLOP = 1e12
US = 1e-6  # seconds per microsecond
MS = 1e-3  # seconds per millisecond


def bytes_to_gib(nbytes: float) -> float:
    return nbytes / GIB


def bytes_to_gb(nbytes: float) -> float:
    return nbytes / GB


def gib_to_bytes(gib: float) -> float:
    return gib * GIB


def gb_to_bytes(gb: float) -> float:
    return gb * GB
