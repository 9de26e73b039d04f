"""Summaries of samples (pure functions, unit-tested in tests/test_bench_stats.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks, the
    same definition as numpy's default; None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, median, min, max, p95 and mean of `values` (None where there are none)."""
    data = [float(v) for v in values]
    return {
        "n": len(data),
        "median": percentile(data, 50),
        "p95": percentile(data, 95),
        "min": min(data) if data else None,
        "max": max(data) if data else None,
        "mean": sum(data) / len(data) if data else None,
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def verdict(value: float | None, target: float, lower_is_better: bool = True) -> str:
    """'met', 'missed' or 'not measured' for a figure against its target."""
    if value is None:
        return "not measured"
    ok = value < target if lower_is_better else value >= target
    return "met" if ok else "missed"
