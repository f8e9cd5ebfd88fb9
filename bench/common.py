"""What every benchmark here shares: timing, percentiles, the cache and the printed line.

Absolute times on a shared machine drift; a ratio to a reference measured in the
same run, on the same machine, a moment apart, holds. So every figure is printed
next to its reference and the ratio, against the target of SPEC §7.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"


def cache_dir() -> Path:
    """bench/.cache: built databases kept between runs (large; never commit it)."""
    CACHE.mkdir(mode=0o700, exist_ok=True)
    return CACHE


@dataclass(frozen=True)
class Timings:
    """Milliseconds per call."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def time_ms(call: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - start) / 1e6


def alternate(
    first: Callable[[], object], second: Callable[[], object], runs: int, warmup: int = 5
) -> tuple[Timings, Timings]:
    """Time two calls turn about, so both see the machine in the same state."""
    for _ in range(warmup):
        first()
        second()
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(time_ms(first))
        b.append(time_ms(second))
    return Timings(tuple(a)), Timings(tuple(b))


@dataclass(frozen=True)
class Figure:
    """One measured figure against its reference and target ratio."""

    label: str
    value_ms: float
    reference_label: str
    reference_ms: float
    target_ratio: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value_ms / self.reference_ms

    @property
    def met(self) -> bool:
        return self.ratio <= self.target_ratio

    def line(self, width: int = 24) -> str:
        mark = "" if self.met else "  MISSED"
        note = f"  {self.note}" if self.note else ""
        return (
            f"{self.label:<{width}} {_ms(self.value_ms)}  {self.reference_label} "
            f"{_ms(self.reference_ms)}  ratio {self.ratio:.1f}x  "
            f"(target ≤ {self.target_ratio:g}x){mark}{note}"
        )


def _ms(value: float) -> str:
    return f"{value:.3f} ms" if value < 1 else f"{value:.2f} ms"


def say(line: str) -> None:
    print(line, flush=True)
